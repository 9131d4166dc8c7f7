import { type LongTimeout, setLongTimeout } from '../timers.js';
import type { DeliveryJob, JobHandler, JobOutcome } from './types.js';

/** The scheduling state of one webhook's lane; a queue extends it with where its jobs wait. */
export interface Lane {
  /** The webhook's name. */
  readonly name: string;
  /** Jobs handed to the handler whose slot is not free yet. The queue decrements it in `settle`. */
  inFlight: number;
  /** The lane sends nothing before this epoch ms (rate limit, open circuit: a `defer` outcome). */
  pausedUntil: number;
  /** The lane's wake-up timer (the scheduler sets it). */
  timer: LongTimeout | undefined;
  /** When `timer` fires (the scheduler sets it). */
  timerAt: number;
}

/** What a queue tells {@link LaneScheduler} about its jobs (`T`: a job as the queue holds it). */
export interface LaneSource<L extends Lane, T> {
  /**
   * Takes the lane's next job that is due at `now`, oldest first, or `undefined` when none is.
   * When the lane has jobs due later, call {@link LaneScheduler.wakeAt} for the earliest.
   */
  take(lane: L, now: number): T | undefined;
  /** The job to hand the handler. */
  job(item: T): DeliveryJob;
  /**
   * Carries out what the handler decided (a handler that rejects counts as `dead`). Free the
   * slot (`lane.inFlight--`) once the outcome is stored, then {@link LaneScheduler.pump} the lane.
   */
  settle(lane: L, item: T, outcome: JobOutcome): void;
  /** Called when the lane's timer fires, before the lane is pumped (e.g. to look in storage again). */
  woke?(lane: L): void;
}

/**
 * Per-webhook lanes for a queue that runs jobs in this process (`MemoryQueue`, `SqliteQueue`):
 * each lane runs up to `handler.concurrency(webhook)` jobs at once, waits while it is paused, and
 * wakes on a timer (long delays included) when its next job is due. The queue keeps the jobs and
 * carries out the outcomes; this keeps the slots and timers.
 */
export class LaneScheduler<L extends Lane, T> {
  /** Every lane, by webhook name. */
  readonly lanes = new Map<string, L>();
  readonly #source: LaneSource<L, T>;
  readonly #create: (name: string) => L;
  #handler: JobHandler | undefined;
  #stopped = false;

  /** `create` makes a new lane's queue-specific part; use {@link newLane} for the common fields. */
  constructor(source: LaneSource<L, T>, create: (name: string) => L) {
    this.#source = source;
    this.#create = create;
  }

  /** The handler jobs run through, once {@link start} was called. */
  get handler(): JobHandler | undefined {
    return this.#handler;
  }

  /** The lane of `webhook`, created on first use. */
  lane(webhook: string): L {
    let lane = this.lanes.get(webhook);
    if (!lane) {
      lane = this.#create(webhook);
      this.lanes.set(webhook, lane);
    }
    return lane;
  }

  /**
   * Runs jobs through `handler` from now on, as lanes are pumped: call {@link pumpAll} to begin
   * with the lanes that exist (a queue may first wait, e.g. for its storage to be read).
   */
  start(handler: JobHandler): void {
    this.#handler = handler;
  }

  /** Pumps every lane. */
  pumpAll(): void {
    for (const lane of this.lanes.values()) this.pump(lane);
  }

  /** Takes no new job from now on and clears every lane's timer. Jobs in flight still settle. */
  stop(): void {
    this.#stopped = true;
    for (const lane of this.lanes.values()) {
      lane.timer?.clear();
      lane.timer = undefined;
      lane.timerAt = Number.POSITIVE_INFINITY;
    }
  }

  /** Jobs in flight in all lanes. */
  inFlight(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.inFlight;
    return n;
  }

  /** Hands the lane's due jobs to the handler while it has free slots and is not paused. */
  pump(lane: L): void {
    const handler = this.#handler;
    if (!handler || this.#stopped) return;
    const now = Date.now();
    if (lane.pausedUntil > now) {
      this.wakeAt(lane, lane.pausedUntil);
      return;
    }
    const limit = handler.concurrency(lane.name);
    while (lane.inFlight < limit) {
      const item = this.#source.take(lane, now);
      if (item === undefined) break;
      lane.inFlight++;
      this.#run(handler, lane, item);
    }
  }

  /** Pumps the lane at `at` (epoch ms), unless it is already due to wake earlier. */
  wakeAt(lane: L, at: number): void {
    if (this.#stopped || (lane.timer !== undefined && lane.timerAt <= at)) return;
    lane.timer?.clear();
    lane.timerAt = at;
    // A retry or an open circuit may be due weeks from now: a plain setTimeout would fire at once.
    lane.timer = setLongTimeout(
      () => {
        lane.timer = undefined;
        lane.timerAt = Number.POSITIVE_INFINITY;
        this.#source.woke?.(lane);
        this.pump(lane);
      },
      Math.max(0, at - Date.now()),
    );
  }

  #run(handler: JobHandler, lane: L, item: T): void {
    const job = this.#source.job(item);
    handler.handle(job).then(
      (outcome) => this.#source.settle(lane, item, outcome),
      // handle() never rejects (JobHandler's contract); if one does, the job must not vanish.
      (error: unknown) =>
        this.#source.settle(lane, item, {
          kind: 'dead',
          error: { name: 'Error', message: `dispatcher failed: ${(error as Error)?.message ?? error}` },
          attempts: job.attempt,
        }),
    );
  }
}

/** The common fields of a new {@link Lane}. */
export function newLane(name: string): Lane {
  return { name, inFlight: 0, pausedUntil: 0, timer: undefined, timerAt: Number.POSITIVE_INFINITY };
}
