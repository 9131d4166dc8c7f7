import {
  toDeliveryError,
  WebhookConfigError,
  type WebhookDeliveryError,
  WebhookError,
  WebhookTimeoutError,
} from './errors.js';
import { type EmpathyEvent, unknownEventType } from './events.js';
import { ON_ABORT } from './kit/abort.js';
import { WebhookMonitor } from './monitor.js';
import { type DeliveryContext, type DeliveryReceipt, type WebhookPlugin, wants } from './plugin.js';
import { CircuitBreaker } from './policies/circuit-breaker.js';
import {
  createRateLimiter,
  normalizeRateLimit,
  type RateLimiter,
  type RateLimiterFactory,
} from './policies/rate-limit.js';
import {
  isOutage,
  nextRetryDelayMs,
  normalizeRetryPolicy,
  type ResolvedRetryPolicy,
} from './policies/retry.js';
import { MemoryQueue } from './queue/memory.js';
import type {
  DeadLetterStore,
  DeliveryJob,
  DeliveryQueue,
  JobError,
  JobHandler,
  JobOutcome,
} from './queue/types.js';

/** Options for {@link Dispatcher}. */
export interface DispatcherOptions {
  /** Webhooks to register right away. */
  webhooks?: readonly WebhookPlugin[] | undefined;
  /** Where jobs wait. @default new MemoryQueue() */
  queue?: DeliveryQueue | undefined;
  /** Where figures go. @default new WebhookMonitor() */
  monitor?: WebhookMonitor | undefined;
  /** Builds each webhook's rate limiter. @default the queue's `rateLimiterFactory`, else in-process limiters */
  rateLimiterFactory?: RateLimiterFactory | undefined;
  /**
   * Told about problems that are not a delivery's: a `filter` or `onFailure` that threw.
   * @default logs a one-line warning to stderr
   */
  onError?: (
    error: Error,
    context: { webhook: string; eventId: string; during: 'filter' | 'onFailure' },
  ) => void;
}

interface Entry {
  plugin: WebhookPlugin;
  policy: ResolvedRetryPolicy;
  limiter: RateLimiter | undefined;
  breaker: CircuitBreaker | undefined;
  concurrency: number;
}

/** The default per-webhook concurrency when a plugin does not set one. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * Routes events to webhooks and runs delivery jobs: rate limit, circuit breaker, one attempt with
 * a timeout, then delivered / retry later / dead letter. Hosts (`EmpathyOS`, queue workers) are
 * thin layers over it.
 */
export class Dispatcher implements JobHandler {
  readonly queue: DeliveryQueue;
  readonly monitor: WebhookMonitor;
  /** Dead letters of the queue; replaying keeps the monitor's pending count right. */
  readonly deadLetters: DeadLetterStore;
  readonly #entries = new Map<string, Entry>();
  readonly #rateLimiterFactory: RateLimiterFactory;
  readonly #onError: NonNullable<DispatcherOptions['onError']>;
  readonly #memory: MemoryQueue | undefined;
  /**
   * Attempts in flight, each with the function that abandons it, so that close() can cancel the
   * ones its deadline leaves behind.
   */
  readonly #active = new Map<AttemptContext, () => void>();
  #closed = false;

  constructor(options: DispatcherOptions = {}) {
    this.queue = options.queue ?? new MemoryQueue();
    this.#memory = this.queue instanceof MemoryQueue ? this.queue : undefined;
    this.monitor = options.monitor ?? new WebhookMonitor();
    this.#rateLimiterFactory =
      options.rateLimiterFactory ??
      this.queue.rateLimiterFactory ??
      ((_, rateLimit) => createRateLimiter(rateLimit));
    this.#onError =
      options.onError ??
      ((error, { webhook, during }) =>
        console.warn(`[empathy-webhooks] ${during} of '${webhook}' threw: ${error.message}`));
    this.deadLetters = this.#trackReplays(this.queue.deadLetters);
    for (const plugin of options.webhooks ?? []) this.register(plugin);
    this.queue.consume(this);
  }

  /** The registered webhooks, in registration order. */
  get webhooks(): WebhookPlugin[] {
    return [...this.#entries.values()].map((e) => e.plugin);
  }

  /** Adds a webhook; returns a function that removes it. Names must be unique. */
  register(plugin: WebhookPlugin): () => void {
    if (plugin === null || typeof plugin !== 'object' || typeof plugin.deliver !== 'function') {
      throw new WebhookConfigError('a webhook must be an object with a deliver(event, ctx) method');
    }
    const name = plugin.name;
    if (typeof name !== 'string' || name.length === 0) {
      throw new WebhookConfigError('a webhook needs a non-empty string name');
    }
    if (this.#entries.has(name)) {
      throw new WebhookConfigError(
        `a webhook named '${name}' is already registered; give each webhook a unique 'name' option`,
      );
    }
    if (!Array.isArray(plugin.events) || plugin.events.length === 0) {
      throw new WebhookConfigError(`option 'events' must be a non-empty array`, { webhook: name });
    }
    for (const type of plugin.events) {
      const problem = type === '*' ? undefined : unknownEventType(type);
      if (problem !== undefined)
        throw new WebhookConfigError(`option 'events': ${problem}`, { webhook: name });
    }
    const rateLimit = plugin.rateLimit === undefined ? undefined : normalizeRateLimit(plugin.rateLimit, name);
    const entry: Entry = {
      plugin,
      policy: normalizeRetryPolicy(plugin.retryPolicy, name),
      limiter: rateLimit === undefined ? undefined : this.#rateLimiterFactory(name, rateLimit),
      breaker:
        plugin.circuitBreaker === false ? undefined : new CircuitBreaker(plugin.circuitBreaker ?? {}, name),
      concurrency: plugin.concurrency ?? DEFAULT_CONCURRENCY,
    };
    this.#entries.set(name, entry);
    this.monitor.track(name);
    const detach = plugin.attach?.({ enqueue: (event) => this.#enqueueFor(entry, event) });
    return () => {
      if (this.#entries.get(name) !== entry) return;
      this.#entries.delete(name);
      detach?.();
    };
  }

  /** {@link WebhookHost.enqueue}: one job for one registered webhook, no routing. */
  #enqueueFor(entry: Entry, event: EmpathyEvent): Promise<void> {
    const name = entry.plugin.name;
    if (this.#closed) {
      return Promise.reject(new WebhookConfigError('the dispatcher is closed; no new events are accepted'));
    }
    if (this.#entries.get(name) !== entry) {
      return Promise.reject(
        new WebhookConfigError('this webhook is no longer registered in the dispatcher', { webhook: name }),
      );
    }
    const now = Date.now();
    this.monitor.recordQueued(name);
    return this.#enqueue([
      {
        id: `${event.event_id}:${name}`,
        webhook: name,
        event,
        attempt: 0,
        availableAt: now,
        enqueuedAt: now,
      },
    ]).then(() => undefined);
  }

  /** The webhooks that want `event` (their `events` list, then their `filter`). */
  route(event: EmpathyEvent): WebhookPlugin[] {
    const out: WebhookPlugin[] = [];
    for (const { plugin } of this.#entries.values()) {
      try {
        if (wants(plugin, event)) out.push(plugin);
      } catch (error) {
        this.#onError(error as Error, { webhook: plugin.name, eventId: event.event_id, during: 'filter' });
      }
    }
    return out;
  }

  /**
   * Queues `event` for every webhook that wants it. Resolves with the number of jobs once they
   * are stored (durably, for durable queues); never waits for delivery.
   */
  dispatch(event: EmpathyEvent): Promise<number> {
    if (this.#closed)
      return Promise.reject(new WebhookConfigError('the dispatcher is closed; no new events are accepted'));
    const targets = this.route(event);
    if (targets.length === 0) return Promise.resolve(0);
    const now = Date.now();
    const jobs: DeliveryJob[] = new Array(targets.length);
    for (let i = 0; i < targets.length; i++) {
      const webhook = targets[i]!.name;
      jobs[i] = {
        id: `${event.event_id}:${webhook}`,
        webhook,
        event,
        attempt: 0,
        availableAt: now,
        enqueuedAt: now,
      };
      this.monitor.recordQueued(webhook);
    }
    return this.#enqueue(jobs);
  }

  /** Stores jobs whose webhooks were counted as queued; resolves with their number. */
  #enqueue(jobs: DeliveryJob[]): Promise<number> {
    // The in-memory queue takes jobs synchronously: no extra promise hop on the hot path.
    if (this.#memory) {
      this.#memory.enqueueNow(jobs);
      return Promise.resolve(jobs.length);
    }
    return this.queue.enqueue(jobs).then(
      () => jobs.length,
      (error: unknown) => {
        for (const job of jobs) this.monitor.recordQueued(job.webhook, -1);
        throw error;
      },
    );
  }

  /** {@link JobHandler}: the most jobs of `webhook` in flight at once. */
  concurrency(webhook: string): number {
    return this.#entries.get(webhook)?.concurrency ?? 1;
  }

  /** {@link JobHandler}: decides one leased job. Never rejects. */
  handle(job: DeliveryJob): Promise<JobOutcome> {
    const entry = this.#entries.get(job.webhook);
    if (!entry) {
      const error: JobError = {
        name: 'WebhookConfigError',
        message: `[${job.webhook}] no webhook with this name is registered in this process`,
      };
      this.#record(job, 'dead', job.attempt, undefined, undefined, error.message);
      return Promise.resolve({ kind: 'dead', error, attempts: job.attempt });
    }
    // Gates: an open circuit or a full rate window postpones the job without spending an attempt.
    const now = Date.now();
    const breakerWait = entry.breaker ? entry.breaker.acquire(now) : 0;
    if (breakerWait > 0) return Promise.resolve(this.#defer(job, now + breakerWait, 'circuit_open'));
    if (!entry.limiter) return this.#attempt(job, entry);
    const wait = entry.limiter.acquire(now);
    if (typeof wait === 'number') return Promise.resolve(this.#afterLimiter(job, entry, now, wait));
    return wait.then((w) => this.#afterLimiter(job, entry, now, w));
  }

  #afterLimiter(job: DeliveryJob, entry: Entry, now: number, wait: number): Promise<JobOutcome> | JobOutcome {
    if (wait <= 0) return this.#attempt(job, entry);
    // The breaker let a half-open trial through that will not happen now: release it.
    if (entry.breaker?.state === 'half_open') entry.breaker.release();
    return this.#defer(job, now + wait, 'rate_limit');
  }

  #defer(job: DeliveryJob, at: number, reason: 'rate_limit' | 'circuit_open'): JobOutcome {
    this.monitor.record({
      kind: 'deferred',
      webhook: job.webhook,
      eventId: job.event.event_id,
      eventType: job.event.event_type,
      attempt: job.attempt + 1,
      nextAttemptAt: at,
      reason,
    });
    return { kind: 'defer', at, reason };
  }

  /**
   * One attempt, bounded by the policy's timeout. One promise and one timer per attempt: this is
   * the hot path (see docs/benchmarks.md).
   */
  #attempt(job: DeliveryJob, entry: Entry): Promise<JobOutcome> {
    const attempt = job.attempt + 1;
    const timeoutMs = entry.policy.timeoutSeconds * 1000;
    const ctx = new AttemptContext(attempt, job.event.event_id, timeoutMs);
    const started = performance.now();
    return new Promise<JobOutcome>((resolve) => {
      let settled = false;
      // close() gave up on this attempt: its queue no longer listens, so whatever the plugin does
      // next is not reported (a durable queue hands the job out again), and its timer must not
      // keep the process alive.
      this.#active.set(ctx, () => {
        settled = true;
        clearTimeout(timer);
      });
      const fail = (thrown: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#active.delete(ctx);
        resolve(this.#failed(job, entry, attempt, performance.now() - started, thrown));
      };
      const timer = setTimeout(() => {
        ctx.timeout();
        fail(TIMED_OUT);
      }, timeoutMs);
      let pending: Promise<DeliveryReceipt>;
      try {
        pending = entry.plugin.deliver(job.event, ctx);
      } catch (thrown) {
        fail(thrown);
        return;
      }
      pending.then((receipt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#active.delete(ctx);
        entry.breaker?.record(true, Date.now());
        this.#record(job, 'delivered', attempt, performance.now() - started, receipt?.status);
        resolve({ kind: 'delivered', receipt: receipt ?? {} });
      }, fail);
    });
  }

  #failed(
    job: DeliveryJob,
    entry: Entry,
    attempt: number,
    durationMs: number,
    thrown: unknown,
  ): Promise<JobOutcome> | JobOutcome {
    const error =
      thrown === TIMED_OUT
        ? new WebhookTimeoutError(entry.policy.timeoutSeconds * 1000, { webhook: job.webhook })
        : toDeliveryError(job.webhook, thrown);
    const now = Date.now();
    const delay = nextRetryDelayMs(entry.policy, error, attempt);
    // Permanent refusals (4xx) prove the endpoint is up; only retryable failures trip the breaker.
    entry.breaker?.record(!isOutage(entry.policy, error), now);
    const jobError = toJobError(error);
    if (delay !== undefined) {
      const at = now + delay;
      this.#record(job, 'retry', attempt, durationMs, error.status, error.message, at);
      return { kind: 'retry', at, error: jobError };
    }
    this.#record(job, 'dead', attempt, durationMs, error.status, error.message);
    return this.#notifyFailure(entry.plugin, job.event, error).then(() => ({
      kind: 'dead' as const,
      error: jobError,
      attempts: attempt,
    }));
  }

  #record(
    job: DeliveryJob,
    kind: 'delivered' | 'retry' | 'dead',
    attempt: number,
    durationMs: number | undefined,
    status?: number,
    error?: string,
    nextAttemptAt?: number,
  ): void {
    this.monitor.record({
      kind,
      webhook: job.webhook,
      eventId: job.event.event_id,
      eventType: job.event.event_type,
      attempt,
      durationMs,
      status,
      error,
      nextAttemptAt,
    });
  }

  /** Resolves when every queued delivery has ended (delivered or dead-lettered). */
  flush(): Promise<void> {
    return this.queue.idle();
  }

  /**
   * Stops accepting events, lets pending deliveries finish for up to `drainMs`, closes the queue
   * (durable queues keep what is left) and every webhook.
   */
  async close(options: { drainMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.queue.close(options);
    // Attempts still running past the deadline are abandoned by the queue: cancel them (a
    // durable queue delivers those jobs again later).
    for (const [ctx, abandon] of this.#active) {
      abandon();
      ctx.abort(new WebhookError('the host closed before this attempt finished'));
    }
    this.#active.clear();
    await Promise.allSettled(this.webhooks.map((p) => p.close?.()));
  }

  async #notifyFailure(
    plugin: WebhookPlugin,
    event: EmpathyEvent,
    error: WebhookDeliveryError,
  ): Promise<void> {
    if (!plugin.onFailure) return;
    try {
      await plugin.onFailure(plugin, event, error);
    } catch (thrown) {
      this.#onError(thrown as Error, { webhook: plugin.name, eventId: event.event_id, during: 'onFailure' });
    }
  }

  #trackReplays(store: DeadLetterStore): DeadLetterStore {
    const monitor = this.monitor;
    return {
      list: (filter) => store.list(filter),
      get: (id) => store.get(id),
      delete: (id) => store.delete(id),
      clear: (filter) => store.clear(filter),
      // Counted as queued before the replay: a replayed job may be delivered before replay() returns.
      async replay(id) {
        const letter = await store.get(id);
        if (!letter) return false;
        monitor.recordQueued(letter.webhook);
        const replayed = await store.replay(id);
        if (!replayed) monitor.recordQueued(letter.webhook, -1);
        return replayed;
      },
      async replayAll(filter) {
        const letters = await store.list(filter);
        for (const letter of letters) monitor.recordQueued(letter.webhook);
        return store.replayAll(filter);
      },
    };
  }
}

/** Whether an error says the endpoint is unhealthy (as opposed to refusing this one request). */
function toJobError(error: WebhookDeliveryError): JobError {
  const out: JobError = { name: error.name, message: error.message };
  if (error.status !== undefined) out.status = error.status;
  if (error.code !== undefined) out.code = error.code;
  return out;
}

/** What the attempt promise rejects with on timeout: a sentinel, so no Error (and stack) is built per attempt. */
const TIMED_OUT = Object.freeze({ timedOut: true });

/**
 * The context of one attempt. The AbortSignal is created only if the plugin reads it: most
 * attempts finish long before their timeout, and an AbortController per attempt costs.
 */
class AttemptContext implements DeliveryContext {
  #controller: AbortController | undefined;
  #timedOut = false;
  #listeners: ((reason: Error) => void)[] | undefined;

  constructor(
    readonly attempt: number,
    readonly idempotencyKey: string,
    readonly timeoutMs: number,
  ) {}

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#timedOut) this.#controller.abort(new WebhookTimeoutError(this.timeoutMs));
    }
    return this.#controller.signal;
  }

  /** The kit's `onAbort`: a listener without an AbortController (the hot path's transport). */
  [ON_ABORT](listener: (reason: Error) => void): void {
    if (this.#listeners) this.#listeners.push(listener);
    else this.#listeners = [listener];
  }

  timeout(): void {
    this.#timedOut = true;
    this.abort(new WebhookTimeoutError(this.timeoutMs));
  }

  abort(reason: Error): void {
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }
}
