import type {
  DeliveryContext,
  DeliveryReceipt,
  EmpathyEvent,
  EventSelector,
  RateLimit,
} from '@empathy/webhooks-core';
import {
  type IncidentContext,
  incidentOf,
  oneLine,
  permanentError,
  truncateText,
  WebhookBase,
  type WebhookOptions,
} from '@empathy/webhooks-core/kit';
import type { BaseClient, Client, Config } from 'jira.js';
import { jiraError } from './errors.js';
import {
  type CommentReason,
  duplicateSearchJql,
  fingerprintOf,
  fitFields,
  formatComment,
  formatIssue,
  ISSUE_PROPERTY_KEY,
  type JiraDeployment,
  type JiraIssueFields,
  type JiraIssuePayload,
} from './format.js';
import { type JiraConfig, type JiraSpecificOptions, parseJiraOptions } from './options.js';

/** Options of {@link JiraWebhook}: the common ones, `format` over {@link JiraIssueFields}, and Jira's. */
export interface JiraWebhookOptions extends WebhookOptions<JiraIssueFields>, JiraSpecificOptions {}

/** The events a Jira webhook receives unless `events` says otherwise. */
export const JIRA_DEFAULT_EVENTS = [
  'bug_detected',
  'security_vulnerability',
] as const satisfies EventSelector[];

/**
 * Tickets are for people: a burst of findings should not flood a project. Jira Cloud's own limits
 * are cost-based and unpublished; each delivery makes two or three requests (search or status,
 * then create or comment; a resolution also reads and runs a transition).
 */
export const JIRA_DEFAULT_RATE_LIMIT = { maxRequestsPerMinute: 60 } satisfies RateLimit;

const RECENT_ISSUES_KEPT = 1000;
/**
 * The most bytes of an answer axios reads (after decompression): a search for one issue, a
 * created issue's id and key, a comment echoing its body (at most 32,767 characters of ADF).
 */
const MAX_RESPONSE_BYTES = 512 * 1024;
/** The most bytes of a request body: a ticket's fields (32,767 characters of ADF, extra fields). */
const MAX_REQUEST_BYTES = 1024 * 1024;

interface FoundIssue {
  id: string;
  key: string;
  properties?: Record<string, { event_id?: unknown } | undefined> | undefined;
}

/** A workflow transition as `GET /rest/api/{2,3}/issue/{key}/transitions` lists it. */
interface Transition {
  id: string;
  name: string;
  isAvailable?: boolean | undefined;
}

/** The Jira calls a delivery makes, bound to one attempt's AbortSignal. */
interface JiraCalls {
  search(jql: string, reconcile: number[]): Promise<FoundIssue | undefined>;
  create(payload: JiraIssuePayload): Promise<{ id: string; key: string }>;
  comment(issueKey: string, body: unknown): Promise<{ id: string }>;
  /** The issue's status category key (`new`, `indeterminate`, `done`). */
  statusCategory(issueKey: string): Promise<unknown>;
  transitions(issueKey: string): Promise<unknown>;
  transition(issueKey: string, id: string): Promise<unknown>;
}

/**
 * What a delivery uses of jira.js's `Issues` and `IssueComments` sections, alike in Version3
 * (Cloud) and Version2 (Server/Data Center): the payloads are built by the caller.
 */
interface IssueSections {
  issues: {
    createIssue(parameters: never): Promise<{ id: string; key: string }>;
    getIssue(parameters: { issueIdOrKey: string; fields: string[] }): Promise<unknown>;
    getTransitions(parameters: { issueIdOrKey: string }): Promise<unknown>;
    doTransition(parameters: { issueIdOrKey: string; transition: { id: string } }): Promise<unknown>;
  };
  comments: { addComment(parameters: { issueIdOrKey: string; comment: never }): Promise<{ id: string }> };
}

/** An answer's `status` (jira.js keeps the HTTP status on its errors). */
const isNotFound = (error: unknown): boolean => (error as { status?: unknown } | null)?.status === 404;

interface Sdk {
  client: BaseClient;
  sdk: typeof import('jira.js');
}

/**
 * Opens a Jira ticket for each finding (by default `bug_detected` and `security_vulnerability`),
 * in the seed's layout: `[AI Detected] Security vulnerability: SQL injection in auth.py:45` (the
 * shared reading's title), an ADF description with the file, the issue and the recommended fix as
 * a code block, a priority from the severity, and labels (`ai-detected`, the category, the
 * fingerprint). A finding that already has an open ticket gets a "Seen again at …" comment
 * instead of a second ticket.
 *
 * Incidents: the ticket's key is the incident's reference (`incidentRef: { issue }`), so repeats
 * comment on it directly ("Seen: N times since …") and a resolved event comments on it and, with
 * `resolveTransition`, moves it (e.g. to Done). A ticket someone closed meanwhile is left alone:
 * the next repeat opens a new one, as a new finding would.
 *
 * Built on jira.js (`Version3Client` for Cloud, `Version2Client` for Data Center) over the plugin
 * kit: axios gets the kit's guarded agents (private addresses refused unless
 * `allowPrivateNetwork`), no redirects, bounded bodies and the attempt's AbortSignal. Each attempt
 * makes one search (or, for a known ticket, one status read) and one create or comment, plus the
 * transition's read and run on a resolution; retries, Retry-After, rate limits and timeouts are
 * core's.
 *
 * @example
 * const jira = new JiraWebhook({
 *   url: process.env.JIRA_URL!, email: process.env.JIRA_EMAIL!, apiToken: process.env.JIRA_API_TOKEN!,
 *   project: 'EMP', issueType: 'Bug', events: ['bug_detected', 'security_vulnerability'],
 * });
 */
export class JiraWebhook extends WebhookBase<JiraIssueFields> {
  /** The Jira site's origin, e.g. `https://team.atlassian.net`: safe to print. */
  readonly target: string;
  /** Cloud (REST v3, ADF) or Data Center (REST v2, wiki markup). */
  readonly deployment: JiraDeployment;

  readonly #config: JiraConfig;
  #sdk: Promise<Sdk> | undefined;
  /** Per fingerprint, the delivery in flight: the same finding is handled one at a time. */
  readonly #inFlight = new Map<string, Promise<unknown>>();
  /** Issues this instance created, by fingerprint: Cloud search is eventually consistent. */
  readonly #recent = new Map<string, number>();

  constructor(options: JiraWebhookOptions) {
    super(options, {
      name: 'jira',
      events: JIRA_DEFAULT_EVENTS,
      concurrency: 2,
      rateLimit: JIRA_DEFAULT_RATE_LIMIT,
    });
    this.#config = parseJiraOptions(options, this.name, this.allowPrivateNetwork);
    this.deployment = this.#config.deployment;
    this.target = this.#config.origin;
    const { auth } = this.#config;
    if ('token' in auth) {
      this.redactor.addSecret(auth.token);
    } else {
      const basic = Buffer.from(`${auth.email}:${auth.apiToken}`).toString('base64');
      this.redactor.addSecret(auth.apiToken).addSecret(basic).addHeaderValue(`Basic ${basic}`);
    }
  }

  /**
   * The new ticket's fields for `event`. An `assignee` function that throws fails the event for
   * good, before any request (the same event would fail the same way again).
   */
  protected render(event: EmpathyEvent, incident?: IncidentContext): JiraIssueFields {
    const { assignee, ...format } = this.#config.format;
    let who: unknown;
    try {
      who = typeof assignee === 'function' ? assignee(event) : assignee;
    } catch (error) {
      throw permanentError(
        this.errors,
        `could not build the ticket: ${error instanceof Error ? error.message : String(error)}`,
        'EASSIGNEE',
        error,
      );
    }
    return formatIssue(
      event,
      { ...format, assignee: typeof who === 'string' ? who.trim() : undefined },
      incident,
    ).fields;
  }

  /** Jira's limits (summary, labels, description size) applied to the fields `format` returned. */
  protected override fit(fields: JiraIssueFields): JiraIssueFields {
    return fitFields(fields, this.deployment);
  }

  /**
   * One attempt: comment on (or resolve) the incident's ticket when core kept its key, else search
   * for the finding's open ticket, then comment on it or create a new one.
   */
  protected async send(
    fields: JiraIssueFields,
    event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    const fingerprint = fingerprintOf(event);
    // The fingerprint label is how the next report finds this ticket: keep it, whatever `format` did.
    const labels = fields.labels.includes(fingerprint) ? fields.labels : [...fields.labels, fingerprint];
    const issue: JiraIssuePayload = {
      fields: { ...fields, labels },
      properties: [{ key: ISSUE_PROPERTY_KEY, value: { event_id: event.event_id, fingerprint } }],
    };
    const previous = this.#inFlight.get(fingerprint);
    const run = (previous ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#deliverOnce(event, issue, fingerprint, ctx.signal, ctx.incident));
    this.#inFlight.set(fingerprint, run);
    try {
      return await run;
    } finally {
      if (this.#inFlight.get(fingerprint) === run) this.#inFlight.delete(fingerprint);
    }
  }

  /** Releases the connections; the next delivery opens new ones with a new client. */
  override async close(): Promise<void> {
    this.#sdk = undefined;
    await super.close();
  }

  async #deliverOnce(
    event: EmpathyEvent,
    issue: JiraIssuePayload,
    fingerprint: string,
    signal: AbortSignal,
    incident: IncidentContext | undefined,
  ): Promise<DeliveryReceipt> {
    try {
      // Waiting for an earlier delivery of the same finding may have used up this attempt's time.
      signal.throwIfAborted();
      // Sockets skip the guarded lookup for an address literal: check it here.
      this.http.checkHost(this.#config.hostname);
      const calls = await this.#calls(signal);
      // Outside a dispatcher (a direct `deliver`) there is no ctx.incident: the event says it.
      const resolved = incident ? incident.status === 'resolved' : incidentOf(event)?.resolved === true;
      const update = (key: string) => this.#update(calls, key, event, fingerprint, resolved, incident);
      const known = incident?.ref?.issue;
      if (known !== undefined) {
        // The incident's own ticket: no search needed. Gone, or closed while the condition still
        // fires: on as if there were none (a new ticket, as for a new finding).
        if (resolved || (await this.#isOpen(calls, known))) {
          const receipt = await update(known);
          if (receipt) return receipt;
        }
      }
      if (this.#config.deduplicate) {
        const recent = this.#recent.get(fingerprint);
        const jql = duplicateSearchJql(this.#config.format.project, fingerprint);
        const open = await calls.search(jql, recent === undefined ? [] : [recent]);
        if (open && open.properties?.[ISSUE_PROPERTY_KEY]?.event_id === event.event_id) {
          // An earlier attempt of this very event created it (its answer was lost): done.
          return this.#receipt(200, open.key, 'created', fingerprint);
        }
        if (open) {
          // Deleted (or moved out of reach) since the search: open a new ticket below.
          const receipt = await update(open.key);
          if (receipt) return receipt;
        }
      }
      if (resolved) {
        return {
          detail: { action: 'skipped', reason: 'resolved condition without an open issue', fingerprint },
        };
      }
      const created = await calls.create(issue);
      if (typeof created?.key !== 'string') {
        throw Object.assign(new Error('Jira answered the new issue without its key'), {
          code: 'EBADRESPONSE',
        });
      }
      this.#remember(fingerprint, Number(created.id));
      return this.#receipt(201, created.key, 'created', fingerprint);
    } catch (error) {
      throw jiraError(this.errors, error);
    }
  }

  /** Whether the ticket is there and not in the Done category (`false` when it is gone). */
  async #isOpen(calls: JiraCalls, key: string): Promise<boolean> {
    const category = await calls.statusCategory(key).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw error;
    });
    if (category === null) return false;
    if (typeof category !== 'string') {
      throw Object.assign(new Error(`Jira answered the issue ${key} without its status`), {
        code: 'EBADRESPONSE',
      });
    }
    return category !== 'done';
  }

  /**
   * The ticket told what happened: a "Seen again" comment, or, when the condition cleared, a move
   * through `resolveTransition` when the ticket has one of that name, then a "Resolved at" comment.
   * `undefined` when the ticket is gone (404).
   */
  async #update(
    calls: JiraCalls,
    key: string,
    event: EmpathyEvent,
    fingerprint: string,
    resolved: boolean,
    incident: IncidentContext | undefined,
  ): Promise<DeliveryReceipt | undefined> {
    const transition = resolved ? await this.#transitionResolved(calls, key) : {};
    if (transition === undefined) return undefined;
    const comment = await this.#addComment(calls, key, event, resolved ? 'resolved' : 'seen_again', incident);
    if (!comment) return undefined;
    const { moved, note } = transition;
    const receipt = this.#receipt(201, key, moved ? 'transitioned' : 'commented', fingerprint);
    const id = `${key}#${comment.id}`;
    if (!resolved) return { ...receipt, id };
    return {
      ...receipt,
      id,
      detail: {
        ...receipt.detail,
        resolved: true,
        ...(moved ? { transition: moved } : {}),
        ...(note ? { note } : {}),
      },
    };
  }

  /**
   * Moves a cleared condition's ticket through `resolveTransition` when it has one of that name:
   * the transition's name (`moved`), or a `note` saying why not; nothing when no
   * `resolveTransition` is set. `undefined` when the ticket is gone (404).
   */
  async #transitionResolved(
    calls: JiraCalls,
    key: string,
  ): Promise<{ moved?: string; note?: string } | undefined> {
    const wanted = this.#config.resolveTransition;
    if (wanted === undefined) return {};
    const answer = await calls.transitions(key).catch((error: unknown) => {
      if (isNotFound(error)) return null;
      throw error;
    });
    if (answer === null) return undefined;
    const transitions = (answer as { transitions?: unknown } | undefined)?.transitions;
    if (!Array.isArray(transitions)) {
      throw Object.assign(new Error(`Jira answered the transitions of ${key} with something else`), {
        code: 'EBADRESPONSE',
      });
    }
    const available = (transitions as Partial<Transition>[]).filter(
      (t): t is Transition =>
        typeof t?.id === 'string' && typeof t.name === 'string' && t.isAvailable !== false,
    );
    const match = available.find((t) => t.name.trim().toLowerCase() === wanted.toLowerCase());
    if (match) {
      // Moved first: a retry after a lost comment finds it moved and only comments.
      await calls.transition(key, match.id);
      return { moved: oneLine(match.name) };
    }
    const names = available.map((t) => `'${truncateText(oneLine(t.name), 60)}'`).slice(0, 10);
    return {
      note:
        `no transition named '${wanted}' is available for ${key} ` +
        `(available: ${names.length > 0 ? names.join(', ') : 'none'}); the issue was commented on, not moved`,
    };
  }

  /** Adds a comment; `undefined` when the ticket is gone (deleted, or moved out of reach). */
  #addComment(
    calls: JiraCalls,
    key: string,
    event: EmpathyEvent,
    reason: CommentReason,
    incident: IncidentContext | undefined,
  ): Promise<{ id: string } | undefined> {
    return calls
      .comment(key, formatComment(event, this.deployment, reason, incident))
      .catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
  }

  /** A receipt naming the ticket; its key is the incident's reference from now on. */
  #receipt(
    status: number,
    key: string,
    action: 'created' | 'commented' | 'transitioned',
    fingerprint: string,
  ): DeliveryReceipt {
    return {
      status,
      id: key,
      detail: { action, issue: key, url: `${this.#config.baseUrl}/browse/${key}`, fingerprint },
      incidentRef: { issue: key },
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
      const baseRequestConfig = {
        // The kit's keep-alive agents: their lookup refuses private addresses unless
        // allowPrivateNetwork, and an aborted request's socket is destroyed, not pooled.
        httpAgent: this.http.httpAgent,
        httpsAgent: this.http.httpsAgent,
        // An HTTP(S)_PROXY from the environment would be dialed instead of the guarded address.
        proxy: false,
        // A redirect would carry the Authorization header to wherever Jira points.
        maxRedirects: 0,
        maxContentLength: MAX_RESPONSE_BYTES,
        maxBodyLength: MAX_REQUEST_BYTES,
      };
      const common = { host: baseUrl, baseRequestConfig };
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
    // Cloud's v3 and Server/Data Center's v2 API share the issue and comment sections (the
    // comment body is ADF or wiki text, built by the caller); only the search differs.
    const api = this.deployment === 'cloud' ? sdk.Version3 : sdk.Version2;
    const issues: IssueSections['issues'] = new api.Issues(scoped);
    const comments: IssueSections['comments'] = new api.IssueComments(scoped);
    return {
      search: this.#search(sdk, scoped),
      create: (payload) => issues.createIssue(payload as never),
      comment: (issueIdOrKey, comment) => comments.addComment({ issueIdOrKey, comment: comment as never }),
      statusCategory: async (issueIdOrKey) =>
        categoryOf(await issues.getIssue({ issueIdOrKey, fields: ['status'] })),
      transitions: (issueIdOrKey) => issues.getTransitions({ issueIdOrKey }),
      transition: (issueIdOrKey, id) => issues.doTransition({ issueIdOrKey, transition: { id } }),
    };
  }

  /** The search for a finding's open issue, by the deployment's search API. */
  #search(sdk: Sdk['sdk'], client: Client): JiraCalls['search'] {
    const fields = ['summary', 'status'];
    const properties = [ISSUE_PROPERTY_KEY];
    if (this.deployment === 'cloud') {
      const search = new sdk.Version3.IssueSearch(client);
      return async (jql, reconcileIssues) => {
        // POST /rest/api/3/search/jql is eventually consistent; reconcileIssues makes the
        // issues we just created visible: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/
        const result = await search.searchForIssuesUsingJqlEnhancedSearchPost({
          jql,
          maxResults: 1,
          fields,
          properties,
          ...(reconcileIssues.length > 0 ? { reconcileIssues } : {}),
        });
        return firstIssue(result);
      };
    }
    const search = new sdk.Version2.IssueSearch(client);
    return async (jql) =>
      firstIssue(await search.searchForIssuesUsingJqlPost({ jql, maxResults: 1, fields, properties }));
  }
}

/** `fields.status.statusCategory.key` of an issue answer, as it came (checked by the caller). */
function categoryOf(issue: unknown): unknown {
  return (issue as { fields?: { status?: { statusCategory?: { key?: unknown } } } } | null)?.fields?.status
    ?.statusCategory?.key;
}

/**
 * The first issue of a search answer. An answer that is no search result (a proxy's page, a body
 * cut off, which axios hands over as text) is an error, never "no open issue": that would open a
 * second ticket for the finding.
 */
function firstIssue(result: unknown): FoundIssue | undefined {
  const issues = (result as { issues?: unknown } | null)?.issues;
  if (!Array.isArray(issues)) {
    throw Object.assign(new Error('Jira answered the search with something that is not a search result'), {
      code: 'EBADRESPONSE',
    });
  }
  return issues[0] as FoundIssue | undefined;
}
