import { parseRetryAfter, redact, WebhookDeliveryError } from '@empathy/webhooks-core';

/** What identifies the destination in messages, and what must never appear in them. */
export interface ErrorContext {
  /** The webhook's name (the message prefix). */
  webhook: string;
  /** The webhook URL's origin: the only part of it that is safe to show. */
  origin: string;
  /** The webhook URL, its token and its path: redacted from anything Discord sends back. */
  secrets: string[];
}

/** Discord's JSON error body: discord.com/developers/docs/reference#error-messages */
interface DiscordErrorBody {
  message?: unknown | undefined;
  code?: unknown | undefined;
  /** 429 only: seconds to wait. */
  retry_after?: unknown | undefined;
  global?: unknown | undefined;
  errors?: unknown | undefined;
}

const MAX_DETAIL = 300;

/**
 * Maps a non-2xx answer to a {@link WebhookDeliveryError} with the status, Discord's error code
 * and, for 429, the wait Discord asked for: the body's `retry_after` (seconds, with a fraction)
 * or else the `Retry-After` / `X-RateLimit-Reset-After` headers. 429 and 5xx are retryable;
 * other 4xx (unknown webhook, invalid token, invalid form body) are not.
 */
export async function responseError(
  context: ErrorContext,
  response: Response,
): Promise<WebhookDeliveryError> {
  const body = await readJson(response);
  const status = response.status;
  let retryAfterMs: number | undefined;
  if (status === 429 || response.headers.has('retry-after')) {
    retryAfterMs =
      (typeof body?.retry_after === 'number' && body.retry_after >= 0
        ? Math.ceil(body.retry_after * 1000)
        : undefined) ??
      parseRetryAfter(response.headers.get('retry-after')) ??
      parseRetryAfter(response.headers.get('x-ratelimit-reset-after'));
  }
  const code =
    typeof body?.code === 'number' || typeof body?.code === 'string' ? String(body.code) : undefined;
  const parts = [`HTTP ${status} from ${context.origin}`];
  if (code !== undefined && code !== '0') parts.push(`(Discord code ${code})`);
  if (retryAfterMs !== undefined) {
    const scope = body?.global === true ? 'global rate limit, ' : '';
    parts.push(`(${scope}retry after ${retryAfterMs / 1000}s)`);
  }
  let message = parts.join(' ');
  const detail = describe(body);
  if (detail) message += `: ${redact(detail, context.secrets)}`;
  return new WebhookDeliveryError(message, {
    webhook: context.webhook,
    status,
    retryAfterMs,
    code,
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

async function readJson(response: Response): Promise<DiscordErrorBody | undefined> {
  try {
    const text = await response.text();
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as DiscordErrorBody) : undefined;
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): the status says enough.
    return undefined;
  }
}

/** Discord's message plus the first field errors of an "Invalid Form Body" (50035). */
function describe(body: DiscordErrorBody | undefined): string | undefined {
  if (!body) return undefined;
  const message = typeof body.message === 'string' ? body.message : undefined;
  const fields = fieldErrors(body.errors).slice(0, 3);
  const text = [message, ...fields].filter(Boolean).join('; ');
  return text === '' ? undefined : text.slice(0, MAX_DETAIL);
}

/** Flattens `{ embeds: { 0: { title: { _errors: [{ message }] } } } }` into `embeds.0.title: message`. */
function fieldErrors(errors: unknown, path: string[] = []): string[] {
  if (!errors || typeof errors !== 'object') return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(errors)) {
    if (key === '_errors' && Array.isArray(value)) {
      for (const e of value) {
        const text = (e as { message?: unknown })?.message;
        if (typeof text === 'string') out.push(`${path.join('.')}: ${text}`);
      }
    } else {
      out.push(...fieldErrors(value, [...path, key]));
    }
  }
  return out;
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
