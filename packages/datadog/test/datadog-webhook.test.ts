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
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DatadogWebhook, type DatadogWebhookOptions, type MetricsErrorInfo } from '../src/index.js';
import { API_KEY, APP_KEY, datadogApi, datadogFailures, rateLimited } from './fake-datadog.js';

describeWebhookContract('datadog', async () => {
  const server = await createFakeServer(datadogApi);
  return {
    ...fakeServerHarness(server, datadogFailures),
    secrets: [API_KEY, APP_KEY],
    create: (options) =>
      new DatadogWebhook({ ...options, apiKey: API_KEY, appKey: APP_KEY, site: server.url }),
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
    for (const metric of [
      'avg\\_response\\_time | 612',
      'p95\\_response\\_time | 1840',
      'error\\_rate | 0.012',
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
    expect(error).toMatchObject({ status: 429, retryAfterMs: 7000, retryable: true, code: 'rate_limited' });
    expect(error.message).toBe(
      '[datadog] HTTP 429 from the Datadog events API (POST /api/v1/events): Rate limit exceeded (retry after 7s)',
    );
    expect(server.requests).toHaveLength(1);
  });

  it('makes exactly one request per attempt: the SDK never retries a 5xx', async () => {
    server.respondNext(datadogFailures.server_error);
    const error = await rejection(make().deliver(sampleEvent('prediction'), ctx()));
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(error.message).toBe(
      '[datadog] HTTP 503 from the Datadog events API (POST /api/v1/events): 503 Service Unavailable No server is available to handle this request.',
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(server.requests).toHaveLength(1);
  });

  it('a wrong API key is a permanent 403 that names no key', async () => {
    const error = await rejection(
      make({ apiKey: 'wrong-key-0123456789' }).deliver(sampleEvent('error'), ctx()),
    );
    expect(error).toMatchObject({ status: 403, retryable: false });
    expect(error.message).toBe(
      '[datadog] HTTP 403 from the Datadog events API (POST /api/v1/events): Forbidden',
    );
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
    expect(error.message).toMatch(/^\[datadog\] request to http:\/\/127\.0\.0\.1:\d+ failed \(events\): /);
    expect(error.message).not.toContain('/proxy/datadog');
    expect(inspect(error, { depth: 12 })).not.toContain(API_KEY);
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
    const base = (site?: string) => new DatadogWebhook({ apiKey: API_KEY, site }).baseUrl;
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
      [{ baseUrl: 'dd-proxy.internal' }, /option 'baseUrl' must be an http\(s\) URL/],
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
  });
});

describe('DatadogWebhook metrics', () => {
  // The webhook loads the SDK's v2 metrics client on the first flush; cold, that import takes
  // seconds (over 20 on a loaded 2-core CI machine). Warm it once here so each test's time is
  // the delivery it asserts, not the module load.
  beforeAll(async () => {
    await import('@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/MetricsApi.js');
  }, 120_000);
  let server: FakeServer;
  let errors: { error: WebhookDeliveryError; info: MetricsErrorInfo }[];
  const made: DatadogWebhook[] = [];
  const make = (
    options: Partial<DatadogWebhookOptions> = {},
    metrics: DatadogWebhookOptions['metrics'] = {},
  ) => {
    const webhook = new DatadogWebhook({
      apiKey: API_KEY,
      appKey: APP_KEY,
      site: server.url,
      retryPolicy: FAST,
      ...options,
      metrics: { onError: (error, info) => void errors.push({ error, info }), ...metrics },
    });
    made.push(webhook);
    return webhook;
  };
  const series = () => server.requests.filter((r) => r.path === '/api/v2/series');
  const points = () =>
    series()
      .filter((r) => r.status === 202)
      .flatMap((r) =>
        r.json().series.flatMap((s: any) => s.points.map((p: any) => ({ ...s, points: undefined, ...p }))),
      );

  // Resolves once the fake has answered `count` series requests.
  const answered = (count: number) =>
    vi.waitFor(() => expect(series().filter((r) => r.status !== 0).length).toBeGreaterThanOrEqual(count), {
      timeout: 15_000, // generous: CI machines may be loaded; the assertions bound timing from below
      interval: 10,
    });

  beforeEach(async () => {
    server = await createFakeServer(datadogApi);
    errors = [];
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((w) => w.close()));
    await server.close();
  });

  it('sends the seed’s metrics in one request on close(): gauges by default, tags as given', async () => {
    const datadog = make({ tags: ['env:prod'] });
    datadog.sendMetric('empathy.prediction.confidence', 0.87, ['user:developer_123', 'level:4']);
    datadog.sendMetric('empathy.interactions.duration_ms', 1234, ['user:developer_123'], {
      unit: 'millisecond',
    });
    datadog.sendMetric('empathy.interactions.duration_ms', 987, ['user:developer_123'], {
      unit: 'millisecond',
    });
    expect(datadog.pendingMetrics).toBe(3);
    expect(server.requests).toHaveLength(0);
    await datadog.close();
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
    expect(errors).toEqual([]);
    expect(() => datadog.sendMetric('late.metric', 1)).toThrow(
      /\[datadog\] sendMetric\(\): the webhook is closed/,
    );
  });

  it('count and rate carry their type and interval', async () => {
    const datadog = make({}, { flushIntervalSeconds: 15 });
    datadog.sendMetric('empathy.deploys', 1, ['service:auth'], { type: 'count' });
    datadog.sendMetric('empathy.requests', 4.5, [], { type: 'rate', interval: 60 });
    await datadog.flushMetrics();
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

  it('sends full batches at once and never one request per value', async () => {
    const datadog = make({}, { batchSize: 100, flushIntervalSeconds: 60 });
    for (let i = 0; i < 250; i++) datadog.sendMetric('empathy.test.value', i, [`shard:${i % 5}`]);
    await answered(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(series()).toHaveLength(2);
    expect(datadog.pendingMetrics).toBe(50);
    await datadog.close();
    expect(series()).toHaveLength(3);
    // Grouped into one series per shard tag, so compare as a set.
    const values = points().map((p) => p.value as number);
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('flushes on the interval without close()', async () => {
    const datadog = make({}, { flushIntervalSeconds: 0.1 });
    datadog.sendMetric('empathy.tick', 1);
    datadog.sendMetric('empathy.tick', 2);
    await answered(1);
    expect(points().map((p) => p.value)).toEqual([1, 2]);
    expect(datadog.pendingMetrics).toBe(0);
  });

  it('keeps every request under 512,000 bytes', async () => {
    const datadog = make({}, { batchSize: 10_000, flushIntervalSeconds: 60 });
    const longTag = `build:${'x'.repeat(190)}`;
    for (let i = 0; i < 3000; i++)
      datadog.sendMetric(`empathy.big.metric_${i % 1000}`, i, [longTag, `n:${i}`]);
    await datadog.close();
    expect(series().length).toBeGreaterThan(1);
    for (const r of series()) {
      expect(r.status).toBe(202);
      expect(Buffer.byteLength(r.body)).toBeLessThanOrEqual(512_000);
    }
    expect(points()).toHaveLength(3000);
  });

  it('keeps points after a 429 and sends them once X-RateLimit-Reset has passed', async () => {
    const datadog = make({}, { flushIntervalSeconds: 0.05 });
    server.respondNext(rateLimited(1));
    datadog.sendMetric('empathy.tick', 1);
    await answered(2);
    const [limited, retried] = series();
    expect(limited!.status).toBe(429);
    expect(retried!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(points().map((p) => p.value)).toEqual([1]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.info).toEqual({ points: 1, dropped: false });
    expect(errors[0]!.error).toMatchObject({ status: 429, retryAfterMs: 1000 });
    expect(errors[0]!.error.message).toMatch(/metrics API \(POST \/api\/v2\/series\)/);
  });

  it('sends after a 429 even when its timer fires before the wall clock reaches the reset', async () => {
    const datadog = make({}, { flushIntervalSeconds: 0.05 });
    server.respondNext(rateLimited(1));
    datadog.sendMetric('empathy.tick', 1);
    await answered(1);
    // Timers run on a monotonic clock, Date.now() on the wall clock: let the wall clock trail.
    const now = Date.now.bind(Date);
    const lagging = vi.spyOn(Date, 'now').mockImplementation(() => now() - 5);
    try {
      await answered(2);
    } finally {
      lagging.mockRestore();
    }
    expect(points().map((p) => p.value)).toEqual([1]);
  });

  it('waits out a reset longer than a Node timer allows: no TimeoutOverflowWarning, no resend loop', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      const datadog = make({}, { flushIntervalSeconds: 0.05 });
      // 1e10 s: a broken or hostile header. Node clamps such a timer to 1 ms.
      server.respondNext(rateLimited(1e10));
      datadog.sendMetric('empathy.tick', 1);
      await answered(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(warnings).toEqual([]);
      expect(series()).toHaveLength(1);
      expect(datadog.pendingMetrics).toBe(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('drops a refused batch, reports it, and leaks no key', async () => {
    const datadog = make({ apiKey: 'not-the-right-key-123' });
    datadog.sendMetric('empathy.tick', 1);
    await datadog.flushMetrics();
    expect(series()[0]!.status).toBe(403);
    expect(datadog.pendingMetrics).toBe(0);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.info).toEqual({ points: 1, dropped: true });
    expect(errors[0]!.error.message).toBe(
      '[datadog] HTTP 403 from the Datadog metrics API (POST /api/v2/series): Forbidden',
    );
    expect(inspect(errors, { depth: 12 })).not.toContain('not-the-right-key-123');
  });

  it('reports what close() could not send', async () => {
    const datadog = make();
    server.respondNext(datadogFailures.server_error);
    datadog.sendMetric('empathy.tick', 1);
    await datadog.close();
    expect(errors.map((e) => [e.error.status, e.info])).toEqual([[503, { points: 1, dropped: true }]]);
  });

  it('refuses invalid metrics at the call', () => {
    const datadog = make();
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
    const datadog = make({ tags: ['env:prod'] }, { eventMetrics: true, flushIntervalSeconds: 60 });
    const dispatcher = new Dispatcher({ webhooks: [datadog] });
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
    await dispatcher.close();
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
