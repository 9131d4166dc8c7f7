import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type FakeServer, SAMPLE_DATA } from '@empathy/webhooks-core/testing';
import { CustomWebhook } from '@empathy/webhooks-http';
import { BullMQQueue } from '@empathy/webhooks-queue-bullmq';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { RedisConnection } from 'bullmq';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ATTRIBUTES, openTelemetry } from '../src/index.js';
import type { SentSpan } from './fixtures/bullmq-worker.js';
import { otelSdk, waitFor } from './helpers.js';

const REDIS = process.env.REDIS_URL ? { url: process.env.REDIS_URL } : { host: '127.0.0.1', port: 6379 };
const prefix = `empathy-otel-test:${Math.random().toString(36).slice(2, 12)}`;

let sdk: ReturnType<typeof otelSdk>;
let receiver: FakeServer;
let worker: ChildProcess | undefined;
let producer: EmpathyOS | undefined;
const remoteSpans: SentSpan[] = [];

beforeEach(async () => {
  sdk = otelSdk();
  receiver = await createFakeServer();
});
afterEach(async () => {
  await producer?.close({ drainMs: 0 });
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.send({ stop: true });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (worker.exitCode === null) worker.kill('SIGKILL');
  }
  await receiver.close();
  await sdk.shutdown();
  // Remove this test's keys.
  const connection = new RedisConnection(REDIS, { shared: false, blocking: false });
  const client = await connection.client;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, { MATCH: `${prefix}:*`, COUNT: 1000 });
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
  await connection.close();
});

/** Forks the worker process and resolves once it waits for jobs. */
function startWorkerProcess(): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL('./fixtures/bullmq-worker.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, PREFIX: prefix, RECEIVER_URL: receiver.url },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  worker = child;
  child.on('message', (message) => {
    const spans = (message as { spans?: SentSpan[] }).spans;
    if (spans) remoteSpans.push(...spans);
  });
  return new Promise((resolve, reject) => {
    child.on('message', (message) => (message as { ready?: boolean }).ready && resolve(child));
    child.once('exit', (code) => reject(new Error(`the worker exited early (${code})`)));
  });
}

it('a BullMQ worker in another process continues the trace of the emit; the receiver gets it too', async () => {
  await startWorkerProcess();
  producer = new EmpathyOS({
    userId: 'developer_123',
    // The producer routes to the webhook by name; the worker process delivers it.
    webhooks: [
      new CustomWebhook({ name: 'remote', url: `${receiver.url}/remote`, allowPrivateNetwork: true }),
    ],
    queue: new BullMQQueue({ connection: REDIS, prefix }),
    telemetry: openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }),
  });
  receiver.respondNext({ status: 503 });
  const event = await producer.emit('deployment_risk', SAMPLE_DATA.deployment_risk);
  await producer.flush();
  await waitFor(
    () => remoteSpans.filter((s) => s.name === 'deliver remote').length === 2,
    20_000,
    'two deliver spans',
  );

  const emit = sdk.span('emit deployment_risk');
  expect(emit.kind).toBe(SpanKind.PRODUCER);
  const { traceId, spanId } = emit.spanContext();
  const [first, second] = remoteSpans
    .filter((s) => s.name === 'deliver remote')
    .sort(
      (a, b) =>
        Number(a.attributes[ATTRIBUTES.deliveryAttempt]) - Number(b.attributes[ATTRIBUTES.deliveryAttempt]),
    );
  for (const span of [first!, second!]) {
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.traceId).toBe(traceId);
    expect(span.parentSpanId).toBe(spanId);
    expect(span.attributes[ATTRIBUTES.eventId]).toBe(event.event_id);
  }
  expect(first!.attributes).toMatchObject({
    [ATTRIBUTES.deliveryAttempt]: 1,
    [ATTRIBUTES.deliveryOutcome]: 'retry',
    [ATTRIBUTES.httpStatus]: 503,
  });
  expect(first!.status.code).toBe(SpanStatusCode.ERROR);
  expect(second!.attributes).toMatchObject({
    [ATTRIBUTES.deliveryAttempt]: 2,
    [ATTRIBUTES.deliveryOutcome]: 'delivered',
  });

  // The receiver saw each attempt's span as its parent, in the emit's trace.
  expect(receiver.requests.map((r) => r.headers.traceparent)).toEqual([
    `00-${traceId}-${first!.spanId}-01`,
    `00-${traceId}-${second!.spanId}-01`,
  ]);
});
