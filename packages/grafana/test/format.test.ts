import { createEvent, EVENT_TYPES, type IncidentContext } from '@empathy/webhooks-core';
import { hostileEvent, sampleEvent, UNSAFE_CHARACTERS } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import {
  fitAnnotation,
  fitLokiEntry,
  formatAnnotation,
  formatGrafanaPayload,
  formatLokiEntry,
  type LokiEntry,
  lokiPushBody,
  MAX_LINE_BYTES,
} from '../src/index.js';

const readable = (entry: LokiEntry) => ({ ...entry, line: JSON.parse(entry.line) });
const golden = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
/** Every string and key in a value (JSON.stringify would hide control characters behind escapes). */
const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(strings)
      : value !== null && typeof value === 'object'
        ? Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)])
        : [];

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
    it(`escapes and bounds hostile ${type} (golden)`, async () => {
      const annotation = formatAnnotation(hostileEvent(type));
      await expect(golden(annotation)).toMatchFileSnapshot(`./__golden__/hostile/annotation-${type}.json`);
      for (const text of [annotation.text, ...annotation.tags]) {
        expect(text, 'a character the text policy strips').not.toMatch(UNSAFE_CHARACTERS);
      }
      // Only our own markup survives: Grafana renders annotation text as (sanitised) HTML.
      const tags = annotation.text.match(/<[^>]*>/g) ?? [];
      for (const tag of tags) expect(tag).toMatch(/^<(b|\/b|br|\/a|a href="https?:[^"<>]*")>$/);
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
    it(`keeps hostile ${type} within Loki’s limits (golden)`, async () => {
      const entry = formatLokiEntry(hostileEvent(type));
      await expect(golden(readable(entry))).toMatchFileSnapshot(`./__golden__/hostile/loki-${type}.json`);
      for (const text of strings(readable(entry))) {
        expect(text, 'a character the text policy strips').not.toMatch(UNSAFE_CHARACTERS);
      }
      expect(Buffer.byteLength(entry.line)).toBeLessThanOrEqual(64 * 1024);
      expect(JSON.parse(entry.line).event_id).toBe(`evt_hostile_${type}`);
      for (const value of Object.values(entry.labels)) expect(value.length).toBeLessThanOrEqual(1024);
    });
  }

  it('is the same line at the same time on every attempt (Loki drops the duplicate)', () => {
    expect(formatLokiEntry(sampleEvent('alert'))).toEqual(formatLokiEntry(sampleEvent('alert')));
  });
});

describe('incidents', () => {
  /** An incident's context as core hands it to an attempt. */
  const incident = (extra: Partial<IncidentContext> = {}): IncidentContext => ({
    key: 'empathy:alert:0123456789abcdef0123456789abcdef',
    status: 'firing',
    occurrences: 1,
    folded: 1,
    firstSeenAt: '2025-11-25T14:10:00.000Z',
    ref: undefined,
    ...extra,
  });
  const alert = sampleEvent('alert');
  const resolved = sampleEvent('alert', { resolved: true });
  const cases: [name: string, event: typeof alert, context: IncidentContext][] = [
    ['repeat', alert, incident({ occurrences: 4, ref: { annotation_id: '7' } })],
    [
      'resolved',
      resolved,
      incident({ status: 'resolved', occurrences: 4, folded: 0, ref: { annotation_id: '7' } }),
    ],
    // Nothing on record: a point at the resolution, and it says so.
    ['resolved-unrecorded', resolved, incident({ status: 'resolved', occurrences: 0, folded: 0 })],
  ];
  for (const [name, event, context] of cases) {
    it(`formats an incident's ${name} annotation and log line (golden)`, async () => {
      const payload = formatGrafanaPayload(
        event,
        { annotation: {}, lokiLabels: { app: 'empathy' } },
        context,
      );
      await expect(
        golden({ annotation: payload.annotation, loki: readable(payload.loki!) }),
      ).toMatchFileSnapshot(`./__golden__/incident/alert-${name}.json`);
      expect(fitAnnotation(payload.annotation!)).toEqual(payload.annotation);
    });
  }

  it('makes a resolution a region from the first sighting, tagged resolved', () => {
    const annotation = formatAnnotation(resolved, { tags: ['prod'] }, cases[1]![2]);
    expect(annotation).toMatchObject({ time: Date.parse('2025-11-25T14:10:00Z'), timeEnd: 1764081000000 });
    expect(annotation.tags.slice(-2)).toEqual(['prod', 'resolved']);
    expect(annotation.text).toMatch(/^<b>✅ Resolved: Error rate above 5% on checkout<\/b>/);
    expect(annotation.text).toContain('<b>Seen:</b> 4 times since 2025-11-25 14:10 UTC');
    const once = formatAnnotation(resolved, {}, incident({ status: 'resolved', occurrences: 1 }));
    expect(once.text).toContain('<b>First seen:</b> 2025-11-25 14:10 UTC');
    // A first sighting after the resolution's own time (clocks apart) makes no backwards region.
    const skewed = formatAnnotation(
      resolved,
      {},
      incident({ status: 'resolved', occurrences: 2, firstSeenAt: '2025-11-25T15:00:00.000Z' }),
    );
    expect(skewed).toMatchObject({ time: 1764081000000 });
    expect(skewed.timeEnd).toBeUndefined();
  });

  it('keeps Loki’s labels as they are: the incident is in the line', () => {
    const entry = formatLokiEntry(alert, { app: 'empathy' }, incident({ occurrences: 3 }));
    expect(entry.labels).toEqual(formatLokiEntry(alert, { app: 'empathy' }).labels);
    expect(JSON.parse(entry.line).incident).toEqual({
      key: 'empathy:alert:0123456789abcdef0123456789abcdef',
      status: 'firing',
      occurrences: 3,
      first_seen_at: '2025-11-25T14:10:00.000Z',
    });
    expect(entry.timestamp).toBe(formatLokiEntry(alert).timestamp);
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

describe('formatGrafanaPayload', () => {
  it('is the annotation and the log line from one reading of the event', () => {
    const event = sampleEvent('security_vulnerability');
    expect(formatGrafanaPayload(event, { annotation: { tags: ['prod'] }, lokiLabels: { app: 'x' } })).toEqual(
      {
        annotation: formatAnnotation(event, { tags: ['prod'] }),
        loki: formatLokiEntry(event, { app: 'x' }),
      },
    );
    expect(formatGrafanaPayload(event, { lokiLabels: { app: 'x' } })).toEqual({
      loki: formatLokiEntry(event, { app: 'x' }),
    });
  });
});

describe('fitAnnotation and fitLokiEntry', () => {
  it('leave what this package formats as it is', () => {
    for (const type of EVENT_TYPES) {
      for (const event of [sampleEvent(type), hostileEvent(type)]) {
        const annotation = formatAnnotation(event, { tags: ['prod'] });
        expect(fitAnnotation(annotation)).toEqual(annotation);
        const entry = formatLokiEntry(event, { app: 'empathy' });
        expect(fitLokiEntry(entry)).toEqual(entry);
      }
    }
  });

  it('clean and cut what a format returns, and refuse what cannot be sent', () => {
    const entry = fitLokiEntry({
      labels: { app: 'x\u202E\ny', env: '' },
      timestamp: '1764081000000000000',
      line: JSON.stringify({ msg: `bell\u0007 ${'ü'.repeat(100_000)}`, 'k\u200B': 1 }),
    });
    expect(entry.labels).toEqual({ app: 'x y' });
    expect(Buffer.byteLength(entry.line)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    for (const text of strings(entry)) expect(text).not.toMatch(UNSAFE_CHARACTERS);
    expect(fitLokiEntry({ labels: { app: 'x' }, timestamp: '1', line: '{"k\u200B":"\u0007"}' }).line).toBe(
      '{"k":""}',
    );
    expect(() => fitLokiEntry({ labels: { 'bad-name': 'x' }, timestamp: '1', line: 'l' })).toThrow(
      /label name/,
    );
    expect(() => fitLokiEntry({ labels: { app: 'x' }, timestamp: 'now', line: 'l' })).toThrow(/nanoseconds/);
    expect(() => fitAnnotation({ time: Number.NaN, tags: [], text: 't' })).toThrow(/epoch milliseconds/);
    expect(() => fitAnnotation({ time: 2, timeEnd: 1, tags: [], text: 't' })).toThrow(
      'annotation.timeEnd must be a time in epoch milliseconds, not before annotation.time',
    );
  });
});
