import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../src/dispatcher.js';
import { isWebhookConfigError } from '../src/errors.js';
import { createEvent, type EmpathyEvent } from '../src/events.js';
import { WebhookBase } from '../src/kit/webhook-base.js';
import type { DeliveryContext, DeliveryReceipt } from '../src/plugin.js';
import { scripted } from './helpers.js';

/** An integration with a method of its own that sends (as PagerDuty's resolve() does). */
class Pager extends WebhookBase<{ action: string }> {
  readonly target = 'pager.example';
  readonly sent: { action: string; eventId: string }[] = [];
  failNext = 0;

  /** Queues a `clear` for this webhook alone. */
  clear(): Promise<void> {
    return this.enqueue(createEvent('alert', { message: 'clear', resolved: true }, { userId: 'pager' }));
  }

  protected render(event: EmpathyEvent) {
    return { action: (event.data as { resolved?: boolean }).resolved ? 'clear' : 'page' };
  }

  protected async send(payload: { action: string }, event: EmpathyEvent, _ctx: DeliveryContext) {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    this.sent.push({ action: payload.action, eventId: event.event_id });
    return { status: 202 } satisfies DeliveryReceipt;
  }
}

const FAST = { maxRetries: 1, initialDelaySeconds: 0.01, backoffMultiplier: 1, jitter: false };

describe('WebhookHost: jobs a webhook queues for itself', () => {
  it('runs them like deliveries: for that webhook alone, past its filter, retried, counted', async () => {
    const failures: string[] = [];
    const pager = new Pager(
      {
        events: ['alert'],
        filter: (e) => e.severity === 'critical',
        retryPolicy: FAST,
        circuitBreaker: false,
        onFailure: (_w, event) => void failures.push(event.event_id),
      },
      { name: 'pager' },
    );
    const other = scripted('other');
    const dispatcher = new Dispatcher({ webhooks: [pager, other.plugin] });
    pager.failNext = 1;
    await pager.clear();
    await dispatcher.flush();
    expect(pager.sent.map((s) => s.action)).toEqual(['clear']);
    expect(other.attempts).toHaveLength(0);
    expect(dispatcher.monitor.getWebhookStats('pager')).toMatchObject({
      successCount: 1,
      retriedCount: 1,
      totalSent: 2,
      pendingCount: 0,
    });

    // Retries spent: a dead letter and onFailure, as for any delivery.
    pager.failNext = 2;
    await pager.clear();
    await dispatcher.flush();
    const letters = await dispatcher.deadLetters.list();
    expect(letters.map((l) => l.webhook)).toEqual(['pager']);
    expect(failures).toEqual([letters[0]!.event.event_id]);
    await dispatcher.close();
  });

  it('refuses when the webhook is registered nowhere, was removed, or its host closed', async () => {
    const pager = new Pager({}, { name: 'pager', events: ['alert'] });
    const refused = await pager.clear().catch((e: unknown) => e);
    expect(isWebhookConfigError(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/^\[pager\] this webhook is not registered/);

    const dispatcher = new Dispatcher();
    const remove = dispatcher.register(pager);
    remove();
    expect(isWebhookConfigError(await pager.clear().catch((e: unknown) => e))).toBe(true);

    dispatcher.register(pager);
    await dispatcher.close();
    expect(await pager.clear().catch((e: Error) => e.message)).toMatch(/not registered|closed/);
    expect(pager.sent).toHaveLength(0);
  });

  it('uses the host it was registered in last, and the earlier one again once that is left', async () => {
    const pager = new Pager({ retryPolicy: FAST }, { name: 'pager', events: ['alert'] });
    const first = new Dispatcher({ webhooks: [pager] });
    const second = new Dispatcher();
    const leave = second.register(pager);
    await pager.clear();
    await second.flush();
    expect(second.monitor.getWebhookStats('pager').successCount).toBe(1);
    leave();
    await pager.clear();
    await first.flush();
    expect(first.monitor.getWebhookStats('pager').successCount).toBe(1);
    await Promise.all([first.close(), second.close()]);
  });
});
