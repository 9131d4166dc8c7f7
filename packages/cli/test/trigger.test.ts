import { lookup } from 'node:dns/promises';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyStandardWebhook, verifyWebhookSignature } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer } from '@empathy/webhooks-core/fakes';
import { privateAddressReason } from '@empathy/webhooks-core/kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { captureIO } from './helpers.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const FAST = ['--allow-private-network', '--retry-delay', '0.05'];

describe('trigger', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('sends a signed sample event and prints the delivery and the stats (exit 0)', async () => {
    server = await createFakeServer();
    const cap = captureIO({ WEBHOOK_SECRET: SECRET });
    const code = await runCli(
      [
        'trigger',
        `${server.url}/hooks/empathy?token=abc123def456`,
        ...FAST,
        '--secret-env',
        'WEBHOOK_SECRET',
      ],
      cap.io,
    );
    expect(code).toBe(0);
    const [request] = server.requests;
    const event = request!.json();
    expect(request!.path).toBe('/hooks/empathy');
    expect(event).toMatchObject({
      event_type: 'prediction',
      user_id: 'developer_123',
      severity: 'warning',
      data: { prediction: 'Auth deployment may conflict with user-service v2.1', confidence: 0.87 },
    });
    expect(event.event_id).toMatch(/^evt_/);
    expect(verifyWebhookSignature(request!.body, request!.headers['x-signature'] as string, SECRET)).toBe(
      true,
    );
    expect(verifyStandardWebhook(request!.body, request!.headers, SECRET)).toEqual(event);
    const out = cap.stdout();
    expect(out).toMatch(
      new RegExp(`Sending 1 prediction event to ${server.url} as 'custom:127.0.0.1:\\d+' \\(signed`),
    );
    expect(out).toMatch(new RegExp(`delivered\\s+prediction\\s+${event.event_id}\\s+attempt 1\\s+HTTP 200`));
    expect(out).toMatch(/1\/1 delivered · 0 dead · 1 attempt \(0 retried\)/);
    // The URL's path and query may be credentials: only the origin is printed.
    expect(out).not.toContain('abc123def456');
    expect(out).not.toContain('/hooks/empathy');
  });

  it('shows a retry after a 503 and delivers on the next attempt', async () => {
    server = await createFakeServer();
    server.respondNext({ status: 503, body: 'upstream unavailable' });
    const cap = captureIO();
    expect(await runCli(['trigger', server.url, ...FAST, '--event', 'alert'], cap.io)).toBe(0);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]!.json().event_id).toBe(server.requests[1]!.json().event_id);
    const out = cap.stdout();
    expect(out).toMatch(
      /retry\s+alert\s+evt_\S+\s+attempt 1\s+HTTP 503\s+\d+ ms\s+next try in \d+ ms — \[custom:127\.0\.0\.1:\d+\] HTTP 503 from http:\/\/127\.0\.0\.1:\d+: upstream unavailable/,
    );
    expect(out).toMatch(/delivered\s+alert\s+evt_\S+\s+attempt 2\s+HTTP 200/);
    expect(out).toMatch(/1\/1 delivered · 0 dead · 2 attempts \(1 retried\)/);
  });

  it("waits as long as a 429's Retry-After asks", async () => {
    server = await createFakeServer();
    server.respondNext({ status: 429, headers: { 'retry-after': '1' }, body: { error: 'slow down' } });
    const cap = captureIO();
    expect(await runCli(['trigger', server.url, ...FAST], cap.io)).toBe(0);
    const [first, second] = server.requests;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(cap.stdout()).toMatch(
      /retry\s+prediction\s+\S+\s+attempt 1\s+HTTP 429\s+\d+ ms\s+next try in (9\d\d ms|1\.00 s) — .*\(retry after 1s\)/,
    );
    expect(cap.stdout()).toMatch(/delivered\s+prediction\s+\S+\s+attempt 2/);
  });

  it('dead-letters a permanent failure at once and exits 1', async () => {
    server = await createFakeServer(() => ({ status: 404, body: { error: 'no such hook' } }));
    const cap = captureIO();
    expect(await runCli(['trigger', server.url, ...FAST, '--retries', '5'], cap.io)).toBe(1);
    expect(server.requests).toHaveLength(1);
    expect(cap.stdout()).toMatch(/dead\s+prediction\s+\S+\s+attempt 1\s+HTTP 404 .*no such hook/);
    expect(cap.stdout()).toMatch(/0\/1 delivered · 1 dead/);
  });

  it('gives up after --retries and exits 1', async () => {
    server = await createFakeServer(() => ({ status: 500 }));
    const cap = captureIO();
    expect(await runCli(['trigger', server.url, ...FAST, '--retries', '2', '--json'], cap.io)).toBe(1);
    expect(server.requests).toHaveLength(3);
    const lines = cap
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.kind)).toEqual(['retry', 'retry', 'dead', 'stats']);
    for (const l of lines.slice(0, 3)) expect(String(l.durationMs)).toMatch(/^\d+(\.\d)?$/);
    expect(lines[3]).toMatchObject({
      kind: 'stats',
      events: 1,
      successCount: 0,
      failedCount: 1,
      totalSent: 3,
      retriedCount: 2,
    });
    // With --json, stdout is JSON lines only; the banner goes to stderr.
    expect(cap.stderr()).toMatch(/^Sending 1 prediction event/);
  });

  it('refuses a loopback URL without --allow-private-network (the SSRF guard), exit 1', async () => {
    server = await createFakeServer();
    const cap = captureIO();
    expect(await runCli(['trigger', `${server.url}/secret-path`], cap.io)).toBe(1);
    expect(server.requests).toHaveLength(0);
    expect(cap.stderr()).toMatch(/option 'url' points at a loopback address \(http:\/\/127\.0\.0\.1:\d+\)/);
    expect(cap.stderr()).toMatch(/hint: pass --allow-private-network/);
    expect(cap.stderr()).not.toContain('secret-path');
  });

  it('refuses a host name that resolves to loopback at connection time, with the hint', async () => {
    server = await createFakeServer();
    // This machine's own name resolves to a loopback address (`localhost` is refused by name
    // before any lookup, as the next case shows).
    const host = hostname();
    expect(
      privateAddressReason((await lookup(host)).address),
      `${host} resolves to a private address`,
    ).toBeDefined();
    const cap = captureIO();
    expect(await runCli(['trigger', `http://${host}:${server.port}`, '--retry-delay', '0.05'], cap.io)).toBe(
      1,
    );
    expect(server.requests).toHaveLength(0);
    expect(cap.stdout()).toMatch(
      /dead\s+prediction.*refused to connect to \S+ \(\S+\): (loopback|private) address/,
    );
    expect(cap.stderr()).toMatch(/hint: pass --allow-private-network/);
  });

  it('refuses localhost by name, before connecting, with the hint', async () => {
    server = await createFakeServer();
    const cap = captureIO();
    expect(await runCli(['trigger', `http://localhost:${server.port}`], cap.io)).not.toBe(0);
    expect(server.requests).toHaveLength(0);
    expect(`${cap.stdout()}${cap.stderr()}`).toMatch(/loopback address/);
    expect(cap.stderr()).toMatch(/allow-private-network/);
  });

  it('sends --data or --data-file, extra headers, --count events with their own ids', async () => {
    server = await createFakeServer();
    const dir = await mkdtemp(join(tmpdir(), 'cli-trigger-'));
    try {
      const file = join(dir, 'data.json');
      writeFileSync(file, JSON.stringify({ message: 'disk 91% full', source: 'db-1' }));
      const token = 'tok_live_4f9a8b7c6d5e';
      const cap = captureIO();
      const argv = ['trigger', server.url, ...FAST, '--event', 'alert', '--data-file', file, '--count', '3'];
      argv.push('--header', `Authorization: Bearer ${token}`, '--severity', 'critical', '--user-id', 'ops');
      expect(await runCli(argv, cap.io)).toBe(0);
      expect(server.requests).toHaveLength(3);
      const events = server.requests.map((r) => r.json());
      expect(new Set(events.map((e) => e.event_id)).size).toBe(3);
      expect(events[0]).toMatchObject({
        event_type: 'alert',
        severity: 'critical',
        user_id: 'ops',
        data: { message: 'disk 91% full' },
      });
      expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${token}`);
      expect(cap.stdout()).toMatch(/3\/3 delivered/);
      expect(cap.stdout() + cap.stderr()).not.toContain(token);

      const inline = captureIO();
      expect(
        await runCli(
          ['trigger', server.url, ...FAST, '--data', '{"prediction":"p","confidence":0.5}'],
          inline.io,
        ),
      ).toBe(0);
      expect(server.requests[3]!.json().data).toEqual({ prediction: 'p', confidence: 0.5 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops on Ctrl-C while waiting for a retry (exit 130)', async () => {
    server = await createFakeServer(() => ({ status: 503 }));
    const cap = captureIO();
    const run = runCli(['trigger', server.url, '--allow-private-network', '--retry-delay', '30'], cap.io);
    await cap.waitFor(/retry\s+prediction/);
    const started = Date.now();
    cap.stop();
    expect(await run).toBe(130);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(cap.stdout()).toMatch(/0\/1 delivered .* · interrupted/);
  });
});
