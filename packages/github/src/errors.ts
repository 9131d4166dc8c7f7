import { isWebhookDeliveryError, type WebhookDeliveryError } from '@empathy/webhooks-core';
import { type ErrorScope, httpError, parseRetryAfter, readBodyText } from '@empathy/webhooks-core/kit';

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
 * GitHub's non-2xx answer as a delivery error, through core's builder: the status, GitHub's
 * `message` and 422 validation errors as the detail (the first 8 KiB of the body are read; the
 * rest is dropped with the connection), and for a rate limit its kind as the code
 * (`rate_limited`, `secondary_rate_limited`) and the wait it asks for. A redirect is never
 * followed (it would carry the token): it names where it pointed, by origin.
 */
export async function githubAnswerError(
  scope: ErrorScope,
  response: Response,
  now: number = Date.now(),
): Promise<WebhookDeliveryError> {
  const status = response.status;
  if (status >= 300 && status < 400) {
    await response.body?.cancel();
    const location = response.headers.get('location');
    let where = 'another URL';
    try {
      if (location) where = new URL(location, response.url || undefined).origin;
    } catch {
      // A location that is no URL: say so without quoting it.
    }
    return httpError(scope, {
      status,
      detail: `redirected to ${where}; redirects are not followed (check option 'baseUrl')`,
    });
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const detail = vendorMessage(await readBodyText(response));
  const limit = githubRateLimit(status, headers, detail, now);
  return httpError(scope, {
    status,
    detail,
    code:
      limit === undefined ? undefined : limit.kind === 'primary' ? 'rate_limited' : 'secondary_rate_limited',
    retryAfterMs: limit?.retryAfterMs,
  });
}

/**
 * The delivery error behind what Octokit threw: the fetch this package gives Octokit throws
 * delivery errors, which Octokit wraps in a `RequestError` (that also carries the request's
 * headers, so it is never kept).
 */
export function deliveryErrorIn(error: unknown): WebhookDeliveryError | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (isWebhookDeliveryError(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** GitHub's error body `{ message, errors: [...] }` as one line; an HTML page as its text. */
function vendorMessage(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    // A proxy's HTML error page: its text, without the tags.
    return body.replace(/<[^>]*>/g, ' ');
  }
  if (parsed === null || typeof parsed !== 'object') return String(parsed);
  const { message, errors } = parsed as { message?: unknown; errors?: unknown };
  const details = (Array.isArray(errors) ? errors : [])
    .slice(0, 5)
    .map((v) => {
      if (typeof v === 'string') return v;
      const o = (v ?? {}) as Record<string, unknown>;
      return typeof o.message === 'string'
        ? o.message
        : [o.resource, o.field, o.code].filter((x) => typeof x === 'string').join(' ');
    })
    .filter(Boolean);
  const head = typeof message === 'string' ? message : '';
  return details.length > 0 ? `${head} (${details.join('; ')})` : head;
}
