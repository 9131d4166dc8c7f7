import { hostname } from 'node:os';
import { inspect } from 'node:util';
import {
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  isWebhookConfigError,
  type WebhookDeliveryError,
} from '@empathy/webhooks-core';
import { hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { EmailWebhook, type EmailWebhookOptions } from '../src/index.js';
import { type SmtpPeer, startSmtpPeer, TEST_TLS } from './fake-smtp.js';

const PASSWORD = 'hunter2-but-longer-9d1e';
const FAST = {
  maxRetries: 2,
  initialDelaySeconds: 0.05,
  backoffMultiplier: 1,
  jitter: false,
  timeoutSeconds: 2,
};

let peer: SmtpPeer | undefined;
let dispatcher: Dispatcher | undefined;

afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
  await peer?.close();
  dispatcher = undefined;
  peer = undefined;
});

function webhook(overrides: Partial<EmailWebhookOptions> = {}): EmailWebhook {
  return new EmailWebhook({
    host: '127.0.0.1',
    port: peer!.port,
    from: 'Empathy Bot <empathy@example.com>',
    to: 'oncall@example.com',
    // The peer listens on 127.0.0.1: a private address, refused unless allowed.
    allowPrivateNetwork: true,
    events: ['*'],
    retryPolicy: FAST,
    circuitBreaker: false,
    ...overrides,
  });
}

function start(plugin: EmailWebhook): Dispatcher {
  dispatcher = new Dispatcher({ webhooks: [plugin] });
  return dispatcher;
}

async function send(plugin: EmailWebhook, ...events: EmpathyEvent[]) {
  const d = dispatcher ?? start(plugin);
  for (const event of events) await d.dispatch(event);
  await d.flush();
  return d.monitor.getWebhookStats(plugin.name);
}

const ctx = (overrides: Partial<DeliveryContext> = {}): DeliveryContext => ({
  signal: new AbortController().signal,
  attempt: 1,
  idempotencyKey: 'evt_test',
  timeoutMs: 5000,
  ...overrides,
});

describe('EmailWebhook options', () => {
  const valid: EmailWebhookOptions = {
    host: 'smtp.example.com',
    from: 'bot@example.com',
    to: 'ops@example.com',
  };
  const configError = (options: unknown): Error => {
    try {
      new EmailWebhook(options as EmailWebhookOptions);
    } catch (error) {
      expect(isWebhookConfigError(error)).toBe(true);
      return error as Error;
    }
    throw new Error('expected a WebhookConfigError');
  };

  it('names the option and the webhook', () => {
    expect(configError({ ...valid, host: '' }).message).toMatch(/^\[email\] option 'host'/);
    expect(configError({ ...valid, name: 'ops-mail', port: 70000 }).message).toMatch(
      /^\[ops-mail\] option 'port' must be an integer from 1 to 65535/,
    );
    expect(configError({ ...valid, to: [] }).message).toMatch(/option 'to' must name at least one recipient/);
    expect(configError({ ...valid, to: 'not an address' }).message).toMatch(
      /option 'to' holds an invalid address/,
    );
    expect(configError({ ...valid, cc: ['ok@example.com', { name: 'x', address: 'nope' }] }).message).toMatch(
      /option 'cc' holds an invalid address/,
    );
    expect(configError({ ...valid, from: 'a@example.com, b@example.com' }).message).toMatch(
      /option 'from' must be exactly one address/,
    );
    expect(configError({ ...valid, to: 'ops@example.com\r\nBcc: x@evil.example' }).message).toMatch(
      /option 'to' must not contain line breaks/,
    );
    expect(configError({ ...valid, socketTimeoutSeconds: 0 }).message).toMatch(
      /option 'socketTimeoutSeconds'/,
    );
    expect(configError({ ...valid, events: ['predicton'] }).message).toMatch(/did you mean 'prediction'/);
    expect(configError({ ...valid, retryPolicy: { maxRetries: -1 } }).message).toMatch(
      /option 'retryPolicy.maxRetries'/,
    );
  });

  it('never echoes a secret', () => {
    const url = configError({ ...valid, host: 'smtp://bot:s3cret-pass@smtp.example.com' });
    expect(url.message).toMatch(/option 'host' must be a host name or IP address, not a URL/);
    expect(url.message).not.toContain('s3cret-pass');
    const auth = configError({ ...valid, auth: { user: 'bot', pass: '' } });
    expect(auth.message).toMatch(/option 'auth.pass' must be a non-empty string/);
  });

  it('fills defaults: port 587 without TLS, 465 with, and the vendor defaults', () => {
    const plain = new EmailWebhook(valid);
    expect(plain).toMatchObject({
      name: 'email',
      concurrency: 2,
      rateLimit: { maxRequestsPerMinute: 60 },
      events: ['alert', 'security_vulnerability', 'compliance_violation', 'deployment_risk', 'error'],
    });
    expect(new EmailWebhook({ ...valid, port: 465 })).toBeInstanceOf(EmailWebhook);
  });

  it("refuses a private, loopback or metadata host unless allowPrivateNetwork, in CustomWebhook's words", () => {
    expect(configError({ ...valid, host: '169.254.169.254' }).message).toBe(
      "[email] option 'host' points at a link-local / cloud metadata address (169.254.169.254); set allowPrivateNetwork: true to allow it",
    );
    expect(configError({ ...valid, host: 'localhost' }).message).toMatch(
      /a loopback address .*allowPrivateNetwork/,
    );
    expect(configError({ ...valid, host: 'fd00::1' }).message).toMatch(/unique local .*allowPrivateNetwork/);
    expect(configError({ ...valid, host: '10.1.2.3' }).message).toMatch(/a private address/);
    expect(new EmailWebhook({ ...valid, host: '10.1.2.3', allowPrivateNetwork: true }).target).toBe(
      '10.1.2.3:587',
    );
    expect(new EmailWebhook({ ...valid, host: 'fd00::1', port: 25, allowPrivateNetwork: true }).target).toBe(
      '[fd00::1]:25',
    );
  });

  it('prints no secret: console.log shows the server, never the password', () => {
    const plugin = new EmailWebhook({ ...valid, auth: { user: 'bot', pass: 'Pr1nt3d-N3v3r-pass' } });
    expect(plugin.target).toBe('smtp.example.com:587');
    expect(inspect(plugin, { depth: 12, showHidden: true })).not.toContain('Pr1nt3d-N3v3r-pass');
    expect(JSON.stringify(plugin)).not.toContain('Pr1nt3d-N3v3r-pass');
  });

  it('opens no connection until the first delivery', async () => {
    peer = await startSmtpPeer();
    const plugin = webhook();
    await new Promise((r) => setTimeout(r, 50));
    expect(peer.connections).toBe(0);
    await plugin.deliver(sampleEvent('alert'), ctx());
    expect(peer.connections).toBe(1);
    await plugin.close();
  });
});

describe('EmailWebhook against a real SMTP peer', () => {
  it('sends subject, text and HTML parts, de-duplication headers and recipients', async () => {
    peer = await startSmtpPeer();
    const plugin = webhook({
      name: 'ops-email',
      to: ['Ops <ops@example.com>', 'oncall@example.com'],
      cc: { name: 'Security', address: 'security@example.com' },
      bcc: 'audit@example.com',
      replyTo: 'noreply@example.com',
    });
    const stats = await send(plugin, sampleEvent('prediction'));
    expect(stats).toMatchObject({ successCount: 1, failedCount: 0 });
    const [mail] = await peer.waitForMails(1);
    const { parsed, envelope } = mail!;

    // The subject is core's reading's title, the same as every integration's.
    expect(parsed.subject).toBe('[Empathy] 🔮 Level 4 Prediction');
    expect(parsed.text).toContain('Auth deployment may conflict with user-service v2.1');
    expect(parsed.text).toContain('Confidence: 87%');
    expect(parsed.text).toContain('Recommendation:\n  Deploy auth behind feature flag');
    expect(parsed.html).toContain('<h1 style="margin:0 0 16px;font-size:20px;">🔮 Level 4 Prediction</h1>');
    expect(parsed.html).toContain('>87%</td>');

    expect(parsed.messageId).toBe('<evt_sample_prediction.ops-email@example.com>');
    expect(parsed.headers.get('x-empathy-event-id')).toBe('evt_sample_prediction');
    expect(parsed.headers.get('x-empathy-event-type')).toBe('prediction');
    expect(parsed.headers.get('x-empathy-severity')).toBe('warning');
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(parsed.headers.has('priority')).toBe(false);

    expect(parsed.from?.value).toEqual([{ name: 'Empathy Bot', address: 'empathy@example.com' }]);
    const to = Array.isArray(parsed.to) ? parsed.to : [parsed.to];
    expect(to.flatMap((a) => a!.value.map((v) => v.address))).toEqual([
      'ops@example.com',
      'oncall@example.com',
    ]);
    const cc = Array.isArray(parsed.cc) ? parsed.cc[0] : parsed.cc;
    expect(cc?.value).toEqual([{ name: 'Security', address: 'security@example.com' }]);
    expect(parsed.replyTo?.value[0]?.address).toBe('noreply@example.com');
    // Bcc is in the envelope only, never in the headers.
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(mail!.raw).not.toContain('audit@example.com');
    expect(envelope).toEqual({
      from: 'empathy@example.com',
      to: ['ops@example.com', 'oncall@example.com', 'security@example.com', 'audit@example.com'],
    });
  });

  it('escapes hostile text in the HTML part and keeps the subject to one line', async () => {
    peer = await startSmtpPeer();
    const plugin = webhook();
    await send(plugin, hostileEvent('security_vulnerability'));
    const [mail] = await peer.waitForMails(1);
    const { parsed } = mail!;
    expect(parsed.subject).toMatch(/^\[Empathy\] 🔒 Security vulnerability: <!channel> @everyone/);
    expect(parsed.subject).not.toMatch(/[\r\n\u0000\u202E]/);
    expect(parsed.subject!.length).toBeLessThanOrEqual(160);
    expect(parsed.headers.get('priority')).toBe('high'); // from X-Priority: 1 / Importance: High
    const html = parsed.html as string;
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('href="https://evil.example');
    expect(parsed.text).not.toMatch(/[\u0000\u0007\u202E]/);
    // Long text is cut: the whole message stays small although every field held ~20,000 chars.
    expect(mail!.raw.length).toBeLessThan(60_000);
  });

  it('authenticates over STARTTLS when TLS is required', async () => {
    peer = await startSmtpPeer({ starttls: true, auth: { user: 'empathy-bot', pass: PASSWORD } });
    const plugin = webhook({
      requireTLS: true,
      tls: { ca: TEST_TLS.cert, servername: 'localhost' },
      auth: { user: 'empathy-bot', pass: PASSWORD },
    });
    const stats = await send(plugin, sampleEvent('alert'));
    expect(stats).toMatchObject({ successCount: 1 });
    const [mail] = await peer.waitForMails(1);
    expect(mail).toMatchObject({ secure: true, user: 'empathy-bot', accepted: true });
  });

  it('refuses a certificate it cannot verify (retryable, no mail sent)', async () => {
    peer = await startSmtpPeer({ starttls: true });
    const plugin = webhook({ requireTLS: true, retryPolicy: { ...FAST, maxRetries: 0 } });
    const stats = await send(plugin, sampleEvent('alert'));
    expect(stats).toMatchObject({ successCount: 0, failedCount: 1 });
    expect(stats.lastError).toMatch(/^\[email\] request to 127\.0\.0\.1:\d+ failed: self-signed certificate/);
    expect(peer.mails).toHaveLength(0);
  });

  it('treats a rejected password as permanent and never shows it', async () => {
    peer = await startSmtpPeer({ auth: { user: 'empathy-bot', pass: PASSWORD } });
    const failures: Error[] = [];
    const plugin = webhook({
      auth: { user: 'empathy-bot', pass: `${PASSWORD}-wrong` },
      onFailure: (_w, _e, error) => void failures.push(error),
    });
    const stats = await send(plugin, sampleEvent('alert'));
    expect(stats).toMatchObject({ successCount: 0, failedCount: 1, retriedCount: 0, totalSent: 1 });
    const error = failures[0] as WebhookDeliveryError;
    expect(error).toMatchObject({ name: 'WebhookDeliveryError', retryable: false, code: 'EAUTH' });
    expect(error.message).toMatch(
      /^\[email\] SMTP 535 from 127\.0\.0\.1:\d+ \(EAUTH\): AUTH PLAIN refused: 5\.7\.8 Authentication credentials invalid$/,
    );
    const wire = Buffer.from(`\u0000empathy-bot\u0000${PASSWORD}-wrong`).toString('base64');
    const everything = [
      inspect(error, { depth: 12 }),
      JSON.stringify(stats),
      JSON.stringify(await dispatcher!.deadLetters.list()),
    ].join('\n');
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(wire);
  });

  it('retries a 4xx reply with the same Message-ID, and the second attempt is delivered', async () => {
    peer = await startSmtpPeer();
    peer.failNext({ at: 'data', code: 452, message: '4.3.1 Insufficient system storage' });
    const stats = await send(webhook(), sampleEvent('deployment_risk'));
    expect(stats).toMatchObject({ successCount: 1, retriedCount: 1, totalSent: 2 });
    expect(stats.lastError).toMatch(
      /^\[email\] SMTP 452 from 127\.0\.0\.1:\d+ \(EMESSAGE\): DATA refused: 4\.3\.1 Insufficient system storage$/,
    );
    const mails = await peer.waitForMails(2);
    expect(mails.map((m) => m.accepted)).toEqual([false, true]);
    // A deployment risk is a condition: its first mail opens the incident's thread.
    const ids = new Set(mails.map((m) => m.parsed.messageId));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(
      /^<incident-[0-9a-f]{16}-1764081000000-evt_sample_deployment_risk\.email@example\.com>$/,
    );
  });

  it('does not retry a 5xx reply: one attempt, then the dead letters', async () => {
    peer = await startSmtpPeer();
    peer.failNext({ at: 'mail', code: 553, message: '5.7.1 Sender address rejected: not owned by user' });
    const stats = await send(webhook(), sampleEvent('error'));
    expect(stats).toMatchObject({ successCount: 0, failedCount: 1, retriedCount: 0, totalSent: 1 });
    expect(peer.transactions).toHaveLength(1);
    const [letter] = await dispatcher!.deadLetters.list();
    expect(letter!.error).toMatchObject({ name: 'WebhookDeliveryError', code: 'EENVELOPE' });
    expect(letter!.error.message).toMatch(
      /^\[email\] SMTP 553 from 127\.0\.0\.1:\d+ \(EENVELOPE\): MAIL FROM refused: 5\.7\.1 Sender address rejected/,
    );
  });

  it('delivers to the recipients the server accepts and reports the ones it refused', async () => {
    peer = await startSmtpPeer();
    peer.rejectRecipient('gone@example.com');
    const plugin = webhook({ to: ['ops@example.com', 'gone@example.com'] });
    const receipt = await plugin.deliver(sampleEvent('alert'), ctx());
    expect(receipt).toMatchObject({
      id: '<evt_sample_alert.email@example.com>',
      detail: { accepted: ['ops@example.com'], rejected: ['gone@example.com'] },
    });
    expect(receipt.detail?.response).toMatch(/^250 /);
    await plugin.close();
  });

  it('reuses pooled connections, at most `concurrency` of them', async () => {
    peer = await startSmtpPeer();
    const plugin = webhook({ concurrency: 2 });
    const events = ['alert', 'error', 'prediction', 'test_failure', 'completion', 'phi_access'] as const;
    const stats = await send(plugin, ...events.map((type) => sampleEvent(type)));
    expect(stats).toMatchObject({ successCount: 6 });
    expect(peer.mails).toHaveLength(6);
    expect(peer.connections).toBeGreaterThanOrEqual(1);
    expect(peer.connections).toBeLessThanOrEqual(2);
  });

  it('leaves a dropped pooled connection to core: the retry is counted, not hidden in the pool', async () => {
    peer = await startSmtpPeer();
    const plugin = webhook({ concurrency: 1 });
    expect(await send(plugin, sampleEvent('alert'))).toMatchObject({ successCount: 1, retriedCount: 0 });
    peer.failNext({ disconnect: true });
    const stats = await send(plugin, sampleEvent('error'));
    expect(stats).toMatchObject({ successCount: 2, retriedCount: 1 });
    expect(stats.lastError).toMatch(/ECONNECTION/);
  });

  it('aborts a stalled attempt when core times it out, and closes that connection', async () => {
    peer = await startSmtpPeer();
    peer.failNext({ hang: true });
    const plugin = webhook({ retryPolicy: { ...FAST, timeoutSeconds: 0.3 } });
    const stats = await send(plugin, sampleEvent('alert'));
    expect(stats).toMatchObject({ successCount: 1, retriedCount: 1 });
    expect(stats.lastError).toMatch(/timed out after 300 ms/);
    expect(peer.connections).toBe(2);
  });

  it('refuses a name that resolves to a private address before connecting (permanent)', async () => {
    peer = await startSmtpPeer();
    const failures: Error[] = [];
    // This machine's name resolves to a private or loopback address (the contract suite checks).
    const plugin = webhook({
      host: hostname(),
      allowPrivateNetwork: false,
      onFailure: (_w, _e, error) => void failures.push(error),
    });
    const stats = await send(plugin, sampleEvent('alert'));
    expect(stats).toMatchObject({ successCount: 0, failedCount: 1, retriedCount: 0 });
    expect(failures[0]).toMatchObject({ code: 'ESSRFBLOCKED', retryable: false });
    expect(failures[0]!.message).toMatch(/refused to connect to .*set allowPrivateNetwork: true to allow it/);
    expect(peer.connections).toBe(0);
  });

  it('verifies TLS against the host name although it dials the address itself', async () => {
    peer = await startSmtpPeer({ starttls: true, auth: { user: 'empathy-bot', pass: PASSWORD } });
    const plugin = webhook({
      host: 'localhost',
      requireTLS: true,
      tls: { ca: TEST_TLS.cert },
      auth: { user: 'empathy-bot', pass: PASSWORD },
    });
    expect(await send(plugin, sampleEvent('alert'))).toMatchObject({ successCount: 1 });
    expect((await peer.waitForMails(1))[0]).toMatchObject({ secure: true, user: 'empathy-bot' });
  });

  it('drops a server whose reply to DATA never ends, with the connection, and goes on', async () => {
    peer = await startSmtpPeer();
    peer.failNext({ stream: 'endless' });
    const stats = await send(webhook({ retryPolicy: { ...FAST, maxRetries: 1 } }), sampleEvent('alert'));
    expect(stats).toMatchObject({ successCount: 1, retriedCount: 1 });
    expect(stats.lastError).toMatch(/^\[email\] request to 127\.0\.0\.1:\d+ failed: .*\(EPROTOCOL\)$/);
    await expect.poll(() => peer!.transactions[0]!.closedAt, { timeout: 5000 }).toBeDefined();
  });

  it("cuts a server that trickles its reply at the attempt's deadline, closing that connection", async () => {
    peer = await startSmtpPeer();
    peer.failNext({ stream: 'trickle' });
    const stats = await send(
      webhook({ retryPolicy: { ...FAST, maxRetries: 1, timeoutSeconds: 0.5 } }),
      sampleEvent('alert'),
    );
    expect(stats).toMatchObject({ successCount: 1, retriedCount: 1 });
    expect(stats.lastError).toMatch(/timed out after 500 ms/);
    await expect.poll(() => peer!.transactions[0]!.closedAt, { timeout: 5000 }).toBeDefined();
    expect(peer.connections).toBe(2);
  });

  it("sends what the user's format returns, within email's limits", async () => {
    peer = await startSmtpPeer();
    const plugin = webhook({
      format: (event, defaults) => ({
        ...defaults,
        subject: `[${event.severity ?? 'info'}]\r\n${defaults.subject}`,
        html: '',
      }),
    });
    expect(await send(plugin, sampleEvent('alert'))).toMatchObject({ successCount: 1 });
    const [mail] = await peer.waitForMails(1);
    expect(mail!.parsed.subject).toBe('[high] [Empathy] 🚨 Error rate above 5% on checkout');
    expect(mail!.parsed.html).toBe(false);
    expect(mail!.parsed.text).toContain('checkout-api 5xx rate is 7.2%');
  });

  it('reports a refused connection as retryable', async () => {
    peer = await startSmtpPeer();
    const port = peer.port;
    await peer.close();
    peer = undefined;
    const plugin = new EmailWebhook({
      host: '127.0.0.1',
      port,
      allowPrivateNetwork: true,
      from: 'bot@example.com',
      to: 'ops@example.com',
    });
    const error = await plugin.deliver(sampleEvent('alert'), ctx()).catch((e: WebhookDeliveryError) => e);
    expect(error).toMatchObject({ name: 'WebhookDeliveryError', retryable: true, status: undefined });
    expect((error as Error).message).toMatch(
      /^\[email\] request to 127\.0\.0\.1:\d+ failed: connect ECONNREFUSED .*\(ECONNREFUSED\)$/,
    );
    await plugin.close();
  });
});
