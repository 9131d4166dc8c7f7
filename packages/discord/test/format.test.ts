import { createEvent, EVENT_TYPES, type IncidentContext, registerEventType } from '@empathy/webhooks-core';
import { HOSTILE_TEXT, hostileEvent, sampleEvent, UNSAFE_CHARACTERS } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import {
  DISCORD_LIMITS,
  type DiscordMessage,
  escapeMarkdown,
  fitDiscordMessage,
  formatDiscordMessage,
  RESOLVED_COLOR,
  SEVERITY_COLORS,
} from '../src/format.js';
import { validateMessage } from './fake-discord.js';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** Every string Discord renders as markdown in the message. */
function markdownSurfaces(message: DiscordMessage): string[] {
  return message.embeds.flatMap((e) => [
    e.title ?? '',
    e.description ?? '',
    ...(e.fields ?? []).flatMap((f) => [f.name, f.value]),
  ]);
}
/** The text without code blocks and backslash escapes (both shown as typed): what is left is live markup. */
const live = (text: string) => text.replace(/```[\s\S]*?```/g, '').replace(/\\[\s\S]/g, '');

function embedTotal(message: DiscordMessage): number {
  return message.embeds.reduce(
    (n, e) =>
      n +
      (e.title?.length ?? 0) +
      (e.description?.length ?? 0) +
      (e.footer?.text.length ?? 0) +
      (e.author?.name.length ?? 0) +
      (e.fields ?? []).reduce((m, f) => m + f.name.length + f.value.length, 0),
    0,
  );
}

describe('formatDiscordMessage: golden messages', () => {
  for (const type of EVENT_TYPES) {
    it(`${type}`, async () => {
      const message = formatDiscordMessage(sampleEvent(type), { username: 'Empathy Bot' });
      expect(validateMessage(message)).toEqual([]);
      await expect(json(message)).toMatchFileSnapshot(`./__golden__/${type}.json`);
    });

    it(`${type} with long, hostile text`, async () => {
      const message = formatDiscordMessage(hostileEvent(type));
      expect(validateMessage(message), 'within Discord limits').toEqual([]);
      expect(embedTotal(message)).toBeLessThanOrEqual(DISCORD_LIMITS.total);
      expect(message.allowed_mentions).toEqual({ parse: [] });
      for (const text of markdownSurfaces(message)) {
        const markup = live(text);
        expect(markup, 'a forged link').not.toContain('](https://evil.example)');
        expect(markup, 'a mention').not.toMatch(/<[@#!]/);
        expect(markup, 'raw HTML').not.toContain('<script>');
        expect(markup, 'formatting from the event').not.toMatch(/\*bold\*|_it_|~strike~|`code`/);
      }
      for (const text of [message.content ?? '', ...markdownSurfaces(message)]) {
        expect(text, 'a character the text policy strips').not.toMatch(UNSAFE_CHARACTERS);
      }
      await expect(json(message)).toMatchFileSnapshot(`./__golden__/hostile/${type}.json`);
    });
  }
});

/** Where an incident stands, as core hands it to an attempt: first seen 28 minutes before the sample. */
const incident = (status: 'firing' | 'resolved', occurrences: number): IncidentContext => ({
  key: 'empathy:alert:0123456789abcdef0123456789abcdef',
  status,
  occurrences,
  folded: 1,
  firstSeenAt: '2025-11-25T14:02:09.120Z',
  ref: { message_id: '1300000000000000001' },
});

describe('formatDiscordMessage: incident goldens', () => {
  const cases = {
    repeat: [sampleEvent('alert'), incident('firing', 4)],
    resolved: [sampleEvent('alert', { resolved: true }), incident('resolved', 4)],
    'resolved-once': [sampleEvent('alert', { resolved: true }), incident('resolved', 1)],
  } as const;
  for (const [name, [event, state]] of Object.entries(cases)) {
    it(`alert ${name}`, async () => {
      const message = formatDiscordMessage(event, { username: 'Empathy Bot', incident: state });
      expect(validateMessage(message)).toEqual([]);
      await expect(json(message)).toMatchFileSnapshot(`./__golden__/incident/alert-${name}.json`);
    });
  }

  it('says seen N times on a repeat, and on a resolution when it began, in green', () => {
    const [repeat] = formatDiscordMessage(sampleEvent('alert'), { incident: incident('firing', 4) }).embeds;
    expect(repeat).toMatchObject({
      title: '🚨 Error rate above 5% on checkout',
      color: SEVERITY_COLORS.high,
    });
    expect(repeat!.fields![0]).toEqual({
      name: 'Seen',
      value: '4 times since 2025-11-25 14:02 UTC',
      inline: true,
    });
    const [once] = formatDiscordMessage(sampleEvent('alert'), { incident: incident('resolved', 1) }).embeds;
    expect(once).toMatchObject({
      title: '✅ Resolved: Error rate above 5% on checkout',
      color: RESOLVED_COLOR,
    });
    expect(once!.fields![0]).toEqual({ name: 'First seen', value: '2025-11-25 14:02 UTC', inline: true });
    // The first notification of an incident is the event's embed as it always was.
    expect(formatDiscordMessage(sampleEvent('alert'), { incident: incident('firing', 1) })).toEqual(
      formatDiscordMessage(sampleEvent('alert')),
    );
  });
});

describe('formatDiscordMessage', () => {
  it('follows the seed: a level 4 prediction with confidence and recommendation', () => {
    const [embed] = formatDiscordMessage(sampleEvent('prediction')).embeds;
    expect(embed).toMatchObject({
      author: { name: 'Warning · prediction' },
      title: '🔮 Level 4 Prediction',
      description:
        'Auth deployment may conflict with user-service v2.1\n\n**Recommendation:** Deploy auth behind feature flag',
      color: SEVERITY_COLORS.warning,
      timestamp: '2025-11-25T14:30:00.000Z',
      footer: {
        text: 'Empathy Framework · developer_123 · level 4 · INTERNAL · evt_sample_prediction',
      },
    });
    expect(embed!.fields).toContainEqual({ name: 'Confidence', value: '87%', inline: true });
    expect(embed!.fields).toContainEqual({ name: 'Service', value: 'authentication', inline: true });
  });

  it('colours by severity, green for a resolved alert, grey without severity', () => {
    expect(formatDiscordMessage(sampleEvent('security_vulnerability')).embeds[0]!.color).toBe(0x992d22);
    expect(formatDiscordMessage(sampleEvent('alert', { resolved: true })).embeds[0]).toMatchObject({
      title: '✅ Resolved: Error rate above 5% on checkout',
      color: RESOLVED_COLOR,
    });
    const plain = createEvent('completion', { content: 'done', level_used: 3 }, { userId: 'u' });
    expect(formatDiscordMessage(plain).embeds[0]!.color).toBe(0x95a5a6);
  });

  it('links the title to the event url and lists other links in the description', () => {
    const [embed] = formatDiscordMessage(
      sampleEvent('test_failure', { url: 'https://github.com/o/r/pull/9' }),
    ).embeds;
    expect(embed!.url).toBe('https://ci.example.com/runs/4521');
    expect(formatDiscordMessage(sampleEvent('code_review_complete')).embeds[0]!.url).toBe(
      'https://github.com/Smart-AI-Memory/empathy/pull/123',
    );
    const risky = formatDiscordMessage(sampleEvent('alert', { url: 'javascript:alert(1)' })).embeds[0]!;
    expect(risky.url).toBeUndefined();
  });

  it('keeps a suggested fix in a code block that event text cannot break out of', () => {
    const event = sampleEvent('bug_detected', { fix: 'a```\n@everyone [x](https://evil.example) ``````' });
    const description = formatDiscordMessage(event).embeds[0]!.description!;
    expect(description).toContain(
      '**Suggested fix**\n```\na`\u200a`\u200a`\n@everyone [x](https://evil.example) `\u200a`\u200a`\u200a`\u200a`\u200a`\n```',
    );
    expect(description.match(/```/g)).toHaveLength(2);
  });

  it('cuts content to 2000 characters and never lets it ping', () => {
    const message = formatDiscordMessage(sampleEvent('alert'), { content: `@everyone ${'x'.repeat(5000)}` });
    expect(message.content).toHaveLength(DISCORD_LIMITS.content);
    expect(message.content!.endsWith('…')).toBe(true);
    expect(message.allowed_mentions).toEqual({ parse: [] });
  });

  it('shows a code review as lists, with the overflow counted', () => {
    const many = Array.from({ length: 14 }, (_, i) => `good thing ${i + 1}`);
    const description = formatDiscordMessage(sampleEvent('code_review_complete', { positives: many }))
      .embeds[0]!.description!;
    expect(description).toContain('**✅ Looks good**\n• good thing 1\n');
    expect(description).toContain('• good thing 10\n…and 4 more');
    expect(description).toContain(
      '**⚠️ Suggestions**\n1. app/files.py:45 — Consider using context manager for file handling',
    );
    expect(description).toContain('**🔒 Security**\n• No security issues detected');
  });

  it('formats app-defined event types from their fields', () => {
    registerEventType('release_published');
    const event = createEvent(
      'release_published' as 'alert',
      { version: '2.0.0', notes_count: 12, message: 'Empathy 2.0 is out' } as never,
      { userId: 'release-bot' },
    );
    const [embed] = formatDiscordMessage(event).embeds;
    expect(embed).toMatchObject({ title: '📣 Release published', description: 'Empathy 2.0 is out' });
    expect(embed!.fields).toEqual([
      { name: 'Version', value: '2.0.0', inline: true },
      { name: 'Notes count', value: '12', inline: true },
    ]);
  });
});

describe('fitDiscordMessage', () => {
  it('leaves every message this package formats as it is: they are within the limits already', () => {
    for (const type of EVENT_TYPES) {
      for (const message of [
        formatDiscordMessage(sampleEvent(type)),
        formatDiscordMessage(hostileEvent(type)),
      ]) {
        expect(fitDiscordMessage(message)).toEqual(message);
      }
    }
  });

  it('cuts any message to the limits Discord enforces, spending the 6000 on the first embeds', () => {
    const long = `${HOSTILE_TEXT} ${'y'.repeat(8000)}`;
    const message = fitDiscordMessage({
      content: long,
      embeds: Array.from({ length: 14 }, () => ({
        author: { name: long },
        title: long,
        description: long,
        footer: { text: long },
        fields: [
          { name: '', value: 'empty name' },
          ...Array.from({ length: 40 }, () => ({ name: long, value: long })),
        ],
      })),
      allowed_mentions: { parse: [] },
    });
    expect(validateMessage(message)).toEqual([]);
    expect(embedTotal(message)).toBeLessThanOrEqual(DISCORD_LIMITS.total);
    expect(message.embeds[0]!.title).toHaveLength(DISCORD_LIMITS.title);
    expect(JSON.stringify(message)).not.toMatch(UNSAFE_CHARACTERS);
  });
});

describe('escapeMarkdown', () => {
  it('escapes inline markup and line-start markers, and nothing else', () => {
    expect(escapeMarkdown('*a* _b_ ~c~ `d` |e| [f](g) <@1> > q')).toBe(
      '\\*a\\* \\_b\\_ \\~c\\~ \\`d\\` \\|e\\| \\[f\\](g) \\<@1\\> \\> q',
    );
    expect(escapeMarkdown('# h\n- item\n1. one\nuser-service v2.1')).toBe(
      '\\# h\n\\- item\n1\\. one\nuser-service v2.1',
    );
    expect(live(escapeMarkdown(HOSTILE_TEXT))).not.toMatch(/[[\]<>*_~`|]/);
  });
});
