import { chunkBySize, MAX_SERIES_PAYLOAD_BYTES, type MetricPoint } from './metrics.js';

/** Options of {@link MetricBatcher}. */
export interface MetricBatcherOptions {
  /** Most points in one batch (a batch is also split to stay under 512,000 bytes). */
  batchSize: number;
  /** Points waiting are queued at least this often. */
  intervalMs: number;
  /** Most points held while they cannot be queued; past it the oldest are dropped. */
  maxBuffered: number;
  /** Queues one batch as a job; rejects when it cannot (no host, the host closed). */
  queue: (points: MetricPoint[]) => Promise<void>;
  /** Told about points that will never be queued, and why. */
  dropped: (points: MetricPoint[], error: Error) => void;
}

/**
 * Holds metric points and hands them over in batches, as jobs: when `batchSize` points are
 * waiting, on a timer every `intervalMs`, on {@link flush} and on {@link drain}. It only
 * batches: sending, retrying, waiting for rate limits, timing out and dead-lettering are the
 * dispatcher's, for the jobs it queues. A batch it cannot queue (the host's queue refused it)
 * stays for the next round; points it has to drop are reported, never lost silently.
 */
export class MetricBatcher {
  readonly #o: MetricBatcherOptions;
  #pending: MetricPoint[] = [];
  #timer: NodeJS.Timeout | undefined;
  #tail: Promise<void> = Promise.resolve();
  #fullQueued = false;

  constructor(options: MetricBatcherOptions) {
    this.#o = options;
  }

  /** Points waiting to be queued. */
  get size(): number {
    return this.#pending.length;
  }

  /** Adds points; a full batch is queued at once, the rest waits for the timer. */
  add(points: MetricPoint[]): void {
    this.#pending.push(...points);
    const excess = this.#pending.length - this.#o.maxBuffered;
    if (excess > 0) {
      const dropped = this.#pending.splice(0, excess);
      this.#o.dropped(
        dropped,
        new Error(`metrics buffer full (${this.#o.maxBuffered} points): dropped the ${excess} oldest`),
      );
    }
    if (this.#pending.length >= this.#o.batchSize && !this.#fullQueued) {
      this.#fullQueued = true;
      // A full batch that cannot be queued waits for the timer, with what comes after it.
      this.#run('full').catch(() => undefined);
    } else {
      this.#arm();
    }
  }

  /** Queues every point waiting now; rejects (keeping them for the next round) if it cannot. */
  flush(): Promise<void> {
    return this.#run('all');
  }

  /** Queues every point waiting now; what cannot be queued is dropped and reported. Stops the timer. */
  async drain(): Promise<void> {
    this.stop();
    try {
      await this.#run('all');
    } catch (error) {
      this.stop();
      const lost = this.#pending.splice(0);
      if (lost.length > 0) this.#o.dropped(lost, error as Error);
    }
  }

  /** Stops the timer (what is waiting stays). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One round at a time, in order. */
  #run(mode: 'full' | 'all'): Promise<void> {
    const run = this.#tail.then(() => this.#queue(mode));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #queue(mode: 'full' | 'all'): Promise<void> {
    if (mode === 'full') this.#fullQueued = false;
    const { batchSize } = this.#o;
    // Only what is waiting now, and in full batches for 'full': a steady trickle never turns into
    // one job per point.
    const count =
      mode === 'full' ? Math.floor(this.#pending.length / batchSize) * batchSize : this.#pending.length;
    const taken = this.#pending.splice(0, count);
    const chunks: MetricPoint[][] = [];
    for (let i = 0; i < taken.length; i += batchSize) {
      chunks.push(...chunkBySize(taken.slice(i, i + batchSize), MAX_SERIES_PAYLOAD_BYTES));
    }
    for (let i = 0; i < chunks.length; i++) {
      try {
        await this.#o.queue(chunks[i]!);
      } catch (error) {
        // Back to the front, in order, for the next round (the timer's).
        this.#pending.unshift(...chunks.slice(i).flat());
        this.#arm();
        throw error;
      }
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#pending.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // A round that cannot queue keeps its points and re-arms: they go with the next one.
      this.#run('all').catch(() => undefined);
    }, this.#o.intervalMs);
    // A forgotten close() must not keep the process alive; the host's close drains the rest.
    this.#timer.unref();
  }
}
