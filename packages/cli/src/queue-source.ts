import type { DeadLetterStore, DeliveryQueue, WebhookPlugin } from '@empathy/webhooks-core';
import { UsageError } from './args.js';
import { type LoadedConfig, loadConfig } from './config.js';
import { checkQueueFile, openQueueFile, QueueFileError } from './queue-file.js';

/** How long a command waits for its queue (Redis that does not answer) before giving up. */
export const QUEUE_DEADLINE_MS = 15_000;

/** A durable queue the CLI reads: from the config, or a `SqliteQueue` file given with `--queue`. */
export interface QueueAccess {
  /** `SqliteQueue ./webhooks.db`, `BullMQQueue (prefix 'empathy')`: never a connection secret. */
  readonly label: string;
  readonly kind: 'sqlite' | 'bullmq' | 'other';
  readonly deadLetters: DeadLetterStore;
  /** Jobs waiting per webhook: every webhook the queue knows plus `names`. */
  pending(names: readonly string[]): Promise<Record<string, number>>;
  /** Deliveries the queue still records, per webhook (SQLite keeps them for an hour); else undefined. */
  delivered(): Promise<{ webhook: string; attempts: number }[] | undefined>;
  /** Releases the file or connection; bounded, never throws. */
  close(): Promise<void>;
}

/** A queue and the webhooks of the config it came from (none for a bare `--queue` file). */
export interface OpenedQueue {
  queue: QueueAccess;
  webhooks: readonly WebhookPlugin[];
  config: LoadedConfig | undefined;
}

/** The flags that choose a queue. `--db` is the older name of `--queue`. */
export const QUEUE_FLAGS = {
  config: { type: 'string' },
  queue: { type: 'string' },
  db: { type: 'string' },
} as const;

/**
 * Opens the queue a command works on: `--queue file.db` (a `SqliteQueue` file, never created),
 * else the config's `queue`. Throws a {@link UsageError} or a {@link QueueFileError} naming the
 * problem.
 */
export async function openQueue(
  values: { config?: string | undefined; queue?: string | undefined; db?: string | undefined },
  cwd: string,
): Promise<OpenedQueue> {
  if (values.queue !== undefined && values.db !== undefined) {
    throw new UsageError('use either --queue or --db (its older name), not both');
  }
  const file = values.queue ?? values.db;
  if (file !== undefined) {
    const config = values.config === undefined ? undefined : await loadConfig(values.config, cwd);
    const sqlite = await openQueueFile(file, cwd);
    return {
      queue: sqliteAccess(sqlite, `SqliteQueue ${file}`),
      webhooks: config?.config.webhooks ?? [],
      config,
    };
  }
  const config = await loadConfig(values.config, cwd);
  const queue = config.config.queue;
  if (!queue) {
    throw new QueueFileError(
      `${config.file} has no 'queue': dead letters and stats live in a durable queue (SqliteQueue or ` +
        `BullMQQueue). Add it to the config, or pass --queue <file.db>. The in-memory queue lives in ` +
        `the application's process: serve its dashboard there with serveDashboard(empathy).`,
    );
  }
  return { queue: await configQueueAccess(queue), webhooks: config.config.webhooks, config };
}

/** Describes a queue object without touching it: its class and its path or key prefix. */
export function queueLabel(queue: DeliveryQueue): string {
  const name = (queue as { constructor?: { name?: string } }).constructor?.name ?? 'queue';
  const path = (queue as { path?: unknown }).path;
  if (typeof path === 'string') return `${name} ${path}`;
  const prefix = (queue as { prefix?: unknown }).prefix;
  if (typeof prefix === 'string') return `${name} (prefix '${prefix}')`;
  return name;
}

async function configQueueAccess(queue: DeliveryQueue): Promise<QueueAccess> {
  const label = queueLabel(queue);
  const path = (queue as { path?: unknown }).path;
  if (typeof path === 'string' && typeof (queue as unknown as SqliteLike).pendingByWebhook === 'function') {
    // The app's SqliteQueue creates its file on first use; the CLI must not: look before opening.
    // SqliteQueue resolves a relative path against the process's folder, so this does too.
    if (path !== ':memory:') await checkQueueFile(path, process.cwd());
    const sqlite = queue as unknown as SqliteLike;
    await bounded(sqlite.pending(), label);
    return sqliteAccess(sqlite, label);
  }
  const isBull = typeof (queue as { prefix?: unknown }).prefix === 'string';
  return {
    label,
    kind: isBull ? 'bullmq' : 'other',
    deadLetters: boundedStore(queue.deadLetters, label),
    async pending(names) {
      const out: Record<string, number> = {};
      if (typeof queue.pending !== 'function') return out;
      const pending = queue.pending.bind(queue);
      for (const name of new Set(names)) out[name] = await bounded(pending(name), label);
      return out;
    },
    delivered: async () => undefined,
    close: () => closeBounded(queue),
  };
}

interface SqliteLike {
  readonly deadLetters: DeadLetterStore;
  pending(webhook?: string): Promise<number>;
  pendingByWebhook(): Promise<Record<string, number>>;
  delivered(filter?: { webhook?: string }): Promise<{ webhook: string; attempts: number }[]>;
  close(options?: { drainMs?: number }): Promise<void>;
}

function sqliteAccess(queue: SqliteLike, label: string): QueueAccess {
  return {
    label,
    kind: 'sqlite',
    deadLetters: queue.deadLetters,
    async pending(names) {
      const counts = await queue.pendingByWebhook();
      for (const name of names) counts[name] ??= 0;
      return counts;
    },
    delivered: () => queue.delivered(),
    close: () => closeBounded(queue),
  };
}

/** A store whose every call gives up after {@link QUEUE_DEADLINE_MS} (Redis that never answers). */
function boundedStore(store: DeadLetterStore, label: string): DeadLetterStore {
  return {
    list: (filter) => bounded(store.list(filter), label),
    get: (id) => bounded(store.get(id), label),
    replay: (id) => bounded(store.replay(id), label),
    replayAll: (filter) => bounded(store.replayAll(filter), label),
    delete: (id) => bounded(store.delete(id), label),
    clear: (filter) => bounded(store.clear(filter), label),
  };
}

/** `promise`, or a {@link QueueFileError} once the deadline passes. */
export function bounded<T>(promise: Promise<T>, label: string, ms = QUEUE_DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QueueFileError(`${label} did not answer within ${ms / 1000} s (is it reachable?)`)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function closeBounded(queue: { close(options?: { drainMs?: number }): Promise<void> }): Promise<void> {
  // drainMs 0: the CLI consumes nothing; it only hands back the file or the connection.
  await bounded(queue.close({ drainMs: 0 }), 'queue', 5_000).catch(() => {});
}
