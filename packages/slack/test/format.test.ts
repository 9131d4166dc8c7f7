import { createEvent, EVENT_TYPES, registerEventType } from '@empathy/webhooks-core';
import { hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import {
  buildPayload,
  escapeMrkdwn,
  formatMessage,
  type SlackMessage,
  truncateMrkdwn,
  truncatePlain,
} from '../src/index.js';
import { validateMessage } from './slack-fake.js';

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
          text: { type: 'plain_text', text: 'View details' },
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

describe('every event type', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}: stays within Slack's limits, even with long hostile text`, () => {
      for (const event of [sampleEvent(type), hostileEvent(type)]) {
        const message = formatMessage(event);
        expect(validateMessage(message)).toEqual([]);
        expect(message.blocks.length).toBeLessThanOrEqual(8);
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
      for (const text of strings(message))
        expect(text).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F\u202A-\u202E]/);
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

  it('a bug shows file:line, the issue and the fix as code', () => {
    const message = formatMessage(sampleEvent('bug_detected'));
    expect(message.blocks[0]).toMatchObject({
      text: { text: '🐛 Bug: Unclosed file handle in storage/export.py:112' },
    });
    expect(text('bug_detected')).toContain('*File:* `storage/export.py:112`');
    expect(text('bug_detected')).toContain(
      '*Suggested fix:*\\n```with open(path) as fh:\\n    data = fh.read()```',
    );
  });

  it('a security finding shows its CWE, CVSS and fix', () => {
    expect(text('security_vulnerability')).toContain('🔒 Security: SQL injection in auth.py:45');
    expect(text('security_vulnerability')).toContain('*Rating:* CWE-89 | CVSS 9.1');
    expect(text('security_vulnerability')).toContain('Use parameterized queries');
  });

  it('a test failure shows the test name, the failure and a link to the run', () => {
    const message = formatMessage(sampleEvent('test_failure'));
    expect(message.blocks[0]).toMatchObject({
      text: { text: '❌ Test failed: test_login_rejects_expired_token' },
    });
    expect(text('test_failure')).toContain('```AssertionError: expected 401, got 200```');
    expect(message.blocks).toContainEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'View run' },
          url: 'https://ci.example.com/runs/4521',
        },
      ],
    });
  });

  it("a performance issue reads like the seed's Datadog title and shows the measurement", () => {
    expect(text('performance_issue')).toContain('🐢 Performance: /api/users response time degraded');
    expect(text('performance_issue')).toContain('p95_response_time = 1840 (threshold 500)');
  });

  it('a code review lists positives, numbered suggestions with file:line, security and confidence', () => {
    const all = text('code_review_complete');
    expect(all).toContain('🤖 AI Code Review: PR #123');
    expect(all).toContain('1. *app/files.py:45*: Consider using context manager for file handling');
    expect(all).toContain('• No security issues detected');
    expect(all).toContain('*Confidence:* 92%');
  });

  it('long lists end in "…and N more" instead of growing the message', () => {
    const message = formatMessage(hostileEvent('code_review_complete'));
    expect(allText(message)).toMatch(/_…and \d+ more_/);
  });

  it('an alert picks its emoji from the severity, and a resolved alert says so', () => {
    expect(text('alert')).toContain('🚨 Alert: Error rate above 5% on checkout');
    const resolved = formatMessage(sampleEvent('alert', { resolved: true }));
    expect(resolved.blocks[0]).toMatchObject({
      text: { text: '✅ Resolved: Error rate above 5% on checkout' },
    });
    expect(resolved.text).toBe(
      '✅ Resolved: Error rate above 5% on checkout: checkout-api 5xx rate is 7.2% over the last 10 minutes',
    );
  });

  it('an alert without a title (as the Quick Start sends) reads "🚨 Alert", not "Alert: Alert"', () => {
    const untitled = formatMessage(
      createEvent('alert', { message: 'Error rate above 5%' }, { userId: 'u', severity: 'high' }),
    );
    expect(untitled.blocks[0]).toMatchObject({ text: { text: '🚨 Alert' } });
    expect(untitled.text).toBe('🚨 Alert: Error rate above 5%');
  });

  it('the remaining types get headers that fit them', () => {
    expect(text('deployment_risk')).toContain('🚦 Deployment risk: authentication → production');
    expect(text('compliance_violation')).toContain('⚖️ Compliance: HIPAA violation');
    expect(text('compliance_violation')).toContain('Classification: SENSITIVE');
    expect(text('pattern_discovered')).toContain('💡 Pattern discovered: Retry storms after deploys');
    expect(text('completion')).toContain('Proactive | Duration: 1.2 s | Requested by: developer_123');
    expect(text('error')).toContain('🔥 Error: ResponderTimeout');
    expect(text('phi_access')).toContain('🏥 PHI access: patients/8812/record');
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
    expect(message.blocks[0]).toMatchObject({ text: { text: '📣 release_published' } });
    expect(allText(message)).toContain('*version:* 2.0.0\\n*notes:* &lt;!here&gt; big one');
    expect(validateMessage(message)).toEqual([]);
  });
});

describe('text helpers', () => {
  it('escapes exactly &, < and >', () => {
    expect(escapeMrkdwn('<!channel> & <@U1> *bold* "q"')).toBe(
      '&lt;!channel&gt; &amp; &lt;@U1&gt; *bold* "q"',
    );
  });

  it('cuts to the limit with an ellipsis, never splitting a surrogate pair', () => {
    expect(truncatePlain('abcdef', 6)).toBe('abcdef');
    expect(truncatePlain('abcdefg', 6)).toBe('abcde…');
    const cut = truncatePlain('ab🔮🔮', 4);
    expect(cut).toBe('ab…');
    expect(cut.length).toBeLessThanOrEqual(4);
  });

  it('never leaves half an entity behind', () => {
    expect(truncateMrkdwn('abc &amp; def', 7)).toBe('abc …');
    expect(truncateMrkdwn('abc &amp; def', 11)).toBe('abc &amp; …');
  });
});
