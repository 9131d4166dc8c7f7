import type { WebhookDeliveryError } from '@empathy/webhooks-core';
import { type ErrorScope, httpError, parseRetryAfter } from '@empathy/webhooks-core/kit';

/** An answer Datadog gave, as the transport recorded it (the SDK's own errors keep no headers). */
export interface DatadogResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The body as far as it was read (8 KiB of an error). */
  body: string;
}

/**
 * Datadog's non-2xx answer as a delivery error, through core's builder: the status (core retries
 * 429 and 5xx; 400 and 403 are permanent), Datadog's `errors` list as the detail, and the wait
 * Datadog asked for: `Retry-After`, else on a 429 `X-RateLimit-Reset` (seconds until the window
 * resets). A redirect (never followed: it would carry the API key) names where it pointed.
 */
export function datadogAnswerError(scope: ErrorScope, response: DatadogResponse): WebhookDeliveryError {
  const { status, headers } = response;
  if (status >= 300 && status < 400) {
    return httpError(scope, {
      status,
      detail: `redirected to ${originOf(headers.location)}; redirects are not followed (check option 'site' or 'baseUrl')`,
    });
  }
  const retryAfterMs =
    parseRetryAfter(headers['retry-after']) ??
    (status === 429 ? parseRetryAfter(headers['x-ratelimit-reset']) : undefined);
  return httpError(scope, { status, detail: vendorText(response.body), retryAfterMs });
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
  return body.replace(/<[^>]*>/g, ' ');
}

function originOf(location: string | undefined): string {
  try {
    return location ? new URL(location).origin : 'another URL';
  } catch {
    return 'another URL';
  }
}
