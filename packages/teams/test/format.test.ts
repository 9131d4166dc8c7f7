import { createEvent, EVENT_TYPES, type IncidentContext, registerEventType } from '@empathy/webhooks-core';
import { HOSTILE_TEXT, hostileEvent, sampleEvent, UNSAFE_CHARACTERS } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import {
  type CardElement,
  defuseMarkdown,
  fitTeamsMessage,
  formatTeamsMessage,
  MAX_MESSAGE_BYTES,
  type TeamsMessage,
} from '../src/format.js';
import { parseCard } from '../src/validate-card.js';
import { expectValidCard } from './expect-valid-card.js';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const cardOf = (message: TeamsMessage) => message.attachments[0].content;

/** Every string in a value (JSON.stringify would hide control characters behind escapes). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

function elements(body: CardElement[]): CardElement[] {
  return body.flatMap((e) => (e.type === 'Container' ? [e, ...elements(e.items)] : [e]));
}

describe('formatTeamsMessage: golden cards', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}`, async () => {
      const message = formatTeamsMessage(sampleEvent(type));
      expectValidCard(cardOf(message));
      await expect(json(message)).toMatchFileSnapshot(`./__golden__/${type}.json`);
    });

    it(`${type} with long, hostile text`, async () => {
      const message = formatTeamsMessage(hostileEvent(type));
      const card = cardOf(message);
      expectValidCard(card);
      expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      for (const element of elements(card.body)) {
        if (element.type !== 'FactSet') continue;
        for (const fact of element.facts) {
          expect(`${fact.title} ${fact.value}`, 'a live markdown link in a fact').not.toMatch(/\]\s*\(/);
        }
      }
      for (const text of strings(message)) {
        expect(text, 'a character the text policy strips').not.toMatch(UNSAFE_CHARACTERS);
      }
      for (const action of card.actions ?? []) expect(action.url).toMatch(/^https?:\/\//);
      await expect(json(message)).toMatchFileSnapshot(`./__golden__/hostile/${type}.json`);
    });
  }
});

/** Where an incident stands, as core hands it to an attempt: first seen 28 minutes before the sample. */
const incident = (
  status: 'firing' | 'resolved',
  occurrences: number,
  /** The first card's title, kept as the incident's ref; `null`: nothing kept. */
  original: string | null = 'Error rate above 5% on checkout',
): IncidentContext => ({
  key: 'empathy:alert:0123456789abcdef0123456789abcdef',
  status,
  occurrences,
  folded: 1,
  firstSeenAt: '2025-11-25T14:02:09.120Z',
  ref: original === null ? undefined : { title: original },
});

describe('formatTeamsMessage: incident goldens', () => {
  const cases = {
    repeat: [sampleEvent('alert'), incident('firing', 4)],
    resolved: [sampleEvent('alert', { resolved: true }), incident('resolved', 4)],
    'resolved-once': [sampleEvent('alert', { resolved: true }), incident('resolved', 1)],
  } as const;
  for (const [name, [event, state]] of Object.entries(cases)) {
    it(`alert ${name}`, async () => {
      const message = formatTeamsMessage(event, state);
      expectValidCard(cardOf(message));
      await expect(json(message)).toMatchFileSnapshot(`./__golden__/incident/alert-${name}.json`);
    });
  }

  it('says seen N times on a repeat; a resolved card is green and names the original and when it began', () => {
    const repeat = cardOf(formatTeamsMessage(sampleEvent('alert'), incident('firing', 4)));
    expect(repeat.body.find((e) => e.type === 'FactSet')!.facts[0]).toEqual({
      title: 'Seen',
      value: '4 times since 2025-11-25 14:02 UTC',
    });
    // Resolved under another title (an explicit incident_key): the card names the first one's.
    const event = sampleEvent('alert', { title: 'Error rate back to 0.4%', resolved: true });
    const resolved = cardOf(formatTeamsMessage(event, incident('resolved', 1)));
    expect(resolved.body[0]).toMatchObject({ style: 'good' });
    expect(JSON.stringify(resolved.body[0])).toContain(
      '"text":"✅ Resolved: Error rate above 5% on checkout","size":"Large","weight":"Bolder","color":"Good"',
    );
    expect(resolved.fallbackText).toBe('✅ Resolved: Error rate above 5% on checkout');
    expect(resolved.body.find((e) => e.type === 'FactSet')!.facts[0]).toEqual({
      title: 'First seen',
      value: '2025-11-25 14:02 UTC',
    });
    // Nothing known of the incident (its state expired): the event's own title, no first-seen time.
    const unknown = cardOf(formatTeamsMessage(event, incident('resolved', 0, null)));
    expect(unknown.fallbackText).toBe('✅ Resolved: Error rate back to 0.4%');
    expect(JSON.stringify(unknown)).not.toContain('First seen');
    // The first notification of an incident is the event's card as it always was.
    expect(formatTeamsMessage(sampleEvent('alert'), incident('firing', 1, null))).toEqual(
      formatTeamsMessage(sampleEvent('alert')),
    );
  });
});

describe('formatTeamsMessage', () => {
  it('wraps one Adaptive Card 1.4 the way Workflows takes it', () => {
    const message = formatTeamsMessage(sampleEvent('alert'));
    expect(message).toMatchObject({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: { type: 'AdaptiveCard', version: '1.4', msteams: { width: 'Full' } },
        },
      ],
    });
    expect(message.attachments).toHaveLength(1);
  });

  it('titles the card in the severity colour and puts the fields in a FactSet', () => {
    const card = cardOf(formatTeamsMessage(sampleEvent('security_vulnerability')));
    expect(card.body[0]).toMatchObject({
      type: 'Container',
      style: 'attention',
      items: [
        {
          type: 'RichTextBlock',
          inlines: [
            { text: '🔒 Security vulnerability: SQL injection', color: 'Attention', weight: 'Bolder' },
          ],
        },
        { inlines: [{ text: 'Critical · security_vulnerability' }] },
      ],
    });
    expect(card.body.find((e) => e.type === 'FactSet')).toEqual({
      type: 'FactSet',
      facts: [
        { title: 'Location', value: 'auth.py:45' },
        { title: 'Category', value: 'security' },
        { title: 'CWE', value: 'CWE-89' },
        { title: 'CVSS', value: '9.1' },
        { title: 'Labels', value: 'sql-injection' },
      ],
    });
    const green = cardOf(formatTeamsMessage(sampleEvent('alert', { resolved: true })));
    expect(green.body[0]).toMatchObject({ style: 'good' });
    expect(JSON.stringify(green.body[0])).toContain('"text":"✅ Resolved: Error rate above 5% on checkout"');
    expect(JSON.stringify(green.body[0])).toContain('"color":"Good"');
  });

  it('shows the recommendation, and the fix in monospace', () => {
    const prediction = cardOf(formatTeamsMessage(sampleEvent('prediction')));
    expect(prediction.body).toContainEqual({
      type: 'Container',
      style: 'emphasis',
      items: [
        { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'Recommendation', weight: 'Bolder' }] },
        {
          type: 'RichTextBlock',
          inlines: [{ type: 'TextRun', text: 'Deploy auth behind feature flag' }],
          spacing: 'None',
        },
      ],
    });
    const bug = JSON.stringify(cardOf(formatTeamsMessage(sampleEvent('bug_detected'))));
    expect(bug).toContain('"text":"with open(path) as fh:\\n    data = fh.read()","fontType":"Monospace"');
  });

  it('adds an Action.OpenUrl for the event link, and none for a link that is not http(s)', () => {
    expect(cardOf(formatTeamsMessage(sampleEvent('test_failure'))).actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open CI run', url: 'https://ci.example.com/runs/4521' },
    ]);
    expect(cardOf(formatTeamsMessage(sampleEvent('code_review_complete'))).actions).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'View pull request',
        url: 'https://github.com/Smart-AI-Memory/empathy/pull/123',
      },
    ]);
    const card = cardOf(formatTeamsMessage(sampleEvent('alert', { url: 'javascript:alert(1)' })));
    expect(card.actions).toBeUndefined();
  });

  it('keeps a huge event under the Teams message size by cutting its text', () => {
    const event = sampleEvent('alert', {
      message: '€'.repeat(50_000),
      details: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`key_${i}`, 'ü'.repeat(2000)])),
    });
    const message = formatTeamsMessage(event);
    expect(Buffer.byteLength(JSON.stringify(message))).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expectValidCard(cardOf(message));
  });

  it('formats app-defined event types from their fields', () => {
    registerEventType('release_published');
    const event = createEvent(
      'release_published' as 'alert',
      { version: '2.0.0', message: 'Empathy 2.0 is out' } as never,
      { userId: 'release-bot' },
    );
    const card = cardOf(formatTeamsMessage(event));
    expectValidCard(card);
    expect(JSON.stringify(card)).toContain('"text":"📣 Release published"');
    expect(card.body).toContainEqual({ type: 'FactSet', facts: [{ title: 'Version', value: '2.0.0' }] });
  });
});

describe('fitTeamsMessage', () => {
  it('leaves every message this package formats as it is', () => {
    for (const type of EVENT_TYPES) {
      for (const message of [formatTeamsMessage(sampleEvent(type)), formatTeamsMessage(hostileEvent(type))]) {
        expect(fitTeamsMessage(message)).toEqual(message);
      }
    }
  });

  it('cleans and cuts any card to the Teams size, keeping it a valid card', () => {
    const message = formatTeamsMessage(sampleEvent('alert'));
    const card = cardOf(message);
    const long = `${HOSTILE_TEXT} ${'ü'.repeat(30_000)}`;
    const big: TeamsMessage = {
      ...message,
      attachments: [
        {
          ...message.attachments[0],
          content: {
            ...card,
            fallbackText: long,
            body: [...card.body, { type: 'FactSet', facts: [{ title: long, value: long }] }],
          },
        },
      ],
    };
    const fitted = fitTeamsMessage(big);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expectValidCard(cardOf(fitted));
    for (const text of strings(fitted)) expect(text).not.toMatch(UNSAFE_CHARACTERS);
    expect(() => fitTeamsMessage({ type: 'message' } as unknown as TeamsMessage)).toThrow(/attachments/);
  });
});

describe('the card validation itself', () => {
  it('catches a misspelled element, a misspelled property and a 1.5 feature', () => {
    const card = cardOf(formatTeamsMessage(sampleEvent('alert')));
    const broken = (patch: object) => parseCard({ ...card, body: [...card.body, patch] });
    expect(broken({ type: 'TextBlok', text: 'x' }).problems).toEqual([
      expect.stringContaining('Unknown element type "TextBlok"'),
    ]);
    expect(broken({ type: 'TextBlock', text: 'x', style: 'heading' }).problems).toEqual([
      expect.stringContaining('supported in version 1.5'),
    ]);
    expect(broken({ type: 'TextBlock', text: 'x', colour: 'Good' }).parsed).not.toEqual(card);
  });
});

describe('defuseMarkdown', () => {
  it('breaks link syntax invisibly and leaves other text alone', () => {
    expect(defuseMarkdown('[click](https://evil.example)')).toBe('[click]\\(https://evil.example)');
    expect(defuseMarkdown('[click] (https://evil.example)')).toBe('[click] \\(https://evil.example)');
    expect(defuseMarkdown('see https://ok.example (docs)')).toBe('see https://ok.example (docs)');
  });
});
