import { mkdtempSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type FakeServer, SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { CustomWebhook } from '@empathy/webhooks-http';
import { SlackWebhook } from '@empathy/webhooks-slack';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlackFake, startSlackFake } from '../../slack/test/fake-slack.js';
import { type DashboardServer, serveDashboard, TOKEN_HEADER } from '../src/dashboard/index.js';
import { launchChromium } from './browser.js';

/**
 * Where the screenshots go: docs/ (shown in the READMEs) with UPDATE_SCREENSHOTS=1, else a temporary
 * folder, so that a test run leaves the work tree as it was.
 */
const SHOTS = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../../docs/', import.meta.url))
  : `${mkdtempSync(join(tmpdir(), 'cli-shots-'))}/`;

/** A POST from Node, with or without the token header and with any Host. */
function post(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The cells of a webhook's row, by column header. */
async function rowOf(page: Page, webhook: string): Promise<Record<string, string>> {
  return page.evaluate((name) => {
    const row = document.querySelector(`#webhooks tr[data-webhook="${name}"]`);
    if (!row) return {};
    const out: Record<string, string> = {};
    for (const cell of row.querySelectorAll('th, td'))
      out[cell.getAttribute('data-label') ?? ''] = cell.textContent ?? '';
    return out;
  }, webhook);
}

describe('serveDashboard(empathy) in a real browser', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let receiver: FakeServer;
  let slack: SlackFake;
  let empathy: EmpathyOS;
  let dashboard: DashboardServer;
  let billingFixed = false;

  beforeAll(async () => {
    receiver = await createFakeServer((req) => {
      if (req.path === '/billing' && !billingFixed) return { status: 410, body: { error: 'hook removed' } };
      return { status: 200 };
    });
    slack = await startSlackFake();
    empathy = new EmpathyOS({
      userId: 'ops_team',
      webhooks: [
        new CustomWebhook({
          name: 'orders',
          url: `${receiver.url}/orders?key=0rd3rsS3cr3t`,
          events: ['*'],
          allowPrivateNetwork: true,
        }),
        new CustomWebhook({
          name: 'billing',
          url: `${receiver.url}/billing`,
          events: ['alert'],
          allowPrivateNetwork: true,
        }),
        new SlackWebhook({
          webhookUrl: slack.webhookUrl,
          events: ['alert', 'security_vulnerability'],
          allowPrivateNetwork: true,
        }),
      ],
    });
    await empathy.emit('alert', SAMPLE_DATA.alert, { severity: 'high' });
    await empathy.emit('security_vulnerability', SAMPLE_DATA.security_vulnerability, {
      severity: 'critical',
    });
    await empathy.emit('prediction', SAMPLE_DATA.prediction);
    await empathy.flush();
    dashboard = await serveDashboard(empathy, { port: 0, log: false });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await empathy?.close();
    await receiver?.close();
    await slack?.server.close();
  });

  it('lists the webhooks with their figures, origins only, and the dead letter', async () => {
    const page = await browser.context.newPage();
    await page.goto(dashboard.link);
    // The token left the address bar: it lives in this tab's sessionStorage.
    expect(page.url()).toBe(dashboard.url);
    await expect(page.title()).resolves.toBe('Empathy webhooks dashboard');
    expect(await rowOf(page, 'orders')).toMatchObject({
      Webhook: 'orders',
      Integration: 'CustomWebhook',
      Target: receiver.url,
      Delivered: '3',
      Failed: '0',
      Folded: '0',
      Pending: '0',
      'Dead letters': '0',
      'Success rate': '100.0%',
      Circuit: 'closed',
    });
    expect(await rowOf(page, 'billing')).toMatchObject({
      Delivered: '0',
      Failed: '1',
      'Dead letters': '1',
      'Success rate': '0.0%',
    });
    expect((await rowOf(page, 'billing'))['Last error']).toMatch(
      /^\[billing\] HTTP 410 from http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(await rowOf(page, 'slack')).toMatchObject({
      Integration: 'SlackWebhook',
      Delivered: '2',
      'Rate limit': '60/min',
    });
    expect((await rowOf(page, 'slack'))['p95 latency']).toMatch(/^\d+ ms$/);
    const html = await page.content();
    expect(html).not.toContain('0rd3rsS3cr3t');
    expect(html).not.toContain(new URL(slack.webhookUrl).pathname);
    expect(await page.locator('#dead-letters tbody tr').count()).toBe(1);
    await expect(page.locator('#dead-count').textContent()).resolves.toBe('1');
    await page.close();
  });

  it('shows delivery outcomes live (server-sent events)', async () => {
    const page = await browser.context.newPage();
    await page.goto(dashboard.url);
    await page.waitForFunction(() => document.querySelector('#feed') !== null);
    const event = await empathy.emit('deployment_risk', SAMPLE_DATA.deployment_risk);
    await page.locator('#feed li', { hasText: event.event_id }).first().waitFor({ timeout: 20_000 });
    expect(await page.locator('#feed li', { hasText: event.event_id }).first().textContent()).toMatch(
      /delivered orders deployment_risk/,
    );
    // The figures follow.
    await page.waitForFunction(
      () =>
        document.querySelector('#webhooks tr[data-webhook="orders"] td[data-label="Delivered"]')
          ?.textContent === '4',
      undefined,
      { timeout: 20_000 },
    );
    await page.close();
  });

  it('refuses an action without the token, with a wrong one, from another origin, or through another Host', async () => {
    const [letter] = await empathy.deadLetters.list();
    const action = `${dashboard.url}api/dead-letters/${encodeURIComponent(letter!.id)}/delete`;
    expect((await post(action)).status).toBe(401);
    expect((await post(action, { [TOKEN_HEADER]: 'not-the-token-at-all' })).status).toBe(403);
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own Host.
    expect(
      (await post(action, { [TOKEN_HEADER]: dashboard.token, host: `evil.example:${dashboard.port}` }))
        .status,
    ).toBe(421);

    // A page in a new tab has no token: its button asks for one and nothing happens.
    const page = await browser.context.newPage();
    await page.goto(dashboard.url);
    await page.getByRole('button', { name: `Replay ${letter!.id}` }).click();
    await expect(page.locator('#status').textContent()).resolves.toMatch(/Enter the action token/);
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('token');

    // A page on another origin cannot send the header (no CORS preflight is ever granted), and
    // without it the POST is refused. Either way the letter stays.
    const other = createServer((_, res) => res.end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
      const results = await page.evaluate(
        async ({ url, header, token }) => {
          const withHeader = await fetch(url, { method: 'POST', headers: { [header]: token } }).then(
            (r) => `status ${r.status}`,
            (e: Error) => `blocked: ${e.name}`,
          );
          // Without the header it is a "simple" request: sent, refused (401), and its answer kept
          // from the page (Cross-Origin-Resource-Policy: same-origin).
          const simple = await fetch(url, { method: 'POST', mode: 'no-cors' }).then(
            (r) => r.type,
            (e: Error) => `blocked: ${e.name}`,
          );
          return { withHeader, simple };
        },
        { url: action, header: TOKEN_HEADER, token: dashboard.token },
      );
      expect(results.withHeader).toBe('blocked: TypeError');
      expect(results.simple).toBe('blocked: TypeError');
    } finally {
      other.close();
      await page.close();
    }
    expect((await empathy.deadLetters.list()).map((l) => l.id)).toEqual([letter!.id]);
  });

  it('takes screenshots on a desktop and a phone (docs/ with UPDATE_SCREENSHOTS=1)', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1600, height: 900 });
    await page.goto(dashboard.link);
    await page.locator('#dead-letters tbody tr').first().waitFor();
    await page.screenshot({ path: `${SHOTS}dashboard.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    // On a phone the tables become cards: each cell carries its header as a label.
    const display = await page.locator('#webhooks thead').evaluate((el) => getComputedStyle(el).position);
    expect(display).toBe('absolute');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${SHOTS}dashboard-phone.png`, fullPage: true });
    await page.close();
  });

  it('replays a dead letter with the keyboard: delivered to the receiver, and the row disappears', async () => {
    const [letter] = await empathy.deadLetters.list();
    billingFixed = true;
    const page = await browser.context.newPage();
    await page.goto(dashboard.link);
    const button = page.getByRole('button', { name: `Replay ${letter!.id}` });
    await button.focus();
    await page.keyboard.press('Enter');
    await page
      .locator(`#dead-letters tr[data-id="${letter!.id}"]`)
      .waitFor({ state: 'detached', timeout: 20_000 });
    await expect(page.locator('#status').textContent()).resolves.toBe(
      `Replayed ${letter!.id}: it is back in the queue.`,
    );
    await empathy.flush();
    const delivered = receiver.requests.filter(
      (r) => r.path === '/billing' && r.json().event_id === letter!.event.event_id,
    );
    expect(delivered.map((r) => r.status ?? 200).length).toBe(2); // the refused attempt, then the replay
    expect(await empathy.deadLetters.list()).toEqual([]);
    await page.waitForFunction(
      () =>
        document.querySelector('#webhooks tr[data-webhook="billing"] td[data-label="Delivered"]')
          ?.textContent === '1',
      undefined,
      { timeout: 20_000 },
    );
    await expect(page.locator('#no-dead').textContent()).resolves.toBe('No dead letters.');
    await page.close();
  });
});

describe('serveDashboard start-up', () => {
  it('prints the link with the token; warns when not on loopback; refuses a short token', async () => {
    const empathy = new EmpathyOS({ userId: 'u1' });
    const lines: string[] = [];
    const local = await serveDashboard(empathy, {
      port: 0,
      log: (m) => lines.push(m),
      token: 'a-token-of-twenty-chars',
    });
    await local.close();
    expect(lines).toEqual([
      `Dashboard: ${local.url}#token=a-token-of-twenty-chars`,
      'Action token (replay, delete): a-token-of-twenty-chars',
    ]);

    const open: string[] = [];
    const wide = await serveDashboard(empathy, { port: 0, host: '0.0.0.0', log: (m) => open.push(m) });
    await wide.close();
    expect(wide.loopback).toBe(false);
    expect(open[2]).toMatch(
      /^warning: listening on 0\.0\.0\.0, not loopback: anyone who reaches this address can read the dashboard/,
    );

    await expect(serveDashboard(empathy, { port: 0, token: 'short', log: false })).rejects.toThrow(
      /at least 16 characters/,
    );
    await empathy.close();
  });
});
