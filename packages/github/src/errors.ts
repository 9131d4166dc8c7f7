import {
  isWebhookDeliveryError,
  parseRetryAfter,
  redact,
  WebhookDeliveryError,
} from '@empathy/webhooks-core';

/** One entry of a GitHub 422 `errors` array. */
export interface GitHubValidationError {
  resource?: string | undefined;
  field?: string | undefined;
  code?: string | undefined;
  message?: string | undefined;
}

/**
 * What GitHub answered, kept as the `cause` of a {@link WebhookDeliveryError} instead of
 * Octokit's `RequestError` (which carries the request: URL, headers and body). Secret-free.
 */
export class GitHubApiError extends Error {
  override name = 'GitHubApiError' as const;
  /** HTTP status. */
  readonly status: number;
  /** `x-github-request-id`: quote it to GitHub support. */
  readonly requestId: string | undefined;
  /** The validation errors of a 422. */
  readonly errors: readonly GitHubValidationError[];
  readonly documentationUrl: string | undefined;

  constructor(
    message: string,
    details: {
      status: number;
      requestId?: string | undefined;
      errors?: GitHubValidationError[] | undefined;
      documentationUrl?: string | undefined;
    },
  ) {
    super(message);
    this.status = details.status;
    this.requestId = details.requestId;
    this.errors = details.errors ?? [];
    this.documentationUrl = details.documentationUrl;
  }
}

/** The parts of Octokit's `RequestError` (and of fetch errors) this module reads. */
interface OctokitError {
  name?: string | undefined;
  message?: string | undefined;
  status?: number | undefined;
  code?: unknown | undefined;
  cause?: unknown | undefined;
  request?: { method?: string; url?: string } | undefined;
  response?: { status?: number; headers?: Record<string, string | undefined>; data?: unknown } | undefined;
}

/** A GitHub rate limit recognised in an error answer, and how long to wait. */
export interface GitHubRateLimit {
  kind: 'primary' | 'secondary';
  retryAfterMs: number;
}

const SECONDARY_MESSAGE = /secondary rate limit|abuse detection/i;

/**
 * Recognises GitHub's rate limits in a 403/429 answer
 * (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit):
 * `retry-after` wins; else `x-ratelimit-remaining: 0` waits until `x-ratelimit-reset` (epoch
 * seconds, measured against GitHub's `date` header so clock skew doesn't matter); else a
 * "secondary rate limit" message or a bare 429 waits one minute.
 */
export function githubRateLimit(
  status: number,
  headers: Record<string, string | undefined>,
  message: string,
  now: number = Date.now(),
): GitHubRateLimit | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const secondary = SECONDARY_MESSAGE.test(message);
  const exhausted = headers['x-ratelimit-remaining'] === '0';
  const retryAfter = parseRetryAfter(headers['retry-after'], now);
  if (retryAfter !== undefined) {
    return { kind: exhausted && !secondary ? 'primary' : 'secondary', retryAfterMs: retryAfter };
  }
  const reset = Number(headers['x-ratelimit-reset']);
  if (exhausted && Number.isFinite(reset) && reset > 0) {
    const serverNow = Date.parse(headers.date ?? '');
    const from = Number.isNaN(serverNow) ? now : serverNow;
    return { kind: 'primary', retryAfterMs: Math.max(0, reset * 1000 - from) };
  }
  if (secondary || status === 429) return { kind: 'secondary', retryAfterMs: 60_000 };
  return undefined;
}

/**
 * Turns whatever a GitHub call threw into a {@link WebhookDeliveryError} for `webhook`: the HTTP
 * status, the wait a rate limit asks for (`retryAfterMs`, which core always honours), GitHub's
 * message and validation errors, and a code (`rate_limited`, `secondary_rate_limited`,
 * `validation_failed`, `not_found`, …). Network failures have no status and are retryable.
 * Nothing of the request (token, headers, body) is kept; `secrets` are redacted from messages.
 */
export function toGitHubDeliveryError(
  webhook: string,
  error: unknown,
  secrets: readonly string[],
  now: number = Date.now(),
): WebhookDeliveryError {
  if (isWebhookDeliveryError(error)) return error;
  const e = (error ?? {}) as OctokitError;
  const where = describeRequest(e.request);
  const clean = (text: string) => redact(text, secrets);

  const response = e.response;
  const status = typeof e.status === 'number' ? e.status : response?.status;
  if (response && typeof status === 'number' && status >= 300) {
    const headers = response.headers ?? {};
    const body = (typeof response.data === 'object' && response.data !== null ? response.data : {}) as {
      message?: unknown | undefined;
      errors?: unknown | undefined;
      documentation_url?: unknown | undefined;
    };
    const errors = validationErrors(body.errors);
    const vendor = clean(vendorMessage(response.data, errors) || `HTTP ${status}`);
    const limit = githubRateLimit(status, headers, vendor, now);
    const requestId = headers['x-github-request-id'];
    const wait = limit
      ? ` (${limit.kind} rate limit; retry after ${Math.ceil(limit.retryAfterMs / 1000)}s)`
      : '';
    return new WebhookDeliveryError(`HTTP ${status} from ${where}: ${vendor}${wait}`, {
      webhook,
      status,
      retryAfterMs: limit?.retryAfterMs,
      code: limit
        ? limit.kind === 'primary'
          ? 'rate_limited'
          : 'secondary_rate_limited'
        : statusCode(status),
      cause: new GitHubApiError(vendor, {
        status,
        requestId,
        errors: errors.map((v) => JSON.parse(clean(JSON.stringify(v))) as GitHubValidationError),
        documentationUrl: typeof body.documentation_url === 'string' ? body.documentation_url : undefined,
      }),
    });
  }

  // No answer: a network failure (Octokit wraps it as a RequestError with status 500 and no
  // response) or an aborted attempt. Keep only the root cause's message and code.
  const root = rootCause(error);
  const aborted = e.name === 'AbortError' || root.name === 'AbortError';
  const reason = aborted ? 'request aborted' : clean(root.message || e.message || 'network error');
  const code = typeof root.code === 'string' ? root.code : aborted ? 'aborted' : 'network_error';
  const cause = new Error(reason);
  cause.name = root.name && root.name !== 'HttpError' ? root.name : 'NetworkError';
  return new WebhookDeliveryError(`request to ${where} failed: ${reason}`, {
    webhook,
    code,
    retryable: true,
    cause,
  });
}

/** `POST /repos/acme/app/issues`: the method and path only (no query, no host). */
function describeRequest(request: OctokitError['request']): string {
  if (!request?.url) return 'GitHub';
  let path: string;
  try {
    path = new URL(request.url).pathname;
  } catch {
    path = request.url.split('?')[0] ?? '';
  }
  return `${(request.method ?? 'GET').toUpperCase()} ${decodeURIComponent(path)}`;
}

function vendorMessage(data: unknown, errors: GitHubValidationError[]): string {
  let message = '';
  if (typeof data === 'string') message = data;
  else if (data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string') {
    message = (data as { message: string }).message;
  }
  // A proxy's HTML error page says nothing useful past its title.
  message = message
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
  const details = errors
    .map((v) => v.message ?? [v.resource, v.field, v.code].filter(Boolean).join(' '))
    .filter(Boolean)
    .slice(0, 5);
  return details.length > 0 ? `${message} (${details.join('; ')})` : message;
}

function validationErrors(value: unknown): GitHubValidationError[] {
  if (!Array.isArray(value)) return [];
  return value.slice(0, 20).map((v) => {
    if (typeof v === 'string') return { message: v.slice(0, 300) };
    const o = (v ?? {}) as Record<string, unknown>;
    const out: GitHubValidationError = {};
    for (const key of ['resource', 'field', 'code', 'message'] as const) {
      if (typeof o[key] === 'string') out[key] = (o[key] as string).slice(0, 300);
    }
    return out;
  });
}

function statusCode(status: number): string {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 410:
      return 'gone';
    case 422:
      return 'validation_failed';
    default:
      return status >= 500 ? 'server_error' : `http_${status}`;
  }
}

function rootCause(error: unknown): { name?: string; message?: string; code?: unknown } {
  let current = error as { name?: string; message?: string; code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; depth < 5 && current?.cause && typeof current.cause === 'object'; depth++) {
    current = current.cause as typeof current;
  }
  return current ?? {};
}
