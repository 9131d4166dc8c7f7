import { inspect } from 'node:util';
import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  isWebhookConfigError,
  isWebhookDeliveryError,
  type RetryPolicy,
  type WebhookDeliveryError,
} from '@empathy/webhooks-core';
import { describeWebhookContract, fakeServerHarness, sampleEvent } from '@empathy/webhooks-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatMessage, type SlackPayload, SlackWebhook, type SlackWebhookOptions } from '../src/index.js';
import { type SlackFake, startSlackFake, TOKEN, WEBHOOK_PATH, WEBHOOK_SECRET } from './fake-slack.js';

const FAST: RetryPolicy = { maxRetries: 2, initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false };

/** The contract's `mark`: the text goes into the notification fallback, which both modes send. */
const mark = (defaults: SlackPayload, text: string): SlackPayload => ({
  ...defaults,
  text: `${defaults.text} ${text}`,
});

describeWebhookContract('slack (bot token, @slack/web-api)', async () => {
  const fake = await startSlackFake();
  return {
    ...fakeServerHarness(fake.server, fake.failures.bot),
    secrets: [TOKEN],
    mark,
    create: ({ endpoint, ...options }) =>
      new SlackWebhook({ ...options, token: TOKEN, channel: '#ai-alerts', baseUrl: endpoint ?? fake.url }),
  };
});

describeWebhookContract('slack (incoming webhook, @slack/webhook)', async () => {
  const fake = await startSlackFake();
  return {
    ...fakeServerHarness(fake.server, fake.failures.webhook),
    // The URL's credential-bearing pieces (T0FAKE, B0FAKE, the secret) are checked one by one.
    secrets: [fake.webhookUrl, WEBHOOK_SECRET],
    mark,
    create: ({ endpoint, ...options }) =>
      new SlackWebhook({
        ...options,
        webhookUrl: endpoint === undefined ? fake.webhookUrl : `${endpoint}${WEBHOOK_PATH}`,
      }),
  };
});

let fake: SlackFake;
let dispatcher: Dispatcher | undefined;
let failures: Error[];

beforeEach(async () => {
  fake = await startSlackFake();
  failures = [];
});
afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
  dispatcher = undefined;
  await fake.server.close();
});

/** A dispatcher with one Slack webhook in `mode`, pointed at the fake. */
function start(mode: 'bot' | 'webhook', extra: Partial<SlackWebhookOptions> = {}) {
  const base =
    mode === 'bot'
      ? { token: TOKEN, channel: '#ai-alerts', baseUrl: fake.url }
      : { webhookUrl: fake.webhookUrl, channel: '#ai-alerts' };
  // The fake listens on 127.0.0.1: a private address, refused unless allowed.

  const slack = new SlackWebhook({
    ...base,
    allowPrivateNetwork: true,
    events: ['*'],
    retryPolicy: FAST,
    circuitBreaker: false,
    onFailure: (_webhook, _event, error) => void failures.push(error),
    ...extra,
  } as SlackWebhookOptions);
  dispatcher = new Dispatcher({ webhooks: [slack] });
  return { slack, dispatcher, stats: () => dispatcher!.monitor.getWebhookStats(slack.name) };
}

async function deliverAll(d: Dispatcher, ...events: EmpathyEvent[]) {
  for (const event of events) await d.dispatch(event);
  await d.flush();
}

function context(signal: AbortSignal): DeliveryContext {
  return { signal, attempt: 1, idempotencyKey: 'evt_x', timeoutMs: 1000 };
}

describe('bot token mode (chat.postMessage)', () => {
  it('posts the formatted message as a form with the bearer token, one request per event', async () => {
    const { dispatcher: d } = start('bot', { username: 'Empathy Bot', iconEmoji: ':robot_face:' });
    const event = sampleEvent('bug_detected');
    await deliverAll(d, event);
    expect(fake.server.requests).toHaveLength(1);
    const [request] = fake.server.requests;
    expect(request!.path).toBe('/api/chat.postMessage');
    expect(request!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const form = request!.form();
    expect(form.get('channel')).toBe('#ai-alerts');
    expect(form.get('username')).toBe('Empathy Bot');
    expect(form.get('icon_emoji')).toBe(':robot_face:');
    expect(form.get('text')).toBe(formatMessage(event).text);
    expect(JSON.parse(form.get('blocks')!)).toEqual(formatMessage(event).blocks);
    expect(form.has('thread_ts')).toBe(false);
  });

  it("delivers the seed's prediction, and only the events it subscribed to", async () => {
    const slack = new SlackWebhook({
      token: TOKEN,
      channel: '#ai-alerts',
      baseUrl: fake.url,
      allowPrivateNetwork: true,
      username: 'Empathy Bot',
      iconEmoji: ':robot_face:',
      events: ['prediction', 'alert', 'error'],
    });
    dispatcher = new Dispatcher({ webhooks: [slack] });
    const data = {
      prediction: 'Auth deployment may conflict with user-service v2.1',
      confidence: 0.87,
      recommendation: 'Deploy auth behind feature flag',
    };
    await dispatcher.dispatch(createEvent('prediction', data, { userId: 'developer_123' }));
    await dispatcher.dispatch(
      createEvent('completion', { content: 'not subscribed', level_used: 4 }, { userId: 'x' }),
    );
    await dispatcher.flush();
    expect(fake.messages).toHaveLength(1);
    const [message] = fake.messages;
    expect(message!.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🔮 Level 4 Prediction' },
    });
    expect(message!.blocks[1].text.text).toBe(
      '*Prediction:* Auth deployment may conflict with user-service v2.1\n*Confidence:* 87%\n*Recommendation:* Deploy auth behind feature flag',
    );
    expect(message!.blocks[2].elements[0].text).toMatch(
      /^Detected by: developer_123 \| Time: \d{4}-\d\d-\d\d \d\d:\d\d$/,
    );
    expect(dispatcher.monitor.getWebhookStats('slack')).toMatchObject({ successCount: 1, failedCount: 0 });
  });

  it('threads related events: a resolved alert replies under the alert it clears', async () => {
    const { dispatcher: d } = start('bot');
    const fired = sampleEvent('alert', {}, { eventId: 'evt_a1' });
    const other = sampleEvent('alert', { title: 'Disk almost full' }, { eventId: 'evt_a2' });
    const resolved = sampleEvent('alert', { resolved: true, message: 'back to 0.4%' }, { eventId: 'evt_a3' });
    await deliverAll(d, fired, other, resolved);
    const [first, second, third] = fake.messages;
    expect(first!.thread_ts).toBeUndefined();
    expect(second!.thread_ts).toBeUndefined();
    expect(third!.thread_ts).toBe(first!.ts);
    expect(third!.blocks[0].text.text).toBe('✅ Resolved: Error rate above 5% on checkout');
  });

  it('threads on data.dedup_key or a custom threadKey, and not at all with threadKey: false', async () => {
    const { dispatcher: d } = start('bot');
    const a = sampleEvent('bug_detected', { dedup_key: 'leak-42' } as never, { eventId: 'evt_b1' });
    const b = sampleEvent('security_vulnerability', { dedup_key: 'leak-42' } as never, { eventId: 'evt_b2' });
    await deliverAll(d, a, b);
    expect(fake.messages[1]!.thread_ts).toBe(fake.messages[0]!.ts);
    await d.close();

    const custom = start('bot', { threadKey: (e) => e.user_id });
    await deliverAll(custom.dispatcher, sampleEvent('error'), sampleEvent('completion'));
    expect(fake.messages[3]!.thread_ts).toBe(fake.messages[2]!.ts);
    await custom.dispatcher.close();

    // Reviews of one pull request share the default thread key; they belong to no incident.
    const off = start('bot', { threadKey: false });
    await deliverAll(
      off.dispatcher,
      sampleEvent('code_review_complete', {}, { eventId: 'evt_r1' }),
      sampleEvent('code_review_complete', {}, { eventId: 'evt_r2' }),
    );
    expect(fake.messages.slice(4).map((m) => m.thread_ts)).toEqual([undefined, undefined]);
  });

  it('starts a new thread when the old parent is gone (thread_not_found is retried)', async () => {
    // Incidents find their message by reference (test/lifecycle.test.ts); thread keys are for the rest.
    const { dispatcher: d, stats } = start('bot');
    await deliverAll(d, sampleEvent('code_review_complete', {}, { eventId: 'evt_r1' }));
    fake.forgetThreads();
    await deliverAll(d, sampleEvent('code_review_complete', {}, { eventId: 'evt_r2' }));
    expect(stats()).toMatchObject({ successCount: 2, retriedCount: 1, failedCount: 0 });
    expect(fake.server.requests[1]!.form().get('thread_ts')).toBe(fake.messages[0]!.ts);
    expect(fake.messages[1]!.thread_ts).toBeUndefined();
  });

  it('makes exactly one request per attempt: the SDK retries nothing itself', async () => {
    const { dispatcher: d, stats } = start('bot', { retryPolicy: { ...FAST, maxRetries: 0 } });
    fake.server.respondNext(fake.failures.bot.server_error, fake.failures.bot.rate_limited(30));
    await deliverAll(d, sampleEvent('error', {}, { eventId: 'evt_1' }));
    await deliverAll(d, sampleEvent('error', {}, { eventId: 'evt_2' }));
    expect(fake.server.requests.map((r) => r.status)).toEqual([503, 429]);
    expect(stats()).toMatchObject({ totalSent: 2, failedCount: 2 });
    expect((failures[0] as WebhookDeliveryError).status).toBe(503);
    expect(failures[1]!.message).toBe(
      `[slack] HTTP 429 from Slack chat.postMessage at ${fake.url} (ratelimited) (retry after 30s)`,
    );
    expect((failures[1] as WebhookDeliveryError).retryAfterMs).toBe(30_000);
  });

  it('retries ok:false rate_limited after its Retry-After', async () => {
    const { dispatcher: d, stats } = start('bot');
    fake.server.respondNext({ headers: { 'retry-after': '1' }, body: { ok: false, error: 'rate_limited' } });
    await deliverAll(d, sampleEvent('alert'));
    const [limited, retried] = fake.server.requests;
    expect(retried!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(stats()).toMatchObject({ successCount: 1, retriedCount: 1 });
    expect(stats().lastError).toBe(
      `[slack] ok:false from Slack chat.postMessage at ${fake.url} (rate_limited) (retry after 1s)`,
    );
  });

  it('does not retry channel_not_found or invalid_auth, and says what to fix', async () => {
    const wrongChannel = start('bot', { channel: '#nope' });
    await deliverAll(wrongChannel.dispatcher, sampleEvent('alert'));
    await wrongChannel.dispatcher.close();
    const wrongToken = start('bot', { token: 'xoxb-wrong-token-9999' });
    await deliverAll(wrongToken.dispatcher, sampleEvent('alert'));

    expect(fake.server.requests).toHaveLength(2);
    const [channel, auth] = failures as WebhookDeliveryError[];
    // ok:false is Slack's answer in an HTTP 200, not an HTTP error: no status, Slack's verdict.
    expect(channel).toMatchObject({ retryable: false, code: 'channel_not_found', status: undefined });
    expect(channel!.message).toBe(
      `[slack] ok:false from Slack chat.postMessage at ${fake.url} (channel_not_found): check option 'channel' and that the app can see that channel`,
    );
    expect(auth).toMatchObject({ retryable: false, code: 'invalid_auth' });
    expect(auth!.message).toBe(
      `[slack] ok:false from Slack chat.postMessage at ${fake.url} (invalid_auth): check option 'token'`,
    );
    expect(inspect(auth, { depth: 12 })).not.toContain('xoxb-wrong-token-9999');
  });

  it('passes the attempt signal to the request: a hung call ends when core aborts it', async () => {
    const slack = new SlackWebhook({
      token: TOKEN,
      channel: '#ai-alerts',
      baseUrl: fake.url,
      allowPrivateNetwork: true,
    });
    fake.server.respondNext({ hang: true });
    const started = Date.now();
    const error = (await slack
      .deliver(sampleEvent('alert'), context(AbortSignal.timeout(150)))
      .catch((e) => e)) as Error;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(isWebhookDeliveryError(error)).toBe(true);
    expect(error.message).toBe(
      `[slack] request to Slack chat.postMessage at ${fake.url} failed: The operation was aborted due to timeout`,
    );
  });

  it('reports an unreachable API without the token', async () => {
    const slack = new SlackWebhook({
      token: TOKEN,
      channel: '#ai-alerts',
      baseUrl: fake.url,
      allowPrivateNetwork: true,
    });
    await fake.server.close();
    const error = (await slack
      .deliver(sampleEvent('alert'), context(new AbortController().signal))
      .catch((e) => e)) as WebhookDeliveryError;
    expect(error).toMatchObject({ retryable: true, code: 'ECONNREFUSED' });
    expect(error.message).toMatch(
      /^\[slack\] request to Slack chat\.postMessage at http:\/\/127\.0\.0\.1:\d+ failed: connect ECONNREFUSED .*\(ECONNREFUSED\)$/,
    );
    expect(inspect(error, { depth: 12 })).not.toContain(TOKEN);
    fake = await startSlackFake();
  });

  it('returns the message ts as the receipt id', async () => {
    const slack = new SlackWebhook({
      token: TOKEN,
      channel: 'C0AIALERTS',
      baseUrl: `${fake.url}/api/`,
      allowPrivateNetwork: true,
    });
    const receipt = await slack.deliver(sampleEvent('alert'), context(new AbortController().signal));
    expect(receipt).toEqual({
      status: 200,
      id: fake.messages[0]!.ts,
      detail: { mode: 'bot_token', channel: 'C0AIALERTS' },
    });
  });
});

describe('incoming webhook mode', () => {
  it("posts the seed's payload shape as JSON to the webhook URL", async () => {
    const { dispatcher: d } = start('webhook', { username: 'Empathy Bot', iconEmoji: ':robot_face:' });
    const event = sampleEvent('prediction');
    await deliverAll(d, event);
    const [request] = fake.server.requests;
    expect(request!.path).toBe(WEBHOOK_PATH);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.json()).toEqual({
      channel: '#ai-alerts',
      username: 'Empathy Bot',
      icon_emoji: ':robot_face:',
      ...formatMessage(event),
    });
  });

  it('does not retry a removed webhook (404 no_service) and never shows its path', async () => {
    const { dispatcher: d, stats } = start('webhook', {
      webhookUrl: `${fake.url}/services/T0FAKE/B0FAKE/R3m0v3dS3cr3t`,
    });
    await deliverAll(d, sampleEvent('alert'));
    expect(stats()).toMatchObject({ totalSent: 1, failedCount: 1 });
    const [error] = failures as WebhookDeliveryError[];
    expect(error).toMatchObject({ status: 404, code: 'no_service', retryable: false });
    expect(error!.message).toBe(
      `[slack] HTTP 404 from ${fake.url} (no_service): check option 'webhookUrl': Slack does not know this webhook (removed or disabled?)`,
    );
    const everything = [
      inspect(error, { depth: 12 }),
      JSON.stringify(stats()),
      JSON.stringify(await d.deadLetters.list()),
    ].join('\n');
    expect(everything).not.toContain('R3m0v3dS3cr3t');
  });

  it('reads Retry-After from a 429 although @slack/webhook drops the headers', async () => {
    const slack = new SlackWebhook({ webhookUrl: fake.webhookUrl, allowPrivateNetwork: true });
    fake.server.respondNext(fake.failures.webhook.rate_limited(7));
    const error = (await slack
      .deliver(sampleEvent('alert'), context(new AbortController().signal))
      .catch((e) => e)) as WebhookDeliveryError;
    expect(error).toMatchObject({ status: 429, retryAfterMs: 7000, code: 'rate_limited' });
    expect(error.message).toBe(`[slack] HTTP 429 from ${fake.url} (rate_limited) (retry after 7s)`);
  });

  it('passes the attempt signal to the request', async () => {
    const slack = new SlackWebhook({ webhookUrl: fake.webhookUrl, allowPrivateNetwork: true });
    fake.server.respondNext({ hang: true });
    const error = (await slack
      .deliver(sampleEvent('alert'), context(AbortSignal.timeout(150)))
      .catch((e) => e)) as Error;
    expect(error.message).toBe(
      `[slack] request to ${fake.url} failed: The operation was aborted due to timeout`,
    );
    expect(inspect(error, { depth: 12 })).not.toContain(WEBHOOK_SECRET);
  });
});

describe('format', () => {
  it("sends the user's message, cut to Slack's limits, in both modes", async () => {
    const long = 'x'.repeat(5000);
    const format = (event: EmpathyEvent, defaults: SlackPayload): SlackPayload => ({
      ...defaults,
      text: `${event.event_type}: custom`,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: long } },
        { type: 'section', text: { type: 'mrkdwn', text: `bidi\u202E ${long}` } },
        { type: 'divider' },
        ...defaults.blocks,
      ],
    });
    for (const mode of ['bot', 'webhook'] as const) {
      const { dispatcher: d, stats } = start(mode, { format });
      await deliverAll(d, sampleEvent('alert'));
      expect(stats()).toMatchObject({ successCount: 1, failedCount: 0 });
      await d.close();
      dispatcher = undefined;
    }
    expect(fake.messages).toHaveLength(2);
    for (const message of fake.messages) {
      expect(message.text).toBe('alert: custom');
      expect(message.blocks[0].text.text).toHaveLength(150);
      expect(message.blocks[1].text.text).toHaveLength(3000);
      expect(message.blocks[1].text.text).toMatch(/^bidi x+…$/);
      expect(message.blocks[2]).toEqual({ type: 'divider' });
    }
  });

  it('dead-letters a message Slack could not take, naming the problem, without a request', async () => {
    const { dispatcher: d, stats } = start('bot', {
      format: (_event, defaults) => ({ ...defaults, text: '', blocks: 'none' as never }),
    });
    await deliverAll(d, sampleEvent('alert'));
    expect(stats()).toMatchObject({ failedCount: 1, retriedCount: 0 });
    expect(failures[0]).toMatchObject({ code: 'EFORMAT', retryable: false });
    expect(failures[0]!.message).toBe(
      "[slack] the payload returned by 'format' cannot be sent: 'blocks' must be an array",
    );
    expect(fake.server.requests).toHaveLength(0);
  });
});

describe('options', () => {
  const configError = (options: unknown): Error => {
    try {
      new SlackWebhook(options as SlackWebhookOptions);
    } catch (error) {
      expect(isWebhookConfigError(error)).toBe(true);
      return error as Error;
    }
    throw new Error('expected a WebhookConfigError');
  };

  it('has Slack defaults: name, the seed events, one message per second, one at a time', () => {
    const slack = new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/services/T1/B1/abcdef' });
    expect(slack).toMatchObject({
      name: 'slack',
      mode: 'incoming_webhook',
      events: ['prediction', 'alert', 'error'],
      rateLimit: { maxRequestsPerMinute: 60 },
      concurrency: 1,
    });
    expect(inspect(slack, { depth: 5 })).not.toContain('abcdef');
  });

  it('prints no secret: console.log shows the target (an origin or the API), never the URL or token', () => {
    const hook = new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/services/T1/B1/S3cr3tP4th' });
    const bot = new SlackWebhook({ token: TOKEN, channel: '#ai-alerts' });
    expect(hook.target).toBe('https://hooks.slack.com');
    expect(bot.target).toBe('Slack chat.postMessage');
    const printed = inspect([hook, bot], { depth: 12, showHidden: true });
    expect(printed).not.toContain('S3cr3tP4th');
    expect(printed).not.toContain(TOKEN);
    expect(JSON.stringify([hook, bot])).not.toMatch(/S3cr3tP4th|fAkEs3cr3t/);
  });

  it('refuses private and loopback endpoints unless allowPrivateNetwork', () => {
    expect(configError({ webhookUrl: 'https://169.254.169.254/services/T/B/x' }).message).toBe(
      "[slack] option 'webhookUrl' points at a link-local / cloud metadata address (https://169.254.169.254); set allowPrivateNetwork: true to allow it",
    );
    expect(configError({ token: TOKEN, channel: '#a', baseUrl: 'https://localhost:8443' }).message).toMatch(
      /option 'baseUrl' points at a loopback address .*allowPrivateNetwork: true/,
    );
    expect(
      new SlackWebhook({
        token: TOKEN,
        channel: '#a',
        baseUrl: 'http://127.0.0.1:9',
        allowPrivateNetwork: true,
      }).target,
    ).toBe('Slack chat.postMessage at http://127.0.0.1:9');
  });

  it('needs exactly one of webhookUrl and token', () => {
    expect(configError({}).message).toBe(
      "[slack] needs option 'webhookUrl' (incoming webhook) or options 'token' and 'channel' (bot token)",
    );
    expect(
      configError({ webhookUrl: 'https://hooks.slack.com/x', token: TOKEN, channel: '#a' }).message,
    ).toMatch(/options 'webhookUrl' and 'token' exclude each other/);
  });

  it('needs a channel with a token', () => {
    expect(configError({ token: TOKEN, name: 'alerts' }).message).toBe(
      "[alerts] option 'channel' is required with 'token': the channel ID or #name to post to",
    );
  });

  it('rejects a bad webhook URL without echoing it', () => {
    const secret = 'hooks.slack.com/services/T1/B1/S3CR3Tvalue';
    const notUrl = configError({ webhookUrl: secret });
    expect(notUrl.message).toBe("[slack] option 'webhookUrl' is not a valid URL");
    const plain = configError({ webhookUrl: `http://${secret}` });
    expect(plain.message).toBe(
      "[slack] option 'webhookUrl' must be an https URL (got http://hooks.slack.com); plain http is allowed only with allowPrivateNetwork: true",
    );
    expect(inspect([notUrl, plain], { depth: 12 })).not.toContain('S3CR3T');
  });

  it('rejects bad tokens, emoji, channels and mode-specific options', () => {
    expect(configError({ token: '', channel: '#a' }).message).toMatch(/option 'token' must be a bot token/);
    expect(configError({ token: 'xoxb-has space', channel: '#a' }).message).not.toContain('has space');
    expect(configError({ webhookUrl: 'https://hooks.slack.com/x', iconEmoji: 'robot' }).message).toBe(
      `[slack] option 'iconEmoji' must be an emoji code like :robot_face: (got "robot")`,
    );
    expect(configError({ token: TOKEN, channel: 'two words' }).message).toMatch(/option 'channel' must be/);
    expect(configError({ webhookUrl: 'https://hooks.slack.com/x', threadKey: () => 'k' }).message).toMatch(
      /option 'threadKey' applies to bot-token mode only/,
    );
    expect(configError({ token: TOKEN, channel: '#a', threadKey: 'yes' }).message).toMatch(
      /option 'threadKey' must be/,
    );
    expect(configError({ token: TOKEN, channel: '#a', baseUrl: 'ftp://x' }).message).toMatch(
      /option 'baseUrl' must be an https URL/,
    );
  });

  it('validates the common options', () => {
    expect(configError({ webhookUrl: 'https://hooks.slack.com/x', events: ['predicton'] }).message).toMatch(
      /unknown event type 'predicton' \(did you mean 'prediction'\?\)/,
    );
    expect(
      configError({ webhookUrl: 'https://hooks.slack.com/x', retryPolicy: { maxRetries: -1 } }).message,
    ).toMatch(/option 'retryPolicy.maxRetries'/);
    expect(configError({ webhookUrl: 'https://hooks.slack.com/x', concurrency: 0 }).message).toMatch(
      /option 'concurrency'/,
    );
  });

  it('makes no request when constructed', async () => {
    new SlackWebhook({ token: TOKEN, channel: '#ai-alerts', baseUrl: fake.url, allowPrivateNetwork: true });
    new SlackWebhook({ webhookUrl: fake.webhookUrl, allowPrivateNetwork: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.server.requests).toHaveLength(0);
  });
});
