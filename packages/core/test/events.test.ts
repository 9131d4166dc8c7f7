import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  createEvent,
  type EmpathyEvent,
  EVENT_TYPES,
  isEventType,
  isWebhookConfigError,
  registerEventType,
} from '../src/index.js';

describe('events', () => {
  it("builds the seed's wire envelope", () => {
    const event = createEvent(
      'prediction',
      { prediction: 'Auth deployment may conflict with user-service v2.1', confidence: 0.87 },
      { userId: 'developer_123', empathyLevel: 4, model: 'claude-sonnet-4.5', severity: 'high' },
    );
    expect(event.event_id).toMatch(/^evt_[0-9a-f]{28}$/);
    expect(event.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(event).toMatchObject({
      event_type: 'prediction',
      user_id: 'developer_123',
      empathy_level: 4,
      severity: 'high',
      metadata: { framework_version: '1.8.0', model: 'claude-sonnet-4.5' },
    });
    expect(Object.keys(event)).not.toContain('classification');
    expect(createEvent('alert', { message: 'x' }, { userId: 'u' }).event_id).not.toBe(event.event_id);
  });

  it('has the ten seed types plus completion, error and phi_access', () => {
    expect(EVENT_TYPES).toHaveLength(13);
    expect(EVENT_TYPES).toContain('pattern_discovered');
    expect(EVENT_TYPES).toContain('phi_access');
  });

  it('refuses an unknown event name with a suggestion', () => {
    let error: unknown;
    try {
      createEvent('predicton' as never, {} as never, { userId: 'u' });
    } catch (e) {
      error = e;
    }
    expect(isWebhookConfigError(error)).toBe(true);
    expect((error as Error).message).toContain("unknown event type 'predicton' (did you mean 'prediction'?)");
  });

  it('refuses data that is not an object, and a type that is not a string, with a WebhookConfigError', () => {
    for (const [data, got] of [
      [null, 'null'],
      [undefined, 'undefined'],
      ['disk full', 'string'],
      [42, 'number'],
      [[{ message: 'x' }], 'an array'],
    ] as const) {
      let error: unknown;
      try {
        createEvent('alert', data as never, { userId: 'u' });
      } catch (thrown) {
        error = thrown;
      }
      expect(isWebhookConfigError(error), String(data)).toBe(true);
      expect((error as Error).message).toBe(
        `[emit] the data of a 'alert' event must be an object, such as { message: '…' } (got ${got})`,
      );
    }
    expect(() => createEvent(null as never, { message: 'x' } as never, { userId: 'u' })).toThrow(
      "[emit] an event type must be a string such as 'alert' (got null)",
    );
  });

  it('accepts app-defined event types once registered', () => {
    expect(isEventType('release_published')).toBe(false);
    registerEventType('release_published');
    expect(isEventType('release_published')).toBe(true);
    expect(() => registerEventType('Bad Name')).toThrow(/event type name 'Bad Name' is invalid/);
  });

  it('narrows data by event_type', () => {
    const handle = (event: EmpathyEvent) => {
      if (event.event_type === 'bug_detected') expectTypeOf(event.data.title).toBeString();
      if (event.event_type === 'prediction') expectTypeOf(event.data.confidence).toBeNumber();
    };
    expect(handle).toBeTypeOf('function');
  });
});
