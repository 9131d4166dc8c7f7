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
  type ContractHarness,
  createFakeServer,
  describeWebhookContract,
  type FakeServer,
  type RecordedRequest,
  sampleEvent,
} from '@empathy/webhooks-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  formatAnnotation,
  formatLokiEntry,
  type GrafanaPayload,
  GrafanaWebhook,
  type GrafanaWebhookOptions,
} from '../src/index.js';
import {
  ANNOTATIONS_PATH,
  createGrafanaFake,
  GRAFANA_TOKEN,
  LOKI_PASSWORD,
  LOKI_PATH,
  LOKI_USER,
  linesIn,
} from './fake-grafana.js';

type Mode = 'annotations' | 'loki' | 'both';

const LOKI_SECRETS = [LOKI_PASSWORD, Buffer.from(`${LOKI_USER}:${LOKI_PASSWORD}`).toString('base64')];
/** What each mode's webhook holds: a secret it was never given is not its to leak. */
const SECRETS: Record<Mode, string[]> = {
  annotations: [GRAFANA_TOKEN],
  loki: LOKI_SECRETS,
  both: [GRAFANA_TOKEN, ...LOKI_SECRETS],
};

function targets(mode: Mode, url: string): Partial<GrafanaWebhookOptions> {
  const annotations = { url, token: GRAFANA_TOKEN };
  const loki = { loki: { url, username: LOKI_USER, password: LOKI_PASSWORD } };
  if (mode === 'annotations') return annotations;
  if (mode === 'loki') return loki;
  return { ...annotations, ...loki };
}

for (const mode of ['annotations', 'loki', 'both'] as const) {
  describeWebhookContract(`grafana (${mode})`, async (): Promise<ContractHarness> => {
    const fake = createGrafanaFake();
    const server = await createFakeServer(fake.handler);
    return {
      failNext: fake.failNext,
      echoNext: fake.echoNext,
      // Loki takes many lines per push: count each line as one receipt, at its push's time.
      received: () =>
        server.requests.flatMap((r) =>
          Array.from({ length: r.path === LOKI_PATH ? linesIn(r) : 1 }, () => ({
            at: r.receivedAt,
            status: r.status,
            streamed: r.streamedBytes !== undefined,
            // A getter: the fake records the close after the request was listed.
            get closedAt() {
              return r.closedAt;
            },
          })),
        ),
      // One per delivery: a Loki push holds many deliveries' lines.
      payloads: () =>
        server.requests
          .filter((r) => r.status >= 200 && r.status < 300)
          .flatMap((r) => (r.path === LOKI_PATH ? pushedLines(r) : [r.body])),
      // The annotation's text and the log line's message: where Grafana shows them.
      mark: (defaults: GrafanaPayload, text: string): GrafanaPayload => ({
        annotation: defaults.annotation && { ...defaults.annotation, text },
        loki: defaults.loki && { ...defaults.loki, line: JSON.stringify({ msg: text }) },
      }),
      origin: server.url,
      close: () => server.close(),
      secrets: SECRETS[mode],
      create: ({ endpoint, ...options }) =>
        new GrafanaWebhook({
          ...options,
          ...targets(mode, endpoint ?? server.url),
          // The contract's 1 s attempt timeout also counts the time the event loop spends
          // rendering the other attempts' events, and its hostile events are up to 3.6 MB:
          // 13 of them at the default 16 in flight starve each other on a loaded 2-core machine.
          // 4 in flight (what Teams runs with) still batches Loki lines.
          concurrency: 4,
        }),
    };
  });
}

/** Each line of a Loki push, as a push of its own. */
function pushedLines(request: RecordedRequest): string[] {
  try {
    const { streams } = request.json() as { streams: { stream: object; values: unknown[] }[] };
    return streams.flatMap((s) =>
      s.values.map((value) => JSON.stringify({ stream: s.stream, values: [value] })),
    );
  } catch {
    return [request.body];
  }
}

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

describe('GrafanaWebhook against fake Grafana and Loki APIs', () => {
  let server: FakeServer;
  let fake: ReturnType<typeof createGrafanaFake>;
  // The fake listens on 127.0.0.1 over http: a private target, allowed on purpose.
  const make = (mode: Mode, options: Partial<GrafanaWebhookOptions> = {}) =>
    new GrafanaWebhook({
      ...targets(mode, server.url),
      retryPolicy: FAST,
      allowPrivateNetwork: true,
      ...options,
    });
  const requestsTo = (path: string) => server.requests.filter((r) => r.path === path);

  beforeEach(async () => {
    fake = createGrafanaFake();
    server = await createFakeServer(fake.handler);
  });
  afterEach(async () => {
    await server.close();
  });

  it('posts an annotation with the service account token, on the chosen dashboard and panel', async () => {
    const grafana = make('annotations', { dashboardUid: 'empathy-ops', panelId: 4, tags: ['prod'] });
    const event = sampleEvent('deployment_risk');
    const receipt = await grafana.deliver(event, ctx());
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: ANNOTATIONS_PATH, status: 200 });
    expect(request!.headers.authorization).toBe(`Bearer ${GRAFANA_TOKEN}`);
    expect(request!.json()).toEqual(
      formatAnnotation(event, { dashboardUid: 'empathy-ops', panelId: 4, tags: ['prod'] }),
    );
    expect(request!.json()).toMatchObject({ dashboardUID: 'empathy-ops', panelId: 4, time: 1764081000000 });
    expect(receipt).toEqual({ status: 200, id: '1', detail: { annotationId: 1 } });
  });

  it('keeps a sub-path of the Grafana URL', async () => {
    const grafana = make('annotations', { url: `${server.url}/grafana` });
    await rejection(grafana.deliver(sampleEvent('alert'), ctx()));
    expect(server.requests[0]!.path).toBe('/grafana/api/annotations');
  });

  it('pushes a log line with event_type, severity and user_id labels and a nanosecond timestamp', async () => {
    const grafana = make('loki', {
      loki: { url: server.url, username: LOKI_USER, password: LOKI_PASSWORD, tenantId: 'team-a' },
    });
    const receipt = await grafana.deliver(sampleEvent('security_vulnerability'), ctx());
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: LOKI_PATH, status: 204 });
    expect(request!.headers['x-scope-orgid']).toBe('team-a');
    expect(request!.headers['content-type']).toBe('application/json');
    const { streams } = request!.json();
    expect(streams).toHaveLength(1);
    expect(streams[0].stream).toEqual({
      app: 'empathy',
      event_type: 'security_vulnerability',
      severity: 'critical',
      user_id: 'developer_123',
    });
    const [[timestamp, line]] = streams[0].values;
    expect(timestamp).toBe('1764081000000000000');
    expect(JSON.parse(line)).toMatchObject({
      level: 'critical',
      event_id: 'evt_sample_security_vulnerability',
      data: { cwe: 'CWE-89' },
    });
    expect(receipt).toEqual({ status: 204, id: undefined, detail: { loki: true } });
  });

  it('batches the lines of concurrent deliveries into few pushes, grouped by stream', async () => {
    server.setHandler(async (request) => {
      await new Promise((r) => setTimeout(r, 30));
      return fake.handler(request);
    });
    const grafana = make('loki');
    const dispatcher = new Dispatcher({ webhooks: [grafana] });
    const users = ['ana', 'bo'];
    for (let i = 0; i < 40; i++) {
      const user = users[i % 2]!;
      await dispatcher.dispatch(
        createEvent('alert', { message: `m${i}` }, { userId: user, severity: 'high' }),
      );
    }
    await dispatcher.flush();
    await dispatcher.close();
    const pushes = requestsTo(LOKI_PATH);
    const lines = pushes.reduce((n, r) => n + linesIn(r), 0);
    expect(lines).toBe(40);
    expect(pushes.length).toBeLessThanOrEqual(5);
    expect(dispatcher.monitor.getWebhookStats('grafana')).toMatchObject({ successCount: 40, failedCount: 0 });
    const streams = pushes.flatMap((r) => r.json().streams.map((s: any) => s.stream.user_id));
    expect(new Set(streams)).toEqual(new Set(users));
  });

  it('never puts more than maxBatchSize lines in one push', async () => {
    const grafana = make('loki', {
      concurrency: 12,
      loki: { url: server.url, username: LOKI_USER, password: LOKI_PASSWORD, maxBatchSize: 5 },
    });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        grafana.deliver(sampleEvent('alert', { message: `m${i}` }, { eventId: `evt_${i}` }), ctx()),
      ),
    );
    const sizes = requestsTo(LOKI_PATH).map(linesIn);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(12);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
  });

  it('fails every delivery of a refused push, and core retries each of them', async () => {
    const grafana = make('loki');
    const dispatcher = new Dispatcher({ webhooks: [grafana] });
    fake.failNext('server_error');
    for (let i = 0; i < 3; i++) await dispatcher.dispatch(sampleEvent('alert', {}, { eventId: `evt_${i}` }));
    await dispatcher.flush();
    await dispatcher.close();
    expect(dispatcher.monitor.getWebhookStats('grafana')).toMatchObject({ successCount: 3, failedCount: 0 });
    const delivered = requestsTo(LOKI_PATH).filter((r) => r.status === 204);
    expect(delivered.reduce((n, r) => n + linesIn(r), 0)).toBe(3);
  });

  it('fails only the delivery whose deadline passed while its batch was in flight', async () => {
    server.setHandler(async (request) => {
      if (request.path === LOKI_PATH) await new Promise((r) => setTimeout(r, 300));
      return fake.handler(request);
    });
    const grafana = make('loki');
    // The first line goes alone; the next three wait for it, then share one push.
    const first = grafana.deliver(sampleEvent('alert', {}, { eventId: 'evt_first' }), ctx());
    const late = new AbortController();
    const batched = [late.signal, undefined, undefined].map((signal, i) =>
      grafana.deliver(sampleEvent('alert', {}, { eventId: `evt_b${i}` }), ctx(signal)),
    );
    await server.waitForRequests(2);
    late.abort(new Error('attempt timed out'));
    await expect(batched[0]).rejects.toThrow('attempt timed out');
    await expect(Promise.all([first, batched[1], batched[2]])).resolves.toHaveLength(3);
    expect(requestsTo(LOKI_PATH).map(linesIn)).toEqual([1, 3]);
  });

  it('sends what format returns: an annotation alone, within Grafana’s limits', async () => {
    const grafana = make('both', {
      format: (event, defaults) => ({
        annotation: {
          ...defaults.annotation!,
          text: `<b>${event.event_type}</b> deployed \u202Ereversed`,
          tags: Array.from({ length: 40 }, (_, i) => `tag-${i % 30}-${'x'.repeat(200)}`),
        },
      }),
    });
    await grafana.deliver(sampleEvent('deployment_risk'), ctx());
    expect(server.requests.map((r) => r.path)).toEqual([ANNOTATIONS_PATH]);
    const sent = server.requests[0]!.json();
    expect(sent.text).toBe('<b>deployment_risk</b> deployed reversed');
    expect(sent.tags).toHaveLength(25);
    for (const tag of sent.tags) expect(tag.length).toBeLessThanOrEqual(100);

    const lokiOnly = make('annotations', {
      format: (event) => ({ loki: formatLokiEntry(event) }),
    });
    const error = await rejection(lokiOnly.deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ retryable: false, code: 'EFORMAT' });
    expect(error.message).toBe(
      "[grafana] the payload returned by 'format' cannot be sent: a log line needs the 'loki' option",
    );
    expect(server.requests).toHaveLength(1);
  });

  it('prints only the origin: target and util.inspect hold no token or password', () => {
    const grafana = make('both');
    expect(grafana.target).toBe(server.url);
    const text = `${inspect(grafana, { depth: 12, showHidden: true })} ${JSON.stringify(grafana)}`;
    for (const secret of SECRETS.both) expect(text).not.toContain(secret);
  });

  it('annotates once when only the log line failed: the retry sends just the line', async () => {
    const grafana = make('both');
    const dispatcher = new Dispatcher({ webhooks: [grafana] });
    server.setHandler((request) => {
      if (request.path === LOKI_PATH && requestsTo(LOKI_PATH).length === 1) {
        return { status: 503, body: 'Service Unavailable' };
      }
      return fake.handler(request);
    });
    await dispatcher.dispatch(sampleEvent('alert'));
    await dispatcher.flush();
    await dispatcher.close();
    expect(requestsTo(ANNOTATIONS_PATH)).toHaveLength(1);
    expect(requestsTo(LOKI_PATH).map((r) => r.status)).toEqual([503, 204]);
    expect(dispatcher.monitor.getWebhookStats('grafana')).toMatchObject({ successCount: 1, retriedCount: 1 });
  });

  it('maps Grafana’s refusal to a permanent error with its message and no token', async () => {
    const error = await rejection(
      make('annotations', { token: 'glsa_wrong_token_value' }).deliver(sampleEvent('alert'), ctx()),
    );
    expect(isWebhookDeliveryError(error)).toBe(true);
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(error.message).toBe('[grafana] HTTP 401 from Grafana annotations: invalid API key');
    expect(inspect(error, { depth: 12 })).not.toContain('glsa_wrong_token_value');
  });

  it('names Grafana’s messageId as the code', async () => {
    server.respondNext({
      status: 400,
      body: { message: 'bad request data', messageId: 'annotations.invalid' },
    });
    const error = await rejection(make('annotations').deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 400, retryable: false, code: 'annotations.invalid' });
    expect(error.message).toBe(
      '[grafana] HTTP 400 from Grafana annotations (annotations.invalid): bad request data',
    );
  });

  it('maps Loki’s plain-text errors and Retry-After', async () => {
    const grafana = make('loki');
    fake.failNext('client_error');
    fake.failNext('rate_limited', 3);
    const refused = await rejection(grafana.deliver(sampleEvent('alert'), ctx()));
    const limited = await rejection(grafana.deliver(sampleEvent('alert'), ctx()));
    expect(refused).toMatchObject({ status: 400, retryable: false });
    expect(refused.message).toBe(
      `[grafana] HTTP 400 from Loki push: entry for stream '{app="empathy"}' has timestamp too old: 2025-11-25T14:30:00Z`,
    );
    expect(limited).toMatchObject({ status: 429, retryAfterMs: 3000, retryable: true });
    expect(limited.message).toMatch(
      /^\[grafana\] HTTP 429 from Loki push: Ingestion rate limit exceeded .* \(retry after 3s\)$/,
    );
  });

  it('makes exactly one request per attempt (no hidden retries)', async () => {
    const grafana = make('annotations');
    server.setHandler(() => ({ status: 503, body: { message: 'unavailable' } }));
    const error = await rejection(grafana.deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(server.requests).toHaveLength(1);
  });

  it('passes the attempt signal to the request, also for a batched push', async () => {
    server.setHandler(() => ({ hang: true }));
    const controller = new AbortController();
    const attempt = make('loki').deliver(sampleEvent('alert'), ctx(controller.signal));
    await server.waitForRequests(1);
    controller.abort(new Error('attempt timed out'));
    await expect(attempt).rejects.toThrow();
  });
});

describe('GrafanaWebhook options', () => {
  const configError = (options: unknown): string => {
    try {
      new GrafanaWebhook(options as GrafanaWebhookOptions);
    } catch (error) {
      expect(isWebhookConfigError(error)).toBe(true);
      const message = (error as Error).message;
      for (const secret of ['SECRET', 'hunter2']) expect(message).not.toContain(secret);
      return message;
    }
    throw new Error('expected a WebhookConfigError');
  };
  const url = 'https://acme.grafana.net';
  const loki = { url: 'https://logs.grafana.net', username: '1', password: 'SECRET' };

  it('names the option and never shows a secret', () => {
    expect(configError({})).toBe(
      "[grafana] set 'url' and 'token' (annotations), 'loki' (log lines), or both",
    );
    expect(configError({ url })).toMatch(
      /^\[grafana\] option 'token' must be a Grafana service account token/,
    );
    expect(configError({ url: 'not a url', token: 'SECRET' })).toMatch(/option 'url' is not a valid URL/);
    expect(configError({ url: 'http://acme.grafana.net', token: 'SECRET' })).toMatch(
      /option 'url' must be an https URL .*allowPrivateNetwork/,
    );
    expect(configError({ loki: { ...loki, url: 'https://10.0.0.5:3100' } })).toMatch(
      /option 'loki.url' points at a private address .*allowPrivateNetwork/,
    );
    expect(configError({ url: 'https://admin:hunter2@grafana.local', token: 't' })).toMatch(
      /option 'url' must not carry credentials/,
    );
    expect(configError({ url, token: 't', panelId: 2 })).toMatch(/option 'panelId' needs 'dashboardUid'/);
    expect(configError({ url, token: 't', dashboardUid: 'a/b' })).toMatch(/option 'dashboardUid'/);
    expect(configError({ token: 'SECRET', loki })).toMatch(/set 'url' too/);
    expect(configError({ loki: { ...loki, username: undefined } })).toMatch(/option 'loki.username'/);
    expect(configError({ loki: { ...loki, token: 'SECRET' } })).toMatch(/either 'loki.token' or/);
    expect(configError({ loki: { ...loki, labels: { 'service-name': 'x' } } })).toMatch(/invalid label name/);
    expect(configError({ loki: { ...loki, labels: { severity: 'x' } } })).toMatch(/may not set 'severity'/);
    expect(configError({ loki: { ...loki, maxBatchSize: 0 } })).toMatch(/option 'loki.maxBatchSize'/);
    expect(configError({ loki, events: ['bug_detect'] })).toMatch(/did you mean 'bug_detected'/);
  });

  it('defaults: every event, 16 in flight, no rate limit of its own', () => {
    expect(new GrafanaWebhook({ loki })).toMatchObject({
      name: 'grafana',
      events: ['*'],
      concurrency: 16,
      rateLimit: undefined,
    });
  });
});
