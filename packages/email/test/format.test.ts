import {
  createEvent,
  type EmpathyEvent,
  EVENT_TYPES,
  type IncidentContext,
  registerEventType,
} from '@empathy/webhooks-core';
import { summarizeEvent } from '@empathy/webhooks-core/kit';
import { HOSTILE_TEXT, hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import { EMAIL_LIMITS, emailHeaders, fitEmail, formatEmail } from '../src/index.js';

/** The message as a reader sees it: headers, then the plain-text part. */
function asText(event: EmpathyEvent, incident?: IncidentContext): string {
  const { subject, text } = formatEmail(event, { incident });
  const { messageId, inReplyTo, references, priority, headers } = emailHeaders(event, { incident });
  const lines = [
    `Subject: ${subject}`,
    `Message-ID: ${messageId}`,
    ...(inReplyTo ? [`In-Reply-To: ${inReplyTo}`, `References: ${references}`] : []),
    `Priority: ${priority}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\n')}\n\n${text}`;
}

/** An incident's context as core hands it to an attempt. */
const incident = (extra: Partial<IncidentContext> = {}): IncidentContext => ({
  key: 'empathy:alert:0123456789abcdef0123456789abcdef',
  status: 'firing',
  occurrences: 1,
  folded: 1,
  firstSeenAt: '2025-11-25T14:30:00.000Z',
  ref: undefined,
  ...extra,
});
const FIRST = '<incident-5d3c4e0b1a2f6789-1764081000000-evt_sample_alert.email@empathy.invalid>';

// Every tag formatEmail writes; anything else that looks like a tag came from event data.
const OUR_TAGS =
  /<!DOCTYPE html>|<\/?(?:html|head|meta|title|body|table|tr|td|th|h1|h2|p|pre|a|ul|ol|li|br)(?:\s[^<>]*)?>/g;

// Every character class core's text policy strips, written out here so the test checks the policy.
const UNSAFE =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('formatEmail goldens', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}: sample`, async () => {
      const event = sampleEvent(type);
      await expect(asText(event)).toMatchFileSnapshot(`./__golden__/${type}.txt`);
      await expect(formatEmail(event).html).toMatchFileSnapshot(`./__golden__/${type}.html`);
    });

    it(`${type}: long, hostile text`, async () => {
      const event = hostileEvent(type);
      await expect(asText(event)).toMatchFileSnapshot(`./__golden__/hostile/${type}.txt`);
      await expect(formatEmail(event).html).toMatchFileSnapshot(`./__golden__/hostile/${type}.html`);
    });
  }
});

describe('formatEmail', () => {
  const all = EVENT_TYPES.flatMap((type) => [sampleEvent(type), hostileEvent(type)]);

  it("takes the subject from core's reading, so email says what every integration says", () => {
    for (const type of EVENT_TYPES) {
      const event = sampleEvent(type);
      const { emoji, title } = summarizeEvent(event);
      expect(formatEmail(event).subject).toBe(`[Empathy] ${emoji} ${title}`);
    }
    expect(formatEmail(sampleEvent('bug_detected')).subject).toBe(
      '[Empathy] 🐛 Bug detected: Unclosed file handle',
    );
  });

  it('writes a one-line, bounded subject with the prefix for every event', () => {
    for (const event of all) {
      const { subject } = formatEmail(event);
      expect(subject).toMatch(/^\[Empathy\] \S/);
      expect(subject).not.toMatch(/[\r\n\t]/);
      expect(subject).not.toMatch(UNSAFE);
      expect(subject.length).toBeLessThanOrEqual('[Empathy] '.length + EMAIL_LIMITS.subject);
    }
  });

  it('escapes every piece of event data in the HTML part', () => {
    for (const event of all) {
      const { html } = formatEmail(event);
      const leftover = html.replace(OUR_TAGS, '');
      expect(leftover, event.event_id).not.toMatch(/[<>]/);
    }
    const { html } = formatEmail(hostileEvent('alert'));
    expect(html).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;https://evil.example|click me&gt;',
    );
    expect(html).toContain('&quot;quotes&quot; &#39;single&#39;');
  });

  it('strips every character class of the text policy from every part', () => {
    expect(HOSTILE_TEXT).toMatch(UNSAFE);
    for (const event of all) {
      const { subject, text, html } = formatEmail(event);
      for (const part of [subject, text, html]) expect(part).not.toMatch(UNSAFE);
    }
  });

  it('cuts long text and long lists, so a hostile event stays a readable size', () => {
    for (const type of EVENT_TYPES) {
      const { text, html } = formatEmail(hostileEvent(type));
      expect(text.length, type).toBeLessThan(60_000);
      expect(html.length, type).toBeLessThan(80_000);
    }
    const review = formatEmail(hostileEvent('code_review_complete')).text;
    expect(review).toContain(`…and ${42 - EMAIL_LIMITS.items} more`);
    const long = formatEmail(sampleEvent('prediction', { prediction: '🔮'.repeat(3000) }));
    expect(long.text).toMatch(/\n(🔮)+…\n/);
    expect(long.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('links only http(s) URLs', () => {
    const safe = formatEmail(sampleEvent('alert', { url: 'https://status.example.com/incidents/7?a=1&b=2' }));
    expect(safe.html).toContain('href="https://status.example.com/incidents/7?a=1&amp;b=2"');
    expect(safe.text).toContain('Open link: https://status.example.com/incidents/7?a=1&b=2');
    const script = formatEmail(sampleEvent('alert', { url: 'javascript:alert(1)' }));
    expect(script.html).not.toContain('href=');
    expect(script.text).not.toContain('javascript:');
  });

  it('shows a suggested fix as code, and a resolved alert as resolved', () => {
    const bug = formatEmail(sampleEvent('bug_detected'));
    expect(bug.text).toContain('Suggested fix:\n    with open(path) as fh:\n        data = fh.read()');
    expect(bug.html).toContain('with open(path) as fh:\n    data = fh.read()</pre>');
    const resolved = formatEmail(sampleEvent('alert', { resolved: true }));
    expect(resolved.subject).toBe('[Empathy] ✅ Resolved: Error rate above 5% on checkout');
    expect(resolved.html).toContain('border-top:4px solid #1a7f37');
  });

  it('uses the subject prefix given, or none', () => {
    expect(formatEmail(sampleEvent('error'), { subjectPrefix: '[prod]' }).subject).toBe(
      '[prod] 🛑 Error: ResponderTimeout',
    );
    expect(formatEmail(sampleEvent('error'), { subjectPrefix: '' }).subject).toBe(
      '🛑 Error: ResponderTimeout',
    );
  });

  it('shows the fields of an application-defined event type', () => {
    registerEventType('release_published');
    const event = createEvent(
      'release_published' as 'error',
      { version: '2.0.0', notes: 'Faster' } as never,
      {
        userId: 'release-bot',
        eventId: 'evt_release',
        timestamp: new Date('2025-11-25T14:30:00Z'),
      },
    );
    const { subject, text } = formatEmail(event);
    expect(subject).toBe('[Empathy] 📣 Release published');
    expect(text).toContain('Version: 2.0.0\nNotes: Faster\n');
  });
});

describe('incident mails (goldens)', () => {
  const alert = sampleEvent('alert');
  const resolved = sampleEvent('alert', { resolved: true });
  const cases: [name: string, event: EmpathyEvent, context: IncidentContext][] = [
    ['first', alert, incident()],
    ['repeat', alert, incident({ occurrences: 4, folded: 1, ref: { message_id: FIRST } })],
    [
      'resolved',
      resolved,
      incident({ status: 'resolved', occurrences: 4, folded: 0, ref: { message_id: FIRST } }),
    ],
    // A resolution with no mail on record: core counted nothing, so the time is not known.
    ['resolved-unrecorded', resolved, incident({ status: 'resolved', occurrences: 0, folded: 0 })],
  ];
  for (const [name, event, context] of cases) {
    it(name, async () => {
      await expect(asText(event, context)).toMatchFileSnapshot(`./__golden__/incident/alert-${name}.txt`);
    });
  }

  it('threads a repeat as a reply and titles a resolution, from core’s reading', () => {
    const repeat = formatEmail(alert, { incident: incident({ occurrences: 4, ref: { message_id: FIRST } }) });
    expect(repeat.subject).toBe('Re: [Empathy] 🚨 Error rate above 5% on checkout');
    expect(repeat.text).toContain('\nSeen: 4 times since 2025-11-25 14:30 UTC\n');
    const done = formatEmail(resolved, { incident: incident({ status: 'resolved', occurrences: 1 }) });
    expect(done.subject).toBe('[Empathy] ✅ Resolved: Error rate above 5% on checkout');
    expect(done.text).toContain('\nFirst seen: 2025-11-25 14:30 UTC\n');
  });
});

describe('emailHeaders', () => {
  it('opens an incident with its own Message-ID: stable per attempt, distinct per event and webhook', () => {
    const event = sampleEvent('alert');
    const first = emailHeaders(event, { messageIdDomain: 'example.com', incident: incident() });
    expect(first.messageId).toMatch(
      /^<incident-[0-9a-f]{16}-1764081000000-evt_sample_alert\.email@example\.com>$/,
    );
    expect(first.inReplyTo).toBeUndefined();
    expect(emailHeaders(event, { messageIdDomain: 'example.com', incident: incident() })).toEqual(first);
    const other = emailHeaders(event, { webhookName: 'pager', incident: incident() });
    expect(other.messageId).not.toBe(first.messageId);
    const reopened = emailHeaders(sampleEvent('alert', {}, { eventId: 'evt_later' }), {
      incident: incident(),
    });
    expect(reopened.messageId).not.toBe(first.messageId);
    expect(first.headers).toMatchObject({
      'X-Empathy-Incident-Key': 'empathy:alert:0123456789abcdef0123456789abcdef',
      'X-Empathy-Incident-Status': 'firing',
    });
  });

  it('replies in the thread of the reference, and ignores one that is not a Message-ID', () => {
    const event = sampleEvent('alert');
    const reply = emailHeaders(event, { incident: incident({ ref: { message_id: FIRST } }) });
    expect(reply).toMatchObject({
      messageId: '<evt_sample_alert.email@empathy.invalid>',
      inReplyTo: FIRST,
      references: FIRST,
    });
    for (const bad of ['<a@b>\r\nBcc: x@evil.example', 'not-an-id', '<a b@c>']) {
      const fresh = emailHeaders(event, { incident: incident({ ref: { message_id: bad } }) });
      expect(fresh.inReplyTo).toBeUndefined();
      expect(fresh.messageId).toMatch(/^<incident-/);
      expect(formatEmail(event, { incident: incident({ ref: { message_id: bad } }) }).subject).not.toMatch(
        /^Re:/,
      );
    }
  });

  it('never flags a resolution important', () => {
    const resolved = sampleEvent('alert', { resolved: true });
    expect(emailHeaders(resolved).priority).toBe('high');
    expect(emailHeaders(resolved, { incident: incident({ status: 'resolved' }) }).priority).toBe('normal');
  });

  it('keeps the Message-ID stable per event and webhook, and valid for odd names', () => {
    const event = sampleEvent('error');
    const a = emailHeaders(event, { webhookName: 'team/ops:mail@x', messageIdDomain: 'mail.example.com' });
    expect(a.messageId).toBe('<evt_sample_error.team-ops-mail-x@mail.example.com>');
    expect(
      emailHeaders(event, { webhookName: 'team/ops:mail@x', messageIdDomain: 'mail.example.com' }),
    ).toEqual(a);
    expect(emailHeaders(event, { webhookName: 'other' }).messageId).toBe(
      '<evt_sample_error.other@empathy.invalid>',
    );
  });

  it('raises priority for high severities', () => {
    expect(emailHeaders(sampleEvent('security_vulnerability')).priority).toBe('high');
    expect(emailHeaders(sampleEvent('pattern_discovered')).priority).toBe('normal');
  });
});

describe('fitEmail: what a `format` returns', () => {
  const payload = formatEmail(sampleEvent('alert'));

  it('cleans every part, puts the subject on one line and cuts it and the text', () => {
    const fitted = fitEmail({
      subject: `line one\r\nBcc: x@evil.example\u202E ${'s'.repeat(400)}`,
      text: `bidi\u202E zero\u200Bwidth ${'t'.repeat(EMAIL_LIMITS.textPart)}`,
      html: '<p>ok\u0007</p>',
    });
    expect(fitted.subject).toMatch(/^line one Bcc: x@evil\.example s+…$/);
    expect(fitted.subject).toHaveLength(250);
    expect(fitted.text).toHaveLength(EMAIL_LIMITS.textPart);
    expect(fitted.text).toMatch(/^bidi zerowidth t+…$/);
    expect(fitted.html).toBe('<p>ok</p>');
  });

  it('refuses what cannot be sent, naming the problem', () => {
    expect(() => fitEmail({ ...payload, text: undefined as never })).toThrow("'text' must be a string");
    expect(() => fitEmail({ ...payload, text: ' ', html: '' })).toThrow("an email needs 'text' or 'html'");
    expect(() => fitEmail({ ...payload, html: 'x'.repeat(EMAIL_LIMITS.htmlPart + 1) })).toThrow(
      `'html' is ${EMAIL_LIMITS.htmlPart + 1} characters long, more than ${EMAIL_LIMITS.htmlPart}`,
    );
  });
});
