import { randomUUID } from 'node:crypto';
import {
  type CommonWebhookOptions,
  type DeliveryContext,
  type EmpathyEvent,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { parseCommonOptions, parseRetryAfter } from '@empathy/webhooks-core/kit';
import { type ConnectionOptions, RedisConnection } from 'bullmq';

/** The Redis every test uses: REDIS_URL, else the one running on these machines. */
export const REDIS: ConnectionOptions = process.env.REDIS_URL
  ? { url: process.env.REDIS_URL }
  : { host: '127.0.0.1', port: 6379 };

/** A key prefix no other test (or engineer) uses. */
export function uniquePrefix(): string {
  return `empathy-test:${randomUUID().slice(0, 12)}`;
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(prefix: string): Promise<void> {
  const connection = new RedisConnection(REDIS, { shared: false, blocking: false });
  try {
    const client = await connection.client;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, { MATCH: `${prefix}:*`, COUNT: 1000 });
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    await connection.close();
  }
}

/** Runs `fn` with a raw Redis client. */
export async function withRedis<T>(
  fn: (client: Awaited<RedisConnection['client']>) => Promise<T>,
): Promise<T> {
  const connection = new RedisConnection(REDIS, { shared: false, blocking: false });
  try {
    return await fn(await connection.client);
  } finally {
    await connection.close();
  }
}

/**
 * A minimal HTTP webhook for tests: POSTs the event as JSON, one attempt, and maps the answer
 * to a WebhookDeliveryError the way integrations do (status, Retry-After).
 */
export function httpWebhook(
  url: string,
  options: CommonWebhookOptions & { headers?: Record<string, string> } = {},
): WebhookPlugin {
  const o = parseCommonOptions(options, { name: 'http', events: ['*'] });
  return {
    name: o.name,
    events: o.events,
    filter: o.filter,
    retryPolicy: o.retryPolicy,
    rateLimit: o.rateLimit,
    circuitBreaker: o.circuitBreaker,
    concurrency: o.concurrency,
    onFailure: o.onFailure,
    async deliver(event: EmpathyEvent, ctx: DeliveryContext) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'webhook-id': event.event_id, ...options.headers },
          body: JSON.stringify(event),
          signal: ctx.signal,
        });
      } catch (error) {
        throw new WebhookDeliveryError(`network error: ${(error as Error).message}`, { webhook: o.name });
      }
      await response.arrayBuffer();
      if (!response.ok) {
        throw new WebhookDeliveryError(`HTTP ${response.status}`, {
          webhook: o.name,
          status: response.status,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        });
      }
      return { status: response.status };
    },
  };
}

/** Waits until `check()` is true, polling; fails after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
