import {
  type DeadLetterStore,
  type DeliveryQueue,
  type IncidentStore,
  isWebhookError,
  WebhookConfigError,
  WebhookError,
} from '@empathy/webhooks-core';
import {
  type DeliveryJob,
  type JobError,
  type JobHandler,
  type JobOutcome,
  LaneScheduler,
  type Lane as LaneState,
  type LongTimeout,
  newLane,
  setLongTimeout,
} from '@empathy/webhooks-core/queue';
import Database from 'better-sqlite3';
import { createDeadLetterStore } from './dead-letters.js';
import { createIncidentStore } from './incidents.js';
import { Leases, reclaimFromDeadProcesses } from './leases.js';
import { integerOption, type SqliteQueueOptions } from './options.js';
import { type DeliveryRecord, type InsertRow, toInsertRows, toJob } from './rows.js';
import { migrate } from './schema.js';
import { prepare, type Statements } from './statements.js';

/** A job this process holds a lease on. */
interface Held {
  seq: number;
  job: DeliveryJob;
}

interface Lane extends LaneState {
  /** Leased jobs not started yet, oldest first; `head` is the next one. */
  ready: (Held | undefined)[];
  head: number;
  /** The file may hold jobs of this lane that are due and free: look before idling. */
  look: boolean;
}

type Outcome =
  | { kind: 'delivered'; lane: Lane; held: Held; status: number | undefined }
  | { kind: 'retry'; lane: Lane; held: Held; at: number; error: JobError }
  | { kind: 'wait'; lane: Lane; held: Held; at: number }
  | { kind: 'dead'; lane: Lane; held: Held; attempts: number; error: JobError };

interface PendingInsert {
  jobs: DeliveryJob[];
  /** The columns of each job, serialised before the batch's transaction. */
  rows: InsertRow[];
  resolve: () => void;
  reject: (error: Error) => void;
}

interface IdleWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

const PRUNE_EVERY_MS = 60_000;
const WRITE_RETRY_MS = 200;

/**
 * A durable delivery queue on one SQLite file (better-sqlite3, WAL). `enqueue` resolves once the
 * jobs are committed, so an `emit()` that resolved survives a crash; jobs a crashed process held
 * go back to the queue; retries and rate-limit waits are rows with a time; dead letters persist
 * with list / replay / delete. Writes are batched: one transaction per burst of enqueues and
 * outcomes, not one per job. Delivery is at least once: after a crash, the deliveries that were
 * in flight run again.
 *
 * @example
 * const empathy = new EmpathyOS({
 *   userId: 'developer_123',
 *   queue: new SqliteQueue({ path: './webhooks.db' }),
 *   webhooks: [slack],
 * });
 */
export class SqliteQueue implements DeliveryQueue {
  /** The database file. */
  readonly path: string;
  /** Dead letters, kept in the file. */
  readonly deadLetters: DeadLetterStore;
  /**
   * Incident state (what each webhook sent for an incident, to update it later), kept in the
   * file: a host opened on it after a restart updates the notifications the last one sent.
   */
  readonly incidentStore: IncidentStore;
  readonly #leases: Leases;
  readonly #pollMs: number;
  readonly #retentionMs: number;
  readonly #synchronous: 'normal' | 'full';
  readonly #drainMs: number;
  readonly #batchSize: number;
  readonly #onError: (error: Error) => void;
  /** The message of the background failure reported last, until the file answers again. */
  #lastReported: string | undefined;
  /** The lanes; a slot (`inFlight`) is freed once its outcome is committed. */
  readonly #lanes: LaneScheduler<Lane, Held>;
  #db: Database.Database | undefined;
  #sql: Statements | undefined;
  #inserts: PendingInsert[] = [];
  #outcomes: Outcome[] = [];
  #flushScheduled = false;
  #writeRetry: NodeJS.Timeout | undefined;
  #poller: LongTimeout | undefined;
  #polling = false;
  #lastRenew = 0;
  #lastPrune = 0;
  #idleWaiters: IdleWaiter[] = [];
  #stopping = false;
  #closed = false;
  #settled: (() => void) | undefined;

  constructor(options: SqliteQueueOptions) {
    if (options === null || typeof options !== 'object') {
      throw new WebhookConfigError(`SqliteQueue: options must be an object with a 'path'`);
    }
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new WebhookConfigError(`SqliteQueue: option 'path' must be a non-empty string (a file path)`);
    }
    this.path = options.path;
    this.#leases = new Leases(integerOption(options.leaseMs, 'leaseMs', 30_000, 100));
    this.#pollMs = integerOption(options.pollMs, 'pollMs', 1000, 10);
    this.#retentionMs = integerOption(options.deliveredRetentionMs, 'deliveredRetentionMs', 3_600_000, 0);
    this.#drainMs = integerOption(options.drainMs, 'drainMs', 10_000, 0);
    this.#batchSize = integerOption(options.batchSize, 'batchSize', 64, 1);
    const synchronous = options.synchronous ?? 'normal';
    if (synchronous !== 'normal' && synchronous !== 'full') {
      throw new WebhookConfigError(
        `SqliteQueue: option 'synchronous' must be 'normal' or 'full' (got ${JSON.stringify(synchronous)})`,
      );
    }
    this.#synchronous = synchronous;
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new WebhookConfigError(`SqliteQueue: option 'onError' must be a function (error) => void`);
    }
    this.#onError = options.onError ?? ((error) => console.warn(`[empathy-webhooks] ${error.message}`));
    this.deadLetters = createDeadLetterStore({
      read: (read) => this.#read(read),
      write: (write) => this.#write(write),
      statements: () => this.#statements(),
      transaction: (run) => this.#db!.transaction(run)(),
      requeued: (webhooks) => {
        for (const webhook of webhooks) {
          const lane = this.#lanes.lane(webhook);
          lane.look = true;
          this.#lanes.pump(lane);
        }
      },
    });
    this.incidentStore = createIncidentStore({
      read: (read) => this.#read(read),
      write: (write) => this.#write(write),
      statements: () => this.#statements(),
      immediate: (run) => this.#db!.transaction(run).immediate(),
    });
    this.#lanes = new LaneScheduler<Lane, Held>(
      {
        take: (lane, now) => this.#take(lane, now),
        job: (held) => held.job,
        settle: (lane, held, outcome) => this.#settle(lane, held, outcome),
        woke: (lane) => {
          lane.look = true;
        },
      },
      (name) => ({ ...newLane(name), ready: [], head: 0, look: true }),
    );
  }

  /**
   * Stores jobs; resolves once they are committed to the file. Jobs are written as JSON: an event
   * whose data cannot be (a BigInt, a cycle) rejects this call with a `WebhookConfigError` naming
   * it, and nothing of this call is stored; other calls in the same batch are not affected.
   */
  enqueue(jobs: DeliveryJob[]): Promise<void> {
    if (this.#stopping) return Promise.reject(closedError());
    if (jobs.length === 0) return Promise.resolve();
    let rows: InsertRow[];
    try {
      // Before the shared transaction: one bad event must fail alone, not the whole batch.
      rows = toInsertRows(jobs);
      this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#inserts.push({ jobs, rows, resolve, reject });
      this.#scheduleFlush();
    });
  }

  /** Starts running jobs through `handler`: the ones in the file and every one enqueued later. */
  consume(handler: JobHandler): void {
    if (this.#lanes.handler) {
      throw new WebhookConfigError(
        'SqliteQueue.consume() was already called: give each Dispatcher or EmpathyOS its own SqliteQueue',
      );
    }
    this.#open();
    this.#lanes.start(handler);
    this.#startPolling();
  }

  /**
   * Resolves when the file holds no job (queued, deferred, waiting for a retry, or leased by any
   * process) and nothing is in flight here. While it waits, the process stays alive, also when
   * the jobs it waits for are leased by another process. Rejects with a `WebhookError` naming the
   * file if the file cannot be read.
   */
  idle(): Promise<void> {
    try {
      if (this.#isIdle()) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#idleWaiters.push({ resolve, reject });
      // The poller notices when other processes finish; ref'd, it keeps an `await flush()` from
      // ending the process (exit code 13) while the jobs it waits for run elsewhere.
      if (!this.#polling) this.#startPolling();
      this.#poller?.ref();
    });
  }

  /**
   * Stops leasing and lets pending deliveries run for up to `drainMs` in all (attempts in flight at
   * the deadline included), commits what finished, hands every job it still holds back to the
   * queue, and closes the file. Whatever is left runs when a process opens the file again; an
   * attempt cut off by the deadline runs again then (at least once).
   */
  async close(options: { drainMs?: number } = {}): Promise<void> {
    if (this.#stopping) return;
    const drainMs = options.drainMs ?? this.#drainMs;
    const deadline = Date.now() + drainMs;
    // A file that cannot be read ends the drain at once: close() still releases and closes it.
    if (this.#lanes.handler && drainMs > 0)
      await until(
        this.idle().catch(() => {}),
        drainMs,
      );
    this.#stopping = true;
    this.#poller?.clear();
    this.#lanes.stop();
    const remaining = deadline - Date.now();
    if (this.#lanes.inFlight() > 0 && remaining > 0) {
      await until(new Promise<void>((r) => (this.#settled = r)), remaining);
    }
    clearTimeout(this.#writeRetry);
    if (this.#db) {
      this.#flush();
      const error = new WebhookError('SqliteQueue: could not commit before closing');
      for (const insert of this.#inserts) insert.reject(error);
      this.#leases.release(this.#db!, this.#sql!);
      this.#db.close();
    }
    this.#closed = true;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  /** Jobs in the file (queued, deferred, waiting for a retry, or in flight), for one webhook or all. */
  async pending(webhook?: string): Promise<number> {
    return this.#read(() => {
      const sql = this.#statements();
      const row = (webhook === undefined ? sql.countAll.get() : sql.countLane.get(webhook)) as { n: number };
      return row.n;
    });
  }

  /** Jobs in the file per webhook, for every webhook that has any. */
  async pendingByWebhook(): Promise<Record<string, number>> {
    const rows = this.#read(() => this.#statements().countByLane.all()) as { webhook: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.webhook, r.n]));
  }

  /**
   * Delivered jobs recorded in the last `deliveredRetentionMs`, newest first: to check what
   * reached a webhook (the payload itself is not kept).
   */
  async delivered(
    filter: { webhook?: string; eventId?: string; limit?: number } = {},
  ): Promise<DeliveryRecord[]> {
    const rows = this.#read(() =>
      this.#statements().delivered.all({
        webhook: filter.webhook ?? null,
        eventId: filter.eventId ?? null,
        limit: filter.limit ?? -1,
      }),
    ) as {
      id: string;
      webhook: string;
      event_id: string;
      attempts: number;
      status: number | null;
      delivered_at: number;
    }[];
    return rows.map((r) => {
      const record: DeliveryRecord = {
        id: r.id,
        webhook: r.webhook,
        eventId: r.event_id,
        attempts: r.attempts,
        deliveredAt: r.delivered_at,
      };
      if (r.status !== null) record.status = r.status;
      return record;
    });
  }

  // ─── the file ────────────────────────────────────────────────────────────────────────────────

  #open(): Database.Database {
    if (this.#db) return this.#db;
    if (this.#closed) throw closedError();
    let db: Database.Database | undefined;
    try {
      db = new Database(this.path);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.#synchronous.toUpperCase()}`);
      // Other processes on the same file hold the write lock for a transaction at most.
      db.pragma('busy_timeout = 5000');
      migrate(db);
      this.#db = db;
      this.#sql = prepare(db);
      // Reads the jobs table: a file whose pages are damaged fails here, not in a later call.
      reclaimFromDeadProcesses(this.#sql!);
    } catch (error) {
      this.#db = undefined;
      this.#sql = undefined;
      db?.close();
      throw new WebhookConfigError(
        `SqliteQueue: cannot open option 'path' (${this.path}): ${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      );
    }
    return db;
  }

  /** Runs a read of the file; a failure becomes a `WebhookError` that names the file. */
  #read<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw this.#fileError('reading', error);
    }
  }

  /** Runs a write to the file; a failure becomes a `WebhookError` that names the file. */
  #write<T>(write: () => T): T {
    try {
      return write();
    } catch (error) {
      throw this.#fileError('writing to', error);
    }
  }

  /** `thrown` as a library error naming the file (library errors pass through). */
  #fileError(action: 'reading' | 'writing to', thrown: unknown): WebhookError {
    if (isWebhookError(thrown)) return thrown;
    return new WebhookError(
      `SqliteQueue: ${action} ${this.path} failed: ${(thrown as Error)?.message ?? String(thrown)}`,
      { cause: thrown },
    );
  }

  /** Reports a background failure once, until the file answers again. */
  #report(error: WebhookError): void {
    if (error.message === this.#lastReported) return;
    this.#lastReported = error.message;
    try {
      this.#onError(error);
    } catch {
      // The reporter's own failure must not stop the queue.
    }
  }

  #statements(): Statements {
    // The file is closed for good: a replay or read now would reach a closed connection.
    if (this.#closed) throw closedError();
    this.#open();
    return this.#sql!;
  }

  /** One transaction for every enqueue and outcome collected since the last flush. */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // setImmediate, not a microtask: it collects every completion of this event-loop turn.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (!this.#db || (this.#inserts.length === 0 && this.#outcomes.length === 0)) return;
    const inserts = this.#inserts;
    const outcomes = this.#outcomes;
    this.#inserts = [];
    this.#outcomes = [];
    const sql = this.#sql!;
    const now = Date.now();
    try {
      this.#db.transaction(() => {
        for (const { rows } of inserts) for (const row of rows) sql.insert.run(...row);
        for (const o of outcomes) {
          const { seq, job } = o.held;
          if (o.kind === 'delivered') {
            if (this.#retentionMs > 0)
              sql.logDelivery.run(
                job.id,
                job.webhook,
                job.event.event_id,
                job.attempt + 1,
                o.status ?? null,
                now,
              );
            sql.remove.run(seq);
          } else if (o.kind === 'retry') {
            sql.retry.run(job.attempt + 1, o.at, JSON.stringify(o.error), seq);
          } else if (o.kind === 'wait') {
            sql.wait.run(o.at, seq);
          } else {
            sql.bury.run(o.attempts, JSON.stringify(o.error), now, seq);
            sql.remove.run(seq);
          }
        }
      })();
    } catch (thrown) {
      const error = this.#fileError('writing to', thrown);
      for (const insert of inserts) insert.reject(error);
      if (this.#stopping) {
        // Closing: give up on these outcomes. Their rows keep a lease that expires, and the jobs
        // run again (at least once).
        for (const o of outcomes) o.lane.inFlight--;
        if (this.#settled && this.#lanes.inFlight() === 0) this.#settled();
        return;
      }
      // Outcomes are kept (their slots stay taken) and written again shortly.
      this.#outcomes = outcomes.concat(this.#outcomes);
      clearTimeout(this.#writeRetry);
      this.#writeRetry = setTimeout(() => this.#flush(), WRITE_RETRY_MS);
      return;
    }

    for (const insert of inserts) insert.resolve();
    const touched = new Set<Lane>();
    for (const { jobs } of inserts) {
      for (const job of jobs) {
        const lane = this.#lanes.lane(job.webhook);
        lane.look = true;
        touched.add(lane);
      }
    }
    // A slot is freed only once its outcome is committed: after a crash, at most `concurrency`
    // deliveries per lane can have happened without being recorded.
    for (const o of outcomes) {
      o.lane.inFlight--;
      this.#leases.held.delete(o.held.seq);
      if (o.kind === 'retry' || o.kind === 'wait') this.#lanes.wakeAt(o.lane, o.at);
      touched.add(o.lane);
    }
    if (this.#stopping) {
      if (this.#settled && this.#lanes.inFlight() === 0) this.#settled();
      return;
    }
    for (const lane of touched) this.#lanes.pump(lane);
    this.#checkIdle();
  }

  /**
   * Leases up to a batch of due, free jobs of `lane`, oldest first. A failing file is reported
   * and the lane looks again at the next poll.
   */
  #refill(lane: Lane, now: number): boolean {
    if (!lane.look) return false;
    try {
      return this.#lease(lane, now);
    } catch (error) {
      this.#report(this.#fileError('reading', error));
      return false;
    }
  }

  #lease(lane: Lane, now: number): boolean {
    const sql = this.#sql!;
    const rows = this.#leases.take(sql, lane.name, now, this.#batchSize);
    if (rows.length < this.#batchSize) {
      lane.look = false;
      const next = sql.nextDue.get(lane.name, now) as { at: number } | undefined;
      if (next !== undefined) this.#lanes.wakeAt(lane, next.at);
    }
    if (rows.length === 0) return false;
    const ready: Held[] = [];
    for (const row of rows) {
      let job: DeliveryJob;
      try {
        job = toJob(row);
      } catch (error) {
        // A row whose JSON was damaged in the file: it must not hold back the rest of the batch.
        // Its lease is not renewed, so it is tried (and reported) again once the lease expires.
        this.#report(
          new WebhookError(
            `SqliteQueue: job ${row.id} in ${this.path} cannot be read: ${(error as Error).message}`,
            { cause: error },
          ),
        );
        continue;
      }
      this.#leases.held.add(row.seq);
      ready.push({ seq: row.seq, job });
    }
    lane.ready = ready;
    lane.head = 0;
    return ready.length > 0;
  }

  // ─── lanes ───────────────────────────────────────────────────────────────────────────────────

  /** The lane's next leased job, leasing a batch from the file when none is left. */
  #take(lane: Lane, now: number): Held | undefined {
    if (lane.head >= lane.ready.length && !this.#refill(lane, now)) return undefined;
    const held = lane.ready[lane.head]!;
    lane.ready[lane.head++] = undefined;
    return held;
  }

  #settle(lane: Lane, held: Held, outcome: JobOutcome): void {
    // An attempt that outlived close(): its job was handed back and runs again later.
    if (this.#closed) return;
    switch (outcome.kind) {
      case 'delivered':
        this.#outcomes.push({ kind: 'delivered', lane, held, status: outcome.receipt.status });
        break;
      case 'retry':
        this.#outcomes.push({ kind: 'retry', lane, held, at: outcome.at, error: outcome.error });
        break;
      case 'wait':
        this.#outcomes.push({ kind: 'wait', lane, held, at: outcome.at });
        break;
      case 'dead':
        this.#outcomes.push({ kind: 'dead', lane, held, attempts: outcome.attempts, error: outcome.error });
        break;
      case 'defer':
        // Nothing to write: the row keeps its place and this process keeps the lease, so the job
        // is first in line when the lane reopens.
        lane.inFlight--;
        lane.pausedUntil = Math.max(lane.pausedUntil, outcome.at);
        this.#putBack(lane, held);
        if (this.#stopping) {
          if (this.#settled && this.#lanes.inFlight() === 0) this.#settled();
        } else this.#lanes.pump(lane);
        return;
    }
    this.#scheduleFlush();
  }

  /** Returns a deferred job to the front part of `ready`, in (availableAt, seq) order. */
  #putBack(lane: Lane, held: Held): void {
    const before = (a: Held, b: Held) =>
      a.job.availableAt < b.job.availableAt || (a.job.availableAt === b.job.availableAt && a.seq < b.seq);
    let i = lane.head;
    while (i < lane.ready.length && before(lane.ready[i]!, held)) i++;
    if (i === lane.head && lane.head > 0) lane.ready[--lane.head] = held;
    else lane.ready.splice(i, 0, held);
  }

  /**
   * Periodic work: renew leases, free the leases of dead processes, find lanes with jobs from
   * elsewhere (other processes, expired leases, a previous run), prune old delivery records.
   */
  /**
   * Polls on the next turn (and from then on): so webhooks registered right after construction
   * are known before recovered jobs reach the dispatcher.
   */
  #startPolling(): void {
    if (this.#stopping) return;
    this.#polling = true;
    setImmediate(() => this.#poll());
  }

  #poll(): void {
    // One loop only: a poll run early (consume() after idle()) replaces the armed one.
    this.#poller?.clear();
    if (this.#stopping || !this.#db) return;
    const now = Date.now();
    try {
      if (now - this.#lastRenew >= this.#leases.ms / 3) {
        this.#lastRenew = now;
        this.#leases.renew(this.#db!, this.#sql!, now);
        reclaimFromDeadProcesses(this.#sql!);
      }
      if (this.#retentionMs > 0 && now - this.#lastPrune >= PRUNE_EVERY_MS) {
        this.#lastPrune = now;
        this.#sql!.prune.run(now - this.#retentionMs);
      }
      for (const { webhook } of this.#sql!.webhooks.all() as { webhook: string }[]) this.#lanes.lane(webhook);
      for (const lane of this.#lanes.lanes.values()) {
        lane.look = true;
        this.#lanes.pump(lane);
      }
      this.#checkIdle();
      this.#lastReported = undefined;
    } catch (error) {
      // A busy or failing file: say so once, and try again on the next poll.
      this.#report(this.#fileError('reading', error));
    }
    this.#poller = setLongTimeout(() => this.#poll(), Math.min(this.#pollMs, this.#leases.ms / 3));
    // Polling alone does not keep the process alive (lane timers and in-flight work do), unless
    // idle() waits: then the jobs may be another process's, and only polling sees them finish.
    if (this.#idleWaiters.length === 0) this.#poller.unref();
  }

  /** Whether nothing is pending here or in the file; throws a `WebhookError` if it cannot read. */
  #isIdle(): boolean {
    if (this.#closed) return true;
    if (this.#inserts.length > 0 || this.#outcomes.length > 0 || this.#lanes.inFlight() > 0) return false;
    if (!this.#db) return true;
    return this.#read(() => this.#sql!.anyJob.get()) === undefined;
  }

  /** Settles idle() waiters: resolved once idle, rejected if the file cannot be read. */
  #checkIdle(): void {
    if (this.#idleWaiters.length === 0) return;
    let idle: boolean;
    let failure: Error | undefined;
    try {
      idle = this.#isIdle();
    } catch (error) {
      idle = false;
      failure = error as Error;
    }
    if (!idle && failure === undefined) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    this.#poller?.unref();
    for (const waiter of waiters) {
      if (failure) waiter.reject(failure);
      else waiter.resolve();
    }
  }
}

/** Waits for `promise`, at most `ms` (any length: `close({ drainMs: Infinity })` waits for good). */
async function until(promise: Promise<void>, ms: number): Promise<void> {
  let timer: LongTimeout | undefined;
  await Promise.race([promise, new Promise<void>((r) => (timer = setLongTimeout(r, ms)))]);
  timer?.clear();
}

function closedError(): WebhookError {
  return new WebhookError('SqliteQueue is closed: close() was called, so it accepts no new jobs');
}
