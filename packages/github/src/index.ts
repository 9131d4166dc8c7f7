export { deliveryErrorIn, type GitHubRateLimit, githubAnswerError, githubRateLimit } from './errors.js';
export {
  BODY_LIMIT,
  CLIENT_PAYLOAD_MAX_KEYS,
  type ClientPayload,
  type ClientPayloadIncident,
  clientPayload,
  DISPATCH_EVENT_TYPE_LIMIT,
  findingFingerprint,
  fingerprintMarker,
  formatDispatch,
  formatIssue,
  formatIssueComment,
  formatReviewComment,
  formatWorkflowInputs,
  type GitHubPayload,
  type IssuePayload,
  PAYLOAD_BYTE_BUDGET,
  reviewMarker,
  TITLE_LIMIT,
  truncateBody,
  type WorkflowInputs,
} from './format.js';
export {
  GITHUB_RATE_LIMIT,
  type GitHubAction,
  GitHubWebhook,
  type GitHubWebhookOptions,
} from './github-webhook.js';
export type { GitHubDispatchOptions, GitHubIssueOptions, GitHubWorkflowOptions } from './options.js';
