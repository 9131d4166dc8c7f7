import { parseRetryAfter, redact, WebhookDeliveryError } from '@empathy/webhooks-core';

/** The JSON PagerDuty's Events API answers with (success and error alike). */
export interface EventsApiResponse {
  status?: string | undefined;
  message?: string | undefined;
  dedup_key?: string | undefined;
  errors?: string[] | undefined;
}

/**
 * Turns a non-2xx answer of the Events API into a {@link WebhookDeliveryError}: the HTTP status
 * (core retries 429 and 5xx; a 400 is permanent), PagerDuty's message and error list, and the
 * wait PagerDuty asked for (`Retry-After`, else `ratelimit-reset`).
 */
export function eventsApiError(
  webhook: string,
  response: { status: number; headers: Headers },
  body: string,
  secrets: readonly string[],
): WebhookDeliveryError {
  const parsed = parseBody(body);
  const vendorText = parsed
    ? [parsed.message, ...(Array.isArray(parsed.errors) ? parsed.errors : [])].filter(Boolean).join('; ')
    : body.trim();
  const detail = redact(vendorText.replace(/\s+/g, ' ').slice(0, 500), secrets);
  const retryAfterMs =
    parseRetryAfter(response.headers.get('retry-after')) ??
    (response.status === 429 ? parseRetryAfter(response.headers.get('ratelimit-reset')) : undefined);
  const wait = retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)}s)`;
  return new WebhookDeliveryError(
    `HTTP ${response.status} from the PagerDuty Events API${detail ? `: ${detail}` : ''}${wait}`,
    {
      webhook,
      status: response.status,
      retryAfterMs,
      code: typeof parsed?.status === 'string' ? parsed.status.replace(/\s+/g, '_') : undefined,
    },
  );
}

/**
 * A request that got no answer (connection refused or dropped, DNS, TLS, abort): retryable. The
 * cause is rebuilt from the message and code only, so no request options travel with it.
 */
export function networkError(
  webhook: string,
  error: unknown,
  origin: string,
  secrets: readonly string[],
): WebhookDeliveryError {
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = redact(describe(root), secrets);
  const code = (root as { code?: unknown } | null)?.code;
  const cause = new Error(message);
  if (typeof code === 'string') Object.assign(cause, { code });
  return new WebhookDeliveryError(`request to ${origin} failed: ${message}`, {
    webhook,
    cause,
    code: typeof code === 'string' ? code : undefined,
    retryable: true,
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}

/** Parses the Events API's JSON answer; `undefined` if it is not JSON. */
export function parseBody(body: string): EventsApiResponse | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    return value !== null && typeof value === 'object' ? (value as EventsApiResponse) : undefined;
  } catch {
    return undefined;
  }
}
