import { WebhookConfigError } from '@empathy/webhooks-core';

/** Options for {@link SqliteQueue}. */
export interface SqliteQueueOptions {
  /**
   * The database file, created if missing (its directory must exist). Every process that shares
   * the file shares its jobs. `':memory:'` works for tests but survives nothing.
   * @example './data/webhooks.db'
   */
  path: string;
  /**
   * How long a job leased by a process stays reserved for it. A live process renews its leases
   * every `leaseMs / 3`; when a process dies, its jobs go back to the queue after this long, or
   * at once when the dead process was on this machine.
   * @default 30000
   */
  leaseMs?: number | undefined;
  /** How often to look for jobs from other processes and expired leases, in ms. @default 1000 */
  pollMs?: number | undefined;
  /**
   * How long to keep a record (ids, attempts, status: no payload) of each delivered job, in ms;
   * 0 keeps none. Older records are pruned every minute. See {@link SqliteQueue.delivered}.
   * @default 3600000 (one hour)
   */
  deliveredRetentionMs?: number | undefined;
  /**
   * SQLite's `synchronous` setting. `'normal'`: a resolved `enqueue` survives a crash of the
   * process (WAL, no fsync per commit). `'full'`: it also survives power loss, at an fsync per
   * commit.
   * @default 'normal'
   */
  synchronous?: 'normal' | 'full' | undefined;
  /** How long `close()` waits for pending deliveries by default, in ms. @default 10000 */
  drainMs?: number | undefined;
  /** The most jobs a lane leases from the file at once. @default 64 */
  batchSize?: number | undefined;
  /**
   * Told about failures no call can report: the file failing while this process polls it or
   * leases jobs in the background (a corrupt page, a full disk). The error is a `WebhookError`
   * naming the file; each distinct failure is reported once until the file answers again.
   * @default a one-line warning on stderr
   */
  onError?: ((error: Error) => void) | undefined;
}

/** `value` as an integer option of at least `min`, or `fallback` when not given. */
export function integerOption(
  value: number | undefined,
  option: string,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new WebhookConfigError(
      `SqliteQueue: option '${option}' must be an integer >= ${min} (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}
