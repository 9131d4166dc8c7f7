import { createEvent, EVENT_TYPES, type IncidentContext, registerEventType } from '@empathy/webhooks-core';
import { summarizeEvent } from '@empathy/webhooks-core/kit';
import { hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import {
  buildPayload,
  escapeMrkdwn,
  formatMessage,
  type SlackMessage,
  truncateMrkdwn,
} from '../src/index.js';
import { validateMessage } from './fake-slack.js';

// Every character class core's text policy strips, written out here so the test checks the policy.
const UNSAFE =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const POSTING = { channel: '#ai-alerts', username: 'Empathy Bot', iconEmoji: ':robot_face:' };

/** Every mrkdwn string in a message (the fallback `text` is mrkdwn too). */
function mrkdwnTexts(message: SlackMessage): string[] {
  const out = [message.text];
  for (const block of message.blocks) {
    if ('text' in block && block.text.type === 'mrkdwn') out.push(block.text.text);
    if ('fields' in block) out.push(...block.fields.map((f) => f.text));
    if (block.type === 'context') out.push(...block.elements.map((e) => e.text));
  }
  return out;
}

function allText(message: SlackMessage): string {
  return JSON.stringify(message);
}

/** The text of a message's header block. */
function headerOf(message: SlackMessage): string | undefined {
  const header = message.blocks[0]!;
  return header.type === 'header' ? header.text.text : undefined;
}

/** Every string anywhere in a message. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

describe('the prediction message', () => {
  it("is exactly the seed's for the seed's event", () => {
    // The seed's "Webhook Payload" for this prediction, and its Slack "Prediction Alert".
    const event = createEvent(
      'prediction',
      {
        prediction: 'Auth deployment may conflict with user-service v2.1',
        confidence: 0.87,
        recommendation: 'Deploy auth behind feature flag',
        context: { service: 'authentication', environment: 'production' },
      },
      { userId: 'developer_123', timestamp: new Date('2025-11-25T14:30:00Z'), empathyLevel: 4 },
    );
    expect(buildPayload(event, POSTING)).toEqual({
      channel: '#ai-alerts',
      username: 'Empathy Bot',
      icon_emoji: ':robot_face:',
      // Not in the seed's JSON: the plain fallback Slack wants alongside blocks, worded like the
      // seed's Quick Start notification.
      text: '🔮 Prediction: Auth deployment may conflict with user-service v2.1',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '🔮 Level 4 Prediction' } },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*Prediction:* Auth deployment may conflict with user-service v2.1\n*Confidence:* 87%\n*Recommendation:* Deploy auth behind feature flag',
          },
        },
        {
          type: 'context',
          elements: [{ type: 'mrkdwn', text: 'Detected by: developer_123 | Time: 2025-11-25 14:30' }],
        },
      ],
    });
  });

  it('adds timeframe and impact lines and a link button when the event has them', () => {
    const message = formatMessage(
      sampleEvent('prediction', {
        impact: 'Logins fail for ~5 minutes',
        url: 'https://dash.example.com/p/1',
      }),
    );
    expect(message.blocks[1]).toMatchObject({
      text: {
        text: expect.stringMatching(/\n\*Timeframe:\* next deploy\n\*Impact:\* Logins fail for ~5 minutes$/),
      },
    });
    expect(message.blocks[2]).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open link' },
          url: 'https://dash.example.com/p/1',
        },
      ],
    });
  });
});

describe('golden messages', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}: sample event`, async () => {
      const payload = buildPayload(sampleEvent(type), POSTING);
      await expect(`${JSON.stringify(payload, null, 2)}\n`).toMatchFileSnapshot(`./__golden__/${type}.json`);
    });
    it(`${type}: long, hostile event`, async () => {
      const payload = buildPayload(hostileEvent(type), POSTING);
      await expect(`${JSON.stringify(payload, null, 2)}\n`).toMatchFileSnapshot(
        `./__golden__/${type}.hostile.json`,
      );
    });
  }
});

/** Where an incident stands, as core hands it to an attempt (first seen at the seed's time). */
function incident(status: 'firing' | 'resolved', occurrences: number, folded = 1): IncidentContext {
  return {
    key: 'empathy:alert:0123456789abcdef0123456789abcdef',
    status,
    occurrences,
    folded,
    firstSeenAt: '2025-11-25T14:30:09.120Z',
    ref: { channel: 'C0AIALERTS', ts: '1764081000.000001' },
  };
}

describe('golden messages of an incident', () => {
  const cases: [string, Parameters<typeof buildPayload>[0], IncidentContext][] = [
    ['alert.seen-4', sampleEvent('alert'), incident('firing', 4)],
    ['alert.resolved', sampleEvent('alert', { resolved: true }), incident('resolved', 4)],
    ['alert.resolved-once', sampleEvent('alert', { resolved: true }), incident('resolved', 1)],
    ['test_failure.seen-50', sampleEvent('test_failure'), incident('firing', 50, 50)],
  ];
  for (const [name, event, state] of cases) {
    it(name, async () => {
      const payload = buildPayload(event, POSTING, state);
      expect(validateMessage(payload)).toEqual([]);
      await expect(`${JSON.stringify(payload, null, 2)}\n`).toMatchFileSnapshot(`./__golden__/${name}.json`);
    });
  }
});

describe('an incident in the message', () => {
  it('a repeat says "seen N times" in the notification text and a Seen field, first of the facts', () => {
    const message = formatMessage(sampleEvent('test_failure'), incident('firing', 50, 50));
    expect(message.text).toBe(
      '❌ Test failed: test_login_rejects_expired_token (seen 50 times): AssertionError: expected 401, got 200',
    );
    expect(message.blocks[2]).toMatchObject({
      type: 'section',
      fields: [{ type: 'mrkdwn', text: '*Seen:*\n50 times since 2025-11-25 14:30 UTC' }, {}, {}],
    });
  });

  it('the first notification of an incident reads as the event alone', () => {
    expect(formatMessage(sampleEvent('alert'), incident('firing', 1))).toEqual(
      formatMessage(sampleEvent('alert')),
    );
  });

  it('a resolution names the first-seen time, once; not when the webhook never saw it fire', () => {
    const event = sampleEvent('alert', { resolved: true });
    const once = formatMessage(event, incident('resolved', 1));
    expect(headerOf(once)).toBe('✅ Resolved: Error rate above 5% on checkout');
    expect(mrkdwnTexts(once)).toContain('*First seen:*\n2025-11-25 14:30 UTC');
    const often = formatMessage(event, incident('resolved', 4));
    expect(mrkdwnTexts(often)).toContain('*Seen:*\n4 times since 2025-11-25 14:30 UTC');
    expect(JSON.stringify(often)).not.toContain('First seen');
    const unknown = formatMessage(event, { ...incident('resolved', 0), ref: undefined });
    expect(unknown).toEqual(formatMessage(event));
  });

  it('a resolution without data.resolved is still shown resolved: the incident says so', () => {
    const message = formatMessage(sampleEvent('alert'), incident('resolved', 2));
    expect(headerOf(message)).toBe('✅ Resolved: Error rate above 5% on checkout');
  });

  it("leaves the seed's prediction layout as it is", () => {
    const prediction = sampleEvent('prediction', { incident_key: 'P-1' } as never);
    expect(formatMessage(prediction, { ...incident('firing', 3), key: 'P-1' })).toEqual(
      formatMessage(prediction),
    );
  });
});

describe('every event type', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}: stays within Slack's limits, even with long hostile text`, () => {
      for (const event of [sampleEvent(type), hostileEvent(type)]) {
        const message = formatMessage(event);
        expect(validateMessage(message)).toEqual([]);
        expect(message.blocks.length).toBeLessThanOrEqual(10);
        expect(message.blocks[0]!.type).toBe('header');
        expect(message.blocks.at(-1)!.type).toBe('context');
        expect(message.text.length).toBeGreaterThan(0);
      }
    });

    it(`${type}: cannot mention, link or hide text through event data`, () => {
      const message = formatMessage(hostileEvent(type));
      for (const text of mrkdwnTexts(message)) {
        // No raw control characters: `<!channel>`, `<@U123>` and `<url|label>` cannot form.
        expect(text).not.toMatch(/[<>]/);
        expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
      }
      const all = allText(message);
      expect(all).toContain('&lt;!channel&gt;');
      for (const text of strings(message)) expect(text).not.toMatch(UNSAFE);
      // Only the event's own URLs become buttons.
      for (const block of message.blocks) {
        if (block.type === 'actions')
          for (const b of block.elements) expect(b.url).toMatch(/^https:\/\/(ci|github)\./);
      }
    });

    it(`${type}: ends cut text with an ellipsis`, () => {
      const message = formatMessage(hostileEvent(type));
      const header = message.blocks[0]!;
      expect(header.type === 'header' && header.text.text.length).toBeLessThanOrEqual(150);
      expect(allText(message)).toContain('…');
    });
  }
});

describe('what each event type shows', () => {
  const text = (type: (typeof EVENT_TYPES)[number]) => allText(formatMessage(sampleEvent(type)));

  it("takes every title from core's reading, so Slack says what every integration says", () => {
    for (const type of EVENT_TYPES) {
      const event = sampleEvent(type);
      const reading = summarizeEvent(event);
      const message = formatMessage(event);
      expect(headerOf(message)).toBe(`${reading.emoji} ${reading.title}`);
      if (type !== 'prediction')
        expect(message.text.startsWith(`${reading.emoji} ${reading.title}`)).toBe(true);
    }
  });

  it('a bug shows its description, location and facts, and the fix as code', () => {
    const message = formatMessage(sampleEvent('bug_detected'));
    expect(headerOf(message)).toBe('🐛 Bug detected: Unclosed file handle');
    expect(text('bug_detected')).toContain('open() without a context manager leaks a file descriptor');
    expect(text('bug_detected')).toContain('*Location:*\\nstorage/export.py:112');
    expect(text('bug_detected')).toContain(
      '*Suggested fix:*\\n```with open(path) as fh:\\n    data = fh.read()```',
    );
  });

  it('a security finding shows its CWE, CVSS and fix', () => {
    expect(text('security_vulnerability')).toContain('🔒 Security vulnerability: SQL injection');
    expect(text('security_vulnerability')).toContain('*CWE:*\\nCWE-89');
    expect(text('security_vulnerability')).toContain('*CVSS:*\\n9.1');
    expect(text('security_vulnerability')).toContain('Use parameterized queries');
  });

  it('code in a fix cannot close its code block early', () => {
    const message = formatMessage(sampleEvent('bug_detected', { fix: 'a ``` b' }));
    expect(allText(message)).toContain("```a ''' b```");
  });

  it('a test failure shows the test name, the failure and a link to the run', () => {
    const message = formatMessage(sampleEvent('test_failure'));
    expect(headerOf(message)).toBe('❌ Test failed: test_login_rejects_expired_token');
    expect(text('test_failure')).toContain('AssertionError: expected 401, got 200');
    expect(message.blocks).toContainEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open CI run' },
          url: 'https://ci.example.com/runs/4521',
        },
      ],
    });
  });

  it("a performance issue reads like the seed's Datadog title and shows the measurement", () => {
    expect(text('performance_issue')).toContain('🐢 Performance: /api/users response time degraded');
    expect(text('performance_issue')).toContain('p95_response_time is 1840 (threshold 500)');
  });

  it('a code review lists positives, numbered suggestions with file:line, security and confidence', () => {
    const all = text('code_review_complete');
    expect(all).toContain('🤖 AI Code Review: Smart-AI-Memory/empathy#123');
    expect(all).toContain('1. app/files.py:45 — Consider using context manager for file handling');
    expect(all).toContain('• No security issues detected');
    expect(all).toContain('*Confidence:*\\n92%');
  });

  it('long lists end in "…and N more" instead of growing the message', () => {
    const message = formatMessage(hostileEvent('code_review_complete'));
    expect(allText(message)).toMatch(/_…and \d+ more_/);
  });

  it('a resolved alert says so', () => {
    expect(text('alert')).toContain('🚨 Error rate above 5% on checkout');
    const resolved = formatMessage(sampleEvent('alert', { resolved: true }));
    expect(headerOf(resolved)).toBe('✅ Resolved: Error rate above 5% on checkout');
    expect(resolved.text).toBe(
      '✅ Resolved: Error rate above 5% on checkout: checkout-api 5xx rate is 7.2% over the last 10 minutes',
    );
  });

  it('an alert without a title (as the Quick Start sends) reads "🚨 Alert", not "Alert: Alert"', () => {
    const untitled = formatMessage(
      createEvent('alert', { message: 'Error rate above 5%' }, { userId: 'u', severity: 'high' }),
    );
    expect(headerOf(untitled)).toBe('🚨 Alert');
    expect(untitled.text).toBe('🚨 Alert: Error rate above 5%');
  });

  it('the context line names severity, user, level, classification and event', () => {
    expect(text('compliance_violation')).toContain(
      'Severity: High · Empathy Framework · developer_123 · level 4 · SENSITIVE · evt_sample_compliance_violation',
    );
    expect(text('pattern_discovered')).toContain(
      'Empathy Framework · developer_123 · level 4 · INTERNAL · evt_sample_pattern_discovered',
    );
  });

  it('an app-defined event type lists its data', () => {
    registerEventType('release_published');
    const event = createEvent(
      'release_published' as 'alert',
      { version: '2.0.0', notes: '<!here> big one' } as never,
      {
        userId: 'release_bot',
        timestamp: new Date('2025-11-25T14:30:00Z'),
      },
    );
    const message = formatMessage(event);
    expect(headerOf(message)).toBe('📣 Release published');
    expect(allText(message)).toContain('*Version:*\\n2.0.0');
    expect(allText(message)).toContain('*Notes:*\\n&lt;!here&gt; big one');
    expect(validateMessage(message)).toEqual([]);
  });
});

describe('text helpers', () => {
  it('escapes exactly &, < and >, on text cleaned by the text policy', () => {
    expect(escapeMrkdwn('<!channel> & <@U1> *bold* "q"')).toBe(
      '&lt;!channel&gt; &amp; &lt;@U1&gt; *bold* "q"',
    );
    expect(escapeMrkdwn('ok\u202Egnp.exe zero\u200Bwidth')).toBe('okgnp.exe zerowidth');
  });

  it('never leaves half an entity behind', () => {
    expect(truncateMrkdwn('abc &amp; def', 7)).toBe('abc …');
    expect(truncateMrkdwn('abc &amp; def', 11)).toBe('abc &amp; …');
  });
});
