import {
  type DeliveryTelemetry,
  Dispatcher,
  isWebhookConfigError,
  type TraceCarrier,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, sampleEvent } from '@empathy/webhooks-core/testing';
import type { Telemetry } from 'bullmq';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BullMQQueue, startWorker } from '../src/index.js';
import { deleteKeys, httpWebhook, REDIS, uniquePrefix, waitFor } from './helpers.js';

const FAST = {
  initialDelaySeconds: 0.05,
  backoffMultiplier: 1,
  jitter: false,
  timeoutSeconds: 2,
  maxRetries: 1,
};
const TRACE: TraceCarrier = {
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'rojo=00f067aa0ba902b7',
};

let prefix: string;
let sink: FakeServer;
const closers: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  prefix = uniquePrefix();
  sink = await createFakeServer();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await sink.close();
  await deleteKeys(prefix);
});

/** A delivery telemetry that stamps every emit with TRACE and records what each attempt carried. */
function tracing() {
  const attempts: { webhook: string; attempt: number; trace: TraceCarrier | undefined; outcome?: string }[] =
    [];
  const telemetry: DeliveryTelemetry = {
    onEmit: () => ({ trace: TRACE, end() {} }),
    onAttemptStart(job, attempt) {
      const record: (typeof attempts)[number] = { webhook: job.webhook, attempt, trace: job.trace };
      attempts.push(record);
      return {
        end(r) {
          record.outcome = r.outcome;
        },
      };
    },
  };
  return { telemetry, attempts };
}

function queue(options: Partial<ConstructorParameters<typeof BullMQQueue>[0]> = {}) {
  const q = new BullMQQueue({ connection: REDIS, prefix, ...options });
  closers.push(() => q.close({ drainMs: 0 }));
  return q;
}

it('the trace context rides in the job data: through a retry, the dead letters and a replay', async () => {
  const hook = (): WebhookPlugin => httpWebhook(sink.url, { name: 'sink', retryPolicy: FAST });
  const producer = tracing();
  const emitter = new Dispatcher({ webhooks: [hook()], queue: queue(), telemetry: producer.telemetry });
  closers.push(() => emitter.close({ drainMs: 0 }));
  const consumer = tracing();
  const w = startWorker({ queue: queue(), webhooks: [hook()], telemetry: consumer.telemetry });
  closers.push(() => w.close({ drainMs: 0 }));

  sink.respondNext({ status: 503 }, { status: 503 });
  await emitter.dispatch(sampleEvent('alert', {}, { eventId: 'evt_t_1' }));
  await emitter.flush();
  expect(consumer.attempts).toEqual([
    { webhook: 'sink', attempt: 1, trace: TRACE, outcome: 'retry' },
    { webhook: 'sink', attempt: 2, trace: TRACE, outcome: 'dead' },
  ]);
  expect(producer.attempts).toEqual([]);

  const admin = queue();
  expect(await admin.deadLetters.get('evt_t_1:sink')).toMatchObject({ trace: TRACE });
  expect(await admin.deadLetters.countByWebhook()).toEqual({ sink: 1 });
  expect(await admin.deadLetters.replay('evt_t_1:sink')).toBe(true);
  await waitFor(() => consumer.attempts.length === 3, 10_000, 'the replayed attempt');
  await emitter.flush();
  expect(consumer.attempts[2]).toEqual({ webhook: 'sink', attempt: 1, trace: TRACE, outcome: 'delivered' });
  expect(await admin.deadLetters.countByWebhook()).toEqual({});
});

it('passes its telemetry option to BullMQ: BullMQ traces adding and processing the jobs', async () => {
  const spans: string[] = [];
  const bullTelemetry: Telemetry = {
    tracer: {
      startSpan: (name) => {
        spans.push(name);
        return {
          setSpanOnContext: (ctx: unknown) => ctx,
          setAttribute() {},
          setAttributes() {},
          addEvent() {},
          recordException() {},
          end() {},
        };
      },
    },
    contextManager: {
      with: (_ctx, fn) => fn(),
      active: () => ({}),
      getMetadata: () => '',
      fromMetadata: (ctx) => ctx,
    },
  };
  const hook = () => httpWebhook(sink.url, { name: 'sink' });
  const emitter = new Dispatcher({ webhooks: [hook()], queue: queue({ telemetry: bullTelemetry }) });
  closers.push(() => emitter.close({ drainMs: 0 }));
  const w = startWorker({ queue: queue({ telemetry: bullTelemetry }), webhooks: [hook()] });
  closers.push(() => w.close({ drainMs: 0 }));
  await emitter.dispatch(sampleEvent('alert', {}, { eventId: 'evt_t_2' }));
  await emitter.flush();
  expect(sink.requests).toHaveLength(1);
  expect(spans).toContain('add webhook.sink.alert');
  expect(spans).toContain('process webhook.sink');
});

it('refuses a telemetry option that is not a BullMQ Telemetry', () => {
  let error: unknown;
  try {
    new BullMQQueue({ connection: REDIS, telemetry: { tracer: {} } as never });
  } catch (e) {
    error = e;
  }
  expect(isWebhookConfigError(error)).toBe(true);
  expect((error as Error).message).toMatch(/option 'telemetry' must be a BullMQ Telemetry/);
});
