import { parseRetryAfter, redact, WebhookDeliveryError } from '@empathy/webhooks-core';

/** Which Grafana API answered. */
export type GrafanaApi = 'Grafana annotations' | 'Loki push';

/**
 * Turns a non-2xx answer into a {@link WebhookDeliveryError} with the HTTP status (core retries
 * 429 and 5xx; other 4xx are permanent), the vendor's message (Grafana answers
 * `{ "message": … }`, Loki plain text) and the wait it asked for (`Retry-After`).
 */
export function httpError(
  webhook: string,
  api: GrafanaApi,
  response: { status: number; headers: Headers },
  body: string,
  secrets: readonly string[],
): WebhookDeliveryError {
  const detail = redact(vendorMessage(body).replace(/\s+/g, ' ').trim().slice(0, 500), secrets);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const wait = retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)}s)`;
  return new WebhookDeliveryError(
    `HTTP ${response.status} from ${api}${detail ? `: ${detail}` : ''}${wait}`,
    {
      webhook,
      status: response.status,
      retryAfterMs,
    },
  );
}

/**
 * A request that got no answer (connection refused or dropped, DNS, TLS, abort): retryable. The
 * cause is rebuilt from the message and code only, so no request options or headers travel with it.
 */
export function networkError(
  webhook: string,
  api: GrafanaApi,
  error: unknown,
  origin: string,
  secrets: readonly string[],
): WebhookDeliveryError {
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = redact(describe(root), secrets);
  const code = (root as { code?: unknown } | null)?.code;
  const cause = new Error(message);
  if (typeof code === 'string') Object.assign(cause, { code });
  return new WebhookDeliveryError(`${api} request to ${origin} failed: ${message}`, {
    webhook,
    cause,
    code: typeof code === 'string' ? code : undefined,
    retryable: true,
  });
}

function vendorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; error?: unknown };
    if (typeof parsed?.message === 'string') return parsed.message;
    if (typeof parsed?.error === 'string') return parsed.error;
  } catch {
    // Loki answers errors as plain text.
  }
  return body;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}
