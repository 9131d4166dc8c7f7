import { PayloadSigner, signPayload } from '@empathy/webhooks-core';
import { sampleEvent } from '@empathy/webhooks-core/fakes';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { captureIO } from './helpers.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Starts `listen` in-process; returns its URL, output and a stop function resolving with the exit code. */
async function startListen(args: string[], env: Record<string, string> = {}, tty = false) {
  const cap = captureIO(env, { tty });
  const done = runCli(['listen', '--port', '0', ...args], cap.io);
  const [, url] = await cap.waitFor(/Listening on (http:\/\/\S+?)\/? —/);
  return {
    ...cap,
    url: new URL(url!).origin,
    stopAndWait: async () => {
      cap.stop();
      return done;
    },
  };
}

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

const signed = (body: string, id: string, secret = SECRET) => ({
  ...new PayloadSigner(secret).sign(body, id),
});

describe('listen', () => {
  let stop: (() => Promise<number>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('verifies both signatures, answers 200 and prints one line per event; Ctrl-C stops it (exit 0)', async () => {
    const l = await startListen(['--secret-env', 'WEBHOOK_SECRET'], { WEBHOOK_SECRET: SECRET });
    const event = sampleEvent('security_vulnerability', {}, { eventId: 'evt_listen_1' });
    const body = JSON.stringify(event);
    const res = await post(`${l.url}/webhooks/empathy`, body, signed(body, event.event_id));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, duplicate: false });
    expect(l.stdout()).toMatch(
      /Listening on http:\/\/127\.0\.0\.1:\d+\/ — verifying X-Signature and Standard Webhooks/,
    );
    expect(l.stdout()).toMatch(
      /\d\d:\d\d:\d\d {2}200 {2}security_vulnerability +evt_listen_1 +developer_123 +critical +sig ok\n +🔒 Security vulnerability: SQL injection — User input concatenated directly into SQL query\n/,
    );
    expect(await l.stopAndWait()).toBe(0);
    expect(l.stdout()).toMatch(/Stopped after 1 request \(1 event accepted\)\./);
  });

  it('accepts a request signed by the standardwebhooks library (Standard Webhooks only)', async () => {
    const l = await startListen(['--secret', SECRET]);
    stop = l.stopAndWait;
    const event = sampleEvent('alert', {}, { eventId: 'msg_std_1' });
    const body = JSON.stringify(event);
    const now = new Date();
    const signature = new Webhook(SECRET).sign('msg_std_1', now, body);
    const headers = {
      'webhook-id': 'msg_std_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    };
    expect((await post(l.url, body, headers)).status).toBe(200);
    expect(l.stdout()).toMatch(/200 {2}alert +msg_std_1 .* sig ok/);
  });

  it('answers 401 with the reason for a wrong secret, a missing signature, an old timestamp', async () => {
    const l = await startListen(['--secret', SECRET, '--tolerance', '60']);
    stop = l.stopAndWait;
    const event = sampleEvent('prediction');
    const body = JSON.stringify(event);

    const wrong = await post(
      l.url,
      body,
      signed(body, event.event_id, 'whsec_b3RoZXJzZWNyZXRvdGhlcnNlY3JldA=='),
    );
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: string }).error).toMatch(/X-Signature does not match/);

    const missing = await post(l.url, body);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: string }).error).toMatch(/missing signature/);

    const old = new PayloadSigner(SECRET).sign(body, event.event_id, Math.floor(Date.now() / 1000) - 120);
    const { 'x-signature': _, ...standardOnly } = old;
    const stale = await post(l.url, body, standardOnly);
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: string }).error).toBe(
      'Standard Webhooks signature: webhook-timestamp is too old',
    );

    expect(l.stdout()).toMatch(/401 {2}POST \/ {2}signature failed: X-Signature does not match/);
    expect(l.stdout()).not.toContain(SECRET);
  });

  it('answers 400 to a body that is not JSON (after the signature verified), 404 and 405 elsewhere', async () => {
    const l = await startListen(['--secret', SECRET, '--path', '/hooks']);
    stop = l.stopAndWait;
    const body = 'this is not json';
    const bad = await post(`${l.url}/hooks`, body, { 'x-signature': signPayload(body, SECRET) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'body is not JSON' });
    expect((await post(`${l.url}/elsewhere`, '{}')).status).toBe(404);
    expect((await fetch(`${l.url}/hooks`)).status).toBe(405);
    expect(l.stdout()).toMatch(/400 {2}POST \/hooks {2}body is not JSON/);
    expect(l.stdout()).toMatch(
      /404 {2}POST \/elsewhere {2}not listening on \/elsewhere \(listening on \/hooks\)/,
    );
  });

  it('marks a repeated event id (at-least-once delivery) and still answers 200', async () => {
    const l = await startListen(['--json'], {});
    stop = l.stopAndWait;
    const event = sampleEvent('test_failure', {}, { eventId: 'evt_twice' });
    const body = JSON.stringify(event);
    expect(await (await post(l.url, body)).json()).toEqual({ ok: true, duplicate: false });
    expect(await (await post(l.url, body)).json()).toEqual({ ok: true, duplicate: true });
    const lines = l
      .stdout()
      .trim()
      .split('\n')
      .map((x) => JSON.parse(x));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      status: 200,
      signature: 'unsigned',
      event_type: 'test_failure',
      event_id: 'evt_twice',
      deliveries: 1,
      duplicate: false,
      summary: '❌ Test failed: test_login_rejects_expired_token — AssertionError: expected 401, got 200',
    });
    expect(lines[1]).toMatchObject({ deliveries: 2, duplicate: true });
    expect(lines[1].event).toEqual(event);
    // With --json, stdout is JSON lines only: the banner went to stderr.
    expect(l.stderr()).toMatch(/signatures not checked/);
  });

  it('uses colours on a TTY only, and not with NO_COLOR', async () => {
    const event = JSON.stringify(sampleEvent('alert'));
    for (const [env, tty, coloured] of [
      [{}, true, true],
      [{ NO_COLOR: '1' }, true, false],
      [{}, false, false],
    ] as const) {
      const l = await startListen([], { ...env }, tty);
      await post(l.url, event);
      await l.waitFor(/Error rate above 5%/);
      expect(l.stdout().includes('\u001b[')).toBe(coloured);
      await l.stopAndWait();
    }
  });

  it.each([
    // (The CLI blanks out --secret values wherever they appear: 'whsec_' in the message too.)
    ['whsec_!!!!', /a (whsec_|\*\*\*) signing secret must be followed by base64/],
    ['whsec_', /a (whsec_|\*\*\*) signing secret carries no key/],
    ['AAAA', /only zero bytes/],
  ])(
    'refuses to start with the unusable secret %j (exit 2), naming the flag, never the value',
    async (secret, reason) => {
      for (const [args, env, source] of [
        [
          ['--secret-env', 'WEBHOOK_SECRET'],
          { WEBHOOK_SECRET: secret },
          'the secret in WEBHOOK_SECRET (--secret-env)',
        ],
        [['--secret', secret], {}, 'option --secret'],
      ] as const) {
        const cap = captureIO(env);
        const code = await runCli(['listen', '--port', '0', ...args], cap.io);
        expect(code).toBe(2);
        expect(cap.stderr()).toContain(`empathy-webhooks: ${source} cannot be used to verify signatures: `);
        expect(cap.stderr()).toMatch(reason);
        expect(cap.stdout() + cap.stderr()).not.toMatch(/Listening on/);
        if (secret.length > 6) expect(cap.stderr()).not.toContain(secret);
      }
    },
  );

  it('answers 401 to a garbage signature, whatever else fails (never "signature": "ok")', async () => {
    const l = await startListen(['--secret', SECRET, '--json']);
    stop = l.stopAndWait;
    const event = sampleEvent('alert');
    const body = JSON.stringify(event);
    const garbage = await post(l.url, body, {
      'webhook-id': event.event_id,
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': 'v1,garbage',
    });
    expect(garbage.status).toBe(401);
    const notJson = 'not json at all';
    const unsignedGarbage = await post(l.url, notJson, { 'x-signature': 'f'.repeat(64) });
    expect(unsignedGarbage.status).toBe(401);
    const lines = l
      .stdout()
      .trim()
      .split('\n')
      .map((x) => JSON.parse(x));
    expect(lines.map((x) => [x.status, x.signature])).toEqual([
      [401, 'failed'],
      [401, 'failed'],
    ]);
  });

  it('answers 413 to a body over 5 MiB', async () => {
    const l = await startListen(['--secret', SECRET]);
    stop = l.stopAndWait;
    const res = await post(l.url, 'x'.repeat(5 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
    expect(l.stdout()).toMatch(/413 {2}POST \/ {2}body larger than 5242880 bytes/);
  });

  it('reports a port in use (exit 1)', async () => {
    const first = await startListen([]);
    stop = first.stopAndWait;
    const port = new URL(first.url).port;
    const cap = captureIO();
    expect(await runCli(['listen', '--port', port], cap.io)).toBe(1);
    expect(cap.stderr()).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use; pick another with --port`));
  });
});
