import type { WebhookDeliveryError } from '@empathy/webhooks-core';
import { type ErrorScope, httpError, parseRetryAfter, readBodyText } from '@empathy/webhooks-core/kit';

/** Which Grafana API answered: the target named in error messages. */
export type GrafanaApi = 'Grafana annotations' | 'Loki push';

/**
 * Reads a failed answer (its first 8 KiB) into the kit's error: the status, the vendor's
 * message (Grafana answers `{ message, messageId }`, Loki plain text) and the wait it asked for
 * (`Retry-After`). Whether it is retried is core's decision from the status.
 */
export async function grafanaError(scope: ErrorScope, response: Response): Promise<WebhookDeliveryError> {
  const body = await readBodyText(response);
  let detail = body;
  let code: string | undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown; error?: unknown; messageId?: unknown };
    if (typeof parsed?.message === 'string') detail = parsed.message;
    else if (typeof parsed?.error === 'string') detail = parsed.error;
    if (typeof parsed?.messageId === 'string') code = parsed.messageId;
  } catch {
    // Loki answers errors as plain text.
  }
  return httpError(scope, {
    status: response.status,
    code,
    detail,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  });
}
