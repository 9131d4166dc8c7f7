import { createEvent, EVENT_TYPES } from '@empathy/webhooks-core';
import { hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import { formatAnnotation, formatLokiEntry, type LokiEntry, lokiPushBody } from '../src/index.js';

const readable = (entry: LokiEntry) => ({ ...entry, line: JSON.parse(entry.line) });
const golden = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

describe('formatAnnotation', () => {
  for (const type of EVENT_TYPES) {
    it(`formats ${type} (golden)`, async () => {
      const annotation = formatAnnotation(sampleEvent(type));
      await expect(golden(annotation)).toMatchFileSnapshot(`./__golden__/annotation-${type}.json`);
    });
  }

  it('adds the dashboard, panel and your tags', () => {
    const annotation = formatAnnotation(sampleEvent('alert'), {
      dashboardUid: 'ops',
      panelId: 2,
      tags: ['prod', 'empathy'],
    });
    expect(annotation).toMatchObject({ dashboardUID: 'ops', panelId: 2 });
    expect(annotation.tags).toEqual([
      'empathy',
      'alert',
      'severity:high',
      'user:developer_123',
      'source:checkout-api',
      'prod',
    ]);
  });

  for (const type of EVENT_TYPES) {
    it(`escapes and bounds hostile ${type}`, () => {
      const annotation = formatAnnotation(hostileEvent(type));
      // Only our own markup survives: Grafana renders annotation text as (sanitised) HTML.
      const tags = annotation.text.match(/<[^>]*>/g) ?? [];
      for (const tag of tags) expect(tag).toMatch(/^<(b|\/b|br|\/a|a href="https?:[^"<>]*")>$/);
      expect(annotation.text).not.toMatch(/[\u0000-\u0008\u202e]/);
      expect(annotation.text.length).toBeLessThan(60_000);
      expect(annotation.tags.length).toBeLessThanOrEqual(25);
      for (const tag of annotation.tags) expect(tag.length).toBeLessThanOrEqual(100);
    });
  }
});

describe('formatLokiEntry', () => {
  for (const type of EVENT_TYPES) {
    it(`formats ${type} (golden)`, async () => {
      const entry = formatLokiEntry(sampleEvent(type), { app: 'empathy' });
      await expect(golden(readable(entry))).toMatchFileSnapshot(`./__golden__/loki-${type}.json`);
    });
  }

  it('labels an event without severity "unknown" and logs it at info', () => {
    const entry = formatLokiEntry(
      createEvent('completion', { content: 'ok', level_used: 3 }, { userId: 'u' }),
    );
    expect(entry.labels).toEqual({ event_type: 'completion', severity: 'unknown', user_id: 'u' });
    expect(JSON.parse(entry.line).level).toBe('info');
  });

  for (const type of EVENT_TYPES) {
    it(`keeps hostile ${type} within Loki’s limits`, () => {
      const entry = formatLokiEntry(hostileEvent(type));
      expect(Buffer.byteLength(entry.line)).toBeLessThanOrEqual(64 * 1024);
      expect(JSON.parse(entry.line).event_id).toBe(`evt_hostile_${type}`);
      for (const value of Object.values(entry.labels)) expect(value.length).toBeLessThanOrEqual(1024);
    });
  }

  it('is the same line at the same time on every attempt (Loki drops the duplicate)', () => {
    expect(formatLokiEntry(sampleEvent('alert'))).toEqual(formatLokiEntry(sampleEvent('alert')));
  });
});

describe('lokiPushBody', () => {
  it('groups entries by label set and sorts each stream by time', () => {
    const at = (iso: string, userId: string, id: string) =>
      formatLokiEntry(
        createEvent(
          'error',
          { error_type: 'E', message: id },
          { userId, timestamp: new Date(iso), eventId: id },
        ),
      );
    const body = lokiPushBody([
      at('2025-01-01T00:00:02Z', 'ana', 'evt_2'),
      at('2025-01-01T00:00:01Z', 'bo', 'evt_1'),
      at('2025-01-01T00:00:00Z', 'ana', 'evt_0'),
    ]);
    expect(body.streams.map((s) => s.stream.user_id)).toEqual(['ana', 'bo']);
    expect(body.streams[0]!.values.map(([ts, line]) => [ts, JSON.parse(line).event_id])).toEqual([
      ['1735689600000000000', 'evt_0'],
      ['1735689602000000000', 'evt_2'],
    ]);
  });
});
