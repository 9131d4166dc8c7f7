import {
  type DeadLetterStore,
  Dispatcher,
  type DispatcherOptions,
  WebhookConfigError,
  WebhookMonitor,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { BullMQQueue, enableWorkerRole } from './bullmq-queue.js';

/**
 * Options for {@link startWorker}. `onError`, `telemetry` and `incidents` are the dispatcher's,
 * passed through. With `telemetry` (e.g. `openTelemetry()` from `@empathy/webhooks-otel`) each
 * attempt's span continues the trace of the `emit()` that queued it, whichever process that was
 * (the trace context rides in the job's data); for BullMQ's own spans, pass the queue's
 * `telemetry` option.
 */
export interface StartWorkerOptions extends Pick<DispatcherOptions, 'onError' | 'telemetry' | 'incidents'> {
  /** The queue to deliver from: a `BullMQQueue` for this worker alone, pointed at the producers' Redis and prefix. */
  queue: BullMQQueue;
  /**
   * The webhooks this worker delivers: configure them as the producers do (same names). A worker
   * runs the lanes of exactly these webhooks; leave one out and its jobs wait for another worker.
   */
  webhooks: readonly WebhookPlugin[];
  /**
   * The most deliveries in flight per webhook in this process. Each worker process adds its own,
   * so N workers run up to N × this at once (rate limits still hold across all of them).
   * @default each webhook's own `concurrency` (4 unless the integration sets another)
   */
  concurrency?: number | undefined;
  /** Where this worker's figures go. Figures are per process. @default a new WebhookMonitor */
  monitor?: WebhookMonitor | undefined;
}

/** A running worker: see {@link startWorker}. */
export interface DeliveryWorker {
  /** The dispatcher running this worker's deliveries. */
  readonly dispatcher: Dispatcher;
  /** This process's delivery figures (each worker counts its own deliveries). */
  readonly monitor: WebhookMonitor;
  /** The queue's dead letters, shared in Redis by every producer and worker. */
  readonly deadLetters: DeadLetterStore;
  /** Resolves once the worker is connected to Redis and waiting for jobs. */
  ready(): Promise<void>;
  /**
   * Stops the worker: with `drainMs` > 0 it first keeps delivering until the queue is empty or
   * the time is up; then it takes no new job, hands the jobs of attempts still in flight back to
   * the queue (they run again, at least once), and closes the webhooks. Pending jobs stay in
   * Redis for the other workers.
   * @default drainMs: the queue's `drainMs` (10000)
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

/**
 * Starts delivering from a {@link BullMQQueue} in this process: the documented entry point of a
 * worker process. It builds core's `Dispatcher` with `webhooks` over `queue`, so retries, rate
 * limits (shared in Redis), the circuit breaker, timeouts, dead letters and `onFailure` behave
 * exactly as with the in-memory queue. Run as many worker processes, on as many machines, as you
 * need; each takes jobs as it has room.
 *
 * @example
 * const worker = startWorker({
 *   queue: new BullMQQueue({ connection: { host: 'redis.internal', port: 6379 } }),
 *   webhooks: [new SlackWebhook({ token, channel: '#ai-alerts' })],
 * });
 * process.on('SIGTERM', () => void worker.close({ drainMs: 0 }));
 */
export function startWorker(options: StartWorkerOptions): DeliveryWorker {
  if (options === null || typeof options !== 'object') {
    throw new WebhookConfigError('startWorker: options must be an object');
  }
  const { queue, webhooks, concurrency } = options;
  if (!(queue instanceof BullMQQueue)) {
    throw new WebhookConfigError(`startWorker: option 'queue' must be a BullMQQueue`);
  }
  if (!Array.isArray(webhooks) || webhooks.length === 0) {
    throw new WebhookConfigError(`startWorker: option 'webhooks' must be a non-empty array of webhooks`);
  }
  if (
    concurrency !== undefined &&
    (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024)
  ) {
    throw new WebhookConfigError(
      `startWorker: option 'concurrency' must be an integer from 1 to 1024 (got ${JSON.stringify(concurrency)})`,
    );
  }
  enableWorkerRole(queue, { concurrency });
  const dispatcher = new Dispatcher({
    webhooks,
    queue,
    monitor: options.monitor ?? new WebhookMonitor(),
    onError: options.onError,
    telemetry: options.telemetry,
    incidents: options.incidents,
  });
  return {
    dispatcher,
    monitor: dispatcher.monitor,
    deadLetters: dispatcher.deadLetters,
    ready: () => queue.ready(),
    close: (closeOptions) => dispatcher.close(closeOptions),
  };
}
