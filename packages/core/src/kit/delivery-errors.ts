import { isWebhookDeliveryError, WebhookDeliveryError } from '../errors.js';
import type { Redactor } from './redact.js';
import { BlockedAddressError } from './ssrf.js';
import { cleanText, truncateText } from './text.js';
import { ResponseTooLargeError } from './transport.js';

/** The longest vendor detail an error message carries (after redaction). */
export const MAX_ERROR_DETAIL = 300;

/** Who failed, for the error builders: the webhook, where it sends, and what must not be shown. */
export interface ErrorScope {
  /** The webhook's name: every message starts with `[name]`. */
  webhook: string;
  /** Where the request went, safe to print: an origin or a vendor API name (`Slack chat.postMessage`). */
  target: string;
  /** Every secret the webhook holds. */
  redactor: Redactor;
}

/** What a vendor's error answer says, parsed by the integration from its body and headers. */
export interface HttpErrorDetail {
  /** The HTTP status. */
  status: number;
  /** The vendor's message (raw: it is cleaned, redacted and then cut here). */
  detail?: string | undefined;
  /** A vendor error code, safe to show (`channel_not_found`, `50035`). */
  code?: string | undefined;
  /** How long the vendor asked us to wait, in ms. */
  retryAfterMs?: number | undefined;
}

/**
 * The error for a vendor's non-2xx answer:
 * `[webhook] HTTP 429 from <target> (code): <detail> (retry after 30s)`. The detail is redacted
 * first and cut to {@link MAX_ERROR_DETAIL} characters after, so no piece of a secret survives a
 * cut. Whether it is retried is the retry policy's decision from the status (see
 * `isRetryableStatus`), not the integration's.
 */
export function httpError(scope: ErrorScope, answer: HttpErrorDetail): WebhookDeliveryError {
  return replyError(scope, { ...answer, reply: `HTTP ${answer.status}` });
}

/**
 * A vendor's refusal that is not an HTTP error status: an SMTP reply, or Slack's `ok: false` in
 * an HTTP 200. For the retry policy and the circuit breaker it either has the HTTP `status` it
 * amounts to (an SMTP 451 is a 503), or no status and the protocol's own verdict, `retryable`.
 */
export interface ReplyErrorDetail {
  /** The answer as its protocol names it, first in the message: `SMTP 451`, `ok:false`. */
  reply: string;
  /**
   * The HTTP status the answer amounts to, when it has one: the retry policy then judges it as
   * it judges HTTP (`retryable` is ignored).
   */
  status?: number | undefined;
  /** Whether another attempt may succeed, for an answer without a `status`. @default true */
  retryable?: boolean | undefined;
  /** The vendor's message (raw: it is cleaned, redacted and then cut here). */
  detail?: string | undefined;
  /** A vendor error code, safe to show (`channel_not_found`, `EENVELOPE`). */
  code?: string | undefined;
  /** How long the vendor asked us to wait, in ms. */
  retryAfterMs?: number | undefined;
}

/**
 * The error for a vendor's answer that refused the delivery, in the same shape as
 * {@link httpError}: `[webhook] SMTP 451 from <target> (code): <detail> (retry after 30s)`.
 * Redacted first, cut after.
 */
export function replyError(scope: ErrorScope, answer: ReplyErrorDetail): WebhookDeliveryError {
  const { status, code, retryAfterMs } = answer;
  let message = `${safeDetail(scope, answer.reply, 60)} from ${scope.target}`;
  if (code !== undefined && code !== '') message += ` (${safeDetail(scope, code, 60)})`;
  const detail = answer.detail === undefined ? '' : safeDetail(scope, answer.detail, MAX_ERROR_DETAIL);
  if (detail !== '') message += `: ${detail}`;
  if (retryAfterMs !== undefined) message += ` (retry after ${formatSeconds(retryAfterMs)})`;
  return new WebhookDeliveryError(message, {
    webhook: scope.webhook,
    status,
    retryAfterMs,
    // One retry rule: with a status, the policy's status list decides, never the integration.
    retryable: status === undefined ? (answer.retryable ?? true) : undefined,
    code: code === undefined ? undefined : safeDetail(scope, code, 60),
  });
}

/**
 * The error for a request that got no answer: a refused or dropped connection, DNS, a body over
 * its bound, the SSRF guard (permanent: no retry reaches a refused address). The cause is a
 * fresh, redacted error: SDK errors (axios's carry the request's headers) are never attached.
 * An error that is already a delivery error (an abort with core's timeout) passes through.
 */
export function networkError(scope: ErrorScope, error: unknown): WebhookDeliveryError {
  if (isWebhookDeliveryError(error)) return error;
  const chain = causes(error);
  const blocked = chain.find((e): e is BlockedAddressError => e instanceof BlockedAddressError);
  if (blocked) {
    return new WebhookDeliveryError(scope.redactor.redact(blocked.message), {
      webhook: scope.webhook,
      code: blocked.code,
      retryable: false,
    });
  }
  const tooLarge = chain.find((e): e is ResponseTooLargeError => e instanceof ResponseTooLargeError);
  const code = tooLarge?.code ?? chain.map(codeOf).find((c) => c !== undefined);
  const text = chain
    .map((e) => (e instanceof Error ? e.message : typeof e === 'string' ? e : ''))
    .filter((m, i, all) => m !== '' && all.indexOf(m) === i)
    .join(': ');
  const detail = safeDetail(scope, text || String(error), MAX_ERROR_DETAIL);
  const cause = Object.assign(new Error(detail), code === undefined ? {} : { code });
  return new WebhookDeliveryError(`request to ${scope.target} failed: ${detail}${code ? ` (${code})` : ''}`, {
    webhook: scope.webhook,
    cause,
    code,
    retryable: true,
  });
}

/**
 * A failure before any request was made that no retry can fix (a payload the vendor cannot
 * take, a user `format` that threw): permanent.
 */
export function permanentError(
  scope: Pick<ErrorScope, 'webhook' | 'redactor'>,
  message: string,
  code: string,
  cause?: unknown,
): WebhookDeliveryError {
  return new WebhookDeliveryError(safeDetail(scope, message, 500), {
    webhook: scope.webhook,
    code,
    retryable: false,
    cause:
      cause === undefined
        ? undefined
        : Object.assign(new Error(safeDetail(scope, describe(cause), 500)), { code }),
  });
}

/** Clean, one line, redacted, then cut: the order matters (a cut secret cannot be redacted). */
export function safeDetail(scope: Pick<ErrorScope, 'redactor'>, text: string, max: number): string {
  const flat = cleanText(text).replace(/\s+/g, ' ').trim();
  return truncateText(scope.redactor.redact(flat), max);
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
}

function causes(error: unknown): unknown[] {
  const out: unknown[] = [];
  let current = error;
  while (current !== undefined && current !== null && out.length < 5 && !out.includes(current)) {
    out.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return out;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
