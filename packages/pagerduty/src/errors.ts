import type { WebhookDeliveryError } from '@empathy/webhooks-core';
import { type ErrorScope, httpError, parseRetryAfter, readBodyText } from '@empathy/webhooks-core/kit';

/** The JSON PagerDuty's Events API answers with (success and error alike). */
export interface EventsApiResponse {
  status?: string | undefined;
  message?: string | undefined;
  dedup_key?: string | undefined;
  errors?: string[] | undefined;
}

/**
 * Reads a failed Events API answer (its first 8 KiB) into the kit's error: the status,
 * PagerDuty's `status` as the code (`invalid_event`, `throttle_event`), its message and error
 * list, and the wait it asked for (`Retry-After`, else `ratelimit-reset` on a 429). Whether it is
 * retried is core's decision from the status: 429 and 5xx are, a 400 is not.
 */
export async function eventsApiError(scope: ErrorScope, response: Response): Promise<WebhookDeliveryError> {
  const text = await readBodyText(response);
  const body = parseAnswer(text);
  const errors = Array.isArray(body?.errors) ? body.errors.filter((e) => typeof e === 'string') : [];
  // A gateway's plain-text page (a 5xx from a proxy) is the detail as it is.
  const detail = body
    ? [typeof body.message === 'string' ? body.message : undefined, ...errors].filter(Boolean).join('; ')
    : text;
  const status = response.status;
  return httpError(scope, {
    status,
    code: typeof body?.status === 'string' ? body.status.trim().replace(/\s+/g, '_') : undefined,
    detail,
    retryAfterMs:
      parseRetryAfter(response.headers.get('retry-after')) ??
      (status === 429 ? parseRetryAfter(response.headers.get('ratelimit-reset')) : undefined),
  });
}

/** The Events API's JSON answer; `undefined` when it is not JSON. */
function parseAnswer(text: string): EventsApiResponse | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as EventsApiResponse) : undefined;
  } catch {
    return undefined;
  }
}
