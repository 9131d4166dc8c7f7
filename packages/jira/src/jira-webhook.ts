import {
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  parseCommonOptions,
  type RateLimit,
  type RetryPolicy,
  SEVERITIES,
  WebhookConfigError,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import type { BaseClient, Client, Config } from 'jira.js';
import { type JiraOperation, toJiraDeliveryError } from './errors.js';
import {
  type CommentReason,
  DEFAULT_PRIORITY_MAP,
  duplicateSearchJql,
  formatComment,
  formatIssue,
  ISSUE_PROPERTY_KEY,
  type IssueFormatOptions,
  type JiraDeployment,
  type JiraIssuePayload,
  type PriorityMap,
} from './format.js';

/** Options of {@link JiraWebhook}. */
export interface JiraWebhookOptions extends CommonWebhookOptions {
  /**
   * Base URL of the Jira site (a context path such as `/jira` is kept). Its origin shows in errors.
   * @example 'https://your-team.atlassian.net'
   */
  url: string;
  /** Jira Cloud basic auth: the Atlassian account's email. Needs `apiToken`. */
  email?: string | undefined;
  /** Jira Cloud basic auth: an API token (id.atlassian.com → Security → API tokens). Needs `email`. */
  apiToken?: string | undefined;
  /**
   * A bearer token instead of `email` + `apiToken`: a Data Center personal access token, or a
   * Cloud OAuth 2.0 access token (then set `deployment: 'cloud'`).
   */
  token?: string | undefined;
  /**
   * `'cloud'` uses REST v3 and ADF descriptions; `'datacenter'` uses REST v2 and wiki markup
   * (Data Center and Server have no v3 and no ADF).
   * @default 'cloud' with `email` + `apiToken`, 'datacenter' with `token`
   */
  deployment?: JiraDeployment | undefined;
  /** Project key. @example 'EMP' */
  project: string;
  /** Issue type name. @default 'Bug' */
  issueType?: string | undefined;
  /**
   * Severity → Jira priority name, merged over the default; `false` sends no priority.
   * @default { critical: 'Highest', high: 'High', warning: 'Medium', medium: 'Medium', low: 'Low', info: 'Lowest' }
   */
  priorityMap?: PriorityMap | false | undefined;
  /** Labels added to every ticket, besides `ai-detected`, the category and the fingerprint. @default [] */
  labels?: string[] | undefined;
  /**
   * Who gets the ticket: an accountId (Cloud) or user name (Data Center), or a function of the
   * event (return `undefined` for none).
   * @default undefined (unassigned: the project's default assignee)
   * @example (event) => ('owner' in event.data ? event.data.owner : undefined)  // the file owner
   */
  assignee?: string | ((event: EmpathyEvent) => string | undefined) | undefined;
  /**
   * Further fields for every new issue: components, custom fields, … The formatted fields
   * (project, issue type, summary, description, labels, priority, assignee) take precedence.
   * @default {}
   * @example { components: [{ name: 'auth' }], customfield_10010: 'AI' }
   */
  fields?: Record<string, unknown> | undefined;
  /** Start of every summary. @default '[AI Detected]' */
  summaryPrefix?: string | undefined;
  /**
   * Before creating a ticket, look for an open issue with the finding's fingerprint label and add
   * a "Seen again at …" comment to it instead.
   * @default true
   */
  deduplicate?: boolean | undefined;
}

/** The events a Jira webhook receives unless `events` says otherwise. */
export const JIRA_DEFAULT_EVENTS = [
  'bug_detected',
  'security_vulnerability',
] as const satisfies EventSelector[];

/**
 * Tickets are for people: a burst of findings should not flood a project. Jira Cloud's own limits
 * are cost-based and unpublished; each delivery makes two requests (search, then create or comment).
 */
export const JIRA_DEFAULT_RATE_LIMIT = { maxRequestsPerMinute: 60 } satisfies RateLimit;

const RECENT_ISSUES_KEPT = 1000;

interface FoundIssue {
  id: string;
  key: string;
  properties?: Record<string, { event_id?: unknown } | undefined> | undefined;
}

/** The three Jira calls a delivery makes, bound to one attempt's AbortSignal. */
interface JiraCalls {
  search(jql: string, reconcile: number[]): Promise<FoundIssue | undefined>;
  create(payload: JiraIssuePayload): Promise<{ id: string; key: string }>;
  comment(issueKey: string, body: unknown): Promise<{ id: string }>;
}

interface Sdk {
  client: BaseClient;
  sdk: typeof import('jira.js');
}

/**
 * Opens a Jira ticket for each finding (by default `bug_detected` and `security_vulnerability`),
 * in the seed's format: `[AI Detected] SQL injection in auth.py:45`, an ADF description with the
 * file, the issue and the recommended fix as a code block, a priority from the severity, and
 * labels (`ai-detected`, the category, the fingerprint). A finding that already has an open
 * ticket gets a "Seen again at …" comment instead of a second ticket.
 *
 * Built on jira.js (`Version3Client` for Cloud, `Version2Client` for Data Center). Each attempt
 * makes one search and one create or comment; retries, Retry-After, rate limits and timeouts are
 * core's.
 *
 * @example
 * const jira = new JiraWebhook({
 *   url: process.env.JIRA_URL!, email: process.env.JIRA_EMAIL!, apiToken: process.env.JIRA_API_TOKEN!,
 *   project: 'EMP', issueType: 'Bug', events: ['bug_detected', 'security_vulnerability'],
 * });
 */
export class JiraWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: WebhookPlugin['circuitBreaker'];
  readonly concurrency: number;
  readonly onFailure: WebhookPlugin['onFailure'];
  /** Cloud (REST v3, ADF) or Data Center (REST v2, wiki markup). */
  readonly deployment: JiraDeployment;

  readonly #config: JiraConfig;
  readonly #secrets: string[];
  #sdk: Promise<Sdk> | undefined;
  /** Per fingerprint, the delivery in flight: the same finding is handled one at a time. */
  readonly #inFlight = new Map<string, Promise<unknown>>();
  /** Issues this instance created, by fingerprint: Cloud search is eventually consistent. */
  readonly #recent = new Map<string, number>();

  constructor(options: JiraWebhookOptions) {
    const common = parseCommonOptions(options, {
      name: 'jira',
      events: JIRA_DEFAULT_EVENTS,
      concurrency: 2,
      rateLimit: JIRA_DEFAULT_RATE_LIMIT,
    });
    this.name = common.name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;
    this.#config = resolveJiraOptions(options, this.name);
    this.deployment = this.#config.deployment;
    const { auth } = this.#config;
    this.#secrets =
      'token' in auth
        ? [auth.token]
        : [auth.apiToken, Buffer.from(`${auth.email}:${auth.apiToken}`).toString('base64')];
  }

  /** One attempt: search for the finding's open issue, then comment on it or create a new one. */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    let issue: JiraIssuePayload;
    try {
      const { assignee, ...format } = this.#config.format;
      const who = typeof assignee === 'function' ? assignee(event) : assignee;
      issue = formatIssue(event, { ...format, assignee: typeof who === 'string' ? who.trim() : undefined });
    } catch (error) {
      // The same event would fail the same way again (a throwing `assignee` function, say).
      throw new WebhookDeliveryError(`could not build the ticket: ${(error as Error)?.message ?? error}`, {
        webhook: this.name,
        retryable: false,
      });
    }
    const fingerprint = issue.properties[0]!.value.fingerprint;
    const previous = this.#inFlight.get(fingerprint);
    const run = (previous ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#deliverOnce(event, issue, fingerprint, ctx.signal));
    this.#inFlight.set(fingerprint, run);
    try {
      return await run;
    } finally {
      if (this.#inFlight.get(fingerprint) === run) this.#inFlight.delete(fingerprint);
    }
  }

  async #deliverOnce(
    event: EmpathyEvent,
    issue: JiraIssuePayload,
    fingerprint: string,
    signal: AbortSignal,
  ): Promise<DeliveryReceipt> {
    let operation: JiraOperation = 'search issues';
    try {
      // Waiting for an earlier delivery of the same finding may have used up this attempt's time.
      signal.throwIfAborted();
      const calls = await this.#calls(signal);
      const resolved = event.event_type === 'alert' && event.data.resolved === true;
      if (this.#config.deduplicate) {
        const recent = this.#recent.get(fingerprint);
        const jql = duplicateSearchJql(this.#config.format.project, fingerprint);
        const open = await calls.search(jql, recent === undefined ? [] : [recent]);
        if (open && open.properties?.[ISSUE_PROPERTY_KEY]?.event_id === event.event_id) {
          // An earlier attempt of this very event created it (its answer was lost): done.
          return this.#receipt(200, open.key, 'created', fingerprint);
        }
        if (open) {
          operation = 'add comment';
          const reason: CommentReason = resolved ? 'resolved' : 'seen_again';
          const comment = await calls
            .comment(open.key, formatComment(event, this.deployment, reason))
            // Deleted (or moved out of reach) since the search: open a new ticket below.
            .catch((error: unknown) => {
              if ((error as { status?: unknown }).status === 404) return undefined;
              throw error;
            });
          if (comment) {
            return {
              ...this.#receipt(201, open.key, 'commented', fingerprint),
              id: `${open.key}#${comment.id}`,
            };
          }
        }
      }
      if (resolved) {
        return { detail: { action: 'skipped', reason: 'resolved alert without an open issue', fingerprint } };
      }
      operation = 'create issue';
      const created = await calls.create(issue);
      this.#remember(fingerprint, Number(created.id));
      return this.#receipt(201, created.key, 'created', fingerprint);
    } catch (error) {
      throw toJiraDeliveryError(this.name, error, operation, this.#secrets);
    }
  }

  #receipt(
    status: number,
    key: string,
    action: 'created' | 'commented',
    fingerprint: string,
  ): DeliveryReceipt {
    return {
      status,
      id: key,
      detail: { action, issue: key, url: `${this.#config.baseUrl}/browse/${key}`, fingerprint },
    };
  }

  #remember(fingerprint: string, id: number): void {
    if (!Number.isSafeInteger(id)) return;
    this.#recent.delete(fingerprint);
    this.#recent.set(fingerprint, id);
    if (this.#recent.size > RECENT_ISSUES_KEPT) this.#recent.delete(this.#recent.keys().next().value!);
  }

  /** The client, created on first use (jira.js and axios load then, not at import). */
  #client(): Promise<Sdk> {
    this.#sdk ??= import('jira.js').then((sdk) => {
      const { auth, baseUrl } = this.#config;
      // Core owns retries and timeouts (through the AbortSignal); jira.js has no retries of its own.
      // No redirects: they would carry the Authorization header to wherever Jira points.
      const common = { host: baseUrl, baseRequestConfig: { maxRedirects: 0 } };
      const config: Config =
        'token' in auth
          ? { ...common, authentication: { oauth2: { accessToken: auth.token } } }
          : { ...common, authentication: { basic: auth } };
      const client =
        this.deployment === 'cloud' ? new sdk.Version3Client(config) : new sdk.Version2Client(config);
      return { client, sdk };
    });
    this.#sdk.catch(() => {
      this.#sdk = undefined;
    });
    return this.#sdk;
  }

  /**
   * jira.js's methods take no per-request options, so each attempt gets the SDK's own section
   * classes over a client that adds the attempt's AbortSignal to every request.
   */
  async #calls(signal: AbortSignal): Promise<JiraCalls> {
    const { client, sdk } = await this.#client();
    const scoped: Client = {
      sendRequest: ((config: object, callback?: never) =>
        client.sendRequest({ ...config, signal }, callback as never)) as Client['sendRequest'],
      sendRequestFullResponse: (config) => client.sendRequestFullResponse({ ...config, signal }),
      handleSuccessResponse: (response, callback) => client.handleSuccessResponse(response, callback),
      handleFailedResponse: (error, callback) => client.handleFailedResponse(error, callback),
    };
    const fields = ['summary', 'status'];
    const properties = [ISSUE_PROPERTY_KEY];
    if (this.deployment === 'cloud') {
      const search = new sdk.Version3.IssueSearch(scoped);
      const issues = new sdk.Version3.Issues(scoped);
      const comments = new sdk.Version3.IssueComments(scoped);
      return {
        async search(jql, reconcileIssues) {
          // POST /rest/api/3/search/jql is eventually consistent; reconcileIssues makes the
          // issues we just created visible: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/
          const result = await search.searchForIssuesUsingJqlEnhancedSearchPost({
            jql,
            maxResults: 1,
            fields,
            properties,
            ...(reconcileIssues.length > 0 ? { reconcileIssues } : {}),
          });
          return result.issues?.[0] as FoundIssue | undefined;
        },
        create: (payload) => issues.createIssue(payload as never) as Promise<{ id: string; key: string }>,
        comment: (issueIdOrKey, comment) => comments.addComment({ issueIdOrKey, comment: comment as never }),
      };
    }
    const search = new sdk.Version2.IssueSearch(scoped);
    const issues = new sdk.Version2.Issues(scoped);
    const comments = new sdk.Version2.IssueComments(scoped);
    return {
      async search(jql) {
        const result = await search.searchForIssuesUsingJqlPost({ jql, maxResults: 1, fields, properties });
        return result.issues?.[0] as FoundIssue | undefined;
      },
      create: (payload) => issues.createIssue(payload as never) as Promise<{ id: string; key: string }>,
      comment: (issueIdOrKey, comment) => comments.addComment({ issueIdOrKey, comment: comment as string }),
    };
  }
}

/** The options after validation, with defaults filled in. */
interface JiraConfig {
  deployment: JiraDeployment;
  baseUrl: string;
  auth: { email: string; apiToken: string } | { token: string };
  deduplicate: boolean;
  format: Omit<IssueFormatOptions, 'assignee'> & { assignee: JiraWebhookOptions['assignee'] };
}

/** Validates the Jira-specific options; messages name the option, never its secret value. */
function resolveJiraOptions(options: JiraWebhookOptions, webhook: string): JiraConfig {
  const fail = (message: string): never => {
    throw new WebhookConfigError(message, { webhook });
  };
  const isText = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

  const url = URL.canParse(String(options.url))
    ? new URL(options.url)
    : fail(`option 'url' must be the Jira site's URL, e.g. https://your-team.atlassian.net`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    fail(`option 'url' must be an http(s) URL (got ${url.protocol})`);
  }
  if (url.username || url.password) {
    fail(`option 'url' must not contain credentials: use 'email' + 'apiToken' or 'token'`);
  }
  if (url.search || url.hash) fail(`option 'url' must not have a query or fragment`);
  const baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;

  const { email, apiToken, token } = options;
  if (token !== undefined) {
    if (!isText(token)) fail(`option 'token' must be a non-empty string`);
    if (email !== undefined || apiToken !== undefined) {
      fail(`use either 'token' or 'email' + 'apiToken', not both`);
    }
  } else {
    if (!isText(email) || !email.includes('@')) {
      fail(`option 'email' must be the Atlassian account's email (or pass 'token' instead)`);
    }
    if (!isText(apiToken)) fail(`option 'apiToken' must be a non-empty string (with 'email')`);
  }
  const deployment = options.deployment ?? (token !== undefined ? 'datacenter' : 'cloud');
  if (deployment !== 'cloud' && deployment !== 'datacenter') {
    fail(`option 'deployment' must be 'cloud' or 'datacenter' (got ${JSON.stringify(deployment)})`);
  }
  if (deployment === 'datacenter' && token === undefined) {
    fail(`option 'deployment' 'datacenter' needs 'token' (a personal access token)`);
  }

  if (typeof options.project !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,254}$/.test(options.project)) {
    fail(`option 'project' must be a project key such as 'EMP' (got ${JSON.stringify(options.project)})`);
  }
  if (options.issueType !== undefined && (!isText(options.issueType) || options.issueType.length > 255)) {
    fail(`option 'issueType' must be an issue type name such as 'Bug'`);
  }
  if (
    options.summaryPrefix !== undefined &&
    (typeof options.summaryPrefix !== 'string' || options.summaryPrefix.length > 50)
  ) {
    fail(`option 'summaryPrefix' must be a string of at most 50 characters`);
  }

  let priorityMap: PriorityMap | false = { ...DEFAULT_PRIORITY_MAP };
  if (options.priorityMap === false) priorityMap = false;
  else if (options.priorityMap !== undefined) {
    if (
      options.priorityMap === null ||
      typeof options.priorityMap !== 'object' ||
      Array.isArray(options.priorityMap)
    ) {
      fail(`option 'priorityMap' must be an object (severity → priority name) or false`);
    }
    for (const [severity, priority] of Object.entries(options.priorityMap)) {
      if (!(SEVERITIES as readonly string[]).includes(severity)) {
        fail(`option 'priorityMap' has unknown severity '${severity}'; severities: ${SEVERITIES.join(', ')}`);
      }
      if (!isText(priority)) fail(`option 'priorityMap.${severity}' must be a priority name such as 'High'`);
    }
    priorityMap = { ...DEFAULT_PRIORITY_MAP, ...options.priorityMap };
  }

  if (options.labels !== undefined) {
    if (!Array.isArray(options.labels)) fail(`option 'labels' must be an array of strings`);
    for (const label of options.labels) {
      if (!isText(label) || /\s/.test(label) || label.length > 255) {
        fail(
          `option 'labels' holds ${JSON.stringify(label)}: Jira labels are 1-255 characters without spaces`,
        );
      }
    }
  }
  if (options.assignee !== undefined && typeof options.assignee !== 'function' && !isText(options.assignee)) {
    fail(`option 'assignee' must be an accountId / user name, or a function (event) => string | undefined`);
  }
  if (
    options.fields !== undefined &&
    (options.fields === null || typeof options.fields !== 'object' || Array.isArray(options.fields))
  ) {
    fail(`option 'fields' must be an object of Jira field ids to values`);
  }
  if (options.deduplicate !== undefined && typeof options.deduplicate !== 'boolean') {
    fail(`option 'deduplicate' must be a boolean`);
  }
  return {
    deployment,
    baseUrl,
    auth: token === undefined ? { email: email!.trim(), apiToken: apiToken! } : { token },
    deduplicate: options.deduplicate ?? true,
    format: {
      project: options.project,
      issueType: options.issueType ?? 'Bug',
      deployment,
      priorityMap,
      labels: [...(options.labels ?? [])],
      summaryPrefix: options.summaryPrefix ?? '[AI Detected]',
      assignee: typeof options.assignee === 'string' ? options.assignee.trim() : options.assignee,
      fields: options.fields === undefined ? undefined : { ...options.fields },
    },
  };
}
