import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, Dispatcher, incidentOf } from '@empathy/webhooks-core';
import { runIncidentSequence } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmailWebhook, type EmailWebhookOptions } from '../src/index.js';
import { type ReceivedMail, type SmtpPeer, startSmtpPeer } from './fake-smtp.js';

const FAST = { maxRetries: 2, initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false };
const TITLE = 'Error rate above 5% on checkout';
const SUBJECT = `[Empathy] 🚨 ${TITLE}`;
const INCIDENT_ID = /^<incident-[0-9a-f]{16}-\d+-[A-Za-z0-9._-]+\.email@example\.com>$/;

let peer: SmtpPeer;
const dirs: string[] = [];

beforeEach(async () => {
  peer = await startSmtpPeer();
});

afterEach(async () => {
  await peer.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function webhook(overrides: Partial<EmailWebhookOptions> = {}): EmailWebhook {
  return new EmailWebhook({
    host: '127.0.0.1',
    port: peer.port,
    from: 'Empathy Bot <empathy@example.com>',
    to: 'oncall@example.com',
    // The peer listens on 127.0.0.1: a private address, allowed on purpose.
    allowPrivateNetwork: true,
    retryPolicy: FAST,
    circuitBreaker: false,
    ...overrides,
  });
}

function sqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'email-incidents-'));
  dirs.push(dir);
  return join(dir, 'queue.db');
}

/** What a reader of each mail sees of its place in a thread. */
function threading(mail: ReceivedMail) {
  return {
    subject: mail.parsed.subject,
    messageId: mail.parsed.messageId,
    inReplyTo: mail.parsed.inReplyTo,
    references: mail.parsed.references,
    status: mail.parsed.headers.get('x-empathy-incident-status'),
  };
}

describe('email incident lifecycle', () => {
  it('threads repeats and the resolution under the first mail: In-Reply-To and References = its Message-ID', async () => {
    const { events } = await runIncidentSequence({ webhook: () => webhook() });
    const mails = peer.mails;
    expect(mails).toHaveLength(5);
    const first = mails[0]!.parsed.messageId!;
    expect(first).toMatch(INCIDENT_ID);
    expect(mails.map(threading)).toEqual([
      { subject: SUBJECT, messageId: first, inReplyTo: undefined, references: undefined, status: 'firing' },
      ...events.slice(1, 4).map((event) => ({
        subject: `Re: ${SUBJECT}`,
        messageId: `<${event.event_id}.email@example.com>`,
        inReplyTo: first,
        references: first,
        status: 'firing',
      })),
      {
        subject: `[Empathy] ✅ Resolved: ${TITLE}`,
        messageId: `<${events[4]!.event_id}.email@example.com>`,
        inReplyTo: first,
        references: first,
        status: 'resolved',
      },
    ]);
    // Every mail names the incident, for mail rules.
    const key = incidentOf(events[0]!)!.key;
    for (const mail of mails) expect(mail.parsed.headers.get('x-empathy-incident-key')).toBe(key);
    // The repeats say how often the condition fired; so does the resolution.
    expect(mails[0]!.parsed.text).not.toContain('Seen:');
    expect(
      mails
        .slice(1)
        .map((m) => m.parsed.text!.match(/Seen: (\d+) times since \d{4}-\d\d-\d\d \d\d:\d\d UTC/)?.[1]),
    ).toEqual(['2', '3', '4', '4']);
    expect(mails[4]!.parsed.html).toContain('border-top:4px solid #1a7f37');
  });

  it('keeps the thread across a restart between fire and resolve (SqliteQueue keeps the Message-ID)', async () => {
    const path = sqliteFile();
    const { stats } = await runIncidentSequence({
      webhook: () => webhook(),
      queue: () => new SqliteQueue({ path, pollMs: 20 }),
      restartBeforeResolve: true,
    });
    expect(stats.map((s) => s.successCount)).toEqual([4, 1]);
    const mails = peer.mails;
    expect(mails).toHaveLength(5);
    const first = mails[0]!.parsed.messageId!;
    expect(first).toMatch(INCIDENT_ID);
    expect(threading(mails[4]!)).toMatchObject({
      subject: `[Empathy] ✅ Resolved: ${TITLE}`,
      inReplyTo: first,
      references: first,
    });
    expect(mails[4]!.parsed.text).toMatch(/Seen: 4 times since/);
  });

  it('without the first mail on record (state lost), the resolved mail names the condition and says so', async () => {
    // The default in-memory incident store does not survive the restart.
    const { events } = await runIncidentSequence({ webhook: () => webhook(), restartBeforeResolve: true });
    const resolved = peer.mails[4]!;
    expect(threading(resolved)).toEqual({
      subject: `[Empathy] ✅ Resolved: ${TITLE}`,
      messageId: expect.stringMatching(INCIDENT_ID),
      inReplyTo: undefined,
      references: undefined,
      status: 'resolved',
    });
    expect(resolved.parsed.messageId).not.toBe(peer.mails[0]!.parsed.messageId);
    expect(resolved.parsed.text).toContain(`✅ Resolved: ${TITLE}\n`);
    expect(resolved.parsed.text).toContain(
      'First seen: not on record (no earlier mail of this condition is known)',
    );
    expect(resolved.parsed.headers.get('x-empathy-incident-key')).toBe(incidentOf(events[0]!)!.key);
  });

  it('group: repeats inside the wait fold into one mail that says how many; the resolution threads under it', async () => {
    const plugin = webhook({ group: { waitSeconds: 1 } });
    const dispatcher = new Dispatcher({ webhooks: [plugin] });
    const alert = (extra: object = {}) =>
      createEvent(
        'alert',
        { title: TITLE, message: '7.2% 5xx', source: 'checkout-api', ...extra },
        { userId: 'sre-bot' },
      );
    for (let i = 0; i < 4; i++) await dispatcher.dispatch(alert({ message: `7.${i}% 5xx` }));
    await dispatcher.flush();
    expect(peer.mails).toHaveLength(1);
    expect(peer.mails[0]!.parsed.subject).toBe(SUBJECT);
    expect(peer.mails[0]!.parsed.text).toMatch(/^Seen: 4 times since /m);
    await dispatcher.dispatch(alert({ resolved: true }));
    await dispatcher.flush();
    expect(dispatcher.monitor.getWebhookStats(plugin.name)).toMatchObject({
      foldedCount: 3,
      successCount: 2,
    });
    await dispatcher.close();
    expect(peer.mails.map(threading)).toEqual([
      expect.objectContaining({ inReplyTo: undefined, status: 'firing' }),
      expect.objectContaining({
        subject: `[Empathy] ✅ Resolved: ${TITLE}`,
        inReplyTo: peer.mails[0]!.parsed.messageId,
        references: peer.mails[0]!.parsed.messageId,
      }),
    ]);
  });

  it('sends the same incident Message-ID on every attempt of the first mail, so a retry is one message', async () => {
    peer.failNext({ at: 'data', code: 451, message: '4.3.0 Temporary local problem' });
    await runIncidentSequence({ webhook: () => webhook(), repeats: 1 });
    expect(peer.transactions.map((t) => t.reply)).toEqual([451, 250, 250, 250]);
    const [refused, first, repeat] = peer.mails;
    expect(refused!.parsed.messageId).toMatch(INCIDENT_ID);
    expect(first!.parsed.messageId).toBe(refused!.parsed.messageId);
    expect(repeat!.parsed.inReplyTo).toBe(first!.parsed.messageId);
  });
});
