import type { WebhookDeliveryError } from '@empathy/webhooks-core';
import { type ErrorScope, httpError, parseRetryAfter, readBodyJson } from '@empathy/webhooks-core/kit';

/** Discord's JSON error body: discord.com/developers/docs/reference#error-messages */
interface DiscordErrorBody {
  message?: unknown | undefined;
  code?: unknown | undefined;
  /** 429 only: seconds to wait. */
  retry_after?: unknown | undefined;
  global?: unknown | undefined;
  errors?: unknown | undefined;
}

/**
 * Reads Discord's answer to a failed request (its first 8 KiB) into the kit's error: the
 * status, Discord's error code, its message with the first field errors of an "Invalid Form
 * Body" (50035), and for a 429 the wait Discord asked for: the body's `retry_after` (seconds,
 * with a fraction), else the `Retry-After` / `X-RateLimit-Reset-After` headers.
 */
export async function discordError(scope: ErrorScope, response: Response): Promise<WebhookDeliveryError> {
  const parsed = await readBodyJson(response);
  const body = parsed !== null && typeof parsed === 'object' ? (parsed as DiscordErrorBody) : undefined;
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
  const raw = typeof body?.code === 'number' || typeof body?.code === 'string' ? String(body.code) : '';
  // Code 0 is Discord's "no code" (a plain 404 page, a rate limit).
  const code = raw === '' || raw === '0' ? undefined : raw;
  const detail = [body?.global === true ? 'global rate limit' : undefined, describe(body)]
    .filter(Boolean)
    .join(': ');
  return httpError(scope, { status, detail, code, retryAfterMs });
}

/** Discord's message plus the first field errors of an "Invalid Form Body" (50035). */
function describe(body: DiscordErrorBody | undefined): string | undefined {
  if (!body) return undefined;
  const message = typeof body.message === 'string' ? body.message : undefined;
  const fields = fieldErrors(body.errors).slice(0, 3);
  const text = [message, ...fields].filter(Boolean).join('; ');
  return text === '' ? undefined : text;
}

/** Flattens `{ embeds: { 0: { title: { _errors: [{ message }] } } } }` into `embeds.0.title: message`. */
function fieldErrors(errors: unknown, path: string[] = [], depth = 0): string[] {
  if (!errors || typeof errors !== 'object' || depth > 8) return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(errors)) {
    if (key === '_errors' && Array.isArray(value)) {
      for (const e of value) {
        const text = (e as { message?: unknown })?.message;
        if (typeof text === 'string') out.push(`${path.join('.')}: ${text}`);
      }
    } else {
      out.push(...fieldErrors(value, [...path, key], depth + 1));
    }
  }
  return out;
}
