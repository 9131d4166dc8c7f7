import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, type DeadLetter, Dispatcher, type WebhookPlugin } from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { BullMQQueue, startWorker } from '@empathy/webhooks-queue-bullmq';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, REDIS, uniquePrefix } from '../../queue-bullmq/test/helpers.js';
import { startVendors, type Vendors } from './fakes/vendors.js';
import { opsWebhooks } from './fixtures/ops-webhooks.js';
import { runBin, spawnCli } from './helpers.js';

/**
 * One durable queue backend, as an application uses it: `fill` runs the app with broken
 * credentials until its deliveries are dead letters; `deliver` runs a worker with the right ones
 * until the replayed jobs are delivered.
 */
interface Backend {
  config: string;
  env: Record<string, string>;
  fill(webhooks: WebhookPlugin[]): Promise<void>;
  deliver(webhooks: WebhookPlugin[], until: () => boolean): Promise<void>;
  cleanup(): Promise<void>;
  /** Whether `stats` shows recent deliveries (SQLite keeps records; BullMQ does not). */
  records: boolean;
}

const dir = mkdtempSync(join(tmpdir(), 'cli-queues-'));
let vendors: Vendors;

beforeAll(async () => {
  vendors = await startVendors();
}, 120_000);
afterAll(async () => {
  await vendors?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Two alerts (Slack, PagerDuty) and one bug (Jira), with fixed ids. */
async function emit(dispatcher: Dispatcher): Promise<void> {
  await dispatcher.dispatch(createEvent('alert', SAMPLE_DATA.alert, { userId: 'u1', eventId: 'evt_a1' }));
  await dispatcher.dispatch(createEvent('alert', SAMPLE_DATA.alert, { userId: 'u1', eventId: 'evt_a2' }));
  await dispatcher.dispatch(
    createEvent('bug_detected', SAMPLE_DATA.bug_detected, { userId: 'u1', eventId: 'evt_b1' }),
  );
}

async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function sqlite(): Backend {
  const path = join(dir, `queue-${Math.random().toString(36).slice(2)}.db`);
  return {
    config: 'sqlite.config.ts',
    env: { QUEUE_PATH: path },
    records: true,
    async fill(webhooks) {
      const app = new Dispatcher({ queue: new SqliteQueue({ path }), webhooks });
      await emit(app);
      await app.flush();
      await app.close();
    },
    async deliver(webhooks, done) {
      const worker = new Dispatcher({ queue: new SqliteQueue({ path }), webhooks });
      await until(done, 'the replayed deliveries');
      await worker.flush();
      await worker.close();
    },
    cleanup: async () => {},
  };
}

function bullmq(): Backend {
  const prefix = uniquePrefix();
  return {
    config: 'bullmq.config.ts',
    env: { BULL_PREFIX: prefix },
    records: false,
    async fill(webhooks) {
      const queue = new BullMQQueue({ connection: REDIS, prefix, consume: true });
      const app = new Dispatcher({ queue, webhooks });
      await emit(app);
      await until(async () => (await queue.deadLetters.list()).length === 5, 'five dead letters in Redis');
      await app.close({ drainMs: 0 });
    },
    async deliver(webhooks, done) {
      const queue = new BullMQQueue({ connection: REDIS, prefix });
      const worker = startWorker({ queue, webhooks });
      try {
        await until(done, 'the replayed deliveries');
        // The receivers have them; wait until the worker has also acknowledged them in Redis
        // (closing before would hand the last job back, to be delivered again: at least once).
        await until(async () => (await queue.pending()) === 0, 'an empty queue');
      } finally {
        await worker.close({ drainMs: 0 });
      }
    },
    cleanup: () => deleteKeys(prefix),
  };
}

describe.each([
  ['a SqliteQueue file', sqlite],
  ['a BullMQ queue in Redis', bullmq],
])('stats and dead-letters on the config’s queue: %s', (_, make) => {
  const backend = make();
  let env: Record<string, string>;
  const cli = (...args: string[]) => runBin([...args, '--config', backend.config], env);

  beforeAll(async () => {
    env = { ...vendors.env, ...backend.env };
    // The application misconfigured: every delivery is refused for good (a revoked Slack webhook,
    // a wrong PagerDuty address, an expired Jira token: 404, 404, 401).
    await backend.fill(
      opsWebhooks({
        ...env,
        SLACK_WEBHOOK_URL: `${vendors.slack.url}/services/T0FAKE/B0FAKE/revoked`,
        PAGERDUTY_URL: vendors.discord.url,
        JIRA_API_TOKEN: 'expired-token',
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await backend.cleanup();
  });

  it('stats: every configured webhook, its pending jobs and dead letters', async () => {
    const { code, stdout, stderr } = await cli('stats');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^WEBHOOK +PENDING +DEAD +RECENTLY DELIVERED$/m);
    expect(stdout).toMatch(/^jira +0 +1 +(0|-)$/m);
    expect(stdout).toMatch(/^pagerduty +0 +2 +(0|-)$/m);
    expect(stdout).toMatch(/^slack +0 +2 +(0|-)$/m);
    expect(stdout).toMatch(
      backend.records
        ? /^SqliteQueue \S+\.db\. Recently delivered/m
        : /^BullMQQueue \(prefix 'empathy-test:[\w-]+'\)\. Recently delivered: '-'/m,
    );
    const json = JSON.parse((await cli('stats', '--json')).stdout);
    expect(json.totalPending).toBe(0);
    expect(json.webhooks.map((w: { webhook: string; dead: number }) => [w.webhook, w.dead])).toEqual([
      ['jira', 1],
      ['pagerduty', 2],
      ['slack', 2],
    ]);
  });

  it('dead-letters list and show: the redacted errors, no secret', async () => {
    const { code, stdout } = await cli('dead-letters', 'list');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ID +WEBHOOK +EVENT +ATTEMPTS +FAILED AT \(UTC\) +ERROR$/m);
    expect(stdout).toMatch(/^evt_a1:slack +slack +alert +1 +\S+ \S+ +HTTP 404 /m);
    expect(stdout).toMatch(/^evt_b1:jira +jira +bug_detected +1 +\S+ \S+ +HTTP 401 /m);
    expect(stdout).toMatch(/^5 dead letters\./m);
    expect(stdout).not.toContain('revoked');
    const letters = JSON.parse(
      (await cli('dead-letters', 'list', '--webhook', 'pagerduty', '--json')).stdout,
    ) as DeadLetter[];
    expect(letters.map((l) => l.id).sort()).toEqual(['evt_a1:pagerduty', 'evt_a2:pagerduty']);
    expect(letters[0]!.error.status).toBe(404);

    const shown = await cli('dead-letters', 'show', 'evt_b1:jira');
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: 'evt_b1:jira',
      webhook: 'jira',
      event: {
        event_id: 'evt_b1',
        event_type: 'bug_detected',
        data: { title: SAMPLE_DATA.bug_detected.title },
      },
    });
    expect(shown.stdout).not.toContain('expired-token');
  });

  it('dashboard serves the queue: figures and letters as JSON, actions only with the token', async () => {
    const dashboard = spawnCli(['dashboard', '--port', '0', '--config', backend.config], env);
    try {
      const [, url, token] = await dashboard.waitFor(
        /^Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)#token=(\S+)/m,
        60_000,
      );
      const state = await (await fetch(`${url}api/state`)).json();
      expect(state).toMatchObject({ mode: 'queue', deadLetterTotal: 5 });
      expect(state.source).toMatch(backend.records ? /^SqliteQueue / : /^BullMQQueue /);
      expect(
        state.webhooks.map(
          (w: { name: string; integration: string; deadLetters: number; pending: number }) => [
            w.name,
            w.integration,
            w.deadLetters,
            w.pending,
          ],
        ),
      ).toEqual([
        ['slack', 'SlackWebhook', 2, 0],
        ['pagerduty', 'PagerDutyWebhook', 2, 0],
        ['jira', 'JiraWebhook', 1, 0],
      ]);
      expect(state.deadLetters.map((l: { id: string }) => l.id)).toContain('evt_b1:jira');
      const action = `${url}api/dead-letters/evt_nope%3Ajira/delete`;
      expect((await fetch(action, { method: 'POST' })).status).toBe(401);
      expect(
        (await fetch(action, { method: 'POST', headers: { 'x-dashboard-token': `${token}x` } })).status,
      ).toBe(403);
      // With the token the action reaches the queue, which has no such letter.
      expect((await fetch(action, { method: 'POST', headers: { 'x-dashboard-token': token! } })).status).toBe(
        404,
      );
      expect((await fetch(`${url}api/events`)).status).toBe(404); // no live feed from a queue
    } finally {
      dashboard.child.kill('SIGINT');
      expect(await dashboard.exited).toBe(0);
    }
    expect(dashboard.stderr()).toBe('Dashboard stopped.\n');
  });

  it('replay <id>, replay --all --webhook, delete <id>: the worker then delivers what was replayed', async () => {
    const one = await cli('dead-letters', 'replay', 'evt_a1:slack');
    expect(one).toMatchObject({ code: 0, stderr: '' });
    expect(one.stdout).toBe(
      "Replayed evt_a1:slack: it is back in the queue; the application's workers deliver it.\n",
    );

    // Not a terminal: one line, no progress bar.
    const all = await cli('dead-letters', 'replay', '--all', '--webhook', 'pagerduty');
    expect(all).toMatchObject({ code: 0, stderr: '' });
    expect(all.stdout).toBe(
      "Replayed 2 dead letters of 'pagerduty': back in the queue; the application's workers deliver them.\n",
    );

    const deleted = await cli('dead-letters', 'delete', 'evt_b1:jira', '--json');
    expect(JSON.parse(deleted.stdout)).toEqual({ action: 'delete', id: 'evt_b1:jira', ok: true });
    const again = await cli('dead-letters', 'delete', 'evt_b1:jira');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no dead letter with id 'evt_b1:jira'/);

    const pending = JSON.parse((await cli('stats', '--json')).stdout);
    expect(
      pending.webhooks.map((w: { webhook: string; pending: number; dead: number }) => [
        w.webhook,
        w.pending,
        w.dead,
      ]),
    ).toEqual([
      ['jira', 0, 0],
      ['pagerduty', 2, 0],
      ['slack', 1, 1],
    ]);

    // The credentials are fixed: the application's worker delivers the replayed jobs.
    const slackBefore = vendors.slack.messages.length;
    const pdBefore = vendors.pagerduty.requests.filter((r) => r.path === '/v2/enqueue').length;
    await backend.deliver(
      opsWebhooks(env),
      () =>
        vendors.slack.messages.length === slackBefore + 1 &&
        vendors.pagerduty.requests.filter((r) => r.path === '/v2/enqueue').length === pdBefore + 2,
    );
    const delivered = vendors.pagerduty.requests.filter((r) => r.path === '/v2/enqueue').slice(pdBefore);
    // The same event ids as the first attempts: receivers de-duplicate on them.
    expect(delivered.map((r) => r.json().payload.custom_details.event_id).sort()).toEqual([
      'evt_a1',
      'evt_a2',
    ]);

    const after = await cli('stats');
    expect(after.stdout).toMatch(backend.records ? /^pagerduty +0 +0 +2$/m : /^pagerduty +0 +0 +-$/m);
    expect(after.stdout).toMatch(backend.records ? /^slack +0 +1 +1$/m : /^slack +0 +1 +-$/m);
    const cleared = await cli('dead-letters', 'delete', '--all');
    expect(cleared.stdout).toBe('Deleted 1 dead letter.\n');
    expect((await cli('dead-letters', 'list')).stdout).toBe('No dead letters.\n');
  }, 180_000);
});

describe('a config without a durable queue', () => {
  it('stats and dead-letters say where the dead letters live (exit 1)', async () => {
    const { code, stderr } = await runBin(['stats', '--config', 'integrations.config.ts'], vendors.env);
    expect(code).toBe(1);
    expect(stderr).toMatch(/integrations\.config\.ts has no 'queue': .* pass --queue <file\.db>/);
  });

  it('dashboard points in-memory applications to serveDashboard (exit 1)', async () => {
    const { code, stderr } = await runBin(
      ['dashboard', '--port', '0', '--config', 'integrations.config.ts'],
      vendors.env,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/serve its dashboard there with serveDashboard\(empathy\)/);
  });

  it('refuses a SqliteQueue path in the config that does not exist, without creating it', async () => {
    const path = join(dir, 'never-created.db');
    const { code, stderr } = await runBin(['dead-letters', 'list', '--config', 'sqlite.config.ts'], {
      ...vendors.env,
      QUEUE_PATH: path,
    });
    expect(code).toBe(1);
    expect(stderr).toBe(`empathy-webhooks: no such file: ${path}\n`);
  });
});
