import {
  createEvent,
  type DeliveryQueue,
  Dispatcher,
  type EmpathyEvent,
  MemoryQueue,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { parseRetryAfter } from '@empathy/webhooks-core/kit';
import { createFakeServer, type FakeServer } from '@empathy/webhooks-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteQueue } from '../src/index.js';
import { tempDb } from './helpers.js';

/** A minimal HTTP integration: one POST per attempt, errors mapped the way integrations do. */
function httpPlugin(url: string, extra: Partial<WebhookPlugin> = {}): WebhookPlugin {
  return {
    name: 'sink',
    events: ['*'],
    concurrency: 1,
    retryPolicy: { maxRetries: 3, initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false },
    circuitBreaker: { failureThreshold: 2, cooldownSeconds: 0.2 },
    ...extra,
    async deliver(event, ctx) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': event.event_id },
        body: JSON.stringify(event),
        signal: ctx.signal,
      });
      await response.arrayBuffer();
      if (!response.ok) {
        throw new WebhookDeliveryError(`HTTP ${response.status}`, {
          webhook: 'sink',
          status: response.status,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        });
      }
      return { status: response.status };
    },
  };
}

const events = (n: number): EmpathyEvent[] =>
  Array.from({ length: n }, (_, i) =>
    createEvent(
      'alert',
      { message: `alert ${i}` },
      { userId: 'u1', eventId: `evt_${String(i).padStart(2, '0')}` },
    ),
  );

let server: FakeServer | undefined;
let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
  await server?.close();
  dispatcher = undefined;
  server = undefined;
});

describe.each([
  ['MemoryQueue', (): DeliveryQueue => new MemoryQueue()],
  ['SqliteQueue', (): DeliveryQueue => new SqliteQueue({ path: tempDb() })],
])('the dispatcher on %s', (_name, makeQueue) => {
  it('delivers, retries, waits out Retry-After and an open circuit, and dead-letters a refusal', async () => {
    server = await createFakeServer((request) =>
      request.json().event_id === 'evt_05' ? { status: 400, body: { error: 'invalid' } } : { status: 200 },
    );
    // Two 503s open the circuit; then a 429 asks for 0.3 s.
    server.respondNext({ status: 503 }, { status: 503 });
    const failures: string[] = [];
    dispatcher = new Dispatcher({
      queue: makeQueue(),
      webhooks: [httpPlugin(server.url, { onFailure: (_w, event) => void failures.push(event.event_id) })],
    });
    for (const event of events(12)) await dispatcher.dispatch(event);
    await dispatcher.flush();
    server.respondNext({ status: 429, headers: { 'retry-after': '0.3' } });
    await dispatcher.dispatch(events(13)[12]!);
    await dispatcher.flush();

    const stats = dispatcher.monitor.getWebhookStats('sink');
    expect(stats).toMatchObject({ successCount: 12, failedCount: 1, retriedCount: 3, totalSent: 16 });
    expect(stats.deferredCount).toBeGreaterThan(0);
    const delivered = server.requests.filter((r) => r.status === 200).map((r) => r.json().event_id);
    expect(delivered.sort()).toEqual(
      events(13)
        .map((e) => e.event_id)
        .filter((id) => id !== 'evt_05'),
    );
    const limited = server.requests.findIndex((r) => r.status === 429);
    expect(
      server.requests[limited + 1]!.receivedAt - server.requests[limited]!.receivedAt,
    ).toBeGreaterThanOrEqual(280);
    expect(failures).toEqual(['evt_05']);
    const letters = await dispatcher.deadLetters.list();
    expect(letters.map((l) => [l.id, l.attempts, l.error.status])).toEqual([['evt_05:sink', 1, 400]]);
    expect(letters[0]!.error.message).toMatch(/^\[sink\] HTTP 400/);

    // Replay once the endpoint accepts it.
    server.setHandler(() => ({ status: 200 }));
    expect(await dispatcher.deadLetters.replay('evt_05:sink')).toBe(true);
    await dispatcher.flush();
    expect(dispatcher.monitor.getWebhookStats('sink')).toMatchObject({ successCount: 13, pendingCount: 0 });
    expect(await dispatcher.deadLetters.list()).toEqual([]);
  });
});

describe('the dispatcher on SqliteQueue across a restart', () => {
  it('delivers what a previous process left, with the same event ids', async () => {
    const path = tempDb();
    server = await createFakeServer(() => ({ status: 200 }));
    // A process that stored events and stopped while its endpoint was down: every event failed once.
    const down = new Dispatcher({
      queue: new SqliteQueue({ path }),
      webhooks: [
        httpPlugin('http://127.0.0.1:9', {
          concurrency: 5,
          circuitBreaker: false,
          retryPolicy: { initialDelaySeconds: 0.05, maxRetries: 100 },
        }),
      ],
    });
    for (const event of events(5)) await down.dispatch(event);
    while (down.monitor.getWebhookStats('sink').totalSent < 5) await new Promise((r) => setTimeout(r, 5));
    // It stops; the 200 ms let the file record every attempt that had failed by then (an attempt
    // still in flight when it stops is given up, and runs again as the same attempt).
    await down.close({ drainMs: 200 });

    dispatcher = new Dispatcher({ queue: new SqliteQueue({ path }), webhooks: [httpPlugin(server.url)] });
    await dispatcher.flush();
    const ids = server.requests.map((r) => r.headers['webhook-id']);
    expect(ids.sort()).toEqual(events(5).map((e) => e.event_id));
    // The failed attempts were recorded in the file: each delivery here was a retry.
    expect(dispatcher.monitor.getWebhookStats('sink')).toMatchObject({ successCount: 5, retriedCount: 5 });
    expect(await dispatcher.deadLetters.list()).toEqual([]);
  });
});
