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
  ACTION_METADATA,
  fitPagerDutyEvent,
  formatPagerDutyEvent,
  incidentKey,
  type PagerDutyEventBody,
  SEVERITY_MAP,
} from '../src/index.js';
import { eventsApi, ROUTING_KEY } from './fake-pagerduty.js';

/** Where the sample alert's incident stands at its fourth firing. */
const REPEAT: IncidentContext = {
  key: 'empathy:alert:8174c4c94a0d9b1fbeb26737440f07ad',
  status: 'firing',
  occurrences: 4,
  folded: 1,
  firstSeenAt: '2025-11-25T14:02:00.000Z',
  ref: undefined,
};

/** Every string and key in a value (JSON.stringify would hide control characters behind escapes). */
const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.flatMap(strings)
      : value !== null && typeof value === 'object'
        ? Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)])
        : [];

/** Runs a formatted body through the fake's PagerDuty validation. */
function accepted(body: object): number {
  const text = JSON.stringify({ routing_key: ROUTING_KEY, ...body });
  const response = eventsApi({
    method: 'POST',
    path: '/v2/enqueue',
    url: '/v2/enqueue',
    headers: {},
    body: text,
    receivedAt: Date.now(),
    status: 0,
    json: () => JSON.parse(text),
    form: () => new URLSearchParams(),
  });
  return response.status ?? 200;
}

describe('formatPagerDutyEvent', () => {
  for (const type of EVENT_TYPES) {
    it(`formats ${type} (golden)`, async () => {
      const body = formatPagerDutyEvent(sampleEvent(type));
      expect(accepted(body)).toBe(202);
      await expect(`${JSON.stringify(body, null, 2)}\n`).toMatchFileSnapshot(`./__golden__/${type}.json`);
    });
  }

  it('formats a cleared alert as a resolve (golden)', async () => {
    const body = formatPagerDutyEvent(sampleEvent('alert', { resolved: true }));
    expect(body.event_action).toBe('resolve');
    expect(body.dedup_key).toBe(formatPagerDutyEvent(sampleEvent('alert')).dedup_key);
    expect(accepted(body)).toBe(202);
    await expect(`${JSON.stringify(body, null, 2)}\n`).toMatchFileSnapshot(
      './__golden__/alert-resolved.json',
    );
  });

  it('applies source, component and group options; the event’s own source wins', () => {
    const options = { source: 'empathy-prod', component: 'reviewer', group: 'platform' };
    const own = formatPagerDutyEvent(sampleEvent('alert'), options).payload;
    const fallback = formatPagerDutyEvent(sampleEvent('bug_detected'), options).payload;
    expect(own).toMatchObject({ source: 'checkout-api', component: 'reviewer', group: 'platform' });
    expect(fallback?.source).toBe('empathy-prod');
    expect(formatPagerDutyEvent(sampleEvent('bug_detected')).payload?.source).toBe('empathy-framework');
  });

  it('maps every Empathy severity to PagerDuty’s; none is error, or info for reports', () => {
    const mapped = Object.fromEntries(
      (Object.keys(SEVERITY_MAP) as Severity[]).map((severity) => [
        severity,
        formatPagerDutyEvent(createEvent('alert', { message: 'm' }, { userId: 'u', severity })).payload
          ?.severity,
      ]),
    );
    expect(mapped).toEqual({
      critical: 'critical',
      high: 'error',
      medium: 'warning',
      warning: 'warning',
      low: 'info',
      info: 'info',
    });
    expect(
      formatPagerDutyEvent(createEvent('alert', { message: 'm' }, { userId: 'u' })).payload?.severity,
    ).toBe('error');
    expect(formatPagerDutyEvent(sampleEvent('code_review_complete')).payload?.severity).toBe('info');
  });

  for (const type of EVENT_TYPES) {
    it(`keeps hostile ${type} within PagerDuty’s limits (golden)`, async () => {
      const event = hostileEvent(type);
      const body = formatPagerDutyEvent(event);
      await expect(`${JSON.stringify(body, null, 2)}\n`).toMatchFileSnapshot(
        `./__golden__/hostile/${type}.json`,
      );
      const summary = body.payload!.summary;
      expect(summary.length).toBeLessThanOrEqual(1024);
      for (const text of strings(body)) {
        expect(text, 'a character the text policy strips').not.toMatch(UNSAFE_CHARACTERS);
      }
      expect(body.dedup_key.length).toBeLessThanOrEqual(255);
      expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(300 * 1024);
      expect(accepted(body)).toBe(202);
    });
  }

  it('cuts a long summary at 1024 characters with an ellipsis', () => {
    const summary = formatPagerDutyEvent(hostileEvent('alert')).payload!.summary;
    expect(summary).toHaveLength(1024);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('links only http(s) URLs', () => {
    const body = formatPagerDutyEvent(sampleEvent('test_failure', { url: 'javascript:alert(1)' }));
    expect(body.links).toEqual([{ href: 'https://ci.example.com/runs/4521', text: 'Open CI run' }]);
  });

  it('fingerprints a condition, not one occurrence of it', () => {
    const a = sampleEvent('test_failure', { message: 'expected 401, got 200' }, { eventId: 'evt_a' });
    const b = sampleEvent('test_failure', { message: 'expected 401, got 500' }, { eventId: 'evt_b' });
    const c = sampleEvent('test_failure', { test_name: 'test_other' }, { eventId: 'evt_c' });
    expect(incidentKey(a)).toBe(incidentKey(b));
    expect(incidentKey(a)).not.toBe(incidentKey(c));
    const done = (id: string) => sampleEvent('completion', {}, { eventId: id });
    expect(incidentKey(done('evt_1'))).not.toBe(incidentKey(done('evt_2')));
  });

  it('keys an event by its incident: incident_key, else dedup_key, else the fingerprint; the option wins', () => {
    const alert = sampleEvent('alert');
    expect(incidentKey(alert)).toBe(incidentOf(alert)!.key);
    expect(incidentKey(sampleEvent('alert', { dedup_key: 'old-7' }))).toBe('old-7');
    expect(incidentKey(sampleEvent('alert', { incident_key: 'INC-7', dedup_key: 'old-7' }))).toBe('INC-7');
    expect(incidentKey(sampleEvent('alert', { incident_key: 'INC-7' }), () => 'mine')).toBe('mine');
    const incident = { key: 'INC-9' };
    expect(formatPagerDutyEvent(alert, {}, { ...REPEAT, ...incident }).dedup_key).toBe('INC-9');
    expect(formatPagerDutyEvent(alert, { dedupKey: () => 'mine' }, REPEAT).dedup_key).toBe('mine');
  });

  it('says how often a repeat fired in custom_details (golden)', async () => {
    const body = formatPagerDutyEvent(sampleEvent('alert'), {}, REPEAT);
    expect(body.event_action).toBe('trigger');
    expect(body.dedup_key).toBe(REPEAT.key);
    expect(body.payload?.custom_details).toMatchObject({
      occurrences: 4,
      first_seen_at: '2025-11-25T14:02:00.000Z',
    });
    expect(accepted(body)).toBe(202);
    await expect(`${JSON.stringify(body, null, 2)}\n`).toMatchFileSnapshot('./__golden__/alert-repeat.json');
  });

  it('resolves any event of a resolved incident with its key, alone', () => {
    const failure = sampleEvent('test_failure', { resolved: true });
    const resolved = { ...REPEAT, status: 'resolved' as const, key: incidentOf(failure)!.key };
    expect(formatPagerDutyEvent(failure, {}, resolved)).toEqual({
      event_action: 'resolve',
      dedup_key: resolved.key,
    });
  });
});

describe('events made by resolve() and acknowledge()', () => {
  it('become that action with the key they carry, whatever the dedupKey option says', () => {
    for (const action of ['acknowledge', 'resolve'] as const) {
      const event = createEvent(
        'alert',
        { message: 'm', dedup_key: 'checkout-5xx', ...(action === 'resolve' ? { resolved: true } : {}) },
        { userId: 'u', metadata: { [ACTION_METADATA]: action } },
      );
      expect(formatPagerDutyEvent(event, { dedupKey: () => 'other' })).toEqual({
        event_action: action,
        dedup_key: 'checkout-5xx',
      });
    }
    const keyless = createEvent(
      'alert',
      { message: 'm' },
      { userId: 'u', metadata: { [ACTION_METADATA]: 'resolve' } },
    );
    expect(() => formatPagerDutyEvent(keyless)).toThrow(/data.dedup_key/);
  });
});

describe('fitPagerDutyEvent', () => {
  it('leaves every event this package formats as it is', () => {
    for (const type of EVENT_TYPES) {
      for (const event of [sampleEvent(type), hostileEvent(type), sampleEvent(type, { resolved: true })]) {
        const body = formatPagerDutyEvent(event);
        expect(fitPagerDutyEvent(body)).toEqual(body);
      }
    }
  });

  it('cleans and cuts what a format returns, and refuses what PagerDuty would refuse', () => {
    const base = formatPagerDutyEvent(sampleEvent('alert'));
    const fitted = fitPagerDutyEvent({
      ...base,
      payload: {
        ...base.payload!,
        summary: `two\nlines \u202E${'s'.repeat(2000)}`,
        custom_details: { 'k\u200B': ['\u0007bell'] },
      },
      links: [
        { href: 'javascript:alert(1)', text: 'x' },
        { href: 'https://ok.example/a', text: 'ok\u2066' },
      ],
    });
    expect(fitted.payload!.summary).toHaveLength(1024);
    expect(fitted.payload!.summary.startsWith('two lines ss')).toBe(true);
    expect(fitted.payload!.custom_details).toEqual({ k: ['bell'] });
    expect(fitted.links).toEqual([{ href: 'https://ok.example/a', text: 'ok' }]);
    expect(accepted(fitted)).toBe(202);
    expect(fitPagerDutyEvent({ ...base, event_action: 'resolve' })).toEqual({
      event_action: 'resolve',
      dedup_key: base.dedup_key,
    });
    const refuse = (body: unknown) => () => fitPagerDutyEvent(body as PagerDutyEventBody);
    expect(refuse({ ...base, event_action: 'page' })).toThrow(/event_action/);
    expect(refuse({ ...base, dedup_key: 'k'.repeat(256) })).toThrow(/dedup_key/);
    expect(refuse({ ...base, payload: { ...base.payload, severity: 'high' } })).toThrow(/severity/);
    expect(refuse({ ...base, payload: { ...base.payload, summary: ' ' } })).toThrow(/summary/);
    expect(
      refuse({ ...base, payload: { ...base.payload, custom_details: { big: 'x'.repeat(600 * 1024) } } }),
    ).toThrow(/512 KB/);
  });
});
