import { ObjectSerializer as V1 } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v1/models/ObjectSerializer.js';
import { ObjectSerializer as V2 } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/models/ObjectSerializer.js';
import {
  createEvent,
  EVENT_TYPES,
  type IncidentContext,
  incidentOf,
  type Severity,
} from '@empathy/webhooks-core';
import { hostileEvent, sampleEvent, UNSAFE_CHARACTERS } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import {
  ALERT_TYPE_MAP,
  type DatadogEvent,
  eventMetricPoints,
  fitAggregationKey,
  fitDatadogEvent,
  formatDatadogEvent,
  MAX_AGGREGATION_KEY,
  MAX_TEXT,
  MAX_TITLE,
  toSeries,
} from '../src/index.js';
import { eventErrors, seriesErrors } from './fake-datadog.js';

// The sample events happened at this time; formatting "now" keeps date_happened in the goldens.
const NOW = Date.parse('2025-11-25T14:35:00.000Z');

/** The event body as the SDK sends it (snake_case), through the SDK's own serialiser. */
function wire(event: DatadogEvent): Record<string, unknown> {
  return V1.serialize(event, 'EventCreateRequest', '');
}

describe('formatDatadogEvent', () => {
  for (const type of EVENT_TYPES) {
    it(`formats ${type} (golden)`, async () => {
      const body = wire(formatDatadogEvent(sampleEvent(type), { now: NOW }));
      expect(eventErrors({ ...body, date_happened: undefined })).toEqual([]);
      await expect(`${JSON.stringify(body, null, 2)}\n`).toMatchFileSnapshot(`./__golden__/${type}.json`);
    });
  }

  it('formats the seed’s performance event: title, alert type and tags', () => {
    const event = formatDatadogEvent(sampleEvent('performance_issue'), { now: NOW });
    expect(event.title).toBe('Performance: /api/users response time degraded');
    expect(event.alertType).toBe('warning');
    expect(event.tags).toEqual([
      'service:api',
      'endpoint:/api/users',
      'severity:warning',
      'event_type:performance_issue',
      'user:developer_123',
    ]);
    expect(event.dateHappened).toBe(Date.parse('2025-11-25T14:30:00Z') / 1000);
  });

  it('formats a cleared alert as success (golden)', async () => {
    const event = formatDatadogEvent(sampleEvent('alert', { resolved: true }), { now: NOW });
    expect(event.alertType).toBe('success');
    // The shared reading's title, the same in every integration.
    expect(event.title).toBe('Resolved: Error rate above 5% on checkout');
    expect(event.aggregationKey).toBe(formatDatadogEvent(sampleEvent('alert')).aggregationKey);
    await expect(`${JSON.stringify(wire(event), null, 2)}\n`).toMatchFileSnapshot(
      './__golden__/alert-resolved.json',
    );
  });

  describe('incidents', () => {
    /** Where the sample alert's incident stands at its fourth firing. */
    const repeat: IncidentContext = {
      key: 'empathy:alert:8174c4c94a0d9b1fbeb26737440f07ad',
      status: 'firing',
      occurrences: 4,
      folded: 1,
      firstSeenAt: '2025-11-25T14:02:00.000Z',
      ref: undefined,
    };

    it('says how often a repeat fired, under its incident key (golden)', async () => {
      const event = formatDatadogEvent(sampleEvent('alert'), { now: NOW }, repeat);
      expect(event.title).toBe('Error rate above 5% on checkout');
      expect(event.alertType).toBe('error');
      expect(event.aggregationKey).toBe(repeat.key);
      expect(event.text).toContain('**Seen:** 4 times since 2025-11-25 14:02 UTC');
      expect(eventErrors({ ...wire(event), date_happened: undefined })).toEqual([]);
      await expect(`${JSON.stringify(wire(event), null, 2)}\n`).toMatchFileSnapshot(
        './__golden__/alert-repeat.json',
      );
    });

    it('makes any resolved incident a success titled Resolved, with the same key', () => {
      const failure = sampleEvent('test_failure', { resolved: true });
      const key = incidentOf(failure)!.key;
      const event = formatDatadogEvent(failure, { now: NOW }, { ...repeat, key, status: 'resolved' });
      expect(event).toMatchObject({
        title: 'Resolved: Test failed: test_login_rejects_expired_token',
        alertType: 'success',
        aggregationKey: key,
      });
      expect(event.text).toContain('**Seen:** 4 times since 2025-11-25 14:02 UTC');
      // Without the incident (formatting by hand), data.resolved says the same.
      expect(formatDatadogEvent(failure, { now: NOW }).alertType).toBe('success');
    });

    it('takes the option, then data.aggregation_key, then the incident key', () => {
      const alert = sampleEvent('alert', { incident_key: 'INC-7' });
      expect(formatDatadogEvent(alert).aggregationKey).toBe('INC-7');
      expect(formatDatadogEvent(alert, {}, { ...repeat, key: 'INC-7' }).aggregationKey).toBe('INC-7');
      const own = sampleEvent('alert', { incident_key: 'INC-7', aggregation_key: 'checkout' });
      expect(formatDatadogEvent(own).aggregationKey).toBe('checkout');
      expect(formatDatadogEvent(own, { aggregationKey: () => 'mine' }).aggregationKey).toBe('mine');
    });

    it('hashes a key over 100 characters down: deterministic, 100 long, distinct per key', () => {
      const long = (end: string) => `team-payments/${'checkout-eu-west-1/'.repeat(8)}${end}`;
      const a = fitAggregationKey(long('5xx'));
      expect(a).toHaveLength(MAX_AGGREGATION_KEY);
      expect(a.slice(0, 68)).toBe(`${long('5xx').slice(0, 67)}~`);
      expect(a.slice(68)).toMatch(/^[0-9a-f]{32}$/);
      expect(fitAggregationKey(long('5xx'))).toBe(a);
      // Two keys that share their first 100 characters stay two groups (a cut would merge them).
      expect(fitAggregationKey(long('latency'))).not.toBe(a);
      // Keys within the limit are kept as they are; mentions are neutralised either way.
      expect(fitAggregationKey('x'.repeat(100))).toBe('x'.repeat(100));
      expect(fitAggregationKey('@oncall')).toBe('＠oncall');
      // Never half an emoji at the cut.
      const emoji = fitAggregationKey(`${'a'.repeat(66)}🚨${'b'.repeat(40)}`);
      expect(emoji).toMatch(/^a{66}~[0-9a-f]{32}$/);
      // What a format returns gets the same treatment.
      const formatted = fitDatadogEvent({
        ...formatDatadogEvent(sampleEvent('alert')),
        aggregationKey: long('5xx'),
      });
      expect(formatted.aggregationKey).toBe(a);
    });
  });

  it('maps every severity to an alert type; none is info, or error for error events', () => {
    for (const severity of Object.keys(ALERT_TYPE_MAP) as Severity[]) {
      const event = createEvent('alert', { message: 'm' }, { userId: 'u', severity });
      expect(formatDatadogEvent(event).alertType).toBe(ALERT_TYPE_MAP[severity]);
    }
    expect(formatDatadogEvent(createEvent('alert', { message: 'm' }, { userId: 'u' })).alertType).toBe(
      'info',
    );
    expect(
      formatDatadogEvent(createEvent('error', { error_type: 'X', message: 'm' }, { userId: 'u' })).alertType,
    ).toBe('error');
  });

  it('leaves out date_happened for events older than Datadog accepts (18 hours)', () => {
    const event = sampleEvent('error');
    expect(formatDatadogEvent(event, { now: NOW + 17 * 3600_000 }).dateHappened).toBeDefined();
    expect(formatDatadogEvent(event, { now: NOW + 19 * 3600_000 }).dateHappened).toBeUndefined();
  });

  it('puts option tags first and turns values into Datadog tags', () => {
    const event = createEvent(
      'deployment_risk',
      { service: 'Auth Service', environment: 'Prod EU', risk: 'r' },
      { userId: 'Dr. Chen <chen@example.com>', severity: 'high' },
    );
    expect(formatDatadogEvent(event, { tags: ['env:prod', 'team:platform'] }).tags).toEqual([
      'env:prod',
      'team:platform',
      'service:auth_service',
      'environment:prod_eu',
      'severity:high',
      'event_type:deployment_risk',
      'user:dr._chen_chen_example.com',
    ]);
  });

  for (const type of EVENT_TYPES) {
    it(`keeps hostile ${type} text within Datadog’s limits and inert`, () => {
      const event = formatDatadogEvent(hostileEvent(type), { now: NOW });
      expect(eventErrors({ ...wire(event), date_happened: undefined })).toEqual([]);
      expect(event.title.length).toBeLessThanOrEqual(MAX_TITLE);
      expect(event.text.length).toBeLessThanOrEqual(MAX_TEXT);
      expect(event.text.startsWith('%%% \n')).toBe(true);
      expect(event.text.endsWith(`_\n %%%`)).toBe(true);
      // The footer (event id, user, time) survives the cut.
      expect(event.text).toContain(`evt\\_hostile\\_${type.replaceAll('_', '\\_')}`);
      // Exactly one markdown block: no stray %%% to end it early.
      expect(event.text.match(/%%%/g)).toHaveLength(2);
      for (const text of [event.title, event.text, ...event.tags, event.aggregationKey]) {
        // No @-mention (Datadog notifies @handles named in events; they become a visible '＠'),
        // and nothing the text policy strips.
        expect(text).not.toContain('@');
        expect(text).not.toMatch(UNSAFE_CHARACTERS);
      }
      // The title is plain text; the markdown body has no raw HTML and no link from user text,
      // except inside indented code blocks (the fix), whose content markdown shows literally.
      const prose = event.text
        .split('\n')
        .filter((line) => !line.startsWith('    '))
        .join('\n');
      expect(prose).not.toMatch(/(?<!\\)<script/);
      expect(prose).not.toContain('[x](');
      for (const t of event.tags) expect(t).toMatch(/^[a-z_]+:[a-z0-9_\-:./]*$/);
      expect(event.aggregationKey.length).toBeLessThanOrEqual(100);
    });
  }

  it('formats a hostile bug report (golden)', async () => {
    const event = formatDatadogEvent(hostileEvent('bug_detected'), { now: NOW });
    await expect(`${JSON.stringify(wire(event), null, 2)}\n`).toMatchFileSnapshot(
      './__golden__/hostile-bug_detected.json',
    );
  });

  it('formats app-defined event types from their scalar fields', () => {
    const event = {
      ...sampleEvent('error'),
      event_type: 'release_published',
      data: { title: 'v2.4.0 released', version: '2.4.0', notes: { long: true }, url: 'https://x.example/r' },
    } as never;
    const out = formatDatadogEvent(event, { now: NOW });
    // The shared reading of an app-defined type: its name, its scalar fields as facts.
    expect(out.title).toBe('Release published');
    expect(out.text).toContain('**Title:** v2.4.0 released');
    expect(out.text).toContain('**Version:** 2.4.0');
    expect(out.text).toContain('[Open link](https://x.example/r)');
    expect(out.tags).toContain('event_type:release_published');
  });
});

describe('fitDatadogEvent (what format returns)', () => {
  it('cuts the text inside its markdown delimiters, cleans it, and keeps the title to one line', () => {
    const base = formatDatadogEvent(sampleEvent('error'), { now: NOW });
    const fitted = fitDatadogEvent({
      ...base,
      title: 'a\nb\u202Ec',
      text: `%%% \n${'x'.repeat(5000)}\u200B\n %%%`,
      tags: ['team:sre', 'team:sre', ''],
    });
    expect(fitted.title).toBe('a bc');
    expect(fitted.text).toHaveLength(MAX_TEXT);
    expect(fitted.text.startsWith('%%% \n')).toBe(true);
    expect(fitted.text.endsWith('…\n %%%')).toBe(true);
    expect(fitted.tags).toEqual(['team:sre']);
  });

  it('refuses what Datadog cannot take at all', () => {
    const base = formatDatadogEvent(sampleEvent('error'), { now: NOW });
    expect(() => fitDatadogEvent({ ...base, title: ' ' })).toThrow(/'title' must not be empty/);
    expect(() => fitDatadogEvent({ ...base, dateHappened: 1.5 })).toThrow(/'dateHappened'/);
  });
});

describe('event metrics', () => {
  it('formats the metrics of a prediction, a performance issue and a completion (golden)', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const points = ['prediction', 'performance_issue', 'completion', 'alert'].flatMap((type) =>
      eventMetricPoints(sampleEvent(type as 'prediction'), ['env:prod'], timestamp, 10),
    );
    const body = V2.serialize({ series: toSeries(points) }, 'MetricPayload', '');
    expect(seriesErrors(body)).toEqual([]);
    const stable = JSON.stringify(body, null, 2).replaceAll(String(timestamp), '"<now>"');
    await expect(`${stable}\n`).toMatchFileSnapshot('./__golden__/event-metrics.json');
  });
});

describe('toSeries', () => {
  it('groups points per series and sums counts that share a second (Datadog keeps one value)', () => {
    const base = { tags: ['a:b'], timestamp: 100 };
    const series = toSeries([
      { ...base, metric: 'm.count', type: 'count', value: 1, interval: 10 },
      { ...base, metric: 'm.gauge', type: 'gauge', value: 5 },
      { ...base, metric: 'm.count', type: 'count', value: 2, interval: 10 },
      { ...base, metric: 'm.count', type: 'count', value: 4, interval: 10, timestamp: 101 },
      { ...base, metric: 'm.count', type: 'count', value: 8, interval: 10, tags: ['a:c'] },
      { ...base, metric: 'm.gauge', type: 'gauge', value: 6 },
    ]);
    expect(series).toEqual([
      {
        metric: 'm.count',
        type: 1,
        interval: 10,
        tags: ['a:b'],
        points: [
          { timestamp: 100, value: 3 },
          { timestamp: 101, value: 4 },
        ],
      },
      {
        metric: 'm.gauge',
        type: 3,
        tags: ['a:b'],
        points: [
          { timestamp: 100, value: 5 },
          { timestamp: 100, value: 6 },
        ],
      },
      { metric: 'm.count', type: 1, interval: 10, tags: ['a:c'], points: [{ timestamp: 100, value: 8 }] },
    ]);
  });
});
