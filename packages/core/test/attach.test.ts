// A webhook's own jobs (WebhookPlugin.attach): queued through the host, delivered like any job.
import { afterEach, describe, expect, it } from 'vitest';
import {
  createEvent,
  Dispatcher,
  type EmpathyEvent,
  isWebhookConfigError,
  type WebhookPlugin,
} from '../src/index.js';
import type { WebhookHost } from '../src/kit/index.js';
import { type Step, scripted } from './helpers.js';

let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
  dispatcher = undefined;
});

/** A job of the webhook's own: not an event anyone emitted. */
const own = (n: number): EmpathyEvent =>
  ({
    ...createEvent('alert', { message: `batch ${n}` }, { userId: 'self' }),
    event_id: `evt_own_${n}`,
  }) as EmpathyEvent;

/** A scripted plugin that keeps the host it is given, and records when it is let go. */
function attached(steps: Step[] = [], extra: Partial<WebhookPlugin> = {}) {
  const { plugin, attempts } = scripted('own', steps, extra);
  const state: { host: WebhookHost | undefined; detached: number; onDetach: () => void | Promise<void> } = {
    host: undefined,
    detached: 0,
    onDetach: () => {},
  };
  plugin.attach = (host) => {
    state.host = host;
    return () => {
      state.detached++;
      return state.onDetach();
    };
  };
  return { plugin, attempts, state };
}

describe('a webhook that queues jobs of its own', () => {
  it('gets them delivered like any job: its filter is not asked, the monitor counts them', async () => {
    const { plugin, attempts, state } = attached([], { filter: () => false });
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    expect(state.host).toBeDefined();
    await state.host!.enqueue(own(1));
    await dispatcher.dispatch(own(2));
    await dispatcher.flush();
    expect(attempts.map((a) => a.event.event_id)).toEqual(['evt_own_1']);
    expect(dispatcher.monitor.getWebhookStats('own')).toMatchObject({ successCount: 1, pendingCount: 0 });
  });

  it('retries them, and dead-letters a permanent failure with onFailure', async () => {
    const failures: string[] = [];
    const { plugin, attempts, state } = attached([{ status: 503 }, { status: 400 }], {
      onFailure: (_w, event) => void failures.push(event.event_id),
    });
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await state.host!.enqueue(own(1));
    await state.host!.enqueue(own(2));
    await dispatcher.flush();
    expect(attempts.map((a) => `${a.event.event_id}#${a.attempt}`).sort()).toEqual([
      'evt_own_1#1',
      'evt_own_1#2',
      'evt_own_2#1',
    ]);
    const letters = await dispatcher.deadLetters.list();
    expect(letters.map((l) => [l.webhook, l.event.event_id])).toEqual([['own', failures[0]]]);
    expect(dispatcher.monitor.getWebhookStats('own')).toMatchObject({ successCount: 1, failedCount: 1 });
  });

  it('holds them to its rate limit', async () => {
    const { plugin, state } = attached([], { rateLimit: { maxRequestsPerMinute: 1 } });
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    const deferred: string[] = [];
    dispatcher.monitor.on((o) => {
      if (o.kind === 'deferred') deferred.push(o.eventId);
    });
    await state.host!.enqueue(own(1));
    await state.host!.enqueue(own(2));
    await expect.poll(() => deferred, { timeout: 10_000 }).toContain('evt_own_2');
    expect(dispatcher.monitor.getWebhookStats('own')).toMatchObject({ successCount: 1, pendingCount: 1 });
  });

  it('is let go before the queue closes: what it queues then is still delivered', async () => {
    const { plugin, attempts, state } = attached();
    state.onDetach = () => state.host!.enqueue(own(9));
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.close({ drainMs: 5_000 });
    expect(state.detached).toBe(1);
    expect(attempts.map((a) => a.event.event_id)).toEqual(['evt_own_9']);
    const refused = await state.host!.enqueue(own(10)).catch((error: unknown) => error);
    expect(isWebhookConfigError(refused)).toBe(true);
    expect((refused as Error).message).toBe(
      '[own] the dispatcher is closed or the webhook removed; no job can be queued',
    );
  });

  it('is let go when removed, and can queue nothing more', async () => {
    const { plugin, state } = attached();
    dispatcher = new Dispatcher();
    const remove = dispatcher.register(plugin);
    remove();
    expect(state.detached).toBe(1);
    await expect(state.host!.enqueue(own(1))).rejects.toThrow(/webhook removed/);
    expect(dispatcher.webhooks).toHaveLength(0);
  });

  it('a detach that throws is reported, and the close goes on', async () => {
    const errors: string[] = [];
    const { plugin, state } = attached();
    state.onDetach = () => {
      throw new Error('flush failed');
    };
    dispatcher = new Dispatcher({
      webhooks: [plugin],
      onError: (error, { webhook, during }) => void errors.push(`${during} ${webhook}: ${error.message}`),
    });
    await dispatcher.close({ drainMs: 0 });
    expect(errors).toEqual(['detach own: flush failed']);
  });
});
