import {
  type ContractFailure,
  createFakeServer,
  type FakeResponse,
  type FakeServer,
  fakeServerHarness,
  type RecordedRequest,
  type VendorFailures,
} from '@empathy/webhooks-core/testing';
import { adfErrors } from './adf.js';

/** An issue the fake Jira holds. */
export interface FakeIssue {
  id: string;
  key: string;
  apiVersion: 2 | 3;
  fields: Record<string, any>;
  properties: Record<string, unknown>;
  comments: { id: string; body: unknown }[];
  createdAt: number;
  /** The workflow status's name: `To Do` when created. */
  status: string;
  /**
   * In the Done status category: no longer found by `statusCategory != Done`. Setting it moves
   * the issue to `Done` (or back to `To Do`), as a person closing it would.
   */
  done: boolean;
}

/** A workflow transition: its id and name, and the status it leads to with that status's category. */
export interface FakeTransition {
  id: string;
  name: string;
  to: string;
  category: 'new' | 'indeterminate' | 'done';
}

/**
 * Jira Cloud's default (simplified) workflow: every status can go to every other one, through a
 * transition named after it; ids 11, 21, 31 as Jira numbers them.
 */
export const SIMPLIFIED_WORKFLOW: FakeTransition[] = [
  { id: '11', name: 'To Do', to: 'To Do', category: 'new' },
  { id: '21', name: 'In Progress', to: 'In Progress', category: 'indeterminate' },
  { id: '31', name: 'Done', to: 'Done', category: 'done' },
];

/** Options of {@link createFakeJira}. */
export interface FakeJiraOptions {
  /** Accepted credentials: basic (Cloud) and/or bearer (Data Center PAT). */
  email?: string;
  apiToken?: string;
  token?: string;
  projects?: string[];
  issueTypes?: string[];
  priorities?: string[];
  /**
   * Cloud search is eventually consistent: an issue shows up in `/rest/api/3/search/jql` only
   * this long after its creation, unless the request lists it in `reconcileIssues`.
   */
  indexLagMs?: number;
  /** The workflow's transitions; an issue is offered those that lead elsewhere. @default SIMPLIFIED_WORKFLOW */
  workflow?: FakeTransition[];
}

/** A fake Jira (Cloud REST v3 and Data Center REST v2) that answers like the real one. */
export interface FakeJira {
  readonly server: FakeServer;
  readonly url: string;
  readonly issues: FakeIssue[];
  /** Answers the next create or comment (not the search before it) with `response`. */
  failNextWrite(response: FakeResponse): void;
  /** Creates the next issue, then drops the connection: the client never learns it succeeded. */
  dropNextCreateResponse(): void;
  /** The requests to one endpoint kind (`issue`: GET one issue; `transitions`: GET or POST). */
  requestsTo(kind: RequestKind): RecordedRequest[];
  close(): Promise<void>;
}

/** How Jira answers the contract suite's failures. */
export const jiraFailures: VendorFailures = {
  server_error: { status: 500, body: { errorMessages: ['Internal server error'], errors: {} } },
  rate_limited: (seconds) => ({
    status: 429,
    headers: {
      'retry-after': String(seconds),
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': new Date(Date.now() + seconds * 1000).toISOString(),
    },
    body: { errorMessages: ['Rate limit exceeded.'], errors: {} },
  }),
  client_error: {
    status: 400,
    body: { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } },
  },
  // Jira quotes what it could not take: a JQL error names the value it did not understand.
  echo: (text) => ({ status: 400, body: { errorMessages: [`Error in the JQL Query: ${text}`], errors: {} } }),
};

const SEARCH = /^\/rest\/api\/(3\/search\/jql|2\/search)$/;
const CREATE = /^\/rest\/api\/([23])\/issue$/;
const COMMENT = /^\/rest\/api\/([23])\/issue\/([^/]+)\/comment$/;
const ISSUE = /^\/rest\/api\/([23])\/issue\/([^/]+)$/;
const TRANSITIONS = /^\/rest\/api\/([23])\/issue\/([^/]+)\/transitions$/;
const KINDS = { search: SEARCH, create: CREATE, comment: COMMENT, issue: ISSUE, transitions: TRANSITIONS };

/** The endpoint kinds {@link FakeJira.requestsTo} tells apart. */
export type RequestKind = keyof typeof KINDS;

const notFound: FakeResponse = {
  status: 404,
  body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} },
};

const badRequest = (errors: Record<string, string>, errorMessages: string[] = []): FakeResponse => ({
  status: 400,
  body: { errorMessages, errors },
});

/** Starts a fake Jira on 127.0.0.1. */
export async function createFakeJira(options: FakeJiraOptions = {}): Promise<FakeJira> {
  const projects = options.projects ?? ['EMP'];
  const issueTypes = options.issueTypes ?? ['Bug', 'Task'];
  const priorities = options.priorities ?? ['Highest', 'High', 'Medium', 'Low', 'Lowest'];
  const workflow = options.workflow ?? SIMPLIFIED_WORKFLOW;
  const categoryOf = (status: string) => workflow.find((t) => t.to === status)?.category ?? 'new';
  const accepted = new Set<string>();
  if (options.email && options.apiToken) {
    accepted.add(`Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`);
  }
  if (options.token) accepted.add(`Bearer ${options.token}`);
  const issues: FakeIssue[] = [];
  const writeFailures: FakeResponse[] = [];
  let dropCreate = false;
  let nextId = 10000;
  let nextComment = 20000;

  const handle = (req: RecordedRequest, url: string): FakeResponse => {
    if (!accepted.has(String(req.headers.authorization))) {
      return {
        status: 401,
        body: { errorMessages: ['Client must be authenticated to access this resource.'], errors: {} },
      };
    }
    if (req.method === 'POST' && SEARCH.test(req.path)) return search(req, req.path.includes('/3/') ? 3 : 2);
    const create = CREATE.exec(req.path);
    if (req.method === 'POST' && create) {
      const failure = writeFailures.shift();
      if (failure) return failure;
      return createIssue(req, Number(create[1]) as 2 | 3, url);
    }
    const comment = COMMENT.exec(req.path);
    if (req.method === 'POST' && comment) {
      const failure = writeFailures.shift();
      if (failure) return failure;
      return addComment(req, Number(comment[1]) as 2 | 3, decodeURIComponent(comment[2]!), url);
    }
    const one = ISSUE.exec(req.path);
    if (req.method === 'GET' && one)
      return getIssue(req, Number(one[1]) as 2 | 3, decodeURIComponent(one[2]!), url);
    const transitions = TRANSITIONS.exec(req.path);
    if (transitions) {
      const issue = find(decodeURIComponent(transitions[2]!));
      if (!issue) return notFound;
      if (req.method === 'GET')
        return { status: 200, body: { transitions: offered(issue).map(transitionJson) } };
      if (req.method === 'POST') {
        const failure = writeFailures.shift();
        if (failure) return failure;
        return doTransition(req, Number(transitions[1]) as 2 | 3, issue);
      }
    }
    return { status: 404, body: { errorMessages: ['null for uri: ' + req.path], errors: {} } };
  };

  const search = (req: RecordedRequest, version: 2 | 3): FakeResponse => {
    const body = req.json();
    const [where = '', order = ''] = String(body.jql ?? '').split(/ ORDER BY /i);
    if (order && order.trim() !== 'created ASC')
      return badRequest({}, [`Error in the JQL Query: unsupported order '${order}'.`]);
    const clauses = where.split(/ AND /);
    const tests: ((issue: FakeIssue) => boolean)[] = [];
    for (const clause of clauses) {
      const project = /^project = "([^"]+)"$/.exec(clause)?.[1];
      const label = /^labels = "([^"]+)"$/.exec(clause)?.[1];
      if (project !== undefined) {
        if (!projects.includes(project)) {
          return badRequest({}, [`The value '${project}' does not exist for the field 'project'.`]);
        }
        tests.push((issue) => issue.fields.project.key === project);
      } else if (label !== undefined) {
        tests.push((issue) => (issue.fields.labels ?? []).includes(label));
      } else if (clause === 'statusCategory != Done') {
        tests.push((issue) => !issue.done);
      } else {
        return badRequest({}, [
          `Error in the JQL Query: the clause '${clause}' is not understood by this fake.`,
        ]);
      }
    }
    const reconcile = new Set<number>(version === 3 ? (body.reconcileIssues ?? []) : []);
    const lag = version === 3 ? (options.indexLagMs ?? 0) : 0;
    const now = Date.now();
    const found = issues
      .filter((issue) => now - issue.createdAt >= lag || reconcile.has(Number(issue.id)))
      .filter((issue) => tests.every((t) => t(issue)))
      .slice(0, body.maxResults ?? 50)
      .map((issue) => ({
        id: issue.id,
        key: issue.key,
        fields: { summary: issue.fields.summary, status: statusJson(issue) },
        properties: Object.fromEntries(
          (body.properties ?? [])
            .filter((k: string) => k in issue.properties)
            .map((k: string) => [k, issue.properties[k]]),
        ),
      }));
    return version === 3
      ? { status: 200, body: { issues: found, isLast: true } }
      : {
          status: 200,
          body: { startAt: 0, maxResults: body.maxResults ?? 50, total: found.length, issues: found },
        };
  };

  const createIssue = (req: RecordedRequest, version: 2 | 3, url: string): FakeResponse => {
    const { fields = {}, properties = [] } = req.json();
    const errors: Record<string, string> = {};
    if (!projects.includes(fields.project?.key)) errors.project = 'valid project is required';
    if (!issueTypes.includes(fields.issuetype?.name)) errors.issuetype = 'Specify a valid issue type';
    if (typeof fields.summary !== 'string' || fields.summary.trim() === '') {
      errors.summary = 'You must specify a summary of the issue.';
    } else if (fields.summary.length >= 255) {
      errors.summary = 'Summary must be less than 255 characters.';
    } else if (/[\r\n]/.test(fields.summary)) {
      errors.summary = 'The summary is invalid because it contains newline characters.';
    }
    const description = checkText(fields.description, version);
    if (description) errors.description = description;
    if (fields.priority && !priorities.includes(fields.priority.name)) {
      errors.priority = `Priority name '${fields.priority.name}' is not valid`;
    }
    for (const label of fields.labels ?? []) {
      if (/\s/.test(label)) errors.labels = `The label '${label}' contains spaces which is invalid.`;
    }
    if (Object.keys(errors).length > 0) return badRequest(errors);
    const id = String(++nextId);
    const key = `${fields.project.key}-${issues.filter((i) => i.fields.project.key === fields.project.key).length + 1}`;
    const initial = workflow.find((t) => t.category === 'new')?.to ?? 'To Do';
    const done = workflow.find((t) => t.category === 'done')?.to ?? 'Done';
    issues.push({
      id,
      key,
      apiVersion: version,
      fields,
      properties: Object.fromEntries(
        properties.map((p: { key: string; value: unknown }) => [p.key, p.value]),
      ),
      comments: [],
      createdAt: Date.now(),
      status: initial,
      get done() {
        return categoryOf(this.status) === 'done';
      },
      set done(value: boolean) {
        this.status = value ? done : initial;
      },
    });
    if (dropCreate) {
      dropCreate = false;
      return { disconnect: true };
    }
    return { status: 201, body: { id, key, self: `${url}/rest/api/${version}/issue/${id}` } };
  };

  const find = (key: string) => issues.find((i) => i.key === key || i.id === key);

  const statusJson = (issue: FakeIssue) => ({
    name: issue.status,
    statusCategory: { key: categoryOf(issue.status) },
  });

  /** The transitions Jira offers an issue: those that lead to another status. */
  const offered = (issue: FakeIssue) => workflow.filter((t) => t.to !== issue.status);

  // GET /rest/api/3/issue/{issueIdOrKey}/transitions: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-transitions-get
  const transitionJson = (t: FakeTransition) => ({
    id: t.id,
    name: t.name,
    to: { name: t.to, statusCategory: { key: t.category } },
    hasScreen: false,
    isGlobal: true,
    isInitial: false,
    isAvailable: true,
    isConditional: false,
    isLooped: false,
  });

  const getIssue = (req: RecordedRequest, version: 2 | 3, key: string, url: string): FakeResponse => {
    const issue = find(key);
    if (!issue) return notFound;
    const wanted = new URL(req.url, url).searchParams.get('fields');
    const fields: Record<string, unknown> = { ...issue.fields, status: statusJson(issue) };
    return {
      status: 200,
      body: {
        id: issue.id,
        key: issue.key,
        self: `${url}/rest/api/${version}/issue/${issue.id}`,
        fields: wanted
          ? Object.fromEntries(
              wanted
                .split(',')
                .filter((f) => f in fields)
                .map((f) => [f, fields[f]]),
            )
          : fields,
      },
    };
  };

  // POST …/transitions answers 204; an id the issue is not offered is a 400.
  const doTransition = (req: RecordedRequest, version: 2 | 3, issue: FakeIssue): FakeResponse => {
    const body = req.json();
    const id = body?.transition?.id;
    const transition = offered(issue).find((t) => t.id === id);
    if (typeof id !== 'string' || !transition) {
      return badRequest({}, [`Transition id '${id}' is not valid for this issue.`]);
    }
    for (const { add } of body.update?.comment ?? []) {
      const problem = checkText(add?.body, version);
      if (problem) return badRequest({ comment: problem });
      issue.comments.push({ id: String(++nextComment), body: add.body });
    }
    issue.status = transition.to;
    return { status: 204 };
  };

  const addComment = (req: RecordedRequest, version: 2 | 3, key: string, url: string): FakeResponse => {
    const issue = find(key);
    if (!issue) return notFound;
    const { body } = req.json();
    const problem =
      checkText(body, version) ?? (body === undefined ? 'Comment body can not be empty!' : undefined);
    if (problem) return badRequest({ comment: problem });
    const id = String(++nextComment);
    issue.comments.push({ id, body });
    return {
      status: 201,
      body: {
        id,
        self: `${url}/rest/api/${version}/issue/${issue.id}/comment/${id}`,
        body,
        created: new Date().toISOString(),
      },
    };
  };

  // Compile the ADF schema now, not while a request waits on it.
  adfErrors({ type: 'doc', version: 1, content: [] });
  // Load the SDK now too: the first attempt of a test should not pay for it against its timeout.
  await import('jira.js');
  const server = await createFakeServer((req) => handle(req, server.url));
  return {
    server,
    url: server.url,
    issues,
    failNextWrite: (response) => void writeFailures.push(response),
    dropNextCreateResponse: () => {
      dropCreate = true;
    },
    requestsTo: (kind) => server.requests.filter((r) => KINDS[kind].test(r.path)),
    close: () => server.close(),
  };
}

/** Cloud (v3) takes ADF, Data Center (v2) wiki markup; both cap the text at 32,767 characters. */
function checkText(value: unknown, version: 2 | 3): string | undefined {
  if (value === undefined) return undefined;
  if (version === 3) {
    if (typeof value !== 'object' || adfErrors(value).length > 0) {
      return 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    }
    if (JSON.stringify(value).length > 32_767) {
      return 'The entered text is too long. It exceeds the allowed limit of 32,767 characters.';
    }
    return undefined;
  }
  if (typeof value !== 'string') return 'Operation value must be a string';
  return value.length > 32_767
    ? 'The entered text is too long. It exceeds the allowed limit of 32,767 characters.'
    : undefined;
}

/**
 * The contract harness's `failNext`: transport failures and hostile bodies hit the next request
 * (the search), a refusal the next write (create or comment), as Jira refuses a ticket.
 */
export function failNextFor(jira: FakeJira) {
  const base = fakeServerHarness(jira.server, jiraFailures);
  return (failure: ContractFailure, retryAfterSeconds = 1): void => {
    if (failure === 'client_error') jira.failNextWrite(jiraFailures.client_error);
    else base.failNext(failure, retryAfterSeconds);
  };
}
