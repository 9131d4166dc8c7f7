import type { WebhookDeliveryError } from '@empathy/webhooks-core';
import { type ErrorScope, httpError, parseRetryAfter, readBodyJson } from '@empathy/webhooks-core/kit';

/**
 * Reads a Workflows (Power Automate / Logic Apps) error answer, `{ error: { code, message } }`
 * (its first 8 KiB), into the kit's error with the status, the code, the message and the
 * `Retry-After` wait. Whether it is retried is core's decision from the status: 429 and 5xx
 * are; 400 (bad request), 401/403 (a bad or revoked `sig`), 404 (the flow was deleted or turned
 * off) and 413 (too large) are not.
 */
export async function workflowsError(scope: ErrorScope, response: Response): Promise<WebhookDeliveryError> {
  const body = (await readBodyJson(response)) as
    | { error?: { code?: unknown; message?: unknown } }
    | undefined;
  const code = body?.error?.code;
  const message = body?.error?.message;
  return httpError(scope, {
    status: response.status,
    code: typeof code === 'string' ? code : undefined,
    detail: typeof message === 'string' ? message : undefined,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  });
}
