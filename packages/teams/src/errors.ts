import { parseRetryAfter, redact, WebhookDeliveryError } from '@empathy/webhooks-core';

/** What identifies the destination in messages, and what must never appear in them. */
export interface ErrorContext {
  /** The webhook's name (the message prefix). */
  webhook: string;
  /** The webhook URL's origin: the only part of it that is safe to show. */
  origin: string;
  /** The webhook URL, its `sig` and its path: redacted from anything the service sends back. */
  secrets: string[];
}

const MAX_DETAIL = 300;

/**
 * Maps a non-2xx answer of the Workflows endpoint to a {@link WebhookDeliveryError} with the
 * status, the error code of its `{ error: { code, message } }` body and the `Retry-After` wait.
 * 429 and 5xx are retryable; 400 (bad request), 401/403 (a bad or revoked `sig`), 404 (the flow
 * was deleted or turned off) and 413 (too large) are not.
 */
export async function responseError(
  context: ErrorContext,
  response: Response,
): Promise<WebhookDeliveryError> {
  const error = await readError(response);
  if (error.code !== undefined) error.code = redact(error.code, context.secrets);
  const status = response.status;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  let message = `HTTP ${status} from ${context.origin}`;
  if (retryAfterMs !== undefined) message += ` (retry after ${retryAfterMs / 1000}s)`;
  const detail = [error.code, error.message].filter(Boolean).join(': ');
  if (detail) message += `: ${redact(detail, context.secrets).slice(0, MAX_DETAIL)}`;
  return new WebhookDeliveryError(message, {
    webhook: context.webhook,
    status,
    retryAfterMs,
    code: error.code,
  });
}

/**
 * Maps a failure without an answer (connection refused or dropped, DNS) to a retryable
 * {@link WebhookDeliveryError}. The cause is a fresh, redacted error: fetch's own errors are
 * not attached, so nothing about the request can leak through them.
 */
export function requestError(context: ErrorContext, error: unknown): WebhookDeliveryError {
  const { message, code } = describeThrown(error);
  const safe = redact(message, context.secrets);
  const cause = Object.assign(new Error(safe), code === undefined ? {} : { code });
  return new WebhookDeliveryError(`request to ${context.origin} failed: ${safe}`, {
    webhook: context.webhook,
    cause,
    code,
    retryable: true,
  });
}

/** Logic Apps / Power Automate answer errors as `{ error: { code, message } }`. */
async function readError(response: Response): Promise<{ code?: string; message?: string }> {
  try {
    const body = JSON.parse(await response.text()) as { error?: { code?: unknown; message?: unknown } };
    const code = body?.error?.code;
    const message = body?.error?.message;
    return {
      code: typeof code === 'string' ? code.slice(0, 100) : undefined,
      message: typeof message === 'string' ? message : undefined,
    };
  } catch {
    // Not JSON (a gateway's HTML page, an empty body): the status says enough.
    return {};
  }
}

function describeThrown(error: unknown): { message: string; code: string | undefined } {
  if (!(error instanceof Error)) return { message: String(error), code: undefined };
  // fetch reports "fetch failed" and puts the reason (ECONNREFUSED, other side closed) in `cause`.
  const cause = error.cause as { message?: unknown; code?: unknown } | undefined;
  const causeMessage = typeof cause?.message === 'string' ? cause.message : undefined;
  const causeCode = typeof cause?.code === 'string' ? cause.code : undefined;
  const ownCode = (error as { code?: unknown }).code;
  return {
    message: causeMessage ? `${error.message} (${causeMessage})` : error.message,
    code: causeCode ?? (typeof ownCode === 'string' ? ownCode : undefined),
  };
}
