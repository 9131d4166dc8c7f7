import { inspect } from 'node:util';
import {
  type DeliveryContext,
  Dispatcher,
  EVENT_TYPES,
  isWebhookConfigError,
  isWebhookDeliveryError,
  type WebhookDeliveryError,
} from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscordWebhook, type DiscordWebhookOptions } from '../src/discord-webhook.js';
import { discordApi, TOKEN, WEBHOOK_ID, webhookUrl } from './fake-discord.js';

const ctx = (): DeliveryContext => ({
  signal: new AbortController().signal,
  attempt: 1,
  idempotencyKey: 'evt_test',
  timeoutMs: 5000,
});

async function failure(promise: Promise<unknown>): Promise<WebhookDeliveryError> {
  const error = await promise.then(
    () => expect.fail('expected the delivery to fail'),
    (e: unknown) => e,
  );
  expect(isWebhookDeliveryError(error)).toBe(true);
  return error as WebhookDeliveryError;
}

function configError(options: Partial<DiscordWebhookOptions>): Error {
  try {
    new DiscordWebhook(options as DiscordWebhookOptions);
  } catch (error) {
    expect(isWebhookConfigError(error)).toBe(true);
    return error as Error;
  }
  return expect.fail('expected a WebhookConfigError');
}

describe('DiscordWebhook options', () => {
  const url = webhookUrl('https://discord.com');

  it('has Discord defaults: 30 requests a minute, one at a time, status events', () => {
    const discord = new DiscordWebhook({ webhookUrl: url });
    expect(discord).toMatchObject({
      name: 'discord',
      rateLimit: { maxRequestsPerMinute: 30 },
      concurrency: 1,
      events: [
        'alert',
        'deployment_risk',
        'test_failure',
        'code_review_complete',
        'pattern_discovered',
        'error',
      ],
    });
  });

  it.each([
    [{}, /\[discord\] option 'webhookUrl' is required/],
    [{ webhookUrl: 'not a url' }, /option 'webhookUrl' is not a valid URL/],
    [{ webhookUrl: url.replace('https:', 'http:') }, /option 'webhookUrl' must be an https URL/],
    [{ webhookUrl: `https://discord.com/api/channels/1/${TOKEN}` }, /option 'webhookUrl' must look like/],
    [{ webhookUrl: url, username: 'Discord Alerts' }, /option 'username' may not contain "discord"/],
    [{ webhookUrl: url, username: 'x'.repeat(81) }, /option 'username' must be 1-80 characters/],
    [{ webhookUrl: url, avatarUrl: 'ftp://x/y.png' }, /option 'avatarUrl' must be an http\(s\) URL/],
    [{ webhookUrl: url, threadId: 'general' }, /option 'threadId' must be a thread's numeric id/],
    [{ webhookUrl: url, content: 42 as never }, /option 'content' must be a string or a function/],
    [{ webhookUrl: url, events: ['predicton' as never] }, /did you mean 'prediction'/],
    [{ webhookUrl: url, retryPolicy: { maxRetries: -1 } }, /option 'retryPolicy.maxRetries'/],
    [{ webhookUrl: url, name: 'alerts', concurrency: 0 }, /\[alerts\] option 'concurrency'/],
  ])('rejects %o at construction, naming the option', (options, message) => {
    const error = configError(options);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(TOKEN);
  });

  it('keeps the webhook URL out of util.inspect of the plugin', () => {
    const discord = new DiscordWebhook({ webhookUrl: url, username: 'Empathy Bot' });
    expect(inspect(discord, { depth: 12, showHidden: true })).not.toContain(TOKEN);
  });
});

describe('DiscordWebhook on the wire', () => {
  let server: FakeServer;
  beforeEach(async () => {
    server = await createFakeServer(discordApi);
  });
  afterEach(() => server.close());

  // The fake listens on 127.0.0.1 over http: a private target, allowed on purpose.
  const create = (options: Partial<DiscordWebhookOptions> = {}) =>
    new DiscordWebhook({ webhookUrl: webhookUrl(server.url), allowPrivateNetwork: true, ...options });

  it('posts one embed with allowed_mentions to the pinned API version with wait=true', async () => {
    const discord = create({
      username: 'Empathy Bot',
      avatarUrl: 'https://example.com/bot.png',
      threadId: '1200000000000000042',
      content: (event) => `New ${event.event_type}`,
    });
    const receipt = await discord.deliver(sampleEvent('alert'), ctx());
    const [request] = server.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: `/api/v10/webhooks/${WEBHOOK_ID}/${TOKEN}`,
      status: 200,
    });
    expect(new URL(request!.url, server.url).searchParams.get('wait')).toBe('true');
    expect(new URL(request!.url, server.url).searchParams.get('thread_id')).toBe('1200000000000000042');
    expect(request!.headers['content-type']).toMatch(/^application\/json/);
    expect(request!.json()).toMatchObject({
      content: 'New alert',
      username: 'Empathy Bot',
      avatar_url: 'https://example.com/bot.png',
      allowed_mentions: { parse: [] },
      embeds: [{ title: '🚨 Error rate above 5% on checkout', color: 0xe74c3c }],
    });
    expect(receipt).toEqual({ status: 200, id: expect.stringMatching(/^\d+$/) });
  });

  it('delivers every event type with long, hostile text within the limits Discord enforces', async () => {
    const dispatcher = new Dispatcher({
      webhooks: [create({ events: ['*'], rateLimit: { maxRequestsPerMinute: 1000 }, concurrency: 4 })],
    });
    for (const type of EVENT_TYPES) await dispatcher.dispatch(hostileEvent(type));
    await dispatcher.flush();
    expect(dispatcher.monitor.getWebhookStats('discord')).toMatchObject({ successCount: 13, failedCount: 0 });
    expect(server.requests.map((r) => r.status)).toEqual(EVENT_TYPES.map(() => 200));
    await dispatcher.close();
  });

  it('takes the wait from retry_after (with its fraction) over the rounded Retry-After header', async () => {
    server.respondNext({
      status: 429,
      headers: { 'retry-after': '1', 'x-ratelimit-scope': 'shared' },
      body: { message: 'You are being rate limited.', retry_after: 0.35, global: false },
    });
    const error = await failure(create().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 429, retryAfterMs: 350, retryable: true });
    expect(error.message).toMatch(
      /^\[discord\] HTTP 429 from http:\/\/127\.0\.0\.1:\d+: You are being rate limited\. \(retry after 0\.3s\)$/,
    );
  });

  it('falls back to the Retry-After header and names a global rate limit', async () => {
    server.respondNext({
      status: 429,
      headers: { 'retry-after': '2' },
      body: { message: 'You are being rate limited.', global: true },
    });
    const error = await failure(create().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 429, retryAfterMs: 2000 });
    expect(error.message).toMatch(/: global rate limit: You are being rate limited\. \(retry after 2s\)$/);
  });

  it('reports Invalid Form Body with the fields Discord named, as permanent', async () => {
    server.respondNext({
      status: 400,
      body: {
        message: 'Invalid Form Body',
        code: 50035,
        errors: {
          embeds: { 0: { title: { _errors: [{ code: 'X', message: 'Must be 256 or fewer in length.' }] } } },
        },
      },
    });
    const error = await failure(create().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 400, retryable: false, code: '50035' });
    expect(error.message).toContain(
      '(50035): Invalid Form Body; embeds.0.title: Must be 256 or fewer in length.',
    );
  });

  it('treats a wrong token as permanent and never shows the URL, even if the answer echoes it', async () => {
    const url = webhookUrl(server.url);
    server.setHandler(() => ({
      status: 401,
      body: { message: `Invalid Webhook Token for ${url} (${TOKEN})`, code: 50027 },
    }));
    const error = await failure(create().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 401, retryable: false, code: '50027' });
    expect(error.message).toMatch(
      /^\[discord\] HTTP 401 from http:\/\/127\.0\.0\.1:\d+ \(50027\): Invalid Webhook Token for \*\*\* \(\*\*\*\)$/,
    );
    const text = inspect(error, { depth: 12 });
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(`/webhooks/${WEBHOOK_ID}`);
  });

  it('reports an HTML error page by its status alone', async () => {
    server.respondNext({ status: 503, headers: { 'content-type': 'text/html' }, body: '<html>down</html>' });
    const error = await failure(create().deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect(error.message).toMatch(/^\[discord\] HTTP 503 from http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("sends what format returns within Discord's limits, and no pings unless it asks for them", async () => {
    const huge = `@everyone \u202Eflip ${'x'.repeat(9000)}`;
    const discord = create({
      format: (event, defaults) => ({
        ...defaults,
        content: huge,
        embeds: Array.from({ length: 12 }, (_, i) => ({
          title: `${event.event_type} ${i} ${huge}`,
          description: huge,
          fields: Array.from({ length: 30 }, () => ({ name: 'n', value: huge })),
        })),
      }),
    });
    await discord.deliver(sampleEvent('alert'), ctx());
    const [request] = server.requests;
    // The fake refuses what Discord refuses (400 Invalid Form Body): it took this one.
    expect(request!.status).toBe(200);
    const body = request!.json();
    expect(body.content).toHaveLength(2000);
    expect(body.content).not.toContain('\u202E');
    expect(body.embeds.length).toBeLessThanOrEqual(10);
    expect(body.allowed_mentions).toEqual({ parse: [] });

    server.reset();
    const pinging = create({
      format: (_event, defaults) => ({
        ...defaults,
        content: '<@&1200000000000000099> paged',
        allowed_mentions: { roles: ['1200000000000000099'] },
      }),
    });
    await pinging.deliver(sampleEvent('alert'), ctx());
    expect(server.requests[0]!.json().allowed_mentions).toEqual({ roles: ['1200000000000000099'] });
  });

  it('refuses, as permanent, a format that leaves nothing to send or a content option that throws', async () => {
    const empty = create({ format: () => ({ embeds: [], allowed_mentions: { parse: [] } }) });
    const refused = await failure(empty.deliver(sampleEvent('alert'), ctx()));
    expect(refused).toMatchObject({ retryable: false, code: 'EFORMAT' });
    expect(refused.message).toMatch(
      /^\[discord\] the payload returned by 'format' cannot be sent: Discord refuses an empty message/,
    );
    const throwing = create({
      content: () => {
        throw new Error('no on-call today');
      },
    });
    const thrown = await failure(throwing.deliver(sampleEvent('alert'), ctx()));
    expect(thrown).toMatchObject({ retryable: false, code: 'EFORMAT' });
    expect(thrown.message).toBe("[discord] option 'content' threw: no on-call today");
    expect(server.requests).toHaveLength(0);
  });

  it('prints only the origin: target, String and util.inspect of the webhook hold no token', () => {
    const discord = create();
    expect(discord.target).toBe(server.url);
    expect(`${inspect(discord, { depth: 12, showHidden: true })} ${JSON.stringify(discord)}`).not.toMatch(
      new RegExp(`${TOKEN}|${WEBHOOK_ID}`),
    );
  });

  it('maps a refused connection to a retryable error whose cause holds no secret', async () => {
    const discord = create();
    await server.close();
    const error = await failure(discord.deliver(sampleEvent('alert'), ctx()));
    expect(error).toMatchObject({ retryable: true, status: undefined, code: 'ECONNREFUSED' });
    expect(error.message).toMatch(
      /^\[discord\] request to http:\/\/127\.0\.0\.1:\d+ failed: connect ECONNREFUSED .* \(ECONNREFUSED\)$/,
    );
    expect(inspect(error, { depth: 12 })).not.toContain(TOKEN);
  });
});
