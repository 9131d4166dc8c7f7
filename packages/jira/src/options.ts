import { type EmpathyEvent, SEVERITIES, WebhookConfigError } from '@empathy/webhooks-core';
import { parseEndpointOption } from '@empathy/webhooks-core/kit';
import {
  DEFAULT_PRIORITY_MAP,
  type IssueFormatOptions,
  type JiraDeployment,
  type PriorityMap,
} from './format.js';

/** The Jira-specific options of a `JiraWebhook` (the common ones are core's). */
export interface JiraSpecificOptions {
  /**
   * Base URL of the Jira site (a context path such as `/jira` is kept). Its origin shows in errors.
   * An address on a private network (or plain `http:`) needs `allowPrivateNetwork: true`.
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
  /**
   * When an incident resolves (`data.resolved: true`), run this workflow transition on its ticket
   * (matched by the transition's name as Jira shows it, ignoring case), then comment. Unset, or
   * when the ticket has no transition of that name at that moment, the ticket is only commented
   * on (the receipt's `detail.note` says why it was not moved).
   * @default undefined (comment only)
   * @example 'Done'
   */
  resolveTransition?: string | undefined;
}

/** The Jira options after validation, with defaults filled in. */
export interface JiraConfig {
  deployment: JiraDeployment;
  /** The site's URL without a trailing slash (`https://team.atlassian.net`, `https://example.com/jira`). */
  baseUrl: string;
  /** The site's origin: safe to print. */
  origin: string;
  /** The site's host name, for the SSRF guard's check of address literals. */
  hostname: string;
  auth: { email: string; apiToken: string } | { token: string };
  deduplicate: boolean;
  /** The transition run when an incident resolves, trimmed; `undefined`: comment only. */
  resolveTransition: string | undefined;
  format: Omit<IssueFormatOptions, 'assignee'> & { assignee: JiraSpecificOptions['assignee'] };
}

/** Validates the Jira-specific options; messages name the option, never its secret value. */
export function parseJiraOptions(
  options: JiraSpecificOptions,
  webhook: string,
  allowPrivateNetwork: boolean,
): JiraConfig {
  const fail = (message: string): never => {
    throw new WebhookConfigError(message, { webhook });
  };
  const isText = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

  const url = parseEndpointOption(options.url, {
    option: 'url',
    webhook,
    what: `the Jira site's URL, e.g. https://your-team.atlassian.net`,
    allowPrivateNetwork,
  });
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
  const { resolveTransition } = options;
  if (resolveTransition !== undefined && (!isText(resolveTransition) || resolveTransition.length > 255)) {
    fail(`option 'resolveTransition' must be a transition name such as 'Done' (1-255 characters)`);
  }
  return {
    deployment,
    baseUrl,
    origin: url.origin,
    hostname: url.hostname,
    auth: token === undefined ? { email: email!.trim(), apiToken: apiToken! } : { token },
    deduplicate: options.deduplicate ?? true,
    resolveTransition: resolveTransition?.trim(),
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
