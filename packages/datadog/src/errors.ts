import { parseRetryAfter, redact, WebhookDeliveryError } from '@empathy/webhooks-core';

/** The two Datadog endpoints this package calls. */
export type DatadogApi = 'events' | 'metrics';

/** An answer Datadog gave, as the transport recorded it (the SDK's own errors keep no headers). */
export interface DatadogResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

const ENDPOINT: Record<DatadogApi, string> = {
  events: 'the Datadog events API (POST /api/v1/events)',
  metrics: 'the Datadog metrics API (POST /api/v2/series)',
};

/**
 * Turns a non-2xx answer into a {@link WebhookDeliveryError}: the HTTP status (core retries 429
 * and 5xx; 400 and 403 are permanent), Datadog's `errors` list, and the wait Datadog asked for:
 * `Retry-After`, else on a 429 `X-RateLimit-Reset` (seconds until the window resets).
 */
export function datadogHttpError(
  webhook: string,
  api: DatadogApi,
  response: DatadogResponse,
  secrets: readonly string[],
): WebhookDeliveryError {
  const detail = redact(vendorText(response.body).replace(/\s+/g, ' ').slice(0, 500), secrets);
  const retryAfterMs =
    parseRetryAfter(response.headers['retry-after']) ??
    (response.status === 429 ? parseRetryAfter(response.headers['x-ratelimit-reset']) : undefined);
  const wait = retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)}s)`;
  return new WebhookDeliveryError(
    `HTTP ${response.status} from ${ENDPOINT[api]}${detail ? `: ${detail}` : ''}${wait}`,
    {
      webhook,
      status: response.status,
      retryAfterMs,
      code: response.status === 429 ? 'rate_limited' : undefined,
    },
  );
}

/**
 * A request that got no answer (connection refused or dropped, DNS, TLS, abort): retryable. The
 * cause is rebuilt from the message and code only, so no request (and no API key header) travels
 * with it.
 */
export function datadogNetworkError(
  webhook: string,
  api: DatadogApi,
  error: unknown,
  origin: string,
  secrets: readonly string[],
): WebhookDeliveryError {
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = redact(describe(root), secrets);
  const code = (root as { code?: unknown } | null)?.code;
  const cause = new Error(message);
  if (typeof code === 'string') Object.assign(cause, { code });
  return new WebhookDeliveryError(
    `request to ${origin} failed (${api === 'events' ? 'events' : 'metrics'}): ${message}`,
    {
      webhook,
      cause,
      code: typeof code === 'string' ? code : undefined,
      retryable: true,
    },
  );
}

/**
 * The SDK refused the request before sending it (it validates and serialises the body): another
 * attempt would fail the same way.
 */
export function datadogClientError(
  webhook: string,
  api: DatadogApi,
  error: unknown,
  secrets: readonly string[],
): WebhookDeliveryError {
  const message = redact(error instanceof Error ? error.message : String(error), secrets);
  return new WebhookDeliveryError(`the Datadog SDK refused the ${api} request: ${message}`, {
    webhook,
    retryable: false,
  });
}

/** Datadog's error bodies are `{ "errors": ["…"] }`; anything else is shown as text. */
function vendorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: unknown; message?: unknown };
    if (Array.isArray(parsed.errors) && parsed.errors.length > 0) return parsed.errors.map(String).join('; ');
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: a proxy's or load balancer's page.
  }
  return body.replace(/<[^>]*>/g, ' ').trim();
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}
