import { Dispatcher } from '../dispatcher.js';
import { createEvent, type EmpathyEvent, type EventDataMap, type EventType } from '../events.js';
import type { WebhookStats } from '../monitor.js';
import type { WebhookPlugin } from '../plugin.js';
import type { DeliveryQueue } from '../queue/types.js';

/** What {@link runIncidentSequence} needs: how to make the webhook (again, after a restart). */
export interface IncidentSequenceOptions<T extends EventType = 'alert'> {
  /** A new instance of the webhook under test, pointed at the vendor's fake. Called again after a restart. */
  webhook: () => WebhookPlugin;
  /** The condition's event type. @default 'alert' */
  type?: T | undefined;
  /**
   * The condition's data; the repeats change only `message` (the measured value), the resolution
   * adds `resolved: true`. @default an alert 'Error rate above 5% on checkout'
   */
  data?: EventDataMap[T] | undefined;
  /** Repeats between the first event and the resolution. @default 3 */
  repeats?: number | undefined;
  /**
   * A queue for the host, made again after the restart (a durable queue on the same file: its
   * `incidentStore` keeps what the first host stored). @default a new in-memory queue each time
   */
  queue?: (() => DeliveryQueue) | undefined;
  /** Close the host after the repeats and resolve in a new one (new webhook, new queue). @default false */
  restartBeforeResolve?: boolean | undefined;
}

/** What a sequence produced: the events sent, in order, and each host's stats for the webhook. */
export interface IncidentSequenceResult {
  events: EmpathyEvent[];
  stats: WebhookStats[];
}

/**
 * Drives one incident through a webhook the way an application would: the condition fires,
 * repeats `repeats` times, then clears, each event delivered before the next is emitted,
 * optionally with a restart of the host (a new `Dispatcher`, webhook and queue) before the
 * resolution. The test then asserts the calls its vendor fake received: the message posted once,
 * then updated; the ticket transitioned; the same `dedup_key`.
 *
 * @example
 * await runIncidentSequence({ webhook: () => new DiscordWebhook({ webhookUrl: fake.url('/api/webhooks/1/t'), allowPrivateNetwork: true }) });
 * expect(fake.requests.map((r) => r.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH', 'PATCH']);
 */
export async function runIncidentSequence<T extends EventType = 'alert'>(
  options: IncidentSequenceOptions<T>,
): Promise<IncidentSequenceResult> {
  const type = (options.type ?? 'alert') as T;
  const data = (options.data ?? {
    title: 'Error rate above 5% on checkout',
    message: 'checkout-api 5xx rate is 7.2% over the last 10 minutes',
    source: 'checkout-api',
  }) as EventDataMap[T];
  const repeats = options.repeats ?? 3;
  const events: EmpathyEvent[] = [
    createEvent(type, data, { userId: 'sre-bot', severity: 'high' }) as EmpathyEvent,
  ];
  for (let i = 1; i <= repeats; i++) {
    events.push(
      createEvent(
        type,
        { ...data, message: `${String((data as { message?: unknown }).message ?? '')} (repeat ${i})` },
        {
          userId: 'sre-bot',
          severity: 'high',
        },
      ) as EmpathyEvent,
    );
  }
  events.push(
    createEvent(type, { ...data, resolved: true }, { userId: 'sre-bot', severity: 'high' }) as EmpathyEvent,
  );

  const stats: WebhookStats[] = [];
  const open = () => {
    const webhook = options.webhook();
    const dispatcher = new Dispatcher({ webhooks: [webhook], queue: options.queue?.() });
    return { webhook, dispatcher };
  };
  let host = open();
  for (let i = 0; i < events.length; i++) {
    if (i === events.length - 1 && options.restartBeforeResolve) {
      stats.push(host.dispatcher.monitor.getWebhookStats(host.webhook.name));
      await host.dispatcher.close();
      host = open();
    }
    await host.dispatcher.dispatch(events[i]!);
    await host.dispatcher.flush();
  }
  stats.push(host.dispatcher.monitor.getWebhookStats(host.webhook.name));
  const letters = await host.dispatcher.deadLetters.list();
  await host.dispatcher.close();
  if (letters.length > 0) {
    throw new Error(
      `the sequence dead-lettered ${letters.length} event(s): ${letters.map((l) => l.error.message).join('; ')}`,
    );
  }
  return { events, stats };
}
