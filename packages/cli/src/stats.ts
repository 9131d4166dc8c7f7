import { noArguments, parseCommand } from './args.js';
import { STATS_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { jsonLine, line, pad, palette } from './output.js';
import { openQueue, QUEUE_FLAGS, type QueueAccess } from './queue-source.js';

/** One webhook's figures in a queue file. */
export interface QueueStats {
  webhook: string;
  /** Jobs in the file: queued, deferred, waiting for a retry, or in flight. */
  pending: number;
  /** Dead letters. */
  dead: number;
  /**
   * Delivery records the queue still keeps (a SQLite file: the app's `deliveredRetentionMs`, one
   * hour by default); `undefined` for a queue that keeps none (BullMQ).
   */
  recentlyDelivered: number | undefined;
}

/**
 * `empathy-webhooks stats [--config file | --queue file.db]`: pending jobs, dead letters and recent
 * deliveries per webhook in the config's queue (SQLite or BullMQ) or a `SqliteQueue` file: every
 * webhook of the config and every one with pending jobs, dead letters or delivery records (or only
 * those named with `--webhook`).
 */
export async function stats(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(
    'stats',
    args,
    {
      ...QUEUE_FLAGS,
      webhook: { type: 'string', multiple: true },
      json: { type: 'boolean' },
    },
    STATS_HELP,
    io,
  );
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  noArguments('stats', positionals);
  const { queue, webhooks } = await openQueue(values, io.cwd ?? process.cwd());
  let rows: QueueStats[];
  let total: number;
  try {
    rows = await queueStats(
      queue,
      webhooks.map((w) => w.name),
      values.webhook,
    );
    total = rows.reduce((n, r) => n + r.pending, 0);
  } finally {
    await queue.close();
  }

  if (values.json) {
    jsonLine(io.stdout, { queue: queue.label, webhooks: rows, totalPending: total });
    return EXIT.ok;
  }
  const c = palette(io.stdout, io.env);
  const width = Math.max(7, ...rows.map((r) => r.webhook.length));
  line(io.stdout, c.bold(`${pad('WEBHOOK', width)}  PENDING  DEAD  RECENTLY DELIVERED`));
  for (const r of rows) {
    const dead = r.dead > 0 ? c.red(pad(String(r.dead), 4)) : pad(String(r.dead), 4);
    line(
      io.stdout,
      `${pad(r.webhook, width)}  ${pad(String(r.pending), 7)}  ${dead}  ${r.recentlyDelivered ?? '-'}`,
    );
  }
  if (rows.length === 0) line(io.stdout, c.dim('The queue is empty.'));
  line(
    io.stdout,
    c.dim(
      queue.kind === 'sqlite'
        ? `${queue.label}. Recently delivered: the records the file keeps (deliveredRetentionMs, one hour by default).`
        : `${queue.label}. Recently delivered: '-', this queue keeps no delivery records (workers' monitors count them).`,
    ),
  );
  return EXIT.ok;
}

/**
 * Figures per webhook: every webhook of the config, plus every one the queue holds jobs, dead
 * letters or delivery records of; only `only` when given.
 */
export async function queueStats(
  queue: QueueAccess,
  configured: readonly string[],
  only?: readonly string[],
): Promise<QueueStats[]> {
  const letters = await queue.deadLetters.list();
  const names = new Set<string>(only ?? configured);
  if (only === undefined) for (const l of letters) names.add(l.webhook);
  const [pending, delivered] = await Promise.all([queue.pending([...names]), queue.delivered()]);
  if (only === undefined) {
    for (const name of Object.keys(pending)) names.add(name);
    for (const d of delivered ?? []) names.add(d.webhook);
  }
  return [...names].sort().map((webhook) => ({
    webhook,
    pending: pending[webhook] ?? 0,
    dead: letters.filter((l) => l.webhook === webhook).length,
    recentlyDelivered: delivered?.filter((d) => d.webhook === webhook).length,
  }));
}
