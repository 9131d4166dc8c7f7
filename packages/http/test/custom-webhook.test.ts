import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { inspect } from 'node:util';
import {
  Dispatcher,
  type EmpathyEvent,
  isWebhookConfigError,
  verifyWebhookSignature,
} from '@empathy/webhooks-core';
import {
  createFakeServer,
  describeWebhookContract,
  type FakeServer,
  fakeServerHarness,
  sampleEvent,
} from '@empathy/webhooks-core/testing';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { CustomWebhook, privateAddressReason, WebhookConfig } from '../src/index.js';

const TOKEN = 'tok_live_4f9a8b7c6d5e';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
// A receiver URL whose path segment and query value are credentials.
const HOOK_PATH = '/hooks/a8F3kQ92xZ7w?token=Zx81Pq0LmN4v&team=core';

describeWebhookContract('CustomWebhook', async () => {
  const server = await createFakeServer(() => ({ status: 200, body: { status: 'ok' } }));
  return {
    ...fakeServerHarness(server, {
      server_error: { status: 503, body: 'upstream unavailable' },
      rate_limited: (s) => ({ status: 429, headers: { 'retry-after': String(s) } }),
      client_error: { status: 400, body: { error: `bad payload; token was ${TOKEN}` } },
      // An endpoint that echoes what it got: an Express 404 page, a 401 body.
      echo: (text) => ({ status: 401, body: `Unauthorized: ${text}` }),
    }),
    secrets: [TOKEN, SECRET, `${server.url}${HOOK_PATH}`],
    mark: (body, text) => ({ ...body, marker: text }),
    create: ({ endpoint, ...o }) =>
      new CustomWebhook({
        ...o,
        url: `${endpoint ?? server.url}${HOOK_PATH}`,
        headers: { Authorization: `Bearer ${TOKEN}` },
        signingSecret: SECRET,
      }),
  };
});

describe('CustomWebhook', () => {
  let server: FakeServer;
  let dispatcher: Dispatcher | undefined;
  afterEach(async () => {
    await dispatcher?.close({ drainMs: 0 });
    dispatcher = undefined;
    await server?.close();
  });

  const deliver = async (webhook: CustomWebhook, event: EmpathyEvent = sampleEvent('prediction')) => {
    dispatcher = new Dispatcher({ webhooks: [webhook] });
    await dispatcher.dispatch(event);
    await dispatcher.flush();
    return dispatcher.monitor.getWebhookStats(webhook.name);
  };

  it("sends the seed's payload with the configured method and headers", async () => {
    server = await createFakeServer();
    const webhook = new CustomWebhook({
      url: `${server.url}/webhooks/empathy?team=core`,
      method: 'PUT',
      headers: { 'X-API-Key': 'key_123456' },
      allowPrivateNetwork: true,
    });
    await deliver(webhook);
    const [request] = server.requests;
    expect(request!.method).toBe('PUT');
    expect(request!.url).toBe('/webhooks/empathy?team=core');
    expect(request!.headers['x-api-key']).toBe('key_123456');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.json()).toEqual({
      event_type: 'prediction',
      event_id: 'evt_sample_prediction',
      timestamp: '2025-11-25T14:30:00.000Z',
      user_id: 'developer_123',
      empathy_level: 4,
      severity: 'warning',
      classification: 'INTERNAL',
      data: {
        prediction: 'Auth deployment may conflict with user-service v2.1',
        confidence: 0.87,
        recommendation: 'Deploy auth behind feature flag',
        timeframe: 'next deploy',
        context: { service: 'authentication', environment: 'production' },
      },
      metadata: { framework_version: '1.8.0', model: 'claude-sonnet-4.5' },
    });
    expect(request!.headers['x-signature']).toBeUndefined();
  });

  it('signs the exact body: X-Signature for the seed receiver, Standard Webhooks for the official verifier', async () => {
    server = await createFakeServer();
    const webhook = new CustomWebhook({
      url: `${server.url}/hook`,
      signingSecret: SECRET,
      signPayload: true,
      allowPrivateNetwork: true,
    });
    await deliver(webhook);
    const [request] = server.requests;
    const h = request!.headers as Record<string, string>;
    expect(verifyWebhookSignature(request!.body, h['x-signature']!, SECRET)).toBe(true);
    expect(verifyWebhookSignature(`${request!.body} `, h['x-signature']!, SECRET)).toBe(false);
    expect(h['webhook-id']).toBe('evt_sample_prediction');
    const verified = new Webhook(SECRET).verify(request!.body, {
      'webhook-id': h['webhook-id']!,
      'webhook-timestamp': h['webhook-timestamp']!,
      'webhook-signature': h['webhook-signature']!,
    });
    expect(verified).toMatchObject({ event_id: 'evt_sample_prediction' });
  });

  it('signs with every secret during a key rotation; receivers with either key verify', async () => {
    server = await createFakeServer();
    const next = 'whsec_bmV3LWtleS1mb3Itcm90YXRpb24tMTIzNDU2Nzg=';
    const webhook = new CustomWebhook({
      url: `${server.url}/hook`,
      signingSecret: [next, SECRET],
      allowPrivateNetwork: true,
    });
    await deliver(webhook);
    const h = server.requests[0]!.headers as Record<string, string>;
    expect(h['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [next, SECRET]) {
      expect(() => new Webhook(secret).verify(server.requests[0]!.body, h)).not.toThrow();
    }
    expect(() =>
      new Webhook('whsec_b3RoZXIta2V5LW5vdC11c2VkLWhlcmUxMjM0NTY=').verify(server.requests[0]!.body, h),
    ).toThrow();
  });

  it('honours a Retry-After HTTP date', async () => {
    server = await createFakeServer();
    server.respondNext({
      status: 503,
      headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() },
    });
    const webhook = new CustomWebhook({
      url: `${server.url}/hook`,
      allowPrivateNetwork: true,
      retryPolicy: { initialDelaySeconds: 0.01, jitter: false },
    });
    const stats = await deliver(webhook);
    expect(stats).toMatchObject({ successCount: 1, retriedCount: 1 });
    // HTTP dates have 1 s resolution: the retry waits until that second has started.
    expect(server.requests[1]!.receivedAt - server.requests[0]!.receivedAt).toBeGreaterThanOrEqual(1000);
  });

  it('retries only the statuses in retryOnStatus (plus 429)', async () => {
    server = await createFakeServer();
    server.respondNext({ status: 502 });
    const webhook = new CustomWebhook({
      url: `${server.url}/hook`,
      allowPrivateNetwork: true,
      retryPolicy: { retryOnStatus: [503], initialDelaySeconds: 0.01 },
    });
    const stats = await deliver(webhook);
    expect(stats).toMatchObject({ failedCount: 1, totalSent: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('fails an event that cannot be serialised once, without retries', async () => {
    server = await createFakeServer();
    const webhook = new CustomWebhook({ url: `${server.url}/hook`, allowPrivateNetwork: true, name: 'json' });
    const event = sampleEvent('alert', { details: { size: 10n } as never });
    const stats = await deliver(webhook, event);
    expect(stats).toMatchObject({ failedCount: 1, totalSent: 1 });
    expect(stats.lastError).toMatch(/^\[json\] the event cannot be sent as JSON: /);
    expect(server.requests).toHaveLength(0);
  });

  describe('SSRF guard', () => {
    it.each([
      ['http://127.0.0.1:8080/hook', 'loopback'],
      ['http://169.254.169.254/latest/meta-data/', 'link-local / cloud metadata'],
      ['http://10.1.2.3/hook', 'private'],
      ['http://100.64.0.9/hook', 'carrier-grade NAT'],
      ['http://192.168.1.20/hook', 'private'],
      ['http://[::1]:8080/hook', 'loopback'],
      ['http://[::ffff:127.0.0.1]/hook', 'loopback'],
      ['http://[fd00:ec2::254]/hook', 'unique local (private)'],
    ])('refuses %s at construction', (url, reason) => {
      let error: unknown;
      try {
        new CustomWebhook({ url, name: 'guarded' });
      } catch (e) {
        error = e;
      }
      expect(isWebhookConfigError(error)).toBe(true);
      expect((error as Error).message).toContain(`[guarded] option 'url' points at a ${reason} address`);
      expect((error as Error).message).toContain('allowPrivateNetwork');
      expect((error as Error).message).not.toContain('meta-data');
    });

    it('refuses a hostname that resolves to a private address, after DNS, without sending anything', async () => {
      server = await createFakeServer();
      // `localhost` is refused by name at construction (RFC 6761); this machine's own name is not,
      // and resolves to a loopback address: the guard refuses it after DNS.
      expect(() => new CustomWebhook({ url: `http://localhost:${server.port}/hook` })).toThrow(
        /loopback address/,
      );
      const host = hostname();
      expect(
        privateAddressReason((await lookup(host)).address),
        `${host} resolves to a private address`,
      ).toBeDefined();
      const webhook = new CustomWebhook({ url: `http://${host}:${server.port}/hook`, name: 'guarded' });
      const failures: Error[] = [];
      dispatcher = new Dispatcher({
        webhooks: [
          Object.assign(webhook, { onFailure: (_w: unknown, _e: unknown, err: Error) => failures.push(err) }),
        ],
      });
      await dispatcher.dispatch(sampleEvent('alert'));
      await dispatcher.flush();
      expect(server.requests).toHaveLength(0);
      expect(dispatcher.monitor.getWebhookStats('guarded')).toMatchObject({ failedCount: 1, totalSent: 1 });
      expect(failures[0]!.message).toMatch(/refused to connect to \S+ \(\S+\): (loopback|private) address/);
    });

    it('lets private addresses through with allowPrivateNetwork', async () => {
      server = await createFakeServer();
      const stats = await deliver(
        new CustomWebhook({ url: `http://localhost:${server.port}/hook`, allowPrivateNetwork: true }),
      );
      expect(stats.successCount).toBe(1);
    });

    it('classifies addresses', () => {
      expect(privateAddressReason('93.184.216.34')).toBeUndefined();
      expect(privateAddressReason('2606:4700::6810:85e5')).toBeUndefined();
      expect(privateAddressReason('172.31.255.255')).toBe('private');
      expect(privateAddressReason('172.32.0.1')).toBeUndefined();
      expect(privateAddressReason('::ffff:a9fe:a9fe')).toBe('link-local / cloud metadata');
      expect(privateAddressReason('64:ff9b::10.0.0.1')).toBe('private');
      expect(privateAddressReason('fe80::1')).toBe('link-local');
    });
  });

  describe('options', () => {
    it('holds no secret in a public field: printing the webhook shows the origin only', () => {
      const webhook = new CustomWebhook({
        url: 'https://hooks.example.com/services/T0SECRET42/B0SECRET43?sig=QmFzZTY0U2ln',
        headers: { Authorization: `Bearer ${TOKEN}` },
        signingSecret: SECRET,
      });
      const printed = `${inspect(webhook, { depth: 8, showHidden: true })} ${JSON.stringify(webhook)}`;
      for (const secret of ['T0SECRET42', 'B0SECRET43', 'QmFzZTY0U2ln', TOKEN, SECRET]) {
        expect(printed).not.toContain(secret);
      }
      expect(webhook.target).toBe('https://hooks.example.com');
    });

    it.each([
      [{ 'x-evil': 'a\r\nx-injected: 1' }, /'x-evil' must be visible ASCII without line breaks/],
      [{ 'bad name': 'v' }, /invalid header name "bad name"/],
      [{ Connection: 'close' }, /may not set 'connection'/],
      [{ 'Transfer-Encoding': 'chunked' }, /may not set 'transfer-encoding'/],
      [{ 'X-Signature': 'forged' }, /may not set 'x-signature'/],
      [{ 'x-name': 'caf\u00e9' }, /'x-name' must be visible ASCII/],
    ])('refuses headers %j at construction', (headers, message) => {
      expect(() => new CustomWebhook({ url: 'https://hooks.example.com/h', headers })).toThrow(message);
    });

    const configError = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(isWebhookConfigError(error)).toBe(true);
        return (error as Error).message;
      }
      throw new Error('expected a WebhookConfigError');
    };

    it('names the option and the webhook, never the secret', () => {
      expect(configError(() => new CustomWebhook({ url: 'not a url', name: 'ops' }))).toBe(
        "[ops] option 'url' is not a valid URL",
      );
      expect(configError(() => new CustomWebhook({ url: 'ftp://example.com/x', name: 'ops' }))).toContain(
        "option 'url' must be http: or https:",
      );
      expect(
        configError(
          () =>
            new CustomWebhook({ url: 'https://example.com/x', name: 'ops', retryPolicy: { maxRetries: -1 } }),
        ),
      ).toBe("[ops] option 'retryPolicy.maxRetries' must be an integer from 0 to 100 (got -1)");
      expect(
        configError(
          () =>
            new CustomWebhook({ url: 'https://example.com/x', name: 'ops', events: ['predicton' as never] }),
        ),
      ).toContain("unknown event type 'predicton' (did you mean 'prediction'?)");
      expect(
        configError(
          () => new CustomWebhook({ url: 'https://example.com/x', name: 'ops', method: 'GET' as never }),
        ),
      ).toContain("option 'method' must be one of POST, PUT, PATCH");
      expect(
        configError(
          () => new CustomWebhook({ url: 'https://example.com/x', name: 'ops', signPayload: true }),
        ),
      ).toContain("option 'signPayload' needs a 'signingSecret'");
      const message = configError(
        () =>
          new CustomWebhook({
            url: 'https://hooks.example.com/T000/B000/XXXXsecretpath',
            rateLimit: { maxRequestsPerMinute: 0 },
          }),
      );
      expect(message).toContain("[custom:hooks.example.com] option 'rateLimit.maxRequestsPerMinute'");
      expect(message).not.toContain('XXXXsecretpath');
    });

    it("WebhookConfig is the seed's name for the same thing", async () => {
      server = await createFakeServer();
      const webhook = new WebhookConfig({
        url: `${server.url}/services/T/B/X`,
        events: ['prediction', 'alert', 'completion'],
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        allowPrivateNetwork: true,
      });
      expect(webhook).toBeInstanceOf(CustomWebhook);
      await deliver(webhook, sampleEvent('alert'));
      expect(server.requests).toHaveLength(1);
    });
  });

  it('names a webhook on an IPv6 literal after its host, without the brackets', () => {
    const webhook = new CustomWebhook({ url: 'https://[2606:4700:4700::1111]:8443/hook' });
    expect(webhook.name).toBe('custom:2606:4700:4700::1111:8443');
  });
});
