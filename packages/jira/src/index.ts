export type { AdfDocument, AdfNode } from './document.js';
export { jiraError } from './errors.js';
export {
  type CommentReason,
  DEFAULT_PRIORITY_MAP,
  duplicateSearchJql,
  FINGERPRINT_LABEL_PREFIX,
  fingerprintOf,
  fitFields,
  formatComment,
  formatIssue,
  ISSUE_PROPERTY_KEY,
  type IssueFormatOptions,
  type JiraDeployment,
  type JiraIssueFields,
  type JiraIssuePayload,
  type PriorityMap,
  SUMMARY_MAX_LENGTH,
  TEXT_FIELD_MAX_LENGTH,
} from './format.js';
export {
  JIRA_DEFAULT_EVENTS,
  JIRA_DEFAULT_RATE_LIMIT,
  JiraWebhook,
  type JiraWebhookOptions,
} from './jira-webhook.js';
export type { JiraSpecificOptions } from './options.js';
