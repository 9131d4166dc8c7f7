import { inspect } from 'node:util';
import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  isWebhookConfigError,
  isWebhookDeliveryError,
  isWebhookTimeoutError,
  type WebhookDeliveryError,
} from '@empathy/webhooks-core';
import {
  createFakeServer,
  describeWebhookContract,
  type FakeServer,
  fakeServerHarness,
  sampleEvent,
} from '@empathy/webhooks-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PagerDutyWebhook, type PagerDutyWebhookOptions } from '../src/index.js';
import { eventsApi, eventsApiFailures, ROUTING_KEY } from './fake-events-api.js';

describeWebhookContract('pagerduty', async () => {
  const server = await createFakeServer(eventsApi);
  return {
    ...fakeServerHarness(server, eventsApiFailures),
    secrets: [ROUTING_KEY],
    create: (options) => new PagerDutyWebhook({ ...options, routingKey: ROUTING_KEY, baseUrl: server.url }),
  };
});

const FAST = { maxRetries: 2, initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false };

function ctx(signal: AbortSignal = new AbortController().signal): DeliveryContext {
  return { signal, attempt: 1, idempotencyKey: 'evt_test', timeoutMs: 30_000 };
}

async function rejection(promise: Promise<unknown>): Promise<WebhookDeliveryError> {
  try {
    await promise;
  } catch (error) {
    return error as WebhookDeliveryError;
  }
  throw new Error('expected a rejection');
}

describe('PagerDutyWebhook against a fake Events API', () => {
  let server: FakeServer;
  const make = (options: Partial<PagerDutyWebhookOptions> = {}) =>
    new PagerDutyWebhook({ routingKey: ROUTING_KEY, baseUrl: server.url, retryPolicy: FAST, ...options });

  beforeEach(async () => {
    server = await createFakeServer(eventsApi);
  });
  afterEach(async () => {
    await server.close();
  });

  it('posts a trigger to /v2/enqueue with the routing key, and returns the dedup key', async () => {
    const receipt = await make().deliver(sampleEvent('alert'), ctx());
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v2/enqueue', status: 202 });
    expect(request!.headers['content-type']).toBe('application/json');
    const body = request!.json();
    expect(body).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger' });
    expect(body.payload).toMatchObject({ severity: 'error', source: 'checkout-api', class: 'alert' });
    expect(receipt).toEqual({ status: 202, id: body.dedup_key, detail: { action: 'trigger' } });
  });

  it('pages only for the seed filter: alerts with severity "high"', async () => {
    const pagerduty = make({ filter: (event) => event.severity === 'high' });
    expect(pagerduty.events).toEqual(['alert']);
    const dispatcher = new Dispatcher({ webhooks: [pagerduty] });
    await dispatcher.dispatch(
      createEvent('alert', { message: 'disk 91% full' }, { userId: 'ops', severity: 'warning' }),
    );
    await dispatcher.dispatch(
      createEvent('alert', { message: 'checkout down' }, { userId: 'ops', severity: 'high' }),
    );
    await dispatcher.dispatch(
      createEvent(
        'error',
        { error_type: 'X', message: 'not subscribed' },
        { userId: 'ops', severity: 'high' },
      ),
    );
    await dispatcher.flush();
    await dispatcher.close();
    expect(server.requests.map((r) => r.json().payload.summary)).toEqual(['checkout down']);
  });

  it('repeats of one condition share a dedup_key; another condition gets another', async () => {
    const pagerduty = make();
    const first = sampleEvent('alert', { message: 'error rate is 7.2%' }, { eventId: 'evt_1' });
    const repeat = sampleEvent('alert', { message: 'error rate is 9.8%' }, { eventId: 'evt_2' });
    const other = sampleEvent('alert', { title: 'Queue backlog growing' }, { eventId: 'evt_3' });
    for (const event of [first, repeat, other]) await pagerduty.deliver(event, ctx());
    const keys = server.requests.map((r) => r.json().dedup_key);
    expect(keys[0]).toMatch(/^empathy:alert:[0-9a-f]{32}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(pagerduty.dedupKeyFor(first)).toBe(keys[0]);
  });

  it('honours data.dedup_key and the dedupKey option', async () => {
    await make().deliver(sampleEvent('alert', { dedup_key: 'checkout-5xx' }), ctx());
    await make({ dedupKey: (e) => `mine-${e.event_type}` }).deliver(sampleEvent('alert'), ctx());
    expect(server.requests.map((r) => r.json().dedup_key)).toEqual(['checkout-5xx', 'mine-alert']);
  });

  it('auto-resolves when an alert says the condition has cleared (data.resolved: true)', async () => {
    const dispatcher = new Dispatcher({ webhooks: [make()] });
    const alert = { title: 'Error rate above 5% on checkout', source: 'checkout-api' };
    const raised = createEvent(
      'alert',
      { ...alert, message: 'error rate 7.2%' },
      { userId: 'ops', severity: 'high' },
    );
    const cleared = createEvent(
      'alert',
      { ...alert, message: 'error rate back to 0.4%', resolved: true },
      { userId: 'ops' },
    );
    await dispatcher.dispatch(raised);
    await dispatcher.dispatch(cleared);
    await dispatcher.flush();
    await dispatcher.close();
    const [trigger, resolve] = server.requests.map((r) => r.json());
    expect(trigger.event_action).toBe('trigger');
    expect(resolve).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: trigger.dedup_key,
    });
  });

  it('resolve() and acknowledge() send one request each, straight away', async () => {
    const pagerduty = make();
    const key = pagerduty.dedupKeyFor(sampleEvent('alert'));
    expect(await pagerduty.acknowledge(key)).toEqual({
      status: 202,
      id: key,
      detail: { action: 'acknowledge' },
    });
    expect(await pagerduty.resolve(key)).toEqual({ status: 202, id: key, detail: { action: 'resolve' } });
    expect(server.requests.map((r) => r.json())).toEqual([
      { routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: key },
      { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: key },
    ]);
  });

  it('resolve() reports a refusal with PagerDuty’s message, not retried, without the key', async () => {
    server.respondNext(eventsApiFailures.client_error);
    const error = await rejection(make().resolve('empathy:alert:abc'));
    expect(isWebhookDeliveryError(error)).toBe(true);
    expect(error).toMatchObject({ status: 400, retryable: false, code: 'invalid_event' });
    expect(error.message).toBe(
      "[pagerduty] HTTP 400 from the PagerDuty Events API: Event object is invalid; 'payload.summary' is missing or blank",
    );
    expect(server.requests).toHaveLength(1);
    expect(inspect(error, { depth: 12 })).not.toContain(ROUTING_KEY);
  });

  it('resolve() times out after retryPolicy.timeoutSeconds', async () => {
    server.respondNext({ hang: true });
    const started = Date.now();
    const error = await rejection(make({ retryPolicy: { timeoutSeconds: 0.2 } }).resolve('k'));
    expect(isWebhookTimeoutError(error)).toBe(true);
    expect(error.message).toBe('[pagerduty] attempt timed out after 200 ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('resolve() rejects a missing dedup key before sending anything', async () => {
    const error = await rejection(make().resolve(''));
    expect(isWebhookConfigError(error)).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  it('makes exactly one request per attempt: no hidden retries on 429 or 5xx', async () => {
    const pagerduty = make({ retryPolicy: { ...FAST, maxRetries: 0 } });
    server.respondNext(eventsApiFailures.rate_limited(1), eventsApiFailures.server_error);
    const limited = await rejection(pagerduty.deliver(sampleEvent('alert'), ctx()));
    const failed = await rejection(pagerduty.deliver(sampleEvent('alert'), ctx()));
    expect(server.requests).toHaveLength(2);
    expect(limited).toMatchObject({
      status: 429,
      retryAfterMs: 1000,
      retryable: true,
      code: 'throttle_event',
    });
    expect(limited.message).toBe(
      '[pagerduty] HTTP 429 from the PagerDuty Events API: Requests for this service are arriving too quickly. Please retry later. (retry after 1s)',
    );
    expect(failed).toMatchObject({ status: 500, retryable: true });
  });

  it('reads ratelimit-reset when a 429 has no Retry-After', async () => {
    server.respondNext({
      status: 429,
      headers: { 'ratelimit-reset': '7' },
      body: { status: 'throttle event' },
    });
    const error = await rejection(make().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 429, retryAfterMs: 7000 });
  });

  it('passes the attempt signal to the request (core owns the timeout)', async () => {
    server.respondNext({ hang: true });
    const controller = new AbortController();
    const attempt = make().deliver(sampleEvent('alert'), ctx(controller.signal));
    await server.waitForRequests(1);
    controller.abort(new Error('attempt timed out'));
    const error = await rejection(attempt);
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(error.message).toMatch(/^\[pagerduty\] request to http:\/\/127\.0\.0\.1:\d+ failed: /);
  });

  it('uses the EU endpoint for region "eu"', async () => {
    const pagerduty = new PagerDutyWebhook({ routingKey: ROUTING_KEY, region: 'eu' });
    // An aborted signal stops the request before it leaves: the error shows where it was going.
    const error = await rejection(pagerduty.deliver(sampleEvent('alert'), ctx(AbortSignal.abort())));
    expect(error.message).toMatch(/^\[pagerduty\] request to https:\/\/events\.eu\.pagerduty\.com failed/);
  });
});

describe('PagerDutyWebhook options', () => {
  const configError = (options: unknown): Error => {
    try {
      new PagerDutyWebhook(options as PagerDutyWebhookOptions);
    } catch (error) {
      expect(isWebhookConfigError(error)).toBe(true);
      return error as Error;
    }
    throw new Error('expected a WebhookConfigError');
  };

  it('names the option and never shows the key', () => {
    const short = configError({ routingKey: 'u+shortSECRETkey' });
    expect(short.message).toBe(
      "[pagerduty] option 'routingKey' must be the 32-character integration key of an Events API v2 integration (got a string of 16 characters)",
    );
    expect(short.message).not.toContain('SECRET');
    expect(configError({}).message).toMatch(/option 'routingKey' .*\(got undefined\)/);
    expect(configError({ apiKey: 'x', routingKey: ROUTING_KEY }).message).toMatch(
      /option 'apiKey' is not used/,
    );
    expect(configError({ routingKey: ROUTING_KEY, region: 'asia' }).message).toMatch(
      /option 'region' must be 'us' or 'eu'/,
    );
    expect(configError({ routingKey: ROUTING_KEY, baseUrl: 'ftp://x' }).message).toMatch(/option 'baseUrl'/);
    expect(configError({ routingKey: ROUTING_KEY, source: '' }).message).toMatch(/option 'source'/);
    expect(configError({ routingKey: ROUTING_KEY, dedupKey: 'k' }).message).toMatch(/option 'dedupKey'/);
    expect(configError({ routingKey: ROUTING_KEY, events: ['alrt'] }).message).toMatch(
      /did you mean 'alert'/,
    );
    expect(
      configError({ routingKey: ROUTING_KEY, name: 'pd', retryPolicy: { maxRetries: -1 } }).message,
    ).toMatch(/^\[pd\] option 'retryPolicy.maxRetries'/);
  });

  it('defaults: name, events, PagerDuty’s 120/min rate limit, one delivery in flight', () => {
    const pagerduty = new PagerDutyWebhook({ routingKey: ROUTING_KEY });
    expect(pagerduty).toMatchObject({
      name: 'pagerduty',
      events: ['alert'],
      concurrency: 1,
      rateLimit: { maxRequestsPerMinute: 120 },
    });
  });
});
