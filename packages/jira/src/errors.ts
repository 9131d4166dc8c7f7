import { parseRetryAfter, redact, safeOrigin, WebhookDeliveryError } from '@empathy/webhooks-core';

/** The Jira REST call that failed, as it appears in error messages. */
export type JiraOperation = 'search issues' | 'create issue' | 'add comment';

/** Jira's error body: `{ errorMessages: [...], errors: { field: message } }`. */
interface JiraErrorBody {
  errorMessages?: unknown | undefined;
  errors?: unknown | undefined;
  message?: unknown | undefined;
}

/** The parts of jira.js's `HttpException` read here (duck-typed: works across duplicated installs). */
interface HttpExceptionLike extends Error {
  status: number;
  response?: { data?: unknown } | undefined;
  cause?: { response?: { headers?: Record<string, unknown> } } | undefined;
}

/** The parts of an `AxiosError` without a response (timeouts, aborts, network failures). */
interface AxiosErrorLike extends Error {
  isAxiosError: true;
  code?: string | undefined;
}

const MESSAGE_MAX = 600;

/**
 * Maps what jira.js throws to a {@link WebhookDeliveryError} for `webhook`:
 * - `HttpException` → its HTTP status, Jira's `errorMessages` and per-field `errors` (so a 400
 *   names the field: `summary: …`), and Retry-After read from the axios response headers (on a 429
 *   without it, `X-RateLimit-Reset`). Core retries 429, Retry-After and 5xx; 400/401/403/404 are final.
 * - `AxiosError` without a response (timeout, abort, connection refused or reset) → retryable, no status.
 *
 * The SDK's errors carry the request config with the Authorization header, so they are never
 * attached: the `cause` is a fresh, redacted `Error` with the same name and code.
 */
export function toJiraDeliveryError(
  webhook: string,
  error: unknown,
  operation: JiraOperation,
  secrets: readonly (string | undefined)[],
): WebhookDeliveryError {
  if (isHttpException(error)) {
    const { status } = error;
    const headers = error.cause?.response?.headers ?? {};
    const retryAfterMs =
      parseRetryAfter(header(headers, 'retry-after')) ??
      (status === 429 ? parseRetryAfter(header(headers, 'x-ratelimit-reset')) : undefined);
    const location = header(headers, 'location');
    const details =
      status >= 300 && status < 400
        ? `redirected to ${location ? safeOrigin(location) : 'another URL'}; check option 'url'`
        : describeBody(error.response?.data);
    const wait = retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)}s)`;
    const message = `HTTP ${status} from ${operation}${wait}${details ? `: ${details}` : ''}`;
    return new WebhookDeliveryError(safe(message, secrets), {
      webhook,
      status,
      retryAfterMs,
      cause: sanitized(error, secrets),
    });
  }
  if (isAxiosError(error)) {
    const code = error.code;
    const what =
      code === 'ECONNABORTED' || code === 'ETIMEDOUT'
        ? 'timed out'
        : code === 'ERR_CANCELED'
          ? 'was aborted'
          : `failed: ${error.message}`;
    return new WebhookDeliveryError(safe(`${operation} ${what}${code ? ` (${code})` : ''}`, secrets), {
      webhook,
      code,
      retryable: true,
      cause: sanitized(error, secrets),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new WebhookDeliveryError(safe(`${operation} failed: ${message}`, secrets), {
    webhook,
    retryable: true,
    cause: error instanceof Error ? sanitized(error, secrets) : undefined,
  });
}

/** `errorMessages` and `errors` of a Jira error body, as one line: `summary: You must specify a summary`. */
function describeBody(data: unknown): string {
  if (typeof data === 'string') return data.trim().startsWith('<') ? '' : data.trim();
  if (!data || typeof data !== 'object') return '';
  const body = data as JiraErrorBody;
  const parts: string[] = [];
  if (Array.isArray(body.errorMessages)) parts.push(...body.errorMessages.map(String));
  if (body.errors && typeof body.errors === 'object') {
    for (const [field, text] of Object.entries(body.errors)) parts.push(`${field}: ${String(text)}`);
  }
  if (parts.length === 0 && typeof body.message === 'string') parts.push(body.message);
  return parts.join('; ');
}

function sanitized(error: Error, secrets: readonly (string | undefined)[]): Error {
  const out = new Error(safe(error.message, secrets));
  out.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') (out as Error & { code?: string }).code = code;
  return out;
}

function safe(text: string, secrets: readonly (string | undefined)[]): string {
  const oneLine = redact(text, secrets).replace(/\s+/g, ' ').trim();
  return oneLine.length > MESSAGE_MAX ? `${oneLine.slice(0, MESSAGE_MAX - 1)}…` : oneLine;
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function isHttpException(error: unknown): error is HttpExceptionLike {
  return (
    error instanceof Error &&
    error.name === 'HttpException' &&
    typeof (error as { status?: unknown }).status === 'number'
  );
}

function isAxiosError(error: unknown): error is AxiosErrorLike {
  return error instanceof Error && (error as { isAxiosError?: unknown }).isAxiosError === true;
}
