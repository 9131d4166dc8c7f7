import { EmpathyOS } from '@empathy/os';
import { type DeliveryTelemetry, verifyWebhookSignature } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer } from '@empathy/webhooks-core/testing';
import { CustomWebhook } from '@empathy/webhooks-http';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { context, createTraceState, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ATTRIBUTES, DEFERRED_EVENT, openTelemetry } from '../src/index.js';
import { otelSdk, parentOf, tempDb, waitFor } from './helpers.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const FAST = { initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false, timeoutSeconds: 5 };

let sdk: ReturnType<typeof otelSdk>;
let receiver: FakeServer;
const hosts: EmpathyOS[] = [];
beforeEach(async () => {
  sdk = otelSdk();
  receiver = await createFakeServer();
});
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.close({ drainMs: 0 });
  await receiver.close();
  await sdk.shutdown();
});

/** A signed CustomWebhook to the loopback receiver; the path holds a "secret" that must never show. */
function hook(name: string, extra: Partial<ConstructorParameters<typeof CustomWebhook>[0]> = {}) {
  return new CustomWebhook({
    name,
    url: `${receiver.url}/${name}/T0KEN-IN-PATH`,
    signingSecret: SECRET,
    allowPrivateNetwork: true,
    retryPolicy: FAST,
    circuitBreaker: false,
    ...extra,
  });
}
function host(
  options: Omit<ConstructorParameters<typeof EmpathyOS>[0], 'userId'> & { telemetry?: DeliveryTelemetry },
) {
  const empathy = new EmpathyOS({ userId: 'developer_123', ...options });
  hosts.push(empathy);
  return empathy;
}
const telemetry = (options: Parameters<typeof openTelemetry>[0] = {}) =>
  openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider, ...options });

describe('spans', () => {
  it('emit (PRODUCER, child of the active span) → deliver (CLIENT, child of emit) on the memory queue', async () => {
    const empathy = host({ webhooks: [hook('feed')], telemetry: telemetry() });
    const tracer = sdk.tracerProvider.getTracer('app');
    const event = await tracer.startActiveSpan('POST /predict', async (request) => {
      const e = await empathy.emit('alert', { message: 'disk full' }, { severity: 'high' });
      request.end();
      return e;
    });
    await empathy.flush();

    const request = sdk.span('POST /predict');
    const emit = sdk.span('emit alert');
    const deliver = sdk.span('deliver feed');
    expect(emit.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(emit)?.spanId).toBe(request.spanContext().spanId);
    expect(emit.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(emit.attributes).toEqual({
      [ATTRIBUTES.eventType]: 'alert',
      [ATTRIBUTES.eventId]: event.event_id,
    });
    expect(deliver.kind).toBe(SpanKind.CLIENT);
    expect(deliver.spanContext().traceId).toBe(emit.spanContext().traceId);
    expect(parentOf(deliver)?.spanId).toBe(emit.spanContext().spanId);
    expect(deliver.attributes).toEqual({
      [ATTRIBUTES.webhookName]: 'feed',
      [ATTRIBUTES.eventType]: 'alert',
      [ATTRIBUTES.eventId]: event.event_id,
      [ATTRIBUTES.deliveryAttempt]: 1,
      [ATTRIBUTES.deliveryOutcome]: 'delivered',
      [ATTRIBUTES.httpStatus]: 200,
    });
    expect(deliver.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('an emit outside any span starts its own trace', async () => {
    const empathy = host({ webhooks: [hook('feed')], telemetry: telemetry() });
    await empathy.emit('prediction', { prediction: 'p', confidence: 0.9 });
    await empathy.flush();
    const emit = sdk.span('emit prediction');
    expect(parentOf(emit)).toBeUndefined();
    expect(parentOf(sdk.span('deliver feed'))?.spanId).toBe(emit.spanContext().spanId);
  });

  it('a retry is two deliver spans: attempt 1 retry (ERROR, redacted), attempt 2 delivered', async () => {
    const empathy = host({ webhooks: [hook('flaky')], telemetry: telemetry() });
    receiver.respondNext({ status: 503, body: 'upstream down' });
    await empathy.emit('alert', { message: 'disk full' });
    await empathy.flush();

    const emit = sdk.span('emit alert');
    const attempts = sdk
      .spans()
      .filter((s) => s.name === 'deliver flaky')
      .sort(
        (a, b) =>
          Number(a.attributes[ATTRIBUTES.deliveryAttempt]) - Number(b.attributes[ATTRIBUTES.deliveryAttempt]),
      );
    expect(attempts).toHaveLength(2);
    const [first, second] = attempts;
    expect(first!.attributes).toMatchObject({
      [ATTRIBUTES.deliveryAttempt]: 1,
      [ATTRIBUTES.deliveryOutcome]: 'retry',
      [ATTRIBUTES.httpStatus]: 503,
      [ATTRIBUTES.errorType]: 'WebhookDeliveryError',
    });
    expect(first!.status.code).toBe(SpanStatusCode.ERROR);
    expect(first!.status.message).toBe(`[flaky] HTTP 503 from ${receiver.url}: upstream down`);
    expect(second!.attributes).toMatchObject({
      [ATTRIBUTES.deliveryAttempt]: 2,
      [ATTRIBUTES.deliveryOutcome]: 'delivered',
      [ATTRIBUTES.httpStatus]: 200,
    });
    expect(second!.status.code).toBe(SpanStatusCode.UNSET);
    for (const span of attempts) {
      expect(span.spanContext().traceId).toBe(emit.spanContext().traceId);
      expect(parentOf(span)?.spanId).toBe(emit.spanContext().spanId);
    }
    // No secret in any span: not the path token, not the signing secret.
    const text = JSON.stringify(sdk.spans().map((s) => [s.name, s.attributes, s.status, s.events]));
    expect(text).not.toMatch(/T0KEN-IN-PATH|whsec_/);
  });

  it('a wait for an open circuit is an event on the next attempt span, not a failed span', async () => {
    const empathy = host({
      webhooks: [
        hook('breaker', {
          circuitBreaker: { failureThreshold: 1, cooldownSeconds: 0.3 },
          retryPolicy: { ...FAST, maxRetries: 3 },
        }),
      ],
      telemetry: telemetry(),
    });
    receiver.respondNext({ status: 503 });
    await empathy.emit('alert', { message: 'disk full' });
    await empathy.flush();
    const second = sdk.span('deliver breaker', (s) => s.attributes[ATTRIBUTES.deliveryAttempt] === 2);
    expect(second.status.code).toBe(SpanStatusCode.UNSET);
    expect(second.attributes[ATTRIBUTES.deliveryOutcome]).toBe('delivered');
    const waits = second.events.filter((e) => e.name === DEFERRED_EVENT);
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]!.attributes).toMatchObject({ [ATTRIBUTES.deferReason]: 'circuit_open' });
    expect(String(waits[0]!.attributes![ATTRIBUTES.deferredUntil])).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  });

  it('a dead delivery ends in an ERROR span with the redacted message', async () => {
    const empathy = host({ webhooks: [hook('crm')], telemetry: telemetry() });
    receiver.respondNext({ status: 422, body: '{"error":"unknown field"}' });
    await empathy.emit('bug_detected', { title: 't', description: 'd' });
    await empathy.flush();
    const span = sdk.span('deliver crm');
    expect(span.attributes).toMatchObject({
      [ATTRIBUTES.deliveryOutcome]: 'dead',
      [ATTRIBUTES.httpStatus]: 422,
    });
    expect(span.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: `[crm] HTTP 422 from ${receiver.url}: {"error":"unknown field"}`,
    });
  });
});

describe('the receiver', () => {
  it("gets a traceparent carrying the emit's trace id and the attempt span's id; signatures still verify", async () => {
    const empathy = host({ webhooks: [hook('feed')], telemetry: telemetry() });
    await empathy.emit('alert', { message: 'disk full' });
    await empathy.flush();
    const [request] = receiver.requests;
    const headers = request!.headers as Record<string, string>;
    const deliver = sdk.span('deliver feed');
    const { traceId, spanId } = deliver.spanContext();
    expect(headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    expect(traceId).toBe(sdk.span('emit alert').spanContext().traceId);
    expect(verifyWebhookSignature(request!.body, headers['x-signature']!, SECRET)).toBe(true);
  });

  it('passes the tracestate along', async () => {
    const empathy = host({ webhooks: [hook('feed')], telemetry: telemetry() });
    const parent = trace.setSpanContext(context.active(), {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
      traceState: createTraceState('rojo=00f067aa0ba902b7'),
    });
    // An incoming request's context, as an HTTP server instrumentation would make it.
    await context.with(parent, () => empathy.emit('alert', { message: 'm' }));
    await empathy.flush();
    const headers = receiver.requests[0]!.headers as Record<string, string>;
    expect(headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(headers.tracestate).toBe('rojo=00f067aa0ba902b7');
  });

  it('gets no trace header with propagateToReceiver: false, or without telemetry', async () => {
    const quiet = host({ webhooks: [hook('a')], telemetry: telemetry({ propagateToReceiver: false }) });
    const off = host({ webhooks: [hook('b')] });
    await quiet.emit('alert', { message: 'm' });
    await off.emit('alert', { message: 'm' });
    await quiet.flush();
    await off.flush();
    expect(receiver.requests).toHaveLength(2);
    for (const r of receiver.requests) expect(r.headers.traceparent).toBeUndefined();
    expect(sdk.spans().filter((s) => s.name === 'deliver a')).toHaveLength(1);
  });
});

describe('durable queue', () => {
  it('continues the trace after a restart: emitted by one EmpathyOS, delivered by a second on the same file', async () => {
    const path = tempDb();
    // The first host may send one request a minute: its second event waits in the file, unsent.
    const limited = () => hook('audit', { rateLimit: { maxRequestsPerMinute: 1 } });
    const first = host({ webhooks: [limited()], queue: new SqliteQueue({ path }), telemetry: telemetry() });
    await first.emit('alert', { message: 'one' });
    const second = await first.emit('alert', { message: 'two' });
    // The first is delivered, the second waits for the window (a minute away) when the host stops.
    await waitFor(() => {
      const stats = first.monitor.getWebhookStats('audit');
      return stats.successCount === 1 && stats.deferredCount >= 1;
    });
    await first.close({ drainMs: 0 });
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).not.toContain(second.event_id);

    // "After the restart": a new host, new limiter, new telemetry instance, same file.
    const restarted = host({
      webhooks: [limited()],
      queue: new SqliteQueue({ path }),
      telemetry: telemetry(),
    });
    await restarted.flush();
    const request = receiver.requests.find((r) => r.headers['webhook-id'] === second.event_id)!;
    expect(request).toBeDefined();

    const emit = sdk.span('emit alert', (s) => s.attributes[ATTRIBUTES.eventId] === second.event_id);
    const deliver = sdk.span('deliver audit', (s) => s.attributes[ATTRIBUTES.eventId] === second.event_id);
    expect(deliver.spanContext().traceId).toBe(emit.spanContext().traceId);
    expect(parentOf(deliver)?.spanId).toBe(emit.spanContext().spanId);
    expect(parentOf(deliver)?.isRemote).toBe(true);
    expect(request.headers.traceparent).toBe(
      `00-${emit.spanContext().traceId}-${deliver.spanContext().spanId}-01`,
    );
  });
});

describe('options', () => {
  it('names the bad option', () => {
    expect(() => openTelemetry({ tracerProvider: {} as never })).toThrow(/option 'tracerProvider'/);
    expect(() => openTelemetry({ meterProvider: 42 as never })).toThrow(/option 'meterProvider'/);
    expect(() => openTelemetry({ propagateToReceiver: 'yes' as never })).toThrow(
      /option 'propagateToReceiver'/,
    );
    expect(() => openTelemetry({ depthTimeoutMs: 0 })).toThrow(/option 'depthTimeoutMs'/);
  });

  it('with no SDK registered (the API alone) it records nothing, sends no header, and delivers', async () => {
    const empathy = host({ webhooks: [hook('feed')], telemetry: openTelemetry() });
    await empathy.emit('alert', { message: 'm' });
    await empathy.flush();
    expect(empathy.monitor.getWebhookStats('feed').successCount).toBe(1);
    expect(receiver.requests[0]!.headers.traceparent).toBeUndefined();
    expect(sdk.spans()).toEqual([]);
  });
});
