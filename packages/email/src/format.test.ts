import { createEvent, EVENT_TYPES, registerEventType } from '@empathy/webhooks-core';
import { HOSTILE_TEXT, hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import { EMAIL_LIMITS, type EmailMessage, formatEmail } from './format.js';

/** The message as a reader sees it: headers, then the plain-text part. */
function asText(m: EmailMessage): string {
  const headers = [
    `Subject: ${m.subject}`,
    `Message-ID: ${m.messageId}`,
    `Priority: ${m.priority}`,
    ...Object.entries(m.headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${headers.join('\n')}\n\n${m.text}`;
}

// Every tag formatEmail writes; anything else that looks like a tag came from event data.
const OUR_TAGS =
  /<!DOCTYPE html>|<\/?(?:html|head|meta|title|body|table|tr|td|th|h1|h2|p|a|ul|ol|li|br)(?:\s[^<>]*)?>/g;

describe('formatEmail goldens', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}: sample`, async () => {
      const message = formatEmail(sampleEvent(type));
      await expect(asText(message)).toMatchFileSnapshot(`./__golden__/${type}.txt`);
      await expect(message.html).toMatchFileSnapshot(`./__golden__/${type}.html`);
    });

    it(`${type}: long, hostile text`, async () => {
      const message = formatEmail(hostileEvent(type));
      await expect(asText(message)).toMatchFileSnapshot(`./__golden__/hostile/${type}.txt`);
      await expect(message.html).toMatchFileSnapshot(`./__golden__/hostile/${type}.html`);
    });
  }
});

describe('formatEmail', () => {
  const all = EVENT_TYPES.flatMap((type) => [sampleEvent(type), hostileEvent(type)]);

  it('writes a one-line, bounded subject with the prefix for every event', () => {
    for (const event of all) {
      const { subject } = formatEmail(event);
      expect(subject).toMatch(/^\[Empathy\] \S/);
      expect(subject).not.toMatch(/[\r\n\t\u0000-\u001F\u202E]/);
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

  it('strips control and bidi-override characters from both parts', () => {
    expect(HOSTILE_TEXT).toMatch(/[\u0000\u0007\u202E]/);
    for (const event of all) {
      const { text, html } = formatEmail(event);
      expect(text).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F\u202A-\u202E\u2066-\u2069]/);
      expect(html).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F\u202A-\u202E\u2066-\u2069]/);
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
    expect(long.text).toMatch(/Prediction: (🔮)+…\n/);
    expect(long.subject).toMatch(/(🔮)+…$/);
    expect(long.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('links only http(s) URLs', () => {
    const safe = formatEmail(sampleEvent('alert', { url: 'https://status.example.com/incidents/7?a=1&b=2' }));
    expect(safe.html).toContain('href="https://status.example.com/incidents/7?a=1&amp;b=2"');
    expect(safe.text).toContain('View details: https://status.example.com/incidents/7?a=1&b=2');
    const script = formatEmail(sampleEvent('alert', { url: 'javascript:alert(1)' }));
    expect(script.html).not.toContain('href=');
    expect(script.text).not.toContain('javascript:');
  });

  it('marks a resolved alert and raises priority for high severities', () => {
    const resolved = formatEmail(sampleEvent('alert', { resolved: true }));
    expect(resolved.subject).toBe('[Empathy] ✅ Resolved: Error rate above 5% on checkout');
    expect(resolved.text).toContain('Status: Resolved');
    expect(formatEmail(sampleEvent('security_vulnerability')).priority).toBe('high');
    expect(formatEmail(sampleEvent('pattern_discovered')).priority).toBe('normal');
  });

  it('keeps the Message-ID stable per event and webhook, and valid for odd names', () => {
    const event = sampleEvent('error');
    const a = formatEmail(event, { webhookName: 'team/ops:mail@x', messageIdDomain: 'mail.example.com' });
    expect(a.messageId).toBe('<evt_sample_error.team-ops-mail-x@mail.example.com>');
    expect(
      formatEmail(event, { webhookName: 'team/ops:mail@x', messageIdDomain: 'mail.example.com' }),
    ).toEqual(a);
    expect(formatEmail(event, { webhookName: 'other' }).messageId).toBe(
      '<evt_sample_error.other@empathy.invalid>',
    );
  });

  it('uses the subject prefix given, or none', () => {
    expect(formatEmail(sampleEvent('error'), { subjectPrefix: '[prod]' }).subject).toMatch(
      /^\[prod\] 💥 Error:/,
    );
    expect(formatEmail(sampleEvent('error'), { subjectPrefix: '' }).subject).toMatch(/^💥 Error:/);
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
    expect(subject).toBe('[Empathy] 📣 release_published');
    expect(text).toContain('version: 2.0.0\nnotes: Faster\n');
  });
});
