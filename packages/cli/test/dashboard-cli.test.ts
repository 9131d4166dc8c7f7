import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, Dispatcher } from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './browser.js';
import { startVendors, type Vendors } from './fakes/vendors.js';
import { opsWebhooks } from './fixtures/ops-webhooks.js';
import { runBin, spawnCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cli-dashboard-'));
const db = join(dir, 'webhooks.db');

describe('empathy-webhooks dashboard on a config’s SqliteQueue, in a real browser', () => {
  let vendors: Vendors;
  let env: Record<string, string>;
  let cli: ReturnType<typeof spawnCli>;
  let url: string;
  let link: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    vendors = await startVendors();
    env = { ...vendors.env, QUEUE_PATH: db };
    // The application, with a revoked Slack webhook: its alerts end in the dead letters.
    const app = new Dispatcher({
      queue: new SqliteQueue({ path: db }),
      webhooks: opsWebhooks({
        ...env,
        SLACK_WEBHOOK_URL: `${vendors.slack.url}/services/T0FAKE/B0FAKE/revoked`,
      }),
    });
    await app.dispatch(createEvent('alert', SAMPLE_DATA.alert, { userId: 'u1', eventId: 'evt_d1' }));
    await app.dispatch(
      createEvent('bug_detected', SAMPLE_DATA.bug_detected, { userId: 'u1', eventId: 'evt_d2' }),
    );
    await app.flush();
    await app.close();

    cli = spawnCli(['dashboard', '--port', '0', '--config', 'sqlite.config.ts'], env);
    const [, found] = await cli.waitFor(/^Dashboard: (http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/m, 30_000);
    link = found!;
    url = link.slice(0, link.indexOf('#'));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    cli?.child.kill('SIGINT');
    await cli?.exited;
    await vendors?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the link with its token, and the token', () => {
    expect(cli.stdout()).toMatch(
      /^Dashboard: http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43} {2}\(SqliteQueue \S+webhooks\.db; Ctrl-C to stop\)$/m,
    );
    expect(cli.stdout()).toMatch(/^Action token \(replay, delete\): [\w-]{43}$/m);
    expect(cli.stderr()).toBe('');
  });

  it('lists the configured webhooks with the queue’s figures, and refuses an action without the token', async () => {
    const page = await browser.context.newPage();
    await page.goto(url);
    const rows = await page
      .locator('#webhooks tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) =>
          Object.fromEntries(
            [...tr.querySelectorAll('th, td')].map((c) => [c.getAttribute('data-label'), c.textContent]),
          ),
        ),
      );
    expect(
      rows.map((r) => [
        r.Webhook,
        r.Integration,
        r.Events,
        r.Pending,
        r['Dead letters'],
        r.Delivered,
        r.Folded,
        r.Circuit,
      ]),
    ).toEqual([
      // Folded, like the circuit, is each process's own figure: a queue file cannot tell.
      ['slack', 'SlackWebhook', 'alert', '0', '1', '0', '–', '–'],
      ['pagerduty', 'PagerDutyWebhook', 'alert', '0', '0', '1', '–', '–'],
      ['jira', 'JiraWebhook', 'bug_detected', '0', '0', '1', '–', '–'],
    ]);
    expect(rows[0]!['Last error']).toMatch(/^\[slack\] HTTP 404/);
    expect(await page.content()).not.toContain('revoked');
    // No token in this tab: the page asks for it, and the server refuses a bare POST.
    await page.getByRole('button', { name: 'Delete evt_d1:slack' }).click();
    await expect(page.locator('#status').textContent()).resolves.toMatch(/Enter the action token/);
    const refused = await page.evaluate(
      async (u) => (await fetch(`${u}api/dead-letters/evt_d1%3Aslack/delete`, { method: 'POST' })).status,
      url,
    );
    expect(refused).toBe(401);
    expect(
      (await runBin(['dead-letters', 'list', '--json', '--config', 'sqlite.config.ts'], env)).stdout,
    ).toContain('evt_d1:slack');
    await page.close();
  });

  it('replays a dead letter: the row disappears and the application’s worker delivers it', async () => {
    const page = await browser.context.newPage();
    await page.goto(link);
    await page.getByRole('button', { name: 'Replay evt_d1:slack' }).click();
    await page
      .locator('#dead-letters tr[data-id="evt_d1:slack"]')
      .waitFor({ state: 'detached', timeout: 20_000 });
    await expect(page.locator('#status').textContent()).resolves.toBe(
      'Replayed evt_d1:slack: it is back in the queue.',
    );
    await page.waitForFunction(
      () =>
        document.querySelector('#webhooks tr[data-webhook="slack"] td[data-label="Pending"]')?.textContent ===
        '1',
      undefined,
      { timeout: 20_000 },
    );

    // The application runs again with the Slack webhook fixed: it delivers the replayed job.
    const before = vendors.slack.messages.length;
    const worker = new Dispatcher({ queue: new SqliteQueue({ path: db }), webhooks: opsWebhooks(env) });
    await worker.flush();
    await worker.close();
    expect(vendors.slack.messages.length).toBe(before + 1);
    // The page follows the file (it refreshes every 5 s): delivered, nothing pending.
    await page.waitForFunction(
      () =>
        document.querySelector('#webhooks tr[data-webhook="slack"] td[data-label="Delivered"]')
          ?.textContent === '1',
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.locator('#no-dead').textContent()).toBe('No dead letters.');
    await page.close();
  });
});
