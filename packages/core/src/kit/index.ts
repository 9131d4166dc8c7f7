/**
 * `@empathy/webhooks-core/kit`: what integration authors build on. Every property that must hold
 * for all integrations lives here once: the SSRF guard, a transport that aborts at the attempt's
 * deadline and bounds what it reads, redaction, the error shape, the retry rule, text cleaning,
 * the reading of each event type, the common options and the user's `format` hook. Users of the
 * library need none of it: they import the main entry.
 */

export { redact, toDeliveryError } from '../errors.js';
export { assertEventType } from '../events.js';
export { conditionFingerprint, conditionIdentity } from '../fingerprint.js';
export { type IncidentContext, incidentOf } from '../incident.js';
// The plugin-author side of the contract (the types are in the main entry too, for users).
export {
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type ParsedCommonOptions,
  parseCommonOptions,
  parseEndpointOption,
  privateHostReason,
  type WebhookHost,
  type WebhookPlugin,
  wants,
} from '../plugin.js';
export { isRetryable, isRetryableStatus, parseRetryAfter, RETRYABLE_STATUSES } from '../policies/retry.js';
export {
  type EventSummary,
  type Fact as SummaryFact,
  type Link as SummaryLink,
  SEVERITY_LABELS,
  type Section as SummarySection,
  safeLink,
  summarize as summarizeEvent,
} from '../summary.js';
export { onAbort } from './abort.js';
export {
  type ErrorScope,
  type HttpErrorDetail,
  httpError,
  MAX_ERROR_DETAIL,
  networkError,
  permanentError,
  type ReplyErrorDetail,
  replyError,
  safeDetail,
} from './delivery-errors.js';
export { parseHeaders } from './headers.js';
export { ERROR_BODY_BYTES, readBodyJson, readBodyText } from './read.js';
export { REDACTED, Redactor } from './redact.js';
export { BlockedAddressError, guardedLookup, privateAddressReason } from './ssrf.js';
export { boundedData, cleanJson, cleanText, type DataBounds, oneLine, truncateText } from './text.js';
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  HttpTransport,
  type HttpTransportOptions,
  ResponseTooLargeError,
} from './transport.js';
export { type PackageIdentity, userAgent } from './user-agent.js';
export {
  type FormatHook,
  type JsonMethod,
  WebhookBase,
  type WebhookDefaults,
  type WebhookOptions,
} from './webhook-base.js';
