import { parseArgs } from 'node:util';
import { HELP_FLAG, UsageError, withUsage } from './args.js';
import { STATS_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { jsonLine, line, pad, palette } from './output.js';
import { openQueueFile } from './queue-file.js';

/** One webhook's figures in a queue file. */
export interface QueueStats {
  webhook: string;
  /** Jobs in the file: queued, deferred, waiting for a retry, or in flight. */
  pending: number;
  /** Dead letters. */
  dead: number;
  /** Delivery records the file still keeps (the app's `deliveredRetentionMs`, one hour by default). */
  recentlyDelivered: number;
}

/**
 * `empathy-webhooks stats --db <file>`: pending jobs, dead letters and recent deliveries per
 * webhook in a `SqliteQueue` file: every webhook with pending jobs, dead letters or delivery
 * records (or only those named with `--webhook`).
 */
export async function stats(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = withUsage('stats', () =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        ...HELP_FLAG,
        db: { type: 'string' },
        webhook: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
    }),
  );
  if (values.help) {
    io.stdout.write(STATS_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(`'stats' takes no arguments (see 'empathy-webhooks stats --help')`);
  const queue = await openQueueFile(values.db);
  let rows: QueueStats[];
  let total: number;
  try {
    const [letters, delivered, pending] = await Promise.all([
      queue.deadLetters.list(),
      queue.delivered(),
      queue.pendingByWebhook(),
    ]);
    const names = new Set<string>(values.webhook ?? []);
    if (values.webhook === undefined) {
      for (const name of Object.keys(pending)) names.add(name);
      for (const l of letters) names.add(l.webhook);
      for (const d of delivered) names.add(d.webhook);
    }
    rows = [...names].sort().map((webhook) => ({
      webhook,
      pending: pending[webhook] ?? 0,
      dead: letters.filter((l) => l.webhook === webhook).length,
      recentlyDelivered: delivered.filter((d) => d.webhook === webhook).length,
    }));
    total = Object.values(pending).reduce((n, c) => n + c, 0);
  } finally {
    await queue.close({ drainMs: 0 });
  }

  if (values.json) {
    jsonLine(io.stdout, { webhooks: rows, totalPending: total });
    return EXIT.ok;
  }
  const c = palette(io.stdout, io.env);
  const width = Math.max(7, ...rows.map((r) => r.webhook.length));
  line(io.stdout, c.bold(`${pad('WEBHOOK', width)}  PENDING  DEAD  RECENTLY DELIVERED`));
  for (const r of rows) {
    const dead = r.dead > 0 ? c.red(pad(String(r.dead), 4)) : pad(String(r.dead), 4);
    line(
      io.stdout,
      `${pad(r.webhook, width)}  ${pad(String(r.pending), 7)}  ${dead}  ${r.recentlyDelivered}`,
    );
  }
  if (rows.length === 0) line(io.stdout, c.dim('The queue file is empty.'));
  line(
    io.stdout,
    c.dim('Recently delivered: the records the file keeps (deliveredRetentionMs, one hour by default).'),
  );
  return EXIT.ok;
}
