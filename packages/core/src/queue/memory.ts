import { WebhookConfigError, WebhookError } from '../errors.js';
import { type LongTimeout, setLongTimeout } from '../timers.js';
import { MinHeap } from './heap.js';
import { deadLetterOf, jobFromDeadLetter } from './job.js';
import { LaneScheduler, type Lane as LaneState, newLane } from './lanes.js';
import type {
  DeadLetter,
  DeadLetterStore,
  DeliveryJob,
  DeliveryQueue,
  JobHandler,
  JobOutcome,
} from './types.js';

/** Options for {@link MemoryQueue}. */
export interface MemoryQueueOptions {
  /** How long `close()` waits for pending work by default, in ms. @default 10000 */
  drainMs?: number | undefined;
}

interface Lane extends LaneState {
  /** Jobs available now, in arrival order; `head` is the next one. */
  fifo: (DeliveryJob | undefined)[];
  head: number;
  /** Retries and deferred jobs, earliest `availableAt` first. */
  delayed: MinHeap<DeliveryJob>;
}

/**
 * The default queue: jobs live in this process's memory, one lane per webhook with bounded
 * concurrency, timers for retries and rate-limit waits. Fast, and lost on exit: use
 * `SqliteQueue` or `BullMQQueue` when deliveries must survive a crash.
 */
export class MemoryQueue implements DeliveryQueue {
  readonly deadLetters: DeadLetterStore;
  readonly #lanes: LaneScheduler<Lane, DeliveryJob>;
  readonly #dead = new Map<string, DeadLetter>();
  readonly #drainMs: number;
  #outstanding = 0;
  #idleWaiters: (() => void)[] = [];
  #stopped = false;
  #settled: (() => void) | undefined;

  constructor(options: MemoryQueueOptions = {}) {
    this.#drainMs = options.drainMs ?? 10_000;
    this.deadLetters = createDeadLetterStore(this.#dead, (jobs) => this.enqueue(jobs));
    this.#lanes = new LaneScheduler<Lane, DeliveryJob>(
      {
        take: (lane, now) => this.#take(lane, now),
        job: (job) => job,
        settle: (lane, job, outcome) => this.#settle(lane, job, outcome),
      },
      (name) => ({
        ...newLane(name),
        fifo: [],
        head: 0,
        delayed: new MinHeap((a, b) => a.availableAt < b.availableAt),
      }),
    );
  }

  /** Adds jobs to their webhooks' lanes; a job with a future `availableAt` waits until then. */
  async enqueue(jobs: DeliveryJob[]): Promise<void> {
    this.enqueueSync(jobs);
  }

  /** {@link DeliveryQueue.enqueueSync}: the same as {@link enqueue}, synchronously (throws when closed). */
  enqueueSync(jobs: DeliveryJob[]): void {
    if (this.#stopped) {
      throw new WebhookError('MemoryQueue is closed: close() was called, so it accepts no new jobs');
    }
    const now = Date.now();
    for (const job of jobs) {
      const lane = this.#lanes.lane(job.webhook);
      this.#outstanding++;
      if (job.availableAt > now) lane.delayed.push(job);
      else lane.fifo.push(job);
      this.#lanes.pump(lane);
    }
  }

  /** Starts handing jobs to `handler`, up to its `concurrency(webhook)` per lane. Once only. */
  consume(handler: JobHandler): void {
    if (this.#lanes.handler) {
      throw new WebhookConfigError(
        'MemoryQueue.consume() was already called: give each Dispatcher or EmpathyOS its own queue',
      );
    }
    this.#lanes.start(handler);
    this.#lanes.pumpAll();
  }

  /** Resolves when no job is queued, waiting or in flight. */
  idle(): Promise<void> {
    if (this.#outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Lets queued jobs run for up to `drainMs`, then takes no new job and waits for attempts in
   * flight until the same deadline. Jobs still queued are not delivered (this queue is not durable).
   */
  async close(options: { drainMs?: number } = {}): Promise<void> {
    if (this.#stopped) return;
    const drainMs = options.drainMs ?? this.#drainMs;
    const deadline = Date.now() + drainMs;
    if (this.#lanes.handler && this.#outstanding > 0 && drainMs > 0) await this.#until(this.idle(), drainMs);
    this.#stopped = true;
    this.#lanes.stop();
    // Attempts already in flight may finish until the deadline; nothing new is leased.
    const remaining = deadline - Date.now();
    if (this.#lanes.inFlight() > 0 && remaining > 0) {
      await this.#until(new Promise<void>((r) => (this.#settled = r)), remaining);
    }
  }

  async #until(promise: Promise<void>, ms: number): Promise<void> {
    let timer: LongTimeout | undefined;
    await Promise.race([promise, new Promise<void>((r) => (timer = setLongTimeout(r, ms)))]);
    timer?.clear();
  }

  /** Jobs queued, waiting (retry, rate limit) or in flight, for one webhook or all. */
  async pending(webhook?: string): Promise<number> {
    let n = 0;
    for (const [name, lane] of this.#lanes.lanes) {
      if (webhook !== undefined && name !== webhook) continue;
      n += lane.fifo.length - lane.head + lane.delayed.size + lane.inFlight;
    }
    return n;
  }

  /** Jobs queued, waiting or in flight per webhook, for every webhook that has any. */
  async pendingByWebhook(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, lane] of this.#lanes.lanes) {
      const n = lane.fifo.length - lane.head + lane.delayed.size + lane.inFlight;
      if (n > 0) out[name] = n;
    }
    return out;
  }

  /** The lane's next due job: due retries and deferred jobs first (they are older), then the fifo. */
  #take(lane: Lane, now: number): DeliveryJob | undefined {
    const next = lane.delayed.peek();
    if (next !== undefined && next.availableAt <= now) return lane.delayed.pop();
    if (lane.head < lane.fifo.length) {
      const job = lane.fifo[lane.head];
      lane.fifo[lane.head++] = undefined;
      if (lane.head > 1024 && lane.head * 2 > lane.fifo.length) {
        lane.fifo = lane.fifo.slice(lane.head);
        lane.head = 0;
      }
      return job;
    }
    if (next !== undefined) this.#lanes.wakeAt(lane, next.availableAt);
    return undefined;
  }

  #settle(lane: Lane, job: DeliveryJob, outcome: JobOutcome): void {
    lane.inFlight--;
    switch (outcome.kind) {
      case 'delivered':
        this.#outstanding--;
        break;
      case 'retry':
        job.attempt++;
        job.availableAt = outcome.at;
        job.lastError = outcome.error;
        lane.delayed.push(job);
        break;
      case 'wait':
        job.availableAt = outcome.at;
        lane.delayed.push(job);
        break;
      case 'defer':
        // The job keeps its old availableAt, so it is first in line when the lane reopens.
        lane.pausedUntil = Math.max(lane.pausedUntil, outcome.at);
        lane.delayed.push(job);
        break;
      case 'dead':
        this.#outstanding--;
        this.#dead.set(job.id, deadLetterOf(job, outcome));
        break;
    }
    if (this.#stopped) {
      if (this.#settled && this.#lanes.inFlight() === 0) this.#settled();
      return;
    }
    this.#lanes.pump(lane);
    if (this.#outstanding === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

/**
 * A {@link DeadLetterStore} over a Map; `requeue` puts replayed jobs back. Shared by queues that
 * keep dead letters in memory.
 */
export function createDeadLetterStore(
  letters: Map<string, DeadLetter>,
  requeue: (jobs: DeliveryJob[]) => Promise<void>,
): DeadLetterStore {
  const matching = (filter?: { webhook?: string }) =>
    [...letters.values()].filter((l) => filter?.webhook === undefined || l.webhook === filter.webhook);
  return {
    async list(filter) {
      const all = matching(filter);
      return filter?.limit !== undefined ? all.slice(0, filter.limit) : all;
    },
    async get(id) {
      return letters.get(id);
    },
    async replay(id) {
      const letter = letters.get(id);
      if (!letter) return false;
      letters.delete(id);
      await requeue([jobFromDeadLetter(letter)]);
      return true;
    },
    async replayAll(filter) {
      const all = matching(filter);
      for (const letter of all) letters.delete(letter.id);
      await requeue(all.map(jobFromDeadLetter));
      return all.length;
    },
    async delete(id) {
      return letters.delete(id);
    },
    async clear(filter) {
      const all = matching(filter);
      for (const letter of all) letters.delete(letter.id);
      return all.length;
    },
    async countByWebhook() {
      const out: Record<string, number> = {};
      for (const letter of letters.values()) out[letter.webhook] = (out[letter.webhook] ?? 0) + 1;
      return out;
    },
  };
}
