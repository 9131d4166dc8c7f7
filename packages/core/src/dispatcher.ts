import { InFlight } from './attempts-in-flight.js';
import {
  toDeliveryError,
  WebhookConfigError,
  type WebhookDeliveryError,
  WebhookError,
  WebhookTimeoutError,
} from './errors.js';
import { type EmpathyEvent, unknownEventType } from './events.js';
import {
  admitEvent,
  afterDeadNotification,
  afterNotification,
  cleanIncidentRef,
  DEFAULT_INCIDENT_TTL_SECONDS,
  type EventIncident,
  extendHold,
  HOLD_GRACE_MS,
  heldByOther,
  holdRecheckAt,
  type IncidentContext,
  type IncidentState,
  type IncidentStore,
  incidentOf,
  MemoryIncidentStore,
  normalizeGroup,
  planNotification,
  type ResolvedGroup,
  releaseHold,
  takeHold,
} from './incident.js';
import { ON_ABORT } from './kit/abort.js';
import { type DeferReason, WebhookMonitor } from './monitor.js';
import {
  type DeliveryContext,
  type DeliveryReceipt,
  type WebhookHost,
  type WebhookPlugin,
  wants,
} from './plugin.js';
import { CircuitBreaker, type CircuitState } from './policies/circuit-breaker.js';
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
import { newJob } from './queue/job.js';
import { MemoryQueue } from './queue/memory.js';
import type {
  DeadLetterStore,
  DeliveryJob,
  DeliveryQueue,
  JobError,
  JobHandler,
  JobOutcome,
} from './queue/types.js';
import type { AttemptResult, AttemptScope, DeliveryTelemetry, EmitScope, QueueDepth } from './telemetry.js';

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
   * Told about problems that are not a delivery's, with the webhook's name: a `filter` that threw
   * or returned something other than a boolean (the event then skips that webhook only, and its
   * stats count a `filterErrorCount`), an `onFailure` that threw, or the function a webhook's `attach` returned that threw. Whatever was thrown arrives
   * as an `Error`: a thrown non-Error (`throw null`, `throw 'x'`) is wrapped in a `WebhookError`
   * whose `cause` is the value.
   * @default logs a one-line warning to stderr
   */
  onError?: (
    error: Error,
    context: {
      webhook: string;
      eventId: string;
      during: 'filter' | 'onFailure' | 'detach' | 'telemetry' | 'incident';
    },
  ) => void;
  /**
   * Traces and metrics for every delivery, e.g. `openTelemetry()` from `@empathy/webhooks-otel`.
   * @default none: nothing is recorded beyond the monitor
   */
  telemetry?: DeliveryTelemetry | undefined;
  /**
   * Where incident state lives (each webhook's references to what it sent for an incident, and
   * the counts of `group`), and how long it is kept after an incident's last event.
   * @default the queue's `incidentStore` (SQLite, Redis), else in memory; 7 days
   */
  incidents?: { store?: IncidentStore | undefined; ttlSeconds?: number | undefined } | undefined;
}

interface Entry {
  plugin: WebhookPlugin;
  policy: ResolvedRetryPolicy;
  limiter: RateLimiter | undefined;
  breaker: CircuitBreaker | undefined;
  concurrency: number;
  /** The plugin's `group` option, validated. */
  group: ResolvedGroup | undefined;
  /** What the plugin's `attach` returned: queues what it still buffers. */
  detach: (() => void | Promise<void>) | undefined;
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
  /** The queue stores synchronously (see {@link DeliveryQueue.enqueueSync}). */
  readonly #sync: boolean;
  /**
   * Attempts in flight, each with the function that abandons it, so that close() can cancel the
   * ones its deadline leaves behind.
   */
  readonly #active = new InFlight<AttemptContext, () => void>();
  readonly #telemetry: DeliveryTelemetry | undefined;
  readonly #incidents: IncidentStore;
  readonly #incidentTtlMs: number;
  /** Per (webhook, incident key): the tail of the notifications running in order, in this process. */
  readonly #incidentLocks = new Map<string, Promise<void>>();
  /** How many registered webhooks have a `group`: when none, emit() never asks the incident store. */
  #grouped = 0;
  #unobserve: (() => void) | undefined;
  #closed = false;
  /** The queue is closed: not even a webhook's own jobs are taken. */
  #queueClosed = false;

  constructor(options: DispatcherOptions = {}) {
    this.queue = options.queue ?? new MemoryQueue();
    this.#sync = typeof this.queue.enqueueSync === 'function';
    this.monitor = options.monitor ?? new WebhookMonitor();
    this.#rateLimiterFactory =
      options.rateLimiterFactory ??
      this.queue.rateLimiterFactory ??
      ((_, rateLimit) => createRateLimiter(rateLimit));
    const warn: NonNullable<DispatcherOptions['onError']> = (error, { webhook, during }) =>
      console.warn(`[empathy-webhooks] ${during} of '${webhook}' failed: ${error.message}`);
    const onError = options.onError;
    if (onError !== undefined && typeof onError !== 'function') {
      throw new WebhookConfigError(`option 'onError' must be a function (error, context)`);
    }
    // A throwing onError must not turn one webhook's bad filter into a failed emit for all.
    this.#onError =
      onError === undefined
        ? warn
        : (error, context) => {
            try {
              onError(error, context);
            } catch {
              warn(error, context);
            }
          };
    this.deadLetters = this.#trackReplays(this.queue.deadLetters);
    this.#telemetry = options.telemetry;
    const incidents = options.incidents ?? {};
    const ttlSeconds = incidents.ttlSeconds ?? DEFAULT_INCIDENT_TTL_SECONDS;
    if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
      throw new WebhookConfigError(`option 'incidents.ttlSeconds' must be a positive number of seconds`);
    }
    this.#incidentTtlMs = ttlSeconds * 1000;
    this.#incidents = incidents.store ?? this.queue.incidentStore ?? new MemoryIncidentStore();
    for (const plugin of options.webhooks ?? []) this.register(plugin);
    const telemetry = this.#telemetry;
    if (telemetry?.observeQueue) {
      const observer = { queue: this.queue, depth: () => this.#depth() };
      this.#unobserve = this.#guard('', '*', () => telemetry.observeQueue!(observer));
    }
    this.queue.consume(this);
  }

  /** The registered webhooks, in registration order. */
  get webhooks(): WebhookPlugin[] {
    return [...this.#entries.values()].map((e) => e.plugin);
  }

  /**
   * The state of a webhook's circuit breaker in this process: `undefined` when no webhook of that
   * name is registered or its breaker is off (`circuitBreaker: false`).
   */
  circuitState(webhook: string): CircuitState | undefined {
    return this.#entries.get(webhook)?.breaker?.state;
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
      group: normalizeGroup(plugin.group, name),
      detach: undefined,
    };
    this.#entries.set(name, entry);
    if (entry.group) this.#grouped++;
    this.monitor.track(name);
    if (typeof plugin.attach === 'function') {
      const host: WebhookHost = { enqueue: (event) => this.#enqueueFor(entry, event) };
      const detach = plugin.attach(host);
      if (typeof detach === 'function') entry.detach = detach;
    }
    return () => {
      if (this.#entries.get(name) !== entry) return;
      this.#entries.delete(name);
      if (entry.group) this.#grouped--;
      // Removed: the webhook learns its host is gone (it can queue nothing more).
      void this.#detach(entry);
    };
  }

  /** The webhooks that want `event` (their `events` list, then their `filter`). */
  route(event: EmpathyEvent): WebhookPlugin[] {
    const out: WebhookPlugin[] = [];
    for (const { plugin } of this.#entries.values()) {
      try {
        if (wants(plugin, event)) out.push(plugin);
      } catch (thrown) {
        // This webhook skips the event; the others still get it.
        this.monitor.recordFilterError(plugin.name);
        this.#onError(asError(thrown, plugin.name, 'filter'), {
          webhook: plugin.name,
          eventId: event.event_id,
          during: 'filter',
        });
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
    const incident = this.#grouped > 0 && targets.length > 0 ? incidentOf(event) : undefined;
    if (incident !== undefined) {
      return this.#admitAndStore(event, targets, incident);
    }
    return this.#store(event, targets, undefined);
  }

  async #admitAndStore(
    event: EmpathyEvent,
    targets: WebhookPlugin[],
    incident: EventIncident,
  ): Promise<number> {
    const { queued, at } = await this.#admit(event, targets, incident);
    try {
      return await this.#store(event, queued, at);
    } catch (error) {
      // Not stored: the incidents must not wait for a notification that will never run.
      for (const plugin of queued) {
        if (this.#entries.get(plugin.name)?.group)
          await this.#releaseDue(plugin.name, incident.key, event.event_id);
      }
      throw error;
    }
  }

  #store(event: EmpathyEvent, targets: WebhookPlugin[], at: number[] | undefined): Promise<number> {
    if (this.#telemetry) return this.#dispatchTraced(event, targets, at, this.#telemetry);
    if (targets.length === 0) return Promise.resolve(0);
    return this.#enqueue(this.#jobs(event, targets, at));
  }

  /**
   * `group` at emit time: for each target with one, the incident store decides whether the event
   * gets a notification of its own (queued at the end of the group's wait or interval) or is
   * folded into one already queued. Targets without `group` are queued as they are.
   */
  async #admit(
    event: EmpathyEvent,
    targets: WebhookPlugin[],
    incident: EventIncident,
  ): Promise<{ queued: WebhookPlugin[]; at: number[] }> {
    const queued: WebhookPlugin[] = [];
    const at: number[] = [];
    const now = Date.now();
    for (const plugin of targets) {
      const group = this.#entries.get(plugin.name)?.group;
      if (group === undefined) {
        queued.push(plugin);
        at.push(now);
        continue;
      }
      let queueAt: number | undefined;
      await this.#incidents.update(
        plugin.name,
        incident.key,
        (state) => {
          const admitted = admitEvent(state, event, incident.resolved, group, now);
          queueAt = admitted.queueAt;
          return admitted.state;
        },
        this.#incidentTtlMs,
      );
      if (queueAt === undefined) {
        this.monitor.recordFolded(plugin.name);
        continue;
      }
      queued.push(plugin);
      at.push(queueAt);
    }
    return { queued, at };
  }

  #jobs(event: EmpathyEvent, targets: WebhookPlugin[], at: number[] | undefined): DeliveryJob[] {
    const jobs: DeliveryJob[] = new Array(targets.length);
    for (let i = 0; i < targets.length; i++) {
      const webhook = targets[i]!.name;
      jobs[i] = newJob(event, webhook, at?.[i]);
      this.monitor.recordQueued(webhook);
    }
    return jobs;
  }

  #enqueue(jobs: DeliveryJob[]): Promise<number> {
    // A queue that stores synchronously (the in-memory one) saves a promise hop on the hot path.
    if (this.#sync) {
      try {
        this.queue.enqueueSync!(jobs);
      } catch (error) {
        // Thrown as the queue threw it (callers see a closed in-memory queue at once).
        for (const job of jobs) this.monitor.recordQueued(job.webhook, -1);
        throw error;
      }
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

  /** {@link WebhookHost.enqueue}: a job of the webhook's own, routed to it alone. */
  #enqueueFor(entry: Entry, event: EmpathyEvent): Promise<void> {
    const webhook = entry.plugin.name;
    if (this.#queueClosed || this.#entries.get(webhook) !== entry) {
      return Promise.reject(
        new WebhookConfigError('the dispatcher is closed or the webhook removed; no job can be queued', {
          webhook,
        }),
      );
    }
    this.monitor.recordQueued(webhook);
    return this.#enqueue([newJob(event, webhook)]).then(() => undefined);
  }

  /** Runs a plugin's detach once; a detach that throws is reported, not fatal. */
  async #detach(entry: Entry): Promise<void> {
    const detach = entry.detach;
    entry.detach = undefined;
    if (!detach) return;
    try {
      await detach();
    } catch (error) {
      this.#onError(error as Error, { webhook: entry.plugin.name, eventId: '', during: 'detach' });
    }
  }

  /** {@link dispatch} with a telemetry: the emit scope's trace goes with every job. */
  #dispatchTraced(
    event: EmpathyEvent,
    targets: WebhookPlugin[],
    at: number[] | undefined,
    telemetry: DeliveryTelemetry,
  ): Promise<number> {
    let scope: EmitScope | undefined;
    try {
      scope = telemetry.onEmit?.(event, targets.length);
    } catch (error) {
      this.#telemetryFailed(error, event.event_id, '*');
    }
    const end = (error?: Error) => {
      if (!scope) return;
      try {
        scope.end(error);
      } catch (thrown) {
        this.#telemetryFailed(thrown, event.event_id, '*');
      }
    };
    if (targets.length === 0) {
      end();
      return Promise.resolve(0);
    }
    const jobs = this.#jobs(event, targets, at);
    const trace = scope?.trace;
    if (trace) for (const job of jobs) job.trace = trace;
    let stored: Promise<number>;
    try {
      stored = this.#enqueue(jobs);
    } catch (error) {
      end(error as Error);
      throw error;
    }
    return stored.then(
      (n) => {
        end();
        return n;
      },
      (error: Error) => {
        end(error);
        throw error;
      },
    );
  }

  /** Runs a telemetry call; one that throws is reported to `onError` and never breaks a delivery. */
  #guard<T>(eventId: string, webhook: string, call: () => T): T | undefined {
    try {
      return call();
    } catch (error) {
      this.#telemetryFailed(error, eventId, webhook);
      return undefined;
    }
  }

  #telemetryFailed(error: unknown, eventId: string, webhook: string): void {
    this.#onError(error instanceof Error ? error : new Error(String(error)), {
      webhook,
      eventId,
      during: 'telemetry',
    });
  }

  /** {@link JobHandler}: the names of the registered webhooks, in registration order. */
  webhookNames(): string[] {
    return [...this.#entries.keys()];
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
      this.monitor.record({
        webhook: job.webhook,
        eventId: job.event.event_id,
        eventType: job.event.event_type,
        attempt: job.attempt,
        kind: 'dead',
        durationMs: undefined,
        error: error.message,
      });
      const telemetry = this.#telemetry;
      if (telemetry?.onRejected)
        this.#guard(job.event.event_id, job.webhook, () => telemetry.onRejected!(job, error));
      return Promise.resolve({ kind: 'dead', error, attempts: job.attempt });
    }
    const incident = incidentOf(job.event);
    if (incident !== undefined) return this.#handleIncident(job, entry, incident);
    return this.#gated(job, entry, undefined);
  }

  /** Gates: an open circuit or a full rate window postpones the job without spending an attempt. */
  #gated(job: DeliveryJob, entry: Entry, incident: IncidentContext | undefined): Promise<JobOutcome> {
    const now = Date.now();
    const breakerWait = entry.breaker ? entry.breaker.acquire(now) : 0;
    if (breakerWait > 0) return Promise.resolve(this.#defer(job, now + breakerWait, 'circuit_open'));
    if (!entry.limiter) return this.#attempt(job, entry, incident);
    const wait = entry.limiter.acquire(now);
    if (typeof wait === 'number') return Promise.resolve(this.#afterLimiter(job, entry, now, wait, incident));
    return wait.then((w) => this.#afterLimiter(job, entry, now, w, incident));
  }

  /**
   * A job whose event belongs to an incident: one at a time per (webhook, incident) in this
   * process, so a repeat finds the references its first notification stored. A notification that
   * posts anew holds the incident in the store until it has posted or failed for good, so the
   * incident's other notifications wait for it there too: across its retries, and across processes
   * sharing the store. What to send is decided now, from the incident's state; what the vendor
   * answered is stored after delivery.
   */
  async #handleIncident(job: DeliveryJob, entry: Entry, incident: EventIncident): Promise<JobOutcome> {
    const release = await this.#lockIncident(`${job.webhook}\u0000${incident.key}`);
    try {
      const store = this.#incidents;
      let plan: IncidentContext | undefined;
      let state: IncidentState | undefined;
      let held = false;
      try {
        state = await store.get(job.webhook, incident.key);
        const emitted = Date.parse(job.event.timestamp);
        let now = Date.now();
        const emittedAt = Number.isNaN(emitted) ? now : Math.min(emitted, now);
        let hold = heldByOther(state, job.id, now);
        if (hold) return this.#wait(job, holdRecheckAt(hold, now));
        plan = planNotification(state, incident, entry.group, now, emittedAt);
        if (plan !== undefined && (plan.ref === undefined || state?.holder?.job === job.id)) {
          // It posts anew: hold the incident for the attempt (and its retries, see below).
          const until = now + entry.policy.timeoutSeconds * 1000 + HOLD_GRACE_MS;
          state = await store.update(
            job.webhook,
            incident.key,
            (current) => takeHold(current, job.id, until, Date.now(), emittedAt),
            this.#incidentTtlMs,
          );
          now = Date.now();
          hold = heldByOther(state, job.id, now);
          // Another process took it between the read and the update.
          if (hold) return this.#wait(job, holdRecheckAt(hold, now));
          held = true;
          plan = planNotification(state, incident, entry.group, now, emittedAt);
        }
      } catch (error) {
        // The store is unreachable: this attempt fails like one whose endpoint is, and is retried.
        const failure = new WebhookError(`the incident store failed: ${(error as Error)?.message ?? error}`, {
          webhook: job.webhook,
          cause: error,
        });
        return await this.#failed(job, entry, job.attempt + 1, 0, failure, undefined);
      }
      if (plan === undefined) {
        // A grouped notification whose events a resolved notification already counted.
        if (held)
          await this.#updateIncident(job.webhook, incident.key, job.event.event_id, (s) =>
            releaseHold(s, job.id),
          );
        this.monitor.recordFolded(job.webhook);
        this.monitor.recordQueued(job.webhook, -1);
        return { kind: 'delivered', receipt: { detail: { folded: true } } };
      }
      // A grouped notification shows the latest of the events it stands for (the condition as it
      // is now), under that event's id.
      const latest = plan.status === 'firing' ? state?.latest : undefined;
      const outcome = await this.#gated(latest ? { ...job, event: latest } : job, entry, plan);
      if (outcome.kind === 'delivered') {
        await this.#noteDelivered(job, entry, incident, plan, outcome.receipt);
      } else if (outcome.kind === 'dead') {
        // Failed for good: the incident's next notification posts anew, and a grouped incident's
        // next repeat queues one.
        await this.#updateIncident(job.webhook, incident.key, job.event.event_id, (s) => {
          const released = releaseHold(s, job.id);
          return entry.group ? afterDeadNotification(released) : released;
        });
      } else if (held) {
        // It waits for its retry (or a rate limit, or the circuit): the others keep waiting for it.
        await this.#updateIncident(job.webhook, incident.key, job.event.event_id, (s) =>
          extendHold(s, job.id, outcome.at),
        );
      }
      return outcome;
    } finally {
      release();
    }
  }

  /** Stores what the vendor answered for the incident and queues a follow-up for events folded meanwhile. */
  async #noteDelivered(
    job: DeliveryJob,
    entry: Entry,
    incident: EventIncident,
    sent: IncidentContext,
    receipt: DeliveryReceipt,
  ): Promise<void> {
    const ref = cleanIncidentRef(receipt.incidentRef);
    let followUp: EmpathyEvent | undefined;
    let dueAt: number | undefined;
    const stored = await this.#updateIncident(job.webhook, incident.key, job.event.event_id, (state) => {
      const next = afterNotification(state, sent, ref, entry.group, Date.now());
      followUp = next.followUp;
      dueAt = next.state.dueAt;
      // This notification's own hold ends with it; another's (taken after it lapsed) stays.
      const holder = state?.holder;
      if (holder !== undefined && holder.job !== job.id) next.state.holder = holder;
      return next.state;
    });
    if (!stored || followUp === undefined) return;
    this.monitor.recordQueued(job.webhook);
    try {
      await this.#enqueue([newJob(followUp, job.webhook, dueAt, job.trace)]);
    } catch (error) {
      this.#incidentFailed(error, job.webhook, job.event.event_id);
    }
  }

  /**
   * An update of the incident store after an attempt or a failed emit (`change` returning
   * `undefined` leaves the state as it was): a failure is reported to `onError`, not fatal.
   */
  async #updateIncident(
    webhook: string,
    key: string,
    eventId: string,
    change: (state: IncidentState | undefined) => IncidentState | undefined,
  ): Promise<boolean> {
    try {
      await this.#incidents.update(webhook, key, (state) => change(state) ?? state!, this.#incidentTtlMs);
      return true;
    } catch (error) {
      this.#incidentFailed(error, webhook, eventId);
      return false;
    }
  }

  /** Nothing is queued for the incident any more: the next repeat queues a notification. */
  #releaseDue(webhook: string, key: string, eventId: string): Promise<boolean> {
    return this.#updateIncident(webhook, key, eventId, afterDeadNotification);
  }

  #incidentFailed(error: unknown, webhook: string, eventId: string): void {
    this.#onError(error instanceof Error ? error : new Error(String(error)), {
      webhook,
      eventId,
      during: 'incident',
    });
  }

  /** Waits for the notifications of this incident ahead in this process; returns the release. */
  async #lockIncident(key: string): Promise<() => void> {
    const ahead = this.#incidentLocks.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = ahead ? ahead.then(() => mine) : mine;
    this.#incidentLocks.set(key, tail);
    if (ahead) await ahead;
    return () => {
      release();
      if (this.#incidentLocks.get(key) === tail) this.#incidentLocks.delete(key);
    };
  }

  #afterLimiter(
    job: DeliveryJob,
    entry: Entry,
    now: number,
    wait: number,
    incident: IncidentContext | undefined,
  ): Promise<JobOutcome> | JobOutcome {
    if (wait <= 0) return this.#attempt(job, entry, incident);
    // The breaker let a half-open trial through that will not happen now: release it.
    if (entry.breaker?.state === 'half_open') entry.breaker.release();
    return this.#defer(job, now + wait, 'rate_limit');
  }

  /** The job waits for another notification of its incident: only it moves, no attempt is spent. */
  #wait(job: DeliveryJob, at: number): JobOutcome {
    this.#recordDeferred(job, at, 'incident_order');
    return { kind: 'wait', at };
  }

  #defer(job: DeliveryJob, at: number, reason: 'rate_limit' | 'circuit_open'): JobOutcome {
    this.#recordDeferred(job, at, reason);
    return { kind: 'defer', at, reason };
  }

  #recordDeferred(job: DeliveryJob, at: number, reason: DeferReason): void {
    this.monitor.record({
      kind: 'deferred',
      webhook: job.webhook,
      eventId: job.event.event_id,
      eventType: job.event.event_type,
      attempt: job.attempt + 1,
      nextAttemptAt: at,
      reason,
    });
    const telemetry = this.#telemetry;
    if (telemetry?.onDeferred) {
      const deferral = { reason, until: at, attempt: job.attempt + 1 };
      this.#guard(job.event.event_id, job.webhook, () => telemetry.onDeferred!(job, deferral));
    }
  }

  /**
   * One attempt, bounded by the policy's timeout. One promise and one timer per attempt: this is
   * the hot path (see docs/benchmarks.md).
   */
  #attempt(job: DeliveryJob, entry: Entry, incident: IncidentContext | undefined): Promise<JobOutcome> {
    const attempt = job.attempt + 1;
    const timeoutMs = entry.policy.timeoutSeconds * 1000;
    const ctx = new AttemptContext(attempt, job.event.event_id, timeoutMs);
    if (incident !== undefined) ctx.incident = incident;
    const telemetry = this.#telemetry;
    const scope = telemetry ? this.#startAttempt(telemetry, job, attempt, ctx) : undefined;
    const started = performance.now();
    return new Promise<JobOutcome>((resolve) => {
      let settled = false;
      // close() gave up on this attempt: its queue no longer listens, so whatever the plugin does
      // next is not reported (a durable queue hands the job out again), and its timer must not
      // keep the process alive.
      const slot = this.#active.add(ctx, () => {
        settled = true;
        clearTimeout(timer);
        if (scope)
          this.#endAttempt(job, scope, { outcome: 'abandoned', durationMs: performance.now() - started });
      });
      const fail = (thrown: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#active.delete(slot);
        resolve(this.#failed(job, entry, attempt, performance.now() - started, thrown, scope));
      };
      const timer = setTimeout(() => {
        ctx.timeout();
        fail(TIMED_OUT);
      }, timeoutMs);
      let pending: Promise<DeliveryReceipt>;
      try {
        pending = scope?.run
          ? scope.run(() => entry.plugin.deliver(job.event, ctx))
          : entry.plugin.deliver(job.event, ctx);
      } catch (thrown) {
        fail(thrown);
        return;
      }
      pending.then((receipt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#active.delete(slot);
        entry.breaker?.record(true, Date.now());
        const durationMs = performance.now() - started;
        this.monitor.record({
          webhook: job.webhook,
          eventId: job.event.event_id,
          eventType: job.event.event_type,
          attempt: attempt,
          kind: 'delivered',
          durationMs,
          status: receipt?.status,
        });
        if (scope)
          this.#endAttempt(job, scope, { outcome: 'delivered', durationMs, status: receipt?.status });
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
    scope: AttemptScope | undefined,
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
      this.monitor.record({
        webhook: job.webhook,
        eventId: job.event.event_id,
        eventType: job.event.event_type,
        attempt: attempt,
        kind: 'retry',
        durationMs,
        status: error.status,
        error: error.message,
        nextAttemptAt: at,
      });
      if (scope) {
        const result: AttemptResult = { outcome: 'retry', durationMs, status: error.status, error: jobError };
        result.nextAttemptAt = at;
        this.#endAttempt(job, scope, result);
      }
      return { kind: 'retry', at, error: jobError };
    }
    this.monitor.record({
      webhook: job.webhook,
      eventId: job.event.event_id,
      eventType: job.event.event_type,
      attempt: attempt,
      kind: 'dead',
      durationMs,
      status: error.status,
      error: error.message,
    });
    if (scope)
      this.#endAttempt(job, scope, { outcome: 'dead', durationMs, status: error.status, error: jobError });
    return this.#notifyFailure(entry.plugin, job.event, error).then(() => ({
      kind: 'dead' as const,
      error: jobError,
      attempts: attempt,
    }));
  }

  #startAttempt(
    telemetry: DeliveryTelemetry,
    job: DeliveryJob,
    attempt: number,
    ctx: AttemptContext,
  ): AttemptScope | undefined {
    if (!telemetry.onAttemptStart) return undefined;
    let scope: AttemptScope | undefined;
    try {
      scope = telemetry.onAttemptStart(job, attempt);
    } catch (error) {
      this.#telemetryFailed(error, job.event.event_id, job.webhook);
      return undefined;
    }
    if (scope?.headers) ctx.traceHeaders = scope.headers;
    return scope ?? undefined;
  }

  #endAttempt(job: DeliveryJob, scope: AttemptScope, result: AttemptResult): void {
    try {
      scope.end(result);
    } catch (error) {
      this.#telemetryFailed(error, job.event.event_id, job.webhook);
    }
  }

  /**
   * The queue's depth for telemetry gauges: pending jobs and dead letters per webhook, every
   * registered webhook included (0 when it has none).
   */
  async #depth(): Promise<QueueDepth> {
    const pending: Record<string, number> = {};
    const deadLetters: Record<string, number> = {};
    const names = [...this.#entries.keys()];
    for (const name of names) {
      pending[name] = 0;
      deadLetters[name] = 0;
    }
    const queue = this.queue;
    if (queue.pendingByWebhook) Object.assign(pending, await queue.pendingByWebhook());
    else if (queue.pending) for (const name of names) pending[name] = await queue.pending(name);
    else for (const name of names) pending[name] = this.monitor.getWebhookStats(name).pendingCount;
    const store = queue.deadLetters;
    if (store.countByWebhook) Object.assign(deadLetters, await store.countByWebhook());
    else
      for (const letter of await store.list())
        deadLetters[letter.webhook] = (deadLetters[letter.webhook] ?? 0) + 1;
    return { pending, deadLetters };
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
    // Webhooks queue what they still buffer while the queue still takes it (and drains it).
    await Promise.all([...this.#entries.values()].map((entry) => this.#detach(entry)));
    this.#queueClosed = true;
    this.#unobserve?.();
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
      this.#onError(asError(thrown, plugin.name, 'onFailure'), {
        webhook: plugin.name,
        eventId: event.event_id,
        during: 'onFailure',
      });
    }
  }

  #trackReplays(store: DeadLetterStore): DeadLetterStore {
    const monitor = this.monitor;
    return {
      list: (filter) => store.list(filter),
      get: (id) => store.get(id),
      delete: (id) => store.delete(id),
      clear: (filter) => store.clear(filter),
      ...(store.countByWebhook && { countByWebhook: () => store.countByWebhook!() }),
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

/** What `onError` receives: the thrown Error itself, or a WebhookError that carries a non-Error. */
function asError(thrown: unknown, webhook: string, during: 'filter' | 'onFailure'): Error {
  if (thrown instanceof Error) return thrown;
  const what = thrown === null || thrown === undefined ? String(thrown) : `a ${typeof thrown}`;
  return new WebhookError(`option '${during}' threw ${what}, not an Error`, { webhook, cause: thrown });
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
  traceHeaders: Readonly<Record<string, string>> | undefined = undefined;
  incident: IncidentContext | undefined = undefined;
  #controller: AbortController | undefined;
  #listeners: ((reason: Error) => void)[] | undefined;
  /** Why the attempt was aborted, once it was. */
  #aborted: Error | undefined;

  constructor(
    readonly attempt: number,
    readonly idempotencyKey: string,
    readonly timeoutMs: number,
  ) {}

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      // Read after the deadline or the host's close: born aborted, with the same reason.
      if (this.#aborted !== undefined) this.#controller.abort(this.#aborted);
    }
    return this.#controller.signal;
  }

  /** The kit's `onAbort`: a listener without an AbortController (the hot path's transport). */
  [ON_ABORT](listener: (reason: Error) => void): void {
    // Registered after the deadline (a plugin that awaited before sending): abort it at once.
    if (this.#aborted !== undefined) listener(this.#aborted);
    else if (this.#listeners) this.#listeners.push(listener);
    else this.#listeners = [listener];
  }

  timeout(): void {
    this.abort(new WebhookTimeoutError(this.timeoutMs));
  }

  abort(reason: Error): void {
    if (this.#aborted !== undefined) return;
    this.#aborted = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }
}
