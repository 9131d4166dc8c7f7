import { type EmpathyEvent, type EventSelector, WebhookConfigError } from '@empathy/webhooks-core';
import { DISPATCH_EVENT_TYPE_LIMIT } from './format.js';

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

/** The `issues` option after validation. */
export interface ParsedIssues {
  labels: string[];
  dedupe: boolean;
  assignees: string[];
}

/** Where a validation failure is reported: the webhook's name. */
type Fail = (message: string) => never;

/** A function that throws a {@link WebhookConfigError} for `webhook`. */
export function failFor(webhook: string): Fail {
  return (message) => {
    throw new WebhookConfigError(message, { webhook });
  };
}

/** The finding event types, which become issues with `issues` on. */
export const FINDINGS = ['bug_detected', 'security_vulnerability'] as const;

/**
 * The events a webhook receives by default: the review, the findings with `issues`, and
 * `deployment_risk` / `test_failure` with `dispatch` or `workflow`.
 */
export function defaultEvents(options: unknown): EventSelector[] {
  if (options === null || typeof options !== 'object') return ['code_review_complete'];
  const o = options as { issues?: unknown; dispatch?: unknown; workflow?: unknown };
  return [
    'code_review_complete',
    ...(o.issues ? FINDINGS : []),
    ...(o.dispatch || o.workflow ? (['deployment_risk', 'test_failure'] as const) : []),
  ];
}

/** `owner/name`, split; anything else is a config error. */
export function parseRepository(value: unknown, fail: Fail): { owner: string; repo: string } {
  const match =
    typeof value === 'string' ? /^([A-Za-z0-9-]{1,39})\/([A-Za-z0-9._-]{1,100})$/.exec(value) : null;
  if (!match || match[2] === '.' || match[2] === '..') {
    fail(`option 'repository' must be 'owner/name' (got ${JSON.stringify(value)})`);
  }
  return { owner: match![1]!, repo: match![2]! };
}

/** The `issues` option: `true`, `false` or `{ labels, dedupe, assignees }`. */
export function parseIssues(value: unknown, fail: Fail): ParsedIssues | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (value === null || typeof value !== 'object')) {
    fail(`option 'issues' must be true, false or an object`);
  }
  const o = (value === true ? {} : value) as GitHubIssueOptions;
  const labels = o.labels ?? ['ai-detected'];
  if (
    !Array.isArray(labels) ||
    !labels.every((l) => typeof l === 'string' && /^[^,]{1,50}$/.test(l.trim()))
  ) {
    fail(`option 'issues.labels' must be an array of label names (1-50 characters, no commas)`);
  }
  const dedupe = o.dedupe ?? true;
  if (typeof dedupe !== 'boolean') fail(`option 'issues.dedupe' must be a boolean`);
  if (dedupe && labels.length === 0) {
    fail(`option 'issues.labels' needs at least one label when 'issues.dedupe' is on: it scopes the search`);
  }
  const assignees = o.assignees ?? [];
  if (!Array.isArray(assignees) || !assignees.every(isLogin)) {
    fail(`option 'issues.assignees' must be an array of GitHub logins`);
  }
  return { labels: labels.map((l) => l.trim()), dedupe, assignees: [...assignees] };
}

/** The `dispatch` option as the function that names each dispatch's `event_type`. */
export function parseDispatch(value: unknown, fail: Fail): ((event: EmpathyEvent) => string) | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (value === null || typeof value !== 'object')) {
    fail(`option 'dispatch' must be true, false or an object`);
  }
  const eventType = value === true ? undefined : (value as GitHubDispatchOptions).eventType;
  if (eventType === undefined) return (event) => `empathy.${event.event_type}`;
  if (typeof eventType === 'function') return eventType;
  if (typeof eventType !== 'string' || eventType.length < 1 || eventType.length > DISPATCH_EVENT_TYPE_LIMIT) {
    fail(`option 'dispatch.eventType' must be 1-${DISPATCH_EVENT_TYPE_LIMIT} characters or a function`);
  }
  return () => eventType as string;
}

/** The `workflow` option, checked. */
export function parseWorkflow(value: unknown, fail: Fail): GitHubWorkflowOptions | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object') fail(`option 'workflow' must be an object`);
  const workflow = value as GitHubWorkflowOptions;
  const id = workflow.workflowId;
  const validId =
    (typeof id === 'number' && Number.isInteger(id) && id > 0) ||
    (typeof id === 'string' && /^[\w.-]{1,255}\.ya?ml$/.test(id));
  if (!validId) {
    fail(`option 'workflow.workflowId' must be a workflow file name ('deploy.yml') or a numeric id`);
  }
  if (workflow.ref !== undefined && (typeof workflow.ref !== 'string' || workflow.ref.trim() === '')) {
    fail(`option 'workflow.ref' must be a branch or tag name`);
  }
  if (workflow.inputs !== undefined && typeof workflow.inputs !== 'function') {
    fail(`option 'workflow.inputs' must be a function (event) => inputs`);
  }
  return { ...workflow };
}

/** Whether `value` is a GitHub login (`octocat`, `github-actions[bot]`). */
export function isLogin(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/.test(value);
}
