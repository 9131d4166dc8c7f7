import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, Dispatcher } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { CustomWebhook } from '@empathy/webhooks-http';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { captureIO } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-queue-'));
const db = join(dir, 'webhooks.sqlite');
let server: FakeServer;

const hook = (name: string, path: string, events: ('alert' | 'prediction')[] = ['alert']) =>
  new CustomWebhook({
    name,
    events,
    url: `${server.url}${path}`,
    allowPrivateNetwork: true,
    retryPolicy: { maxRetries: 0 },
  });

/** Runs the CLI in-process; returns the exit code and output. */
async function cli(...argv: string[]) {
  const cap = captureIO();
  const code = await runCli(argv, cap.io);
  return { code, out: cap.stdout(), err: cap.stderr() };
}

async function pending(webhook?: string): Promise<number> {
  const queue = new SqliteQueue({ path: db });
  try {
    return await queue.pending(webhook);
  } finally {
    await queue.close();
  }
}

beforeAll(async () => {
  // A real queue file as an app leaves it: 'audit' delivered 2 events; 'orders' (410), 'billing'
  // (400) and 'crm' (404) failed for good: 2 + 2 + 1 dead letters.
  server = await createFakeServer((req) => {
    if (req.path === '/orders') return { status: 410, body: { error: 'hook removed' } };
    if (req.path === '/billing') return { status: 400, body: { error: 'bad payload' } };
    if (req.path === '/crm') return { status: 404 };
    return { status: 200 };
  });
  const dispatcher = new Dispatcher({
    queue: new SqliteQueue({ path: db }),
    webhooks: [hook('audit', '/audit'), hook('orders', '/orders'), hook('billing', '/billing')],
  });
  for (let i = 0; i < 2; i++) {
    await dispatcher.dispatch(
      createEvent('alert', SAMPLE_DATA.alert, { userId: 'u1', eventId: `evt_q${i}` }),
    );
  }
  dispatcher.register(hook('crm', '/crm', ['prediction']));
  await dispatcher.dispatch(
    createEvent('prediction', SAMPLE_DATA.prediction, { userId: 'u1', eventId: 'evt_q2' }),
  );
  await dispatcher.flush();
  await dispatcher.close();
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dead-letters and stats on a real SqliteQueue file', () => {
  it('lists the dead letters, oldest first, with the redacted error', async () => {
    const { code, out } = await cli('dead-letters', 'list', '--db', db);
    expect(code).toBe(0);
    const rows = out.trim().split('\n');
    expect(rows[0]).toMatch(/^ID +WEBHOOK +EVENT +ATTEMPTS +FAILED AT \(UTC\) +ERROR$/);
    expect(
      rows
        .slice(1, 6)
        .map((r) => r.split(/\s+/)[0])
        .sort(),
    ).toEqual(['evt_q0:billing', 'evt_q0:orders', 'evt_q1:billing', 'evt_q1:orders', 'evt_q2:crm'].sort());
    expect(out).toMatch(
      /evt_q0:orders +orders +alert +1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +HTTP 410 \[orders\] HTTP 410 from http:\/\/127\.0\.0\.1:\d+: \{"error":"hook removed"\}/,
    );
    expect(rows.at(-1)).toMatch(/^5 dead letters\. Replay one with 'dead-letters replay <id>'\.$/);

    const json = await cli('dead-letters', 'list', '--db', db, '--webhook', 'billing', '--json');
    const letters = JSON.parse(json.out);
    expect(letters).toHaveLength(2);
    expect(letters[0]).toMatchObject({
      id: 'evt_q0:billing',
      webhook: 'billing',
      attempts: 1,
      error: { status: 400 },
    });
    expect(letters[0].event).toMatchObject({ event_type: 'alert', event_id: 'evt_q0' });
  });

  it('shows one letter in full: its event payload and error', async () => {
    const { code, out, err } = await cli('dead-letters', 'show', 'evt_q0:billing', '--db', db);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    const letter = JSON.parse(out);
    expect(letter).toMatchObject({
      id: 'evt_q0:billing',
      webhook: 'billing',
      attempts: 1,
      error: { status: 400 },
    });
    expect(letter.event).toMatchObject({ event_type: 'alert', event_id: 'evt_q0', data: expect.any(Object) });
    expect(out).toContain('\n  "webhook": "billing",\n');

    const json = await cli('dead-letters', 'show', 'evt_q0:billing', '--db', db, '--json');
    expect(JSON.parse(json.out)).toEqual(letter);
    expect(json.out.trim()).not.toContain('\n');

    const missing = await cli('dead-letters', 'show', 'evt_nope', '--db', db);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no dead letter with id 'evt_nope'/);
    expect(missing.out).toBe('');
  });

  it('stats: pending, dead and recently delivered per webhook', async () => {
    const { code, out } = await cli('stats', '--db', db);
    expect(code).toBe(0);
    expect(out).toMatch(/WEBHOOK +PENDING +DEAD +RECENTLY DELIVERED\n/);
    expect(out).toMatch(/audit +0 +0 +2\n/);
    expect(out).toMatch(/billing +0 +2 +0\n/);
    expect(out).toMatch(/crm +0 +1 +0\n/);
    expect(out).toMatch(/orders +0 +2 +0\n/);
    expect(out).not.toContain('(other)');
  });

  it('replays one letter into the queue file, and the app delivers it with the same event id', async () => {
    const replay = await cli('dead-letters', 'replay', 'evt_q0:orders', '--db', db);
    expect(replay).toMatchObject({ code: 0, err: '' });
    expect(replay.out).toBe(
      "Replayed evt_q0:orders: it is back in the queue; the application's workers deliver it.\n",
    );
    expect(await pending('orders')).toBe(1);

    const missing = await cli('dead-letters', 'replay', 'evt_q0:orders', '--db', db);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no dead letter with id 'evt_q0:orders'/);

    // The app starts again with 'orders' fixed: its worker delivers the replayed job.
    const before = server.requests.length;
    const app = new Dispatcher({
      queue: new SqliteQueue({ path: db }),
      webhooks: [hook('orders', '/fixed-orders')],
    });
    await app.flush();
    await app.close();
    const delivered = server.requests.slice(before);
    expect(delivered.map((r) => [r.path, r.json().event_id])).toEqual([['/fixed-orders', 'evt_q0']]);
    expect(await pending()).toBe(0);
  });

  it('deletes one, replays all of a webhook, clears the rest; stats lists every webhook with pending jobs', async () => {
    expect((await cli('dead-letters', 'delete', 'evt_q1:orders', '--db', db)).out).toBe(
      'Deleted evt_q1:orders.\n',
    );
    expect((await cli('dead-letters', 'delete', 'evt_q1:orders', '--db', db)).code).toBe(1);

    const all = await cli('dead-letters', 'replay-all', '--webhook', 'billing', '--db', db, '--json');
    expect(JSON.parse(all.out)).toEqual({
      action: 'replay',
      all: true,
      webhook: 'billing',
      count: 2,
      skipped: 0,
      interrupted: false,
    });
    expect(await pending('billing')).toBe(2);

    const stats = await cli('stats', '--db', db, '--json');
    expect(JSON.parse(stats.out)).toMatchObject({
      webhooks: expect.arrayContaining([
        { webhook: 'crm', pending: 0, dead: 1, recentlyDelivered: 0 },
        { webhook: 'billing', pending: 2, dead: 0, recentlyDelivered: 0 },
      ]),
      totalPending: 2,
    });
    expect((await cli('stats', '--db', db)).out).toMatch(/billing +2 +0 +0\n/);
    expect((await cli('stats', '--db', db, '--webhook', 'billing')).out).toMatch(/billing +2 +0 +0\n/);

    expect((await cli('dead-letters', 'clear', '--db', db)).out).toBe('Deleted 1 dead letter.\n');
    expect((await cli('dead-letters', 'list', '--db', db)).out).toBe('No dead letters.\n');
  });

  it('replay --all draws a progress bar on a terminal (--queue is the new name of --db)', async () => {
    const app = new Dispatcher({
      queue: new SqliteQueue({ path: db }),
      webhooks: [hook('orders', '/orders')],
    });
    for (const id of ['evt_t1', 'evt_t2', 'evt_t3']) {
      await app.dispatch(createEvent('alert', SAMPLE_DATA.alert, { userId: 'u1', eventId: id }));
    }
    await app.flush();
    await app.close();

    // The billing jobs replayed earlier also ended here: this app has no 'billing' webhook.
    const n = JSON.parse((await cli('dead-letters', 'list', '--json', '--queue', db)).out).length;
    expect(n).toBe(5);
    const tty = captureIO({}, { tty: true });
    expect(await runCli(['dead-letters', 'replay', '--all', '--queue', db], tty.io)).toBe(0);
    const [bar, summary] = tty.stdout().split('\n');
    expect(bar!.split('\r').slice(1)).toEqual(
      [1, 2, 3, 4, 5].map((i) => `[${'█'.repeat(i * 6)}${'░'.repeat(30 - i * 6)}] ${i}/5 replayed`),
    );
    expect(summary).toBe(
      "Replayed 5 dead letters: back in the queue; the application's workers deliver them.",
    );
    expect(await pending()).toBe(5);
    expect((await cli('dead-letters', 'delete', '--all', '--queue', db)).out).toBe(
      'Deleted 0 dead letters.\n',
    );
    const notTty = captureIO();
    expect(await runCli(['dead-letters', 'replay', '--all', '--queue', db], notTty.io)).toBe(0);
    expect(notTty.stdout()).toBe(
      "Replayed 0 dead letters: back in the queue; the application's workers deliver them.\n",
    );
  });

  it('refuses a missing file or a file that is not a queue file (exit 1), without creating anything', async () => {
    const missing = await cli('dead-letters', 'list', '--db', join(dir, 'nope.sqlite'));
    expect(missing).toMatchObject({
      code: 1,
      err: `empathy-webhooks: no such file: ${join(dir, 'nope.sqlite')}\n`,
    });
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'just some notes, long enough to have a header-sized prefix. '.repeat(4));
    const notSqlite = await cli('stats', '--db', text);
    expect(notSqlite).toMatchObject({ code: 1, err: `empathy-webhooks: ${text} is not an SQLite file\n` });
  });
});
