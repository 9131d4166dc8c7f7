import type {
  DeliveryContext,
  DeliveryReceipt,
  EmpathyEvent,
  EventSelector,
  RateLimit,
  WebhookDeliveryError,
} from '@empathy/webhooks-core';
import {
  type IncidentContext,
  incidentOf,
  networkError,
  parseEndpointOption,
  permanentError,
  WebhookBase,
  type WebhookOptions,
} from '@empathy/webhooks-core/kit';
import { Octokit } from '@octokit/rest';
import { deliveryErrorIn, githubAnswerError } from './errors.js';
import {
  findingFingerprint,
  fingerprintMarker,
  fitPayloadForGitHub,
  formatDispatch,
  formatIssue,
  formatIssueComment,
  formatReviewComment,
  formatWorkflowInputs,
  type GitHubPayload,
  reviewMarker,
  truncateBody,
} from './format.js';
import {
  defaultEvents,
  FINDINGS,
  failFor,
  type GitHubDispatchOptions,
  type GitHubIssueOptions,
  type GitHubWorkflowOptions,
  isLogin,
  type ParsedIssues,
  parseDispatch,
  parseIssues,
  parseRepository,
  parseWorkflow,
} from './options.js';

/** Options of {@link GitHubWebhook}. */
export interface GitHubWebhookOptions extends WebhookOptions<GitHubPayload> {
  /**
   * A token that may write issues and pull requests (and, for dispatches, contents or actions)
   * in `repository`: a fine-grained or classic personal access token, a GitHub App installation
   * token or `GITHUB_TOKEN`. Never printed.
   * @example process.env.GITHUB_TOKEN
   */
  token: string;
  /**
   * `owner/name` of the repository comments, issues and dispatches go to.
   * @example 'Smart-AI-Memory/empathy'
   */
  repository: string;
  /**
   * The REST API root: GitHub Enterprise Server is `https://HOST/api/v3`. An address on a
   * private network (or plain `http:`) needs `allowPrivateNetwork: true`.
   * @default 'https://api.github.com'
   */
  baseUrl?: string | undefined;
  /**
   * Event types to receive.
   * @default ['code_review_complete'], plus the finding types when `issues` is on, plus
   *   `deployment_risk` and `test_failure` when `dispatch` or `workflow` is set
   */
  events?: readonly EventSelector[] | undefined;
  /**
   * Open an issue for `bug_detected` and `security_vulnerability` events, de-duplicated by
   * fingerprint. Off by default: turn it on with `true` or options.
   * @default false
   */
  issues?: boolean | GitHubIssueOptions | undefined;
  /**
   * Fire `repository_dispatch` for every event that is not a review comment or an issue.
   * @default false
   */
  dispatch?: boolean | GitHubDispatchOptions | undefined;
  /**
   * Run this workflow (`workflow_dispatch`) for every event that is not a review comment or an
   * issue. Use either `dispatch` or `workflow` in one webhook.
   */
  workflow?: GitHubWorkflowOptions | undefined;
  /**
   * The login the webhook posts as (e.g. `my-bot` or `github-actions[bot]`). Sticky review
   * comments are only looked for among this login's comments, so nobody can plant the marker in
   * their own comment to have it overwritten. Learned from the first comment the webhook posts
   * when not set.
   */
  commentAuthor?: string | undefined;
  /** Sent as `user-agent` ahead of Octokit's own. @default 'empathy-webhooks-github' */
  userAgent?: string | undefined;
  /**
   * At most this many deliveries in flight. GitHub asks integrations to make requests
   * serially, and one at a time keeps a PR from getting two sticky comments.
   * @default 1
   */
  concurrency?: number | undefined;
  /**
   * Deliveries over the limit wait. GitHub allows at most 80 content-creating requests a minute
   * and 500 an hour (secondary rate limits).
   * @default { maxRequestsPerMinute: 60, maxRequestsPerHour: 500 }
   */
  rateLimit?: RateLimit | undefined;
}

/** What the webhook does with one event type. */
export type GitHubAction = GitHubPayload['action'];

/** The default rate limit, below GitHub's content-creation limits. */
export const GITHUB_RATE_LIMIT = { maxRequestsPerMinute: 60, maxRequestsPerHour: 500 } satisfies RateLimit;

type FindingType = (typeof FINDINGS)[number];
const PER_PAGE = 100;
/**
 * Statuses GitHub answers for an issue or comment that is no longer there: deleted (404, or 410
 * for a deleted issue) or transferred to another repository (301, which is not followed).
 */
const GONE: ReadonlySet<number | undefined> = new Set([301, 404, 410]);

/** Whether `error` says the issue or comment it was about is gone (see {@link GONE}). */
const isGone = (error: unknown): boolean => {
  const status = deliveryErrorIn(error)?.status;
  return status !== undefined && GONE.has(status);
};

/**
 * The most bytes of one answer read: a page of 100 comments of up to 65,536 characters each
 * (GitHub's limit) is rarely over a few MiB; anything past this fails the attempt.
 */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * Posts Empathy events to GitHub with `@octokit/rest`:
 * - `code_review_complete` → the seed's review comment on the pull request, kept sticky: the
 *   webhook finds its earlier comment (a hidden marker) and updates it instead of adding another;
 * - `bug_detected` / `security_vulnerability` → an issue, when `issues` is on, de-duplicated by
 *   fingerprint;
 * - anything else it receives → `repository_dispatch` (`dispatch`) or a `workflow_dispatch` of a
 *   named workflow (`workflow`), so CI/CD runs.
 *
 * Built on the plugin kit: every request goes through the kit's guarded transport (Octokit's
 * `fetch`), so private addresses are refused unless `allowPrivateNetwork`, the attempt's deadline
 * aborts the request, answers are read to a bound and redirects are never followed. One
 * `deliver` is one attempt; no Octokit retry or throttling plugin runs underneath core's policy.
 *
 * Incidents: a finding's issue number is the incident's reference (`incidentRef: { issue }`), so a
 * repeat comments on that issue ("Seen again · N times since …") and a resolved event
 * (`data.resolved: true`) comments and closes it as completed. A review with `data.incident_key`
 * keeps its sticky comment's id (`incidentRef: { comment, pull_request }`) and updates it,
 * resolved state included. A dispatch carries the incident in `client_payload.metadata.incident`.
 *
 * @example
 * const github = new GitHubWebhook({
 *   token: process.env.GITHUB_TOKEN!,
 *   repository: 'Smart-AI-Memory/empathy',
 *   events: ['code_review_complete'],
 * });
 */
export class GitHubWebhook extends WebhookBase<GitHubPayload> {
  /** The REST API's origin, e.g. `https://api.github.com`: safe to print. */
  readonly target: string;
  /** `owner/name`. */
  readonly repository: string;

  readonly #token: string;
  readonly #owner: string;
  readonly #repo: string;
  readonly #baseUrl: string;
  readonly #userAgent: string;
  readonly #issues: ParsedIssues | undefined;
  readonly #dispatchType: ((event: EmpathyEvent) => string) | undefined;
  readonly #workflow: GitHubWorkflowOptions | undefined;
  readonly #marker: string;
  #author: string | undefined;
  #client: Octokit | undefined;
  #defaultBranch: string | undefined;

  constructor(options: GitHubWebhookOptions) {
    super(options, {
      name: 'github',
      events: defaultEvents(options),
      concurrency: 1,
      rateLimit: GITHUB_RATE_LIMIT,
      transport: { maxResponseBytes: MAX_RESPONSE_BYTES },
    });
    const fail = failFor(this.name);
    const issues = parseIssues(options.issues, fail);
    if (typeof options.token !== 'string' || options.token.trim() === '' || /\s/.test(options.token)) {
      fail(`option 'token' must be a non-empty GitHub token without spaces`);
    }
    this.redactor.addSecret(options.token);
    const { owner, repo } = parseRepository(options.repository, fail);
    const base = parseEndpointOption(options.baseUrl ?? 'https://api.github.com', {
      option: 'baseUrl',
      webhook: this.name,
      what: 'the GitHub REST API root',
      allowPrivateNetwork: this.allowPrivateNetwork,
    });
    if (base.username || base.password || base.search || base.hash) {
      fail(`option 'baseUrl' must not carry credentials, a query or a fragment (${base.origin})`);
    }
    if (options.userAgent !== undefined && (typeof options.userAgent !== 'string' || !options.userAgent)) {
      fail(`option 'userAgent' must be a non-empty string`);
    }
    if (options.commentAuthor !== undefined && !isLogin(options.commentAuthor)) {
      fail(`option 'commentAuthor' must be a GitHub login (got ${JSON.stringify(options.commentAuthor)})`);
    }
    if (options.dispatch && options.workflow) {
      fail(
        `options 'dispatch' and 'workflow' exclude each other: use two webhooks to do both for the same repository`,
      );
    }
    this.#dispatchType = parseDispatch(options.dispatch, fail);
    this.#workflow = parseWorkflow(options.workflow, fail);
    this.target = base.origin;
    this.repository = options.repository;
    this.#token = options.token;
    this.#owner = owner;
    this.#repo = repo;
    this.#baseUrl = base.href.replace(/\/+$/, '');
    this.#userAgent = options.userAgent ?? 'empathy-webhooks-github';
    this.#issues = issues;
    this.#author = options.commentAuthor;
    this.#marker = reviewMarker(this.name);

    // A typo must never mean "silently never fires": every subscribed type needs something to do.
    const catchAll = this.#dispatchType !== undefined || this.#workflow !== undefined;
    for (const type of this.events) {
      if (type === '*' ? !catchAll : this.actionFor(type) === undefined) {
        fail(
          `option 'events' includes '${type}', which this webhook has nothing to do with: ` +
            `'code_review_complete' becomes a PR comment, findings become issues with 'issues: true', ` +
            `and any other event needs 'dispatch: true' or 'workflow'`,
        );
      }
    }
  }

  /** What this webhook does with events of `type`, or `undefined` if nothing. */
  actionFor(type: string): GitHubAction | undefined {
    if (type === 'code_review_complete') return 'comment';
    if (this.#issues && (FINDINGS as readonly string[]).includes(type)) return 'issue';
    if (this.#workflow) return 'workflow';
    if (this.#dispatchType) return 'dispatch';
    return undefined;
  }

  /**
   * The comment, issue, dispatch or workflow inputs for `event`. Throws a permanent error (no
   * request is made) for an event this webhook cannot send: a review of another repository, a
   * dispatch `eventType` or workflow `inputs` function that returns something GitHub refuses.
   */
  protected render(event: EmpathyEvent, incident?: IncidentContext): GitHubPayload {
    const action = this.actionFor(event.event_type);
    switch (action) {
      case 'comment':
        return { action, body: formatReviewComment(this.#review(event), this.#marker, incident) };
      case 'issue': {
        const finding = event as EmpathyEvent<FindingType>;
        const fingerprint = findingFingerprint(finding, this.repository);
        return { action, ...formatIssue(finding, { fingerprint, labels: this.#issues!.labels }, incident) };
      }
      case 'dispatch': {
        const eventType = this.#dispatchType!(event);
        const { event_type, client_payload } = formatDispatch(event, eventType, incident);
        return this.#fitted(
          { action, event_type, client_payload: client_payload as unknown as Record<string, unknown> },
          'invalid_event_type',
          `dispatch 'eventType'`,
        );
      }
      case 'workflow': {
        const inputs = this.#workflow!.inputs
          ? this.#workflow!.inputs(event)
          : formatWorkflowInputs(event, incident);
        return this.#fitted(
          { action, inputs: inputs as Record<string, string> },
          'invalid_inputs',
          `workflow 'inputs'`,
        );
      }
      default:
        throw permanentError(
          this.errors,
          `nothing to do with '${event.event_type}' events`,
          'unsupported_event',
        );
    }
  }

  /** GitHub's limits (body and title lengths, dispatch payload size), applied to any payload. */
  protected override fit(payload: GitHubPayload): GitHubPayload {
    return fitPayloadForGitHub(payload, this.#marker);
  }

  /** One attempt: one comment, issue or dispatch (plus the reads it needs). */
  protected async send(
    payload: GitHubPayload,
    event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    const expected = this.actionFor(event.event_type);
    if (payload.action !== expected) {
      throw permanentError(
        this.errors,
        `option 'format' returned a '${payload.action}' payload for a '${event.event_type}' event, which this webhook sends as '${expected}'`,
        'EFORMAT',
      );
    }
    try {
      switch (payload.action) {
        case 'comment':
          return await this.#comment(this.#review(event), payload.body, ctx.signal, ctx.incident);
        case 'issue':
          return await this.#issue(event as EmpathyEvent<FindingType>, payload, ctx.signal, ctx.incident);
        case 'dispatch':
          return await this.#dispatch(payload, ctx.signal);
        case 'workflow':
          return await this.#runWorkflow(payload.inputs, ctx.signal);
      }
    } catch (error) {
      throw deliveryErrorIn(error) ?? networkError(this.errors, error);
    }
  }

  get #octokit(): Octokit {
    // Bare @octokit/rest: no retry or throttling plugin, so core's policy is the only one. Its
    // request log would print every failed attempt to stderr: core's monitor reports those.
    this.#client ??= new Octokit({
      auth: this.#token,
      baseUrl: this.#baseUrl,
      userAgent: this.#userAgent,
      log: { debug: quiet, info: quiet, warn: console.warn, error: quiet },
      request: { fetch: this.#fetch },
    });
    return this.#client;
  }

  /**
   * Octokit's `fetch`: the kit's guarded transport, and GitHub's errors turned into delivery
   * errors here, where the answer's headers and a bounded read of its body are at hand (Octokit
   * would read a whole error body, and would return a redirect as a success).
   */
  readonly #fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const scope = { ...this.errors, target: `${method} ${url.origin}${decodePath(url.pathname)}` };
    let response: Response;
    try {
      response = await this.http.fetch(input, init);
    } catch (error) {
      throw networkError(scope, error);
    }
    if (response.status >= 200 && response.status < 300) return response;
    throw await githubAnswerError(scope, response);
  };

  #review(event: EmpathyEvent): EmpathyEvent<'code_review_complete'> {
    const review = event as EmpathyEvent<'code_review_complete'>;
    const { repository, pull_request: pr } = review.data;
    if (typeof repository === 'string' && repository.toLowerCase() !== this.repository.toLowerCase()) {
      throw permanentError(
        this.errors,
        `the review is for ${repository}, but this webhook posts to ${this.repository}`,
        'repository_mismatch',
      );
    }
    if (!Number.isInteger(pr) || pr < 1) {
      throw permanentError(
        this.errors,
        `'pull_request' must be a positive integer (got ${JSON.stringify(pr)})`,
        'invalid_event',
      );
    }
    return review;
  }

  /** A rendered dispatch or workflow payload within GitHub's limits, or a permanent error saying why not. */
  #fitted(payload: GitHubPayload, code: string, what: string): GitHubPayload {
    try {
      return fitPayloadForGitHub(payload, this.#marker);
    } catch (error) {
      throw permanentError(this.errors, `${what}: ${(error as Error).message}`, code);
    }
  }

  async #comment(
    event: EmpathyEvent<'code_review_complete'>,
    body: string,
    signal: AbortSignal,
    incident: IncidentContext | undefined,
  ): Promise<DeliveryReceipt> {
    const pr = event.data.pull_request;
    const request = { signal };
    const repo = { owner: this.#owner, repo: this.#repo };
    // The incident's comment, when it is on this PR, needs no listing; then ours, found by its marker.
    const ref = incident?.ref;
    const known = ref?.pull_request === String(pr) ? storedId(ref.comment) : undefined;
    const receipt = (
      id: string,
      status: number,
      action: string,
      url: string | undefined,
    ): DeliveryReceipt => ({
      status,
      id,
      detail: { action, url },
      ...(incident ? { incidentRef: { comment: id, pull_request: String(pr) } } : {}),
    });
    for (const existing of [known, 'list' as const]) {
      const id = existing === 'list' ? await this.#findStickyComment(pr, signal) : existing;
      if (id === undefined) continue;
      try {
        const { data, status } = await this.#octokit.rest.issues.updateComment({
          ...repo,
          comment_id: id,
          body,
          request,
        });
        return receipt(this.#id(data, 'comment'), status, 'comment_updated', data.html_url);
      } catch (error) {
        // Deleted since we listed it (or since the incident's last update): post a new one.
        if (!isGone(error)) throw error;
      }
    }
    const { data, status } = await this.#octokit.rest.issues.createComment({
      ...repo,
      issue_number: pr,
      body,
      request,
    });
    const id = this.#id(data, 'comment');
    // The author of a comment we created is us: from now on only our own comments count.
    this.#author ??= data.user?.login;
    return receipt(id, status, 'comment_created', data.html_url);
  }

  /** The id of this webhook's earlier review comment on the PR: the first one that starts with the marker. */
  async #findStickyComment(pr: number, signal: AbortSignal): Promise<number | undefined> {
    // Paged by hand: octokit.paginate drops the request's AbortSignal after the first page.
    for (let page = 1; ; page++) {
      const { data } = await this.#octokit.rest.issues.listComments({
        owner: this.#owner,
        repo: this.#repo,
        issue_number: pr,
        per_page: PER_PAGE,
        page,
        request: { signal },
      });
      const mine = this.#list(data, 'comments').find(
        (c) =>
          c.body?.startsWith(this.#marker) &&
          (this.#author === undefined || c.user?.login.toLowerCase() === this.#author.toLowerCase()),
      );
      if (mine) return mine.id;
      if (data.length < PER_PAGE) return undefined;
    }
  }

  async #issue(
    event: EmpathyEvent<FindingType>,
    issue: Extract<GitHubPayload, { action: 'issue' }>,
    signal: AbortSignal,
    incident: IncidentContext | undefined,
  ): Promise<DeliveryReceipt> {
    const options = this.#issues!;
    const fingerprint = findingFingerprint(event, this.repository);
    // Outside a dispatcher (a direct `deliver`) there is no ctx.incident: the event says it.
    const resolved = incident ? incident.status === 'resolved' : incidentOf(event)?.resolved === true;
    const update = (number: number) =>
      this.#updateIssue(number, event, fingerprint, resolved, signal, incident);
    const known = storedId(incident?.ref?.issue);
    if (known !== undefined) {
      // The incident's own issue: no search. Gone, or closed while the finding is still detected:
      // on as if there were none (a new issue, as for a new finding).
      if (resolved || (await this.#isOpen(known, signal))) {
        const receipt = await update(known);
        if (receipt) return receipt;
      }
    }
    if (options.dedupe) {
      const existing = await this.#findIssue(fingerprint, options.labels[0]!, signal);
      if (existing && resolved) {
        const receipt = await update(existing.number);
        if (receipt) return receipt;
      } else if (existing) {
        return {
          status: 200,
          id: String(existing.number),
          detail: { action: 'issue_exists', issue: existing.number, url: existing.html_url, fingerprint },
          incidentRef: { issue: String(existing.number) },
        };
      }
    }
    if (resolved) {
      // An issue is never opened to say that a finding cleared.
      return {
        detail: { action: 'skipped', reason: 'resolved finding without an open issue', fingerprint },
      };
    }
    // The fingerprint marker is how the next detection finds this issue: keep it first, and the
    // de-duplication label on it, whatever `format` did.
    const marker = fingerprintMarker(fingerprint);
    const body = issue.body.startsWith(marker) ? issue.body : truncateBody(`${marker}\n${issue.body}`);
    const labels =
      options.dedupe && !issue.labels.includes(options.labels[0]!)
        ? [options.labels[0]!, ...issue.labels]
        : issue.labels;
    const { data, status } = await this.#octokit.rest.issues.create({
      owner: this.#owner,
      repo: this.#repo,
      title: issue.title,
      body,
      labels,
      ...(options.assignees.length > 0 ? { assignees: options.assignees } : {}),
      request: { signal },
    });
    const id = this.#id(data, 'issue', 'number');
    return {
      status,
      id,
      detail: { action: 'issue_created', issue: data.number, url: data.html_url, fingerprint },
      incidentRef: { issue: id },
    };
  }

  /** Whether the issue is there and open (`false` when it is closed, deleted or transferred). */
  async #isOpen(number: number, signal: AbortSignal): Promise<boolean> {
    try {
      const { data } = await this.#octokit.rest.issues.get({
        owner: this.#owner,
        repo: this.#repo,
        issue_number: number,
        request: { signal },
      });
      const state = (data as { state?: unknown } | null)?.state;
      if (state !== 'open' && state !== 'closed') throw this.#incomplete('issue');
      return state === 'open';
    } catch (error) {
      if (isGone(error)) return false;
      throw error;
    }
  }

  /**
   * The finding's issue told what happened: a "Seen again" comment, or, when the finding cleared,
   * a "Resolved" comment and then the issue closed as completed (commented first, so the issue
   * never closes without saying why). `undefined` when the issue is gone.
   */
  async #updateIssue(
    number: number,
    event: EmpathyEvent<FindingType>,
    fingerprint: string,
    resolved: boolean,
    signal: AbortSignal,
    incident: IncidentContext | undefined,
  ): Promise<DeliveryReceipt | undefined> {
    const comment = await this.#addIssueComment(
      number,
      formatIssueComment(event, resolved, incident),
      signal,
    );
    if (comment === undefined) return undefined;
    const incidentRef = { issue: String(number) };
    if (!resolved) {
      const detail = { action: 'issue_commented', issue: number, url: comment.url, fingerprint };
      return { status: comment.status, id: comment.id, detail, incidentRef };
    }
    const { data, status } = await this.#octokit.rest.issues.update({
      owner: this.#owner,
      repo: this.#repo,
      issue_number: number,
      state: 'closed',
      state_reason: 'completed',
      request: { signal },
    });
    const detail = { action: 'issue_closed', issue: number, url: data.html_url, fingerprint };
    return { status, id: this.#id(data, 'issue', 'number'), detail, incidentRef };
  }

  /** Adds a comment to an issue; `undefined` when the issue is gone. */
  async #addIssueComment(
    number: number,
    body: string,
    signal: AbortSignal,
  ): Promise<{ id: string; status: number; url: string | undefined } | undefined> {
    try {
      const { data, status } = await this.#octokit.rest.issues.createComment({
        owner: this.#owner,
        repo: this.#repo,
        issue_number: number,
        body,
        request: { signal },
      });
      return { id: this.#id(data, 'comment'), status, url: data.html_url };
    } catch (error) {
      if (isGone(error)) return undefined;
      throw error;
    }
  }

  /** An open issue labelled `label` whose body starts with the fingerprint's marker. */
  async #findIssue(
    fingerprint: string,
    label: string,
    signal: AbortSignal,
  ): Promise<{ number: number; html_url: string } | undefined> {
    const marker = fingerprintMarker(fingerprint);
    for (let page = 1; ; page++) {
      const { data } = await this.#octokit.rest.issues.listForRepo({
        owner: this.#owner,
        repo: this.#repo,
        state: 'open',
        labels: label,
        per_page: PER_PAGE,
        page,
        request: { signal },
      });
      const found = this.#list(data, 'issues').find((i) => !i.pull_request && i.body?.startsWith(marker));
      if (found) return found;
      if (data.length < PER_PAGE) return undefined;
    }
  }

  async #dispatch(
    payload: Extract<GitHubPayload, { action: 'dispatch' }>,
    signal: AbortSignal,
  ): Promise<DeliveryReceipt> {
    const { status } = await this.#octokit.rest.repos.createDispatchEvent({
      owner: this.#owner,
      repo: this.#repo,
      event_type: payload.event_type,
      client_payload: payload.client_payload,
      request: { signal },
    });
    return { status, detail: { action: 'repository_dispatch', eventType: payload.event_type } };
  }

  async #runWorkflow(inputs: Record<string, unknown>, signal: AbortSignal): Promise<DeliveryReceipt> {
    const workflow = this.#workflow!;
    const ref = workflow.ref ?? (await this.#getDefaultBranch(signal));
    const { status } = await this.#octokit.rest.actions.createWorkflowDispatch({
      owner: this.#owner,
      repo: this.#repo,
      workflow_id: workflow.workflowId,
      ref,
      inputs,
      request: { signal },
    });
    return { status, detail: { action: 'workflow_dispatch', workflow: String(workflow.workflowId), ref } };
  }

  async #getDefaultBranch(signal: AbortSignal): Promise<string> {
    if (this.#defaultBranch === undefined) {
      const { data } = await this.#octokit.rest.repos.get({
        owner: this.#owner,
        repo: this.#repo,
        request: { signal },
      });
      if (typeof data?.default_branch !== 'string') throw this.#incomplete('repository');
      this.#defaultBranch = data.default_branch;
    }
    return this.#defaultBranch;
  }

  /**
   * A list endpoint's answer, checked: a 200 that is not a JSON array (a proxy's login page, or
   * a body cut off midway, which Octokit reads as empty text) is reported and retried, not
   * passed off as an empty list.
   */
  #list<T>(data: T[], what: string): T[] {
    if (Array.isArray(data)) return data;
    throw this.#incomplete(`list of ${what}`);
  }

  /** The id of what GitHub created or updated, checked for the same reason as {@link #list}. */
  #id(data: unknown, what: string, key: 'id' | 'number' = 'id'): string {
    const id = (data as Record<string, unknown> | null)?.[key];
    if (typeof id !== 'number') throw this.#incomplete(what);
    return String(id);
  }

  #incomplete(what: string): WebhookDeliveryError {
    return networkError(
      this.errors,
      Object.assign(new Error(`GitHub answered with something that is not a ${what}`), {
        code: 'EBADRESPONSE',
      }),
    );
  }
}

/** A path as people read it (`/repos/acme/app/issues`); a malformed escape stays as sent. */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function quiet(): void {}

/** A kept issue number or comment id (`'12'`), or `undefined` when there is none or it is not one. */
function storedId(value: string | undefined): number | undefined {
  if (value === undefined || !/^[1-9]\d{0,15}$/.test(value)) return undefined;
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : undefined;
}
