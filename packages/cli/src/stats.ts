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
 * webhook in a `SqliteQueue` file. Webhooks are found through their dead letters and delivery
 * records (or `--webhook`); jobs of webhooks the file knows no other way show as `(other)`.
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
    const [letters, delivered] = await Promise.all([queue.deadLetters.list(), queue.delivered()]);
    const names = new Set<string>(values.webhook ?? []);
    if (values.webhook === undefined) {
      for (const l of letters) names.add(l.webhook);
      for (const d of delivered) names.add(d.webhook);
    }
    rows = await Promise.all(
      [...names].sort().map(async (webhook) => ({
        webhook,
        pending: await queue.pending(webhook),
        dead: letters.filter((l) => l.webhook === webhook).length,
        recentlyDelivered: delivered.filter((d) => d.webhook === webhook).length,
      })),
    );
    total = await queue.pending();
  } finally {
    await queue.close({ drainMs: 0 });
  }
  const listed = rows.reduce((n, r) => n + r.pending, 0);
  const other = values.webhook === undefined ? total - listed : 0;

  if (values.json) {
    jsonLine(io.stdout, { webhooks: rows, otherPending: other, totalPending: total });
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
  if (other > 0) line(io.stdout, `${pad('(other)', width)}  ${pad(String(other), 7)}  ${pad('-', 4)}  -`);
  if (rows.length === 0 && other === 0) line(io.stdout, c.dim('The queue file is empty.'));
  line(
    io.stdout,
    c.dim('Recently delivered: the records the file keeps (deliveredRetentionMs, one hour by default).'),
  );
  return EXIT.ok;
}
