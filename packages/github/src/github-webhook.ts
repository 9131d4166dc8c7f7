import {
  type CircuitBreakerOptions,
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  type EventType,
  parseCommonOptions,
  type RateLimit,
  type RetryPolicy,
  safeOrigin,
  WebhookConfigError,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { Octokit } from '@octokit/rest';
import { toGitHubDeliveryError } from './errors.js';
import {
  DISPATCH_EVENT_TYPE_LIMIT,
  findingFingerprint,
  fingerprintMarker,
  formatDispatch,
  formatIssue,
  formatReviewComment,
  formatWorkflowInputs,
  reviewMarker,
} from './format.js';

/** Opening issues for findings. */
export interface GitHubIssueOptions {
  /**
   * Labels every issue gets, besides the finding's `category` and `labels`. The first one also
   * scopes de-duplication: open issues with it are searched for the finding's fingerprint.
   * @default ['ai-detected']
   */
  labels?: string[] | undefined;
  /**
   * Open no second issue for a finding whose fingerprint (`data.fingerprint` when it is 1-64
   * characters of `[A-Za-z0-9_.:-]`, else a hash of repository, type, title and file) is on an
   * open issue already.
   * @default true
   */
  dedupe?: boolean | undefined;
  /** Logins to assign every issue to. @default [] */
  assignees?: string[] | undefined;
}

/** Firing `repository_dispatch` so a workflow (`on: repository_dispatch`) runs. */
export interface GitHubDispatchOptions {
  /**
   * The dispatch's `event_type` (at most 100 characters), which workflows select with
   * `on: repository_dispatch: types: [...]`.
   * @default (event) => `empathy.${event.event_type}`
   * @example 'empathy-deploy-gate'
   */
  eventType?: string | ((event: EmpathyEvent) => string) | undefined;
}

/** Running a named workflow through `workflow_dispatch`. */
export interface GitHubWorkflowOptions {
  /**
   * The workflow file name or numeric id.
   * @example 'deploy-gate.yml'
   */
  workflowId: string | number;
  /** The branch or tag to run it on. @default the repository's default branch (read once) */
  ref?: string | undefined;
  /**
   * The inputs; the workflow must declare every one (GitHub answers 422 to undeclared inputs).
   * @default (event) => ({ event_type, event_id, severity, summary, payload }) — see the README
   */
  inputs?: ((event: EmpathyEvent) => Record<string, string | number | boolean>) | undefined;
}

/** Options of {@link GitHubWebhook}. */
export interface GitHubWebhookOptions extends CommonWebhookOptions {
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
   * The REST API root: GitHub Enterprise Server is `https://HOST/api/v3`.
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
export type GitHubAction = 'comment' | 'issue' | 'workflow' | 'dispatch';

/** The default rate limit, below GitHub's content-creation limits. */
export const GITHUB_RATE_LIMIT = { maxRequestsPerMinute: 60, maxRequestsPerHour: 500 } satisfies RateLimit;

const FINDINGS = ['bug_detected', 'security_vulnerability'] as const;
type FindingType = (typeof FINDINGS)[number];
const PER_PAGE = 100;

interface ParsedIssues {
  labels: string[];
  dedupe: boolean;
  assignees: string[];
}

/**
 * Posts Empathy events to GitHub with `@octokit/rest`:
 * - `code_review_complete` → the seed's review comment on the pull request, kept sticky: the
 *   webhook finds its earlier comment (a hidden marker) and updates it instead of adding another;
 * - `bug_detected` / `security_vulnerability` → an issue, when `issues` is on, de-duplicated by
 *   fingerprint;
 * - anything else it receives → `repository_dispatch` (`dispatch`) or a `workflow_dispatch` of a
 *   named workflow (`workflow`), so CI/CD runs.
 *
 * One `deliver` is one attempt; rate limits come back as retryable errors with GitHub's wait, and
 * no Octokit retry or throttling plugin runs underneath core's policy.
 *
 * @example
 * const github = new GitHubWebhook({
 *   token: process.env.GITHUB_TOKEN!,
 *   repository: 'Smart-AI-Memory/empathy',
 *   events: ['code_review_complete'],
 * });
 */
export class GitHubWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: CircuitBreakerOptions | false | undefined;
  readonly concurrency: number;
  readonly onFailure: WebhookPlugin['onFailure'];
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
    if (options === null || typeof options !== 'object') {
      throw new WebhookConfigError('github: options must be an object');
    }
    const cicd = options.dispatch || options.workflow ? ['deployment_risk', 'test_failure'] : [];
    const common = parseCommonOptions(options, {
      name: 'github',
      events: ['code_review_complete', ...(options.issues ? FINDINGS : []), ...cicd] as EventType[],
      concurrency: 1,
      rateLimit: GITHUB_RATE_LIMIT,
    });
    const name = common.name;
    const fail = (message: string) => new WebhookConfigError(message, { webhook: name });
    const issues = parseIssues(options.issues, name);

    if (typeof options.token !== 'string' || options.token.trim() === '' || /\s/.test(options.token)) {
      throw fail(`option 'token' must be a non-empty GitHub token without spaces`);
    }
    const repository = options.repository;
    const match =
      typeof repository === 'string'
        ? /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})$/.exec(repository)
        : null;
    if (!match || match[2] === '.' || match[2] === '..') {
      throw fail(`option 'repository' must be 'owner/name' (got ${JSON.stringify(repository)})`);
    }
    this.#baseUrl = parseBaseUrl(options.baseUrl, fail);
    if (options.userAgent !== undefined && (typeof options.userAgent !== 'string' || !options.userAgent)) {
      throw fail(`option 'userAgent' must be a non-empty string`);
    }
    if (options.commentAuthor !== undefined && !isLogin(options.commentAuthor)) {
      throw fail(
        `option 'commentAuthor' must be a GitHub login (got ${JSON.stringify(options.commentAuthor)})`,
      );
    }
    if (options.dispatch && options.workflow) {
      throw fail(
        `options 'dispatch' and 'workflow' exclude each other: use two webhooks to do both for the same repository`,
      );
    }
    this.#dispatchType = parseDispatch(options.dispatch, fail);
    this.#workflow = parseWorkflow(options.workflow, fail);

    this.name = name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;
    this.repository = repository;
    this.#token = options.token;
    this.#owner = match[1]!;
    this.#repo = match[2]!;
    this.#userAgent = options.userAgent ?? 'empathy-webhooks-github';
    this.#issues = issues;
    this.#author = options.commentAuthor;
    this.#marker = reviewMarker(name);

    // A typo must never mean "silently never fires": every subscribed type needs something to do.
    const catchAll = this.#dispatchType !== undefined || this.#workflow !== undefined;
    for (const type of this.events) {
      if (type === '*' ? !catchAll : this.actionFor(type) === undefined) {
        throw fail(
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

  /** One attempt: one comment, issue or dispatch (plus the reads it needs). */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    try {
      switch (this.actionFor(event.event_type)) {
        case 'comment':
          return await this.#comment(event as EmpathyEvent<'code_review_complete'>, ctx.signal);
        case 'issue':
          return await this.#issue(event as EmpathyEvent<FindingType>, ctx.signal);
        case 'workflow':
          return await this.#runWorkflow(event, ctx.signal);
        case 'dispatch':
          return await this.#dispatch(event, ctx.signal);
        default:
          throw this.#permanent(`nothing to do with '${event.event_type}' events`, 'unsupported_event');
      }
    } catch (error) {
      throw toGitHubDeliveryError(this.name, error, [this.#token]);
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
    });
    return this.#client;
  }

  async #comment(event: EmpathyEvent<'code_review_complete'>, signal: AbortSignal): Promise<DeliveryReceipt> {
    const { repository, pull_request: pr } = event.data;
    if (typeof repository === 'string' && repository.toLowerCase() !== this.repository.toLowerCase()) {
      throw this.#permanent(
        `the review is for ${repository}, but this webhook posts to ${this.repository}`,
        'repository_mismatch',
      );
    }
    if (!Number.isInteger(pr) || pr < 1) {
      throw this.#permanent(
        `'pull_request' must be a positive integer (got ${JSON.stringify(pr)})`,
        'invalid_event',
      );
    }
    const body = formatReviewComment(event, this.#marker);
    const request = { signal };
    const repo = { owner: this.#owner, repo: this.#repo };
    const existing = await this.#findStickyComment(pr, signal);
    if (existing !== undefined) {
      try {
        const { data, status } = await this.#octokit.rest.issues.updateComment({
          ...repo,
          comment_id: existing,
          body,
          request,
        });
        return { status, id: String(data.id), detail: { action: 'comment_updated', url: data.html_url } };
      } catch (error) {
        // Deleted since we listed it: post a new one.
        if ((error as { status?: number }).status !== 404) throw error;
      }
    }
    const { data, status } = await this.#octokit.rest.issues.createComment({
      ...repo,
      issue_number: pr,
      body,
      request,
    });
    // The author of a comment we created is us: from now on only our own comments count.
    this.#author ??= data.user?.login;
    return { status, id: String(data.id), detail: { action: 'comment_created', url: data.html_url } };
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

  async #issue(event: EmpathyEvent<FindingType>, signal: AbortSignal): Promise<DeliveryReceipt> {
    const options = this.#issues!;
    const fingerprint = findingFingerprint(event, this.repository);
    if (options.dedupe) {
      const existing = await this.#findIssue(fingerprint, options.labels[0]!, signal);
      if (existing) {
        return {
          status: 200,
          id: String(existing.number),
          detail: { action: 'issue_exists', issue: existing.number, url: existing.html_url, fingerprint },
        };
      }
    }
    const issue = formatIssue(event, { fingerprint, labels: options.labels });
    const { data, status } = await this.#octokit.rest.issues.create({
      owner: this.#owner,
      repo: this.#repo,
      ...issue,
      ...(options.assignees.length > 0 ? { assignees: options.assignees } : {}),
      request: { signal },
    });
    return {
      status,
      id: String(data.number),
      detail: { action: 'issue_created', issue: data.number, url: data.html_url, fingerprint },
    };
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

  async #dispatch(event: EmpathyEvent, signal: AbortSignal): Promise<DeliveryReceipt> {
    const eventType = this.#dispatchType!(event);
    if (
      typeof eventType !== 'string' ||
      eventType.length < 1 ||
      eventType.length > DISPATCH_EVENT_TYPE_LIMIT
    ) {
      throw this.#permanent(
        `dispatch 'eventType' must be 1-${DISPATCH_EVENT_TYPE_LIMIT} characters (got ${String(eventType).length})`,
        'invalid_event_type',
      );
    }
    const payload = formatDispatch(event, eventType);
    const { status } = await this.#octokit.rest.repos.createDispatchEvent({
      owner: this.#owner,
      repo: this.#repo,
      event_type: payload.event_type,
      client_payload: payload.client_payload as unknown as Record<string, unknown>,
      request: { signal },
    });
    return { status, detail: { action: 'repository_dispatch', eventType } };
  }

  async #runWorkflow(event: EmpathyEvent, signal: AbortSignal): Promise<DeliveryReceipt> {
    const workflow = this.#workflow!;
    const ref = workflow.ref ?? (await this.#getDefaultBranch(signal));
    const inputs: object = workflow.inputs ? workflow.inputs(event) : formatWorkflowInputs(event);
    if (inputs === null || typeof inputs !== 'object') {
      throw this.#permanent(`workflow 'inputs' must return an object`, 'invalid_inputs');
    }
    const { status } = await this.#octokit.rest.actions.createWorkflowDispatch({
      owner: this.#owner,
      repo: this.#repo,
      workflow_id: workflow.workflowId,
      ref,
      inputs: inputs as Record<string, unknown>,
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
      this.#defaultBranch = data.default_branch;
    }
    return this.#defaultBranch;
  }

  /**
   * A list endpoint's answer, checked: a 200 that is not a JSON array (a proxy's login page, say)
   * is reported as such and retried, not as a TypeError from deep inside.
   */
  #list<T>(data: T[], what: string): T[] {
    if (Array.isArray(data)) return data;
    throw new WebhookDeliveryError(`GitHub answered the list of ${what} with something that is not a list`, {
      webhook: this.name,
      retryable: true,
      code: 'unexpected_response',
    });
  }

  #permanent(message: string, code: string): WebhookDeliveryError {
    return new WebhookDeliveryError(message, { webhook: this.name, retryable: false, code });
  }
}

function parseBaseUrl(value: unknown, fail: (message: string) => Error): string {
  if (value === undefined) return 'https://api.github.com';
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw fail(`option 'baseUrl' must be an http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw fail(`option 'baseUrl' must be an http(s) URL (got ${safeOrigin(url)})`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw fail(`option 'baseUrl' must not carry credentials, a query or a fragment (${safeOrigin(url)})`);
  }
  return url.href.replace(/\/+$/, '');
}

function parseIssues(value: GitHubWebhookOptions['issues'], webhook: string): ParsedIssues | undefined {
  if (value === undefined || value === false) return undefined;
  const fail = (message: string) => new WebhookConfigError(message, { webhook });
  if (value !== true && (value === null || typeof value !== 'object')) {
    throw fail(`option 'issues' must be true, false or an object`);
  }
  const o = value === true ? {} : value;
  const labels = o.labels ?? ['ai-detected'];
  if (
    !Array.isArray(labels) ||
    !labels.every((l) => typeof l === 'string' && /^[^,]{1,50}$/.test(l.trim()))
  ) {
    throw fail(`option 'issues.labels' must be an array of label names (1-50 characters, no commas)`);
  }
  const dedupe = o.dedupe ?? true;
  if (typeof dedupe !== 'boolean') throw fail(`option 'issues.dedupe' must be a boolean`);
  if (dedupe && labels.length === 0) {
    throw fail(
      `option 'issues.labels' needs at least one label when 'issues.dedupe' is on: it scopes the search`,
    );
  }
  const assignees = o.assignees ?? [];
  if (!Array.isArray(assignees) || !assignees.every(isLogin)) {
    throw fail(`option 'issues.assignees' must be an array of GitHub logins`);
  }
  return { labels: labels.map((l) => l.trim()), dedupe, assignees: [...assignees] };
}

function parseDispatch(
  value: GitHubWebhookOptions['dispatch'],
  fail: (message: string) => Error,
): ((event: EmpathyEvent) => string) | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (value === null || typeof value !== 'object')) {
    throw fail(`option 'dispatch' must be true, false or an object`);
  }
  const eventType = value === true ? undefined : value.eventType;
  if (eventType === undefined) return (event) => `empathy.${event.event_type}`;
  if (typeof eventType === 'function') return eventType;
  if (typeof eventType !== 'string' || eventType.length < 1 || eventType.length > DISPATCH_EVENT_TYPE_LIMIT) {
    throw fail(`option 'dispatch.eventType' must be 1-${DISPATCH_EVENT_TYPE_LIMIT} characters or a function`);
  }
  return () => eventType;
}

function parseWorkflow(
  value: GitHubWorkflowOptions | undefined,
  fail: (message: string) => Error,
): GitHubWorkflowOptions | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') throw fail(`option 'workflow' must be an object`);
  const id = value.workflowId;
  const validId =
    (typeof id === 'number' && Number.isInteger(id) && id > 0) ||
    (typeof id === 'string' && /^[\w.-]{1,255}\.ya?ml$/.test(id));
  if (!validId) {
    throw fail(`option 'workflow.workflowId' must be a workflow file name ('deploy.yml') or a numeric id`);
  }
  if (value.ref !== undefined && (typeof value.ref !== 'string' || value.ref.trim() === '')) {
    throw fail(`option 'workflow.ref' must be a branch or tag name`);
  }
  if (value.inputs !== undefined && typeof value.inputs !== 'function') {
    throw fail(`option 'workflow.inputs' must be a function (event) => inputs`);
  }
  return { ...value };
}

function quiet(): void {}

function isLogin(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/.test(value);
}
