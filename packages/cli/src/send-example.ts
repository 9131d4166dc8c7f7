import { parseArgs } from 'node:util';
import {
  createEvent,
  type DeliveryReceipt,
  Dispatcher,
  type EmpathyEvent,
  type EventType,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { wants } from '@empathy/webhooks-core/kit';
import { HELP_FLAG, UsageError, withUsage } from './args.js';
import { loadConfig } from './config.js';
import { describeWebhook } from './describe.js';
import { SEND_EXAMPLE_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { jsonLine, line, palette } from './output.js';
import { describe, eventData, eventType, sample } from './trigger.js';

/** Exit code when Ctrl-C interrupts a delivery (128 + SIGINT). */
const INTERRUPTED = 130;

/**
 * `empathy-webhooks send-example <webhook> [--event type]`: one real delivery of a realistic sample
 * event to a webhook of the config, through core's dispatcher with the webhook's own retry policy,
 * rate limit and circuit breaker. Prints every attempt and the outcome; exit code 0 only when the
 * event was delivered. The webhook's `filter` is not applied (this tests the destination) and its
 * `onFailure` is not called (a test must not page anyone); the config's queue is never used.
 */
export async function sendExample(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = withUsage('send-example', () =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        ...HELP_FLAG,
        config: { type: 'string' },
        event: { type: 'string' },
        data: { type: 'string' },
        'data-file': { type: 'string' },
        json: { type: 'boolean' },
      },
    }),
  );
  if (values.help) {
    io.stdout.write(SEND_EXAMPLE_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `'send-example' needs exactly one webhook name (see 'empathy-webhooks check' for the names)`,
    );
  }
  const name = positionals[0]!;
  const json = values.json === true;
  const { config, file } = await loadConfig(values.config, io.cwd ?? process.cwd());
  const webhook = config.webhooks.find((w) => w.name === name);
  if (!webhook) {
    const names = config.webhooks.map((w) => `'${w.name}'`).join(', ') || 'none';
    throw new UsageError(`no webhook named '${name}' in ${file} (its webhooks: ${names})`);
  }
  const type = values.event === undefined ? defaultType(webhook) : eventType(values.event);
  if (!webhook.events.includes('*') && !webhook.events.includes(type)) {
    throw new UsageError(
      `webhook '${name}' does not receive '${type}' events (its events: ${webhook.events.join(', ')}); pick one with --event`,
    );
  }
  const data = await eventData(type, values.data, values['data-file']);
  const template = sample(type);
  const event = createEvent(type, data.value, {
    userId: config.userId ?? 'developer_123',
    severity: template.severity,
    classification: template.classification,
    // Receivers and vendors can tell this event from a real one.
    metadata: { example: true },
  }) as EmpathyEvent;
  const description = describeWebhook(webhook);
  const c = palette(io.stdout, io.env);

  // The webhook as the application registers it, minus `filter` and `onFailure`; its receipt is
  // kept to print what the vendor created.
  let receipt: DeliveryReceipt | undefined;
  const probe: WebhookPlugin = {
    name: webhook.name,
    events: webhook.events,
    retryPolicy: webhook.retryPolicy,
    rateLimit: webhook.rateLimit,
    circuitBreaker: webhook.circuitBreaker,
    concurrency: 1,
    deliver: async (e, ctx) => {
      receipt = await webhook.deliver(e, ctx);
      return receipt;
    },
    close: () => webhook.close?.() ?? Promise.resolve(),
  };
  const dispatcher = new Dispatcher({ webhooks: [probe] });
  dispatcher.monitor.on((outcome) => {
    if (json) {
      const rounded =
        outcome.durationMs === undefined ? {} : { durationMs: Math.round(outcome.durationMs * 10) / 10 };
      jsonLine(io.stdout, { ...outcome, ...rounded });
    } else line(io.stdout, describe(outcome, c));
  });

  const banner =
    `Sending a sample ${type} event to '${name}' (${description.integration}${description.origin === '-' ? '' : `, ${description.origin}`}; ` +
    `${description.retryPolicy}; rate limit ${description.rateLimit})`;
  line(json ? io.stderr : io.stdout, banner);
  let filtered = false;
  try {
    filtered = webhook.filter !== undefined && !wants(webhook, event);
  } catch {
    filtered = true;
  }
  if (filtered)
    line(io.stderr, `note: the webhook's filter would skip this event in the application; sending it anyway`);

  const interrupted = new Promise<true>((resolve) => {
    if (io.signal?.aborted) resolve(true);
    io.signal?.addEventListener('abort', () => resolve(true), { once: true });
  });
  let stopped: boolean;
  try {
    await dispatcher.dispatch(event);
    stopped = (await Promise.race([dispatcher.flush().then(() => false as const), interrupted])) === true;
  } finally {
    await dispatcher.close({ drainMs: 0 });
  }
  const stats = dispatcher.monitor.getWebhookStats(name);
  const delivered = stats.successCount === 1;
  if (json) {
    jsonLine(io.stdout, {
      kind: 'result',
      webhook: name,
      eventType: type,
      eventId: event.event_id,
      delivered,
      interrupted: stopped,
      attempts: stats.totalSent,
      receipt: receipt ?? null,
    });
  } else if (delivered) {
    const made = receipt ? receiptText(receipt) : '';
    line(
      io.stdout,
      c.green(`Delivered ${event.event_id} to '${name}'`) +
        ` in ${stats.totalSent} attempt${stats.totalSent === 1 ? '' : 's'}${made}`,
    );
  } else {
    line(
      io.stdout,
      c.red(
        `Not delivered: ${stopped ? 'interrupted' : `dead after ${stats.totalSent} attempt${stats.totalSent === 1 ? '' : 's'}`}`,
      ) + (stats.lastError ? ` — ${stats.lastError}` : ''),
    );
  }
  if (stopped) return INTERRUPTED;
  return delivered ? EXIT.ok : EXIT.failure;
}

/** The first type the webhook receives that has a sample; `prediction` for `'*'`. */
function defaultType(webhook: WebhookPlugin): EventType {
  const known = webhook.events.find((e) => e !== '*' && e in SAMPLE_DATA);
  if (known !== undefined) return known as EventType;
  if (webhook.events.includes('*')) return 'prediction';
  throw new UsageError(
    `webhook '${webhook.name}' receives only event types without a sample (${webhook.events.join(', ')}): pass --event and --data`,
  );
}

/** `: id EMP-12 {"action":"created"}`: what the vendor made, secret-free by contract. */
function receiptText(receipt: DeliveryReceipt): string {
  const parts: string[] = [];
  if (receipt.status !== undefined) parts.push(`HTTP ${receipt.status}`);
  if (receipt.id !== undefined) parts.push(`id ${receipt.id}`);
  if (receipt.detail !== undefined) parts.push(JSON.stringify(receipt.detail));
  return parts.length === 0 ? '' : `: ${parts.join(' ')}`;
}
