import { inspect } from 'node:util';
import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  isWebhookConfigError,
  isWebhookDeliveryError,
  type WebhookDeliveryError,
} from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, sampleEvent } from '@empathy/webhooks-core/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DatadogWebhook, type DatadogWebhookOptions, METRICS_EVENT_TYPE } from '../src/index.js';
import { API_KEY, APP_KEY, datadogApi, datadogFailures, rateLimited } from './fake-datadog.js';

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

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('DatadogWebhook events against a fake Datadog API', () => {
  let server: FakeServer;
  const made: DatadogWebhook[] = [];
  const make = (options: Partial<DatadogWebhookOptions> = {}) => {
    const webhook = new DatadogWebhook({
      apiKey: API_KEY,
      appKey: APP_KEY,
      site: server.url,
      // The fake listens on 127.0.0.1 over plain http.
      allowPrivateNetwork: true,
      retryPolicy: FAST,
      ...options,
    });
    made.push(webhook);
    return webhook;
  };

  beforeEach(async () => {
    server = await createFakeServer(datadogApi);
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((w) => w.close()));
    await server.close();
  });

  it('creates the seed’s performance event through the dispatcher', async () => {
    const datadog = make({ events: ['performance_issue', 'prediction', 'error'] });
    const dispatcher = new Dispatcher({ webhooks: [datadog] });
    await dispatcher.dispatch(
      createEvent(
        'performance_issue',
        {
          title: 'response time degraded',
          service: 'api',
          endpoint: '/api/users',
          metrics: { avg_response_time: 612, p95_response_time: 1840, error_rate: 0.012 },
        },
        { severity: 'warning', userId: 'developer_123' },
      ),
    );
    await dispatcher.flush();
    await dispatcher.close();
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/api/v1/events', status: 202 });
    expect(request!.headers['dd-api-key']).toBe(API_KEY);
    expect(request!.headers['content-type']).toBe('application/json');
    const body = request!.json();
    expect(body.title).toBe('Performance: /api/users response time degraded');
    expect(body.alert_type).toBe('warning');
    expect(body.tags).toEqual([
      'service:api',
      'endpoint:/api/users',
      'severity:warning',
      'event_type:performance_issue',
      'user:developer_123',
    ]);
    expect(body.aggregation_key).toMatch(/^empathy:performance_issue:[0-9a-f]{32}$/);
    expect(body.text.startsWith('%%% \n')).toBe(true);
    expect(body.text.endsWith('\n %%%')).toBe(true);
    // The shared reading's facts: one bold-labelled line each.
    for (const metric of [
      '**avg\\_response\\_time:** 612',
      '**p95\\_response\\_time:** 1840',
      '**error\\_rate:** 0.012',
    ]) {
      expect(body.text).toContain(metric);
    }
    expect(dispatcher.monitor.getWebhookStats('datadog')).toMatchObject({ successCount: 1, failedCount: 0 });
  });

  it('returns Datadog’s event id and url; option tags come first', async () => {
    const receipt = await make({ tags: ['env:prod', 'team:platform'] }).deliver(sampleEvent('error'), ctx());
    const event = server.requests[0]!.json();
    expect(event.tags.slice(0, 2)).toEqual(['env:prod', 'team:platform']);
    expect(receipt.status).toBe(202);
    expect(receipt.id).toMatch(/^\d{19}$/);
    expect(receipt.detail).toEqual({
      aggregationKey: event.aggregation_key,
      url: `https://app.datadoghq.com/event/event?id=${receipt.id}`,
    });
  });

  it('repeats of one condition share an aggregation key; another condition gets another', async () => {
    const datadog = make();
    const first = sampleEvent('performance_issue', { value: 1840 }, { eventId: 'evt_1' });
    const repeat = sampleEvent('performance_issue', { value: 2310 }, { eventId: 'evt_2' });
    const other = sampleEvent('performance_issue', { endpoint: '/api/orders' }, { eventId: 'evt_3' });
    for (const event of [first, repeat, other]) await datadog.deliver(event, ctx());
    const keys = server.requests.map((r) => r.json().aggregation_key);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    await make({ aggregationKey: (e) => `mine-${e.event_type}` }).deliver(first, ctx());
    expect(server.requests[3]!.json().aggregation_key).toBe('mine-performance_issue');
  });

  it('maps a 429 to status and retryAfterMs from X-RateLimit-Reset, in one request', async () => {
    server.respondNext(rateLimited(7));
    const error = await rejection(make().deliver(sampleEvent('prediction'), ctx()));
    expect(isWebhookDeliveryError(error)).toBe(true);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 7000, retryable: true });
    expect(error.message).toBe(
      `[datadog] HTTP 429 from POST ${server.url}/api/v1/events: Rate limit exceeded (retry after 7s)`,
    );
    expect(server.requests).toHaveLength(1);
  });

  it('makes exactly one request per attempt: the SDK never retries a 5xx', async () => {
    server.respondNext(datadogFailures.server_error);
    const error = await rejection(make().deliver(sampleEvent('prediction'), ctx()));
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(error.message).toBe(
      `[datadog] HTTP 503 from POST ${server.url}/api/v1/events: 503 Service Unavailable No server is available to handle this request.`,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests).toHaveLength(1);
  });

  it('a wrong API key is a permanent 403 that names no key', async () => {
    const error = await rejection(
      make({ apiKey: 'wrong-key-0123456789' }).deliver(sampleEvent('error'), ctx()),
    );
    expect(error).toMatchObject({ status: 403, retryable: false });
    expect(error.message).toBe(`[datadog] HTTP 403 from POST ${server.url}/api/v1/events: Forbidden`);
    expect(inspect(error, { depth: 12 })).not.toContain('wrong-key-0123456789');
  });

  it('does not follow redirects (they would carry the API key elsewhere)', async () => {
    server.respondNext({ status: 307, headers: { location: 'http://127.0.0.1:9/steal' } });
    const error = await rejection(make().deliver(sampleEvent('error'), ctx()));
    expect(error).toMatchObject({ status: 307, retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it('a refused connection is retryable and shows the origin only', async () => {
    const closed = await createFakeServer();
    const url = `${closed.url}/proxy/datadog`;
    await closed.close();
    const error = await rejection(make({ site: url }).deliver(sampleEvent('error'), ctx()));
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(error.message).toMatch(
      /^\[datadog\] request to POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/events failed: .*\(ECONNREFUSED\)$/,
    );
    expect(error.message).not.toContain('/proxy/datadog');
    expect(inspect(error, { depth: 12 })).not.toContain(API_KEY);
  });

  it('reads an answer only up to its bound: past it the attempt is retried, not misread', async () => {
    server.respondNext({
      status: 202,
      body: { status: 'ok', event: { id: 1 }, padding: 'x'.repeat(100_000) },
    });
    const error = await rejection(make().deliver(sampleEvent('error'), ctx()));
    expect(error).toMatchObject({ retryable: true, status: undefined, code: 'ERESPONSETOOLARGE' });
  });

  it('format changes the event; Datadog limits are applied to what it returns', async () => {
    const datadog = make({
      format: (event, defaults) => ({
        ...defaults,
        title: `[${event.severity}] ${'long '.repeat(40)}`,
        tags: [...defaults.tags, 'team:sre'],
      }),
    });
    await datadog.deliver(sampleEvent('error'), ctx());
    const body = server.requests[0]!.json();
    expect(body.title).toHaveLength(100);
    expect(body.title.startsWith('[high] long long')).toBe(true);
    expect(body.tags).toContain('team:sre');
  });

  it('format returning what Datadog cannot take fails that event only, without a request', async () => {
    const datadog = make({ format: (_event, defaults) => ({ ...defaults, alertType: 'panic' as never }) });
    const error = await rejection(datadog.deliver(sampleEvent('error'), ctx()));
    expect(error).toMatchObject({ retryable: false, code: 'EFORMAT' });
    expect(error.message).toMatch(/'alertType' must be one of error, warning, info, success/);
    expect(server.requests).toHaveLength(0);
  });

  it('ignores DD_API_KEY, DD_APP_KEY and DD_SITE in the environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      DD_API_KEY: 'env-key-xxxx',
      DD_APP_KEY: 'env-app-xxxx',
      DD_SITE: 'datadoghq.eu',
    });
    try {
      await make().deliver(sampleEvent('error'), ctx());
    } finally {
      for (const key of ['DD_API_KEY', 'DD_APP_KEY', 'DD_SITE']) if (!(key in saved)) delete process.env[key];
    }
    expect(server.requests[0]!.headers['dd-api-key']).toBe(API_KEY);
    expect(server.requests[0]!.headers['dd-application-key']).toBeUndefined();
  });
});

describe('DatadogWebhook options', () => {
  it('resolves sites to their API hosts', () => {
    const base = (site?: string) =>
      new DatadogWebhook({ apiKey: API_KEY, site, allowPrivateNetwork: true }).baseUrl;
    expect(base()).toBe('https://api.datadoghq.com');
    expect(base('datadoghq.eu')).toBe('https://api.datadoghq.eu');
    expect(base('us3.datadoghq.com')).toBe('https://api.us3.datadoghq.com');
    expect(base('us5')).toBe('https://api.us5.datadoghq.com');
    expect(base('AP1')).toBe('https://api.ap1.datadoghq.com');
    expect(base('app.datadoghq.eu')).toBe('https://api.datadoghq.eu');
    expect(base('ddog-gov.com')).toBe('https://api.ddog-gov.com');
    expect(base('http://127.0.0.1:8126/dd/')).toBe('http://127.0.0.1:8126/dd');
    expect(new DatadogWebhook({ apiKey: API_KEY, baseUrl: 'https://dd-proxy.internal' }).baseUrl).toBe(
      'https://dd-proxy.internal',
    );
  });

  it('refuses invalid options at construction, naming the option and never the key', () => {
    const cases: [Partial<DatadogWebhookOptions>, RegExp][] = [
      [{ apiKey: '' }, /^\[datadog\] option 'apiKey' must be a Datadog API key/],
      [{ appKey: '' }, /option 'appKey'/],
      [{ site: 'datadoghq.de' }, /option 'site' must be a Datadog site .*did you mean 'datadoghq.com'/],
      [{ site: 'datadoghq.eu', baseUrl: 'https://x.example' }, /set either 'site' or 'baseUrl'/],
      [{ baseUrl: 'dd-proxy.internal' }, /option 'baseUrl' is not a valid URL/],
      [
        { site: 'https://169.254.169.254' },
        /points at a link-local \/ cloud metadata address.*allowPrivateNetwork: true/,
      ],
      [{ baseUrl: 'http://dd-proxy.example' }, /plain http is allowed only with allowPrivateNetwork: true/],
      [{ metrics: { onError: () => {} } as never }, /option 'metrics.onError' is gone/],
      [{ site: `https://user:${API_KEY}@dd.example` }, /must not carry credentials/],
      [{ tags: ['env:prod', ''] }, /option 'tags'/],
      [{ tags: 'env:prod' as never }, /option 'tags'/],
      [{ metrics: { batchSize: 0 } }, /option 'metrics.batchSize'/],
      [{ metrics: { flushIntervalSeconds: -1 } }, /option 'metrics.flushIntervalSeconds'/],
      [{ metrics: { eventMetrics: 'yes' as never } }, /option 'metrics.eventMetrics'/],
      [{ events: ['performance_isue' as never] }, /did you mean 'performance_issue'/],
      [{ aggregationKey: 'fixed' as never }, /option 'aggregationKey'/],
    ];
    for (const [options, message] of cases) {
      const error = thrown(() => new DatadogWebhook({ apiKey: API_KEY, ...options }));
      expect(isWebhookConfigError(error), String(message)).toBe(true);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(API_KEY);
    }
  });

  it('defaults: every event type, concurrency 8, no client-side rate limit', () => {
    const datadog = new DatadogWebhook({ apiKey: API_KEY });
    expect(datadog).toMatchObject({ name: 'datadog', events: ['*'], concurrency: 8, rateLimit: undefined });
    expect(datadog.target).toBe('https://api.datadoghq.com');
  });

  it('holds no key in anything printing the webhook shows', () => {
    const datadog = new DatadogWebhook({ apiKey: API_KEY, appKey: APP_KEY });
    for (const text of [inspect(datadog, { depth: 12, showHidden: true }), JSON.stringify(datadog)]) {
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain(APP_KEY);
    }
  });
});

describe('DatadogWebhook metrics: batches are jobs of the webhook', () => {
  // The webhook loads the SDK's v2 metrics client when it is registered; cold, that import takes
  // seconds (over 20 on a loaded 2-core CI machine). Warm it once here so each test's time is
  // the delivery it asserts, not the module load.
  beforeAll(async () => {
    await import('@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/MetricsApi.js');
  }, 120_000);
  let server: FakeServer;
  let failures: { event: EmpathyEvent; error: Error }[];
  let dispatcher: Dispatcher | undefined;
  const start = (
    options: Partial<DatadogWebhookOptions> = {},
    metrics: DatadogWebhookOptions['metrics'] = {},
  ) => {
    const datadog = new DatadogWebhook({
      apiKey: API_KEY,
      appKey: APP_KEY,
      site: server.url,
      allowPrivateNetwork: true,
      retryPolicy: FAST,
      circuitBreaker: false,
      onFailure: (_webhook, event, error) => void failures.push({ event, error }),
      ...options,
      metrics,
    });
    dispatcher = new Dispatcher({ webhooks: [datadog] });
    return { datadog, dispatcher };
  };
  const series = () => server.requests.filter((r) => r.path === '/api/v2/series');
  const points = () =>
    series()
      .filter((r) => r.status === 202)
      .flatMap((r) =>
        r.json().series.flatMap((s: any) => s.points.map((p: any) => ({ ...s, points: undefined, ...p }))),
      );
  const stats = () => dispatcher!.monitor.getWebhookStats('datadog');

  beforeEach(async () => {
    server = await createFakeServer(datadogApi);
    failures = [];
  });
  afterEach(async () => {
    await dispatcher?.close({ drainMs: 0 });
    dispatcher = undefined;
    await server.close();
  });

  it('sends the seed’s metrics as one job: gauges by default, tags as given, counted by the monitor', async () => {
    const { datadog, dispatcher } = start({ tags: ['env:prod'] });
    datadog.sendMetric('empathy.prediction.confidence', 0.87, ['user:developer_123', 'level:4']);
    datadog.sendMetric('empathy.interactions.duration_ms', 1234, ['user:developer_123'], {
      unit: 'millisecond',
    });
    datadog.sendMetric('empathy.interactions.duration_ms', 987, ['user:developer_123'], {
      unit: 'millisecond',
    });
    expect(datadog.pendingMetrics).toBe(3);
    expect(server.requests).toHaveLength(0);
    await datadog.flushMetrics();
    expect(datadog.pendingMetrics).toBe(0);
    await dispatcher.flush();
    expect(series()).toHaveLength(1);
    const [request] = series();
    expect(request!.headers['dd-api-key']).toBe(API_KEY);
    const body = request!.json();
    expect(body.series).toHaveLength(2);
    expect(body.series[0]).toMatchObject({
      metric: 'empathy.prediction.confidence',
      type: 3,
      tags: ['env:prod', 'user:developer_123', 'level:4'],
      points: [{ value: 0.87 }],
    });
    expect(body.series[1]).toMatchObject({
      metric: 'empathy.interactions.duration_ms',
      type: 3,
      unit: 'millisecond',
      points: [{ value: 1234 }, { value: 987 }],
    });
    const now = Date.now() / 1000;
    for (const p of points()) expect(Math.abs(p.timestamp - now)).toBeLessThan(60);
    expect(stats()).toMatchObject({ totalSent: 1, successCount: 1, failedCount: 0, pendingCount: 0 });
  });

  it('count and rate carry their type and interval', async () => {
    const { datadog, dispatcher } = start({}, { flushIntervalSeconds: 15 });
    datadog.sendMetric('empathy.deploys', 1, ['service:auth'], { type: 'count' });
    datadog.sendMetric('empathy.requests', 4.5, [], { type: 'rate', interval: 60 });
    await datadog.flushMetrics();
    await dispatcher.flush();
    expect(series()[0]!.json().series).toEqual([
      {
        metric: 'empathy.deploys',
        type: 1,
        interval: 15,
        tags: ['service:auth'],
        points: [expect.any(Object)],
      },
      { metric: 'empathy.requests', type: 2, interval: 60, tags: [], points: [expect.any(Object)] },
    ]);
  });

  it('queues full batches at once, never one job per value, and the rest on close', async () => {
    const { datadog, dispatcher } = start({}, { batchSize: 100, flushIntervalSeconds: 60 });
    for (let i = 0; i < 250; i++) datadog.sendMetric('empathy.test.value', i, [`shard:${i % 5}`]);
    await vi.waitFor(() => expect(datadog.pendingMetrics).toBe(50), { timeout: 15_000 });
    await dispatcher.flush();
    expect(series()).toHaveLength(2);
    await dispatcher.close({ drainMs: 10_000 });
    expect(series()).toHaveLength(3);
    const values = points().map((p) => p.value as number);
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(stats()).toMatchObject({ successCount: 3, failedCount: 0 });
  });

  it('queues on the interval without a flush', async () => {
    const { datadog } = start({}, { flushIntervalSeconds: 0.1 });
    datadog.sendMetric('empathy.tick', 1);
    datadog.sendMetric('empathy.tick', 2);
    await vi.waitFor(() => expect(series().filter((r) => r.status === 202)).toHaveLength(1), {
      timeout: 15_000,
      interval: 10,
    });
    expect(points().map((p) => p.value)).toEqual([1, 2]);
    expect(datadog.pendingMetrics).toBe(0);
  });

  it('keeps every request under 512,000 bytes', async () => {
    const { datadog, dispatcher } = start({}, { batchSize: 10_000, flushIntervalSeconds: 60 });
    const longTag = `build:${'x'.repeat(190)}`;
    for (let i = 0; i < 3000; i++)
      datadog.sendMetric(`empathy.big.metric_${i % 1000}`, i, [longTag, `n:${i}`]);
    await datadog.flushMetrics();
    await dispatcher.flush();
    expect(series().length).toBeGreaterThan(1);
    for (const r of series()) {
      expect(r.status).toBe(202);
      expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(512_000);
    }
    expect(points()).toHaveLength(3000);
  });

  it('a 429 is the dispatcher’s: the job is retried once X-RateLimit-Reset has passed', async () => {
    const { datadog, dispatcher } = start();
    server.respondNext(rateLimited(1));
    datadog.sendMetric('empathy.tick', 1);
    await datadog.flushMetrics();
    await dispatcher.flush();
    const [limited, retried] = series();
    expect(limited!.status).toBe(429);
    expect(retried!.status).toBe(202);
    expect(retried!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(points().map((p) => p.value)).toEqual([1]);
    expect(stats()).toMatchObject({ successCount: 1, retriedCount: 1, failedCount: 0 });
    expect(stats().lastError).toMatch(
      /^\[datadog\] HTTP 429 from POST http:\/\/127\.0\.0\.1:\d+\/api\/v2\/series: Rate limit exceeded \(retry after 1s\)$/,
    );
  });

  it('a refused batch is dead-lettered and reported through onFailure, leaking no key; it can be replayed', async () => {
    const { datadog, dispatcher } = start({ apiKey: 'not-the-right-key-123' });
    datadog.sendMetric('empathy.tick', 1);
    await datadog.flushMetrics();
    await dispatcher.flush();
    expect(series()[0]!.status).toBe(403);
    expect(stats()).toMatchObject({ failedCount: 1, retriedCount: 0, totalSent: 1 });
    expect(failures).toHaveLength(1);
    expect(failures[0]!.event.event_type).toBe(METRICS_EVENT_TYPE);
    expect(failures[0]!.error.message).toBe(
      `[datadog] HTTP 403 from POST ${server.url}/api/v2/series: Forbidden`,
    );
    const [letter] = await dispatcher.deadLetters.list();
    expect(letter).toMatchObject({ webhook: 'datadog', event: { event_type: METRICS_EVENT_TYPE } });
    expect(letter!.event.data).toMatchObject({ points: 1, series: [{ metric: 'empathy.tick' }] });
    expect(inspect([failures, letter], { depth: 12 })).not.toContain('not-the-right-key-123');
    // Replayed (the key fixed in another process, say): this one is refused again, as a job.
    expect(await dispatcher.deadLetters.replay(letter!.id)).toBe(true);
    await dispatcher.flush();
    expect(series()).toHaveLength(2);
  });

  it('close() queues what is left before the queue closes, and delivers it', async () => {
    const { datadog, dispatcher } = start({}, { flushIntervalSeconds: 3600 });
    server.respondNext(datadogFailures.server_error);
    datadog.sendMetric('empathy.tick', 1);
    await dispatcher.close({ drainMs: 10_000 });
    expect(series().map((r) => r.status)).toEqual([503, 202]);
    expect(points().map((p) => p.value)).toEqual([1]);
    expect(() => datadog.sendMetric('late.metric', 1)).toThrow(
      /\[datadog\] sendMetric\(\): the webhook is closed/,
    );
  });

  it('needs a host: a webhook no host runs cannot take metrics', () => {
    const datadog = new DatadogWebhook({ apiKey: API_KEY, site: server.url, allowPrivateNetwork: true });
    expect(() => datadog.sendMetric('empathy.tick', 1)).toThrow(
      '[datadog] sendMetric(): the webhook is not registered with a host (EmpathyOS, a Dispatcher or startWorker): metric batches are delivered as its jobs',
    );
  });

  it('reports through onFailure the points a host refused to the end', async () => {
    const datadog = new DatadogWebhook({
      apiKey: API_KEY,
      site: server.url,
      allowPrivateNetwork: true,
      onFailure: (_webhook, event, error) => void failures.push({ event, error }),
    });
    const detach = datadog.attach({ enqueue: () => Promise.reject(new Error('the queue is down')) });
    datadog.sendMetric('empathy.tick', 1);
    datadog.sendMetric('empathy.tick', 2);
    await expect(datadog.flushMetrics()).rejects.toThrow('the queue is down');
    expect(datadog.pendingMetrics).toBe(2);
    await detach();
    expect(datadog.pendingMetrics).toBe(0);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.event).toMatchObject({ event_type: METRICS_EVENT_TYPE, data: { points: 2 } });
    expect(failures[0]!.error).toMatchObject({ code: 'EMETRICSDROPPED', retryable: false });
    expect(failures[0]!.error.message).toBe('[datadog] 2 metric points were not sent: the queue is down');
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a metric job that is not a valid batch (a tampered dead letter), without a request', async () => {
    const { dispatcher } = start();
    const job = {
      ...sampleEvent('error'),
      event_type: METRICS_EVENT_TYPE,
      data: { series: [{ metric: '1bad' }] },
    };
    const datadog = dispatcher.webhooks[0]!;
    const error = await rejection(datadog.deliver(job as unknown as EmpathyEvent, ctx()));
    expect(error).toMatchObject({ retryable: false, code: 'EMETRICS' });
    expect(error.message).toBe(
      `[datadog] a metric job that cannot be sent: the batch has an invalid metric name "1bad"`,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('refuses invalid metrics at the call', () => {
    const { datadog } = start();
    expect(() => datadog.sendMetric('1bad', 1)).toThrow(/metric name must start with a letter/);
    expect(() => datadog.sendMetric('ok.name', Number.NaN)).toThrow(/must be a finite number/);
    expect(() => datadog.sendMetric('ok.name', 1, [''])).toThrow(/tags of 'ok.name'/);
    expect(() => datadog.sendMetric('ok.name', 1, [], { type: 'histogram' as never })).toThrow(
      /type must be/,
    );
    expect(() => datadog.sendMetric('ok.name', 1, [], { interval: 0.5 })).toThrow(/interval/);
    expect(datadog.pendingMetrics).toBe(0);
  });

  it('with eventMetrics, delivered events add counts, confidence and performance metrics', async () => {
    const { dispatcher } = start({ tags: ['env:prod'] }, { eventMetrics: true, flushIntervalSeconds: 60 });
    const user = { userId: 'developer_123' };
    await dispatcher.dispatch(
      createEvent(
        'prediction',
        { prediction: 'Auth deploy may conflict', confidence: 0.87 },
        { ...user, severity: 'warning' },
      ),
    );
    await dispatcher.flush();
    await dispatcher.dispatch(
      createEvent(
        'performance_issue',
        {
          title: 'response time degraded',
          service: 'api',
          endpoint: '/api/users',
          metrics: { avg_response_time: 612, p95_response_time: 1840 },
        },
        user,
      ),
    );
    await dispatcher.flush();
    expect(series()).toHaveLength(0);
    await dispatcher.close({ drainMs: 10_000 });
    expect(series()).toHaveLength(1);
    const sent = series()[0]!
      .json()
      .series.map((s: any) => [s.metric, s.type, s.tags, s.points.map((p: any) => p.value)]);
    expect(sent).toEqual([
      ['empathy.events', 1, ['env:prod', 'event_type:prediction', 'severity:warning'], [1]],
      ['empathy.prediction.confidence', 3, ['env:prod', 'user:developer_123', 'level:4'], [0.87]],
      ['empathy.events', 1, ['env:prod', 'event_type:performance_issue'], [1]],
      ['empathy.performance.avg_response_time', 3, ['env:prod', 'service:api', 'endpoint:/api/users'], [612]],
      [
        'empathy.performance.p95_response_time',
        3,
        ['env:prod', 'service:api', 'endpoint:/api/users'],
        [1840],
      ],
    ]);
  });
});
