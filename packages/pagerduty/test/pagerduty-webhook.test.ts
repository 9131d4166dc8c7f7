import { inspect } from 'node:util';
import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  isWebhookConfigError,
  isWebhookDeliveryError,
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
import { type PagerDutyEventBody, PagerDutyWebhook, type PagerDutyWebhookOptions } from '../src/index.js';
import { eventsApi, eventsApiFailures, ROUTING_KEY } from './fake-pagerduty.js';

describeWebhookContract('pagerduty', async () => {
  const server = await createFakeServer(eventsApi);
  return {
    ...fakeServerHarness(server, eventsApiFailures),
    secrets: [ROUTING_KEY],
    // The summary: what the incident is titled.
    mark: (defaults: PagerDutyEventBody, text: string): PagerDutyEventBody =>
      defaults.payload ? { ...defaults, payload: { ...defaults.payload, summary: text } } : defaults,
    create: ({ endpoint, ...options }) =>
      new PagerDutyWebhook({ ...options, routingKey: ROUTING_KEY, baseUrl: endpoint ?? server.url }),
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
  // The fake listens on 127.0.0.1 over http: a private target, allowed on purpose.
  const make = (options: Partial<PagerDutyWebhookOptions> = {}) =>
    new PagerDutyWebhook({
      routingKey: ROUTING_KEY,
      baseUrl: server.url,
      retryPolicy: FAST,
      allowPrivateNetwork: true,
      ...options,
    });

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
    expect(server.requests.map((r) => r.json().payload.summary)).toEqual(['Alert: checkout down']);
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

  it('resolve() and acknowledge() are jobs: in order after the trigger, past the filter, counted', async () => {
    const pagerduty = make({ filter: (event) => event.severity === 'high' });
    const dispatcher = new Dispatcher({ webhooks: [pagerduty] });
    const raised = createEvent('alert', { message: 'checkout down' }, { userId: 'ops', severity: 'high' });
    const key = pagerduty.dedupKeyFor(raised);
    await dispatcher.dispatch(raised);
    const acknowledged = await pagerduty.acknowledge(key, { userId: 'sre_on_call' });
    const resolved = await pagerduty.resolve(key);
    await dispatcher.flush();
    expect(server.requests.map((r) => r.json())).toEqual([
      expect.objectContaining({ event_action: 'trigger', dedup_key: key }),
      { routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: key },
      { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: key },
    ]);
    expect(acknowledged).toMatchObject({
      event_type: 'alert',
      user_id: 'sre_on_call',
      data: { dedup_key: key },
    });
    expect(resolved).toMatchObject({ user_id: 'pagerduty', data: { dedup_key: key, resolved: true } });
    expect(dispatcher.monitor.getWebhookStats('pagerduty')).toMatchObject({
      successCount: 3,
      pendingCount: 0,
    });
    await dispatcher.close();
  });

  it('retries a resolve PagerDuty could not take, and dead-letters one it refused, with onFailure', async () => {
    const failed: string[] = [];
    const pagerduty = make({ onFailure: (_webhook, event) => void failed.push(event.event_id) });
    const dispatcher = new Dispatcher({ webhooks: [pagerduty] });
    server.respondNext(eventsApiFailures.server_error);
    await pagerduty.resolve('empathy:alert:abc');
    await dispatcher.flush();
    expect(server.requests.map((r) => r.status)).toEqual([500, 202]);
    server.respondNext(eventsApiFailures.client_error);
    const refused = await pagerduty.resolve('empathy:alert:def');
    await dispatcher.flush();
    expect(dispatcher.monitor.getWebhookStats('pagerduty')).toMatchObject({
      successCount: 1,
      failedCount: 1,
      retriedCount: 1,
    });
    const [letter] = await dispatcher.deadLetters.list();
    expect(letter!.event.event_id).toBe(refused.event_id);
    expect(letter!.error.message).toMatch(
      /^\[pagerduty\] HTTP 400 from http:\/\/127\.0\.0\.1:\d+ \(invalid_event\): Event object is invalid; /,
    );
    expect(failed).toEqual([refused.event_id]);
    expect(JSON.stringify(letter)).not.toContain(ROUTING_KEY);
    await dispatcher.close();
  });

  it('resolve() waits for the rate limit like any delivery', async () => {
    const pagerduty = make({ rateLimit: { maxRequestsPerMinute: 1 } });
    const dispatcher = new Dispatcher({ webhooks: [pagerduty] });
    await pagerduty.resolve('first');
    await pagerduty.resolve('second');
    await server.waitForRequests(1);
    await expect.poll(() => dispatcher.monitor.getWebhookStats('pagerduty').deferredCount).toBeGreaterThan(0);
    expect(server.requests).toHaveLength(1);
    expect(dispatcher.monitor.getWebhookStats('pagerduty').pendingCount).toBe(1);
    await dispatcher.close({ drainMs: 0 });
  });

  it('resolve() refuses a bad key, or a webhook registered nowhere, before queueing anything', async () => {
    const loose = make();
    const unregistered = await rejection(loose.resolve('empathy:alert:abc'));
    expect(isWebhookConfigError(unregistered)).toBe(true);
    expect(unregistered.message).toMatch(/^\[pagerduty\] this webhook is not registered/);
    const dispatcher = new Dispatcher({ webhooks: [loose] });
    for (const key of ['', ' ', 'k'.repeat(256)]) {
      expect(isWebhookConfigError(await rejection(loose.acknowledge(key)))).toBe(true);
    }
    await dispatcher.flush();
    expect(server.requests).toHaveLength(0);
    await dispatcher.close();
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
    expect(limited.message).toMatch(
      /^\[pagerduty\] HTTP 429 from http:\/\/127\.0\.0\.1:\d+ \(throttle_event\): Requests for this service are arriving too quickly\. Please retry later\. \(retry after 1s\)$/,
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

  it('prints only the origin: target, util.inspect and errors hold no routing key', async () => {
    const pagerduty = make();
    expect(pagerduty.target).toBe(server.url);
    expect(
      `${inspect(pagerduty, { depth: 12, showHidden: true })} ${JSON.stringify(pagerduty)}`,
    ).not.toContain(ROUTING_KEY);
    server.respondNext({
      status: 400,
      body: { status: 'invalid event', errors: [`bad key ${ROUTING_KEY}`] },
    });
    const error = await rejection(pagerduty.deliver(sampleEvent('alert'), ctx()));
    expect(isWebhookDeliveryError(error)).toBe(true);
    expect(error.message).toMatch(/\(invalid_event\): bad key \*\*\*$/);
    expect(inspect(error, { depth: 12 })).not.toContain(ROUTING_KEY);
  });

  it('uses the EU endpoint for region "eu"', async () => {
    const pagerduty = new PagerDutyWebhook({ routingKey: ROUTING_KEY, region: 'eu' });
    expect(pagerduty.target).toBe('https://events.eu.pagerduty.com');
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
