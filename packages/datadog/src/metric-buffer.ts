import { type LongTimeout, setLongTimeout, WebhookDeliveryError } from '@empathy/webhooks-core';
import { chunkBySize, MAX_SERIES_PAYLOAD_BYTES, type MetricPoint } from './metrics.js';

/** Sends one request body of points; rejects with a `WebhookDeliveryError`. */
export type SendPoints = (points: MetricPoint[], signal: AbortSignal) => Promise<void>;

/** What {@link MetricBuffer} reports with a failed send. */
export interface MetricsErrorInfo {
  /** How many points the failure concerns. */
  points: number;
  /** `true`: they are gone (permanent refusal, buffer full, or closing). `false`: kept for the next flush. */
  dropped: boolean;
}

/** Options of {@link MetricBuffer}. */
export interface MetricBufferOptions {
  webhook: string;
  batchSize: number;
  intervalMs: number;
  timeoutMs: number;
  /** Most points held while Datadog cannot be reached; the oldest go first. */
  maxBuffered: number;
  onError: (error: WebhookDeliveryError, info: MetricsErrorInfo) => void;
}

type Mode = 'full' | 'all' | 'final';

/**
 * Holds metric points and sends them in batches: when `batchSize` points are waiting, on a timer
 * every `intervalMs`, on `flush()` and on `close()`. One send at a time; each request body stays
 * under Datadog's 512,000 bytes. A retryable failure keeps the points for the next flush (not
 * before the `X-RateLimit-Reset` Datadog asked for); a permanent one drops them. Both are reported.
 */
export class MetricBuffer {
  readonly #send: SendPoints;
  readonly #o: MetricBufferOptions;
  #pending: MetricPoint[] = [];
  #timer: LongTimeout | undefined;
  #tail: Promise<void> = Promise.resolve();
  #fullQueued = false;
  #notBefore = 0;
  #closed = false;

  constructor(send: SendPoints, options: MetricBufferOptions) {
    this.#send = send;
    this.#o = options;
  }

  /** Points waiting to be sent. */
  get size(): number {
    return this.#pending.length;
  }

  add(points: MetricPoint[]): void {
    this.#pending.push(...points);
    const excess = this.#pending.length - this.#o.maxBuffered;
    if (excess > 0) {
      this.#pending.splice(0, excess);
      this.#o.onError(
        new WebhookDeliveryError(
          `metrics buffer full (${this.#o.maxBuffered} points): dropped the ${excess} oldest`,
          { webhook: this.#o.webhook, retryable: false },
        ),
        { points: excess, dropped: true },
      );
    }
    if (this.#pending.length >= this.#o.batchSize && !this.#fullQueued && Date.now() >= this.#notBefore) {
      this.#fullQueued = true;
      void this.#schedule('full');
    } else {
      this.#arm(this.#o.intervalMs, false);
    }
  }

  /** Sends every point waiting now (in batches) and resolves when done. Never rejects. */
  flush(): Promise<void> {
    return this.#schedule('all');
  }

  /** Stops the timer and sends what is left; failures are reported and the points dropped. */
  close(): Promise<void> {
    this.#closed = true;
    this.#timer?.clear();
    this.#timer = undefined;
    return this.#schedule('final');
  }

  #schedule(mode: Mode): Promise<void> {
    const run = this.#tail.then(() => this.#drain(mode));
    this.#tail = run;
    return run;
  }

  async #drain(mode: Mode): Promise<void> {
    if (mode === 'full') this.#fullQueued = false;
    if (mode !== 'final' && Date.now() < this.#notBefore) {
      // A rate limit's reset has not passed yet (a timer may also fire a millisecond before
      // Date.now() reaches it): try again then, or the points wait for the next sendMetric().
      this.#arm(this.#notBefore - Date.now(), true);
      return;
    }
    const { batchSize } = this.#o;
    // Only what is waiting now: points added while sending wait for their own batch or timer,
    // so a steady trickle never turns into one request per point.
    let budget =
      mode === 'full' ? Math.floor(this.#pending.length / batchSize) * batchSize : this.#pending.length;
    while (budget > 0) {
      const batch = this.#pending.splice(0, Math.min(batchSize, budget));
      budget -= batch.length;
      const chunks = chunkBySize(batch, MAX_SERIES_PAYLOAD_BYTES);
      for (let i = 0; i < chunks.length; i++) {
        const chunk = chunks[i]!;
        try {
          await this.#send(chunk, AbortSignal.timeout(this.#o.timeoutMs));
        } catch (thrown) {
          const error = thrown as WebhookDeliveryError;
          const keep = mode !== 'final' && (error.retryable || error.status === 429);
          if (keep) {
            // Back to the front, in order, with the rest of this batch.
            this.#pending.unshift(...chunks.slice(i).flat());
            this.#notBefore = Date.now() + (error.retryAfterMs ?? this.#o.intervalMs);
            this.#o.onError(error, { points: chunk.length, dropped: false });
            this.#arm(this.#notBefore - Date.now(), true);
            return;
          }
          this.#o.onError(error, { points: chunk.length, dropped: true });
        }
      }
    }
    if (this.#pending.length >= batchSize && mode !== 'final') {
      this.#fullQueued = true;
      void this.#schedule('full');
    } else {
      this.#arm(this.#o.intervalMs, false);
    }
  }

  /** Starts the flush timer; `replace` moves an armed timer (to honour a rate-limit wait). */
  #arm(delayMs: number, replace: boolean): void {
    if (this.#closed || this.#pending.length === 0) return;
    if (this.#timer !== undefined) {
      if (!replace) return;
      this.#timer.clear();
    }
    // A reset Datadog asks for may be longer than one Node timer allows (it would fire at once).
    this.#timer = setLongTimeout(
      () => {
        this.#timer = undefined;
        void this.#schedule('all');
      },
      Math.max(0, delayMs),
    );
    // A forgotten close() must not keep the process alive; close() sends what is left.
    this.#timer.unref();
  }
}
