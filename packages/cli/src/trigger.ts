import { readFile } from 'node:fs/promises';
import {
  createEvent,
  type DeliveryOutcome,
  Dispatcher,
  type EmpathyEvent,
  EVENT_TYPES,
  type EventType,
  isWebhookConfigError,
  SEVERITIES,
  type Severity,
  safeOrigin,
} from '@empathy/webhooks-core';
import { SAMPLE_DATA, sampleEvent } from '@empathy/webhooks-core/fakes';
import { assertEventType } from '@empathy/webhooks-core/kit';
import { CustomWebhook } from '@empathy/webhooks-http';
import { numberFlag, parseCommand, secretFlag, UsageError } from './args.js';
import { TRIGGER_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { DEFER_REASON_TEXT, duration, jsonLine, line, type Palette, pad, palette } from './output.js';

/** Exit code when Ctrl-C interrupts `trigger` (128 + SIGINT). */
const INTERRUPTED = 130;

/**
 * `empathy-webhooks trigger <url>`: sends sample (or given) events through a real `CustomWebhook`
 * and core's dispatcher, so retries, Retry-After, the SSRF guard and signing behave as in
 * production. Prints every delivery outcome and the final stats; resolves with 0 when every
 * event was delivered, 1 otherwise.
 */
export async function trigger(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(
    'trigger',
    args,
    {
      event: { type: 'string' },
      data: { type: 'string' },
      'data-file': { type: 'string' },
      secret: { type: 'string' },
      'secret-env': { type: 'string' },
      header: { type: 'string', multiple: true },
      'allow-private-network': { type: 'boolean' },
      retries: { type: 'string' },
      'retry-delay': { type: 'string' },
      timeout: { type: 'string' },
      count: { type: 'string' },
      'user-id': { type: 'string' },
      severity: { type: 'string' },
      json: { type: 'boolean' },
    },
    TRIGGER_HELP,
    io,
  );
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(`'trigger' needs exactly one URL (see 'empathy-webhooks trigger --help')`);
  }
  const url = positionals[0]!;
  const type = eventType(values.event ?? 'prediction');
  const data = await eventData(type, values.data, values['data-file']);
  const severity = severityFlag(values.severity) ?? (data.custom ? undefined : sample(type).severity);
  const retries = numberFlag(values.retries, 'retries', 3, { integer: true, min: 0, max: 100 });
  const timeoutSeconds = numberFlag(values.timeout, 'timeout', 10, { above: 0, max: 600 });
  const initialDelaySeconds = numberFlag(values['retry-delay'], 'retry-delay', 1, { above: 0, max: 3600 });
  const count = numberFlag(values.count, 'count', 1, { integer: true, min: 1, max: 10_000 });
  const secret = secretFlag(values, io.env);
  const headers = headerFlags(values.header ?? []);
  const json = values.json === true;
  const c = palette(io.stdout, io.env);

  let webhook: CustomWebhook;
  try {
    webhook = new CustomWebhook({
      url,
      events: ['*'],
      headers,
      signingSecret: secret,
      allowPrivateNetwork: values['allow-private-network'] === true,
      retryPolicy: {
        maxRetries: retries,
        timeoutSeconds,
        initialDelaySeconds,
        maxDelaySeconds: Math.max(initialDelaySeconds, 300),
      },
    });
  } catch (error) {
    if (!isWebhookConfigError(error)) throw error;
    line(io.stderr, `trigger: ${error.message}`);
    if (/allowPrivateNetwork/.test(error.message)) {
      line(
        io.stderr,
        'hint: pass --allow-private-network to send to a receiver on this machine or your network',
      );
      return EXIT.failure;
    }
    return EXIT.usage;
  }

  const dispatcher = new Dispatcher({
    webhooks: [webhook],
    onError: (error, { during }) => line(io.stderr, `trigger: ${during} threw: ${error.message}`),
  });
  let ssrfRefused = false;
  dispatcher.monitor.on((outcome) => {
    if (outcome.error?.includes('allowPrivateNetwork')) ssrfRefused = true;
    // Durations to 0.1 ms: performance.now() differences carry float noise (31.210732000000007).
    if (json)
      jsonLine(
        io.stdout,
        outcome.durationMs === undefined
          ? outcome
          : { ...outcome, durationMs: Math.round(outcome.durationMs * 10) / 10 },
      );
    else line(io.stdout, describe(outcome, c));
  });

  const target = safeOrigin(url);
  line(
    json ? io.stderr : io.stdout,
    `Sending ${count} ${type} event${count === 1 ? '' : 's'} to ${target} as '${webhook.name}'` +
      ` (${secret ? 'signed' : 'unsigned'}, up to ${retries} retr${retries === 1 ? 'y' : 'ies'}, ${timeoutSeconds} s timeout)`,
  );

  const interrupted = new Promise<true>((resolve) => {
    if (io.signal?.aborted) resolve(true);
    io.signal?.addEventListener('abort', () => resolve(true), { once: true });
  });
  let stopped = false;
  try {
    for (let i = 0; i < count && !io.signal?.aborted; i++) {
      const event = createEvent(type, data.value, {
        userId: values['user-id'] ?? 'developer_123',
        severity,
        classification: sample(type).classification,
      });
      await dispatcher.dispatch(event as EmpathyEvent);
    }
    stopped = (await Promise.race([dispatcher.flush().then(() => false as const), interrupted])) === true;
  } finally {
    await dispatcher.close({ drainMs: 0 });
  }

  const stats = dispatcher.monitor.getWebhookStats(webhook.name);
  if (json) {
    jsonLine(io.stdout, {
      kind: 'stats',
      webhook: webhook.name,
      events: count,
      interrupted: stopped,
      ...stats,
    });
  } else {
    const delivered =
      stats.successCount === count
        ? c.green(`${stats.successCount}/${count} delivered`)
        : c.red(`${stats.successCount}/${count} delivered`);
    line(
      io.stdout,
      `${delivered} · ${stats.failedCount} dead · ${stats.totalSent} attempt${stats.totalSent === 1 ? '' : 's'} (${stats.retriedCount} retried)` +
        ` · avg ${duration(stats.avgResponseTimeMs)} · p95 ${duration(stats.p95ResponseTimeMs)}${stopped ? ' · interrupted' : ''}`,
    );
  }
  if (ssrfRefused)
    line(
      io.stderr,
      'hint: pass --allow-private-network to send to a receiver on this machine or your network',
    );
  if (stopped) return INTERRUPTED;
  return stats.successCount === count ? EXIT.ok : EXIT.failure;
}

/** The sample event of a built-in type (its severity and classification come from it). */
export function sample(type: EventType): EmpathyEvent {
  return sampleEvent(type as keyof typeof SAMPLE_DATA);
}

/** `--event`: a known event type with sample data, or a {@link UsageError} with a "did you mean". */
export function eventType(name: string): EventType {
  try {
    assertEventType(name, 'trigger');
  } catch (error) {
    throw new UsageError(
      (error as Error).message.replace(/^\[trigger\] /, '--event: ').replace(/ Register your own .*$/, ''),
    );
  }
  if (!(EVENT_TYPES as readonly string[]).includes(name)) {
    throw new UsageError(`--event: '${name}' has no sample data; pass --data`);
  }
  return name;
}

/** `--data` / `--data-file`, or the sample data of `type`. */
export async function eventData(
  type: EventType,
  data: string | undefined,
  file: string | undefined,
): Promise<{ value: any; custom: boolean }> {
  if (data !== undefined && file !== undefined)
    throw new UsageError('use either --data or --data-file, not both');
  if (data === undefined && file === undefined) {
    return { value: SAMPLE_DATA[type as keyof typeof SAMPLE_DATA], custom: false };
  }
  const flag = data !== undefined ? '--data' : '--data-file';
  let text: string;
  if (data !== undefined) text = data;
  else {
    try {
      text = await readFile(file!, 'utf8');
    } catch (error) {
      throw new UsageError(
        `--data-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag} is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${flag} must be a JSON object (the event's data)`);
  }
  return { value, custom: true };
}

function severityFlag(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  if (!(SEVERITIES as readonly string[]).includes(value)) {
    throw new UsageError(`option --severity must be one of ${SEVERITIES.join(', ')}`);
  }
  return value as Severity;
}

/** `'K: V'` pairs into headers. Values are secrets: errors never show them. */
function headerFlags(values: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [i, raw] of values.entries()) {
    const colon = raw.indexOf(':');
    const name = colon > 0 ? raw.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new UsageError(`option --header #${i + 1} must look like 'Name: value'`);
    }
    headers[name] = raw.slice(colon + 1).trim();
  }
  return headers;
}

/** One line per outcome: `retry      prediction  evt_…  attempt 1  HTTP 503  4 ms  next in 1.00 s — <error>`. */
export function describe(o: DeliveryOutcome, c: Palette): string {
  const kind =
    o.kind === 'delivered' ? c.green : o.kind === 'dead' ? c.red : o.kind === 'retry' ? c.yellow : c.cyan;
  const parts = [kind(pad(o.kind, 9)), pad(o.eventType, 14), o.eventId, `attempt ${o.attempt}`];
  if (o.status !== undefined) parts.push(`HTTP ${o.status}`);
  if (o.durationMs !== undefined) parts.push(duration(o.durationMs));
  if (o.kind === 'deferred') parts.push(DEFER_REASON_TEXT[o.reason]);
  if (o.nextAttemptAt !== undefined)
    parts.push(`next try in ${duration(Math.max(0, o.nextAttemptAt - Date.now()))}`);
  const error = o.error === undefined ? '' : ` — ${c.dim(o.error)}`;
  return parts.join('  ') + error;
}
