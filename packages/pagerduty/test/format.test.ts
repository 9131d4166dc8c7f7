import { createEvent, EVENT_TYPES, type Severity } from '@empathy/webhooks-core';
import { hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import { formatPagerDutyEvent, incidentKey, SEVERITY_MAP } from '../src/index.js';
import { eventsApi, ROUTING_KEY } from './fake-events-api.js';

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
    it(`keeps hostile ${type} within PagerDuty’s limits`, () => {
      const event = hostileEvent(type);
      const body = formatPagerDutyEvent(event);
      const summary = body.payload!.summary;
      expect(summary.length).toBeLessThanOrEqual(1024);
      expect(summary).not.toMatch(/[\u0000-\u001f\u202e]/);
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
    expect(body.links).toEqual([{ href: 'https://ci.example.com/runs/4521', text: 'CI run' }]);
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
});
