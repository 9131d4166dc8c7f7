import {
  type DeadLetter,
  type DeliveryQueue,
  type EmpathyEvent,
  type TraceCarrier,
  WebhookConfigError,
  WebhookError,
} from '@empathy/webhooks-core';
import {
  type DeliveryJob,
  deadLetterOf,
  type JobError,
  type JobHandler,
  type JobOutcome,
  type LongTimeout,
  type RateLimiterFactory,
  serializeEvent,
  setLongTimeout,
} from '@empathy/webhooks-core/queue';
import {
  type ConnectionOptions,
  DelayedError,
  isRedisInstance,
  type Job,
  Queue,
  type RedisClient,
  RedisConnection,
  type Telemetry,
  Worker,
} from 'bullmq';
import { type DeadLetterScriptRunner, RedisDeadLetterStore } from './dead-letters.js';
import { RedisIncidentStore } from './incidents.js';
import { jobIdFor, laneName } from './keys.js';
import { redisRateLimiterFactory } from './rate-limiter.js';
import { SCRIPTS, type ScriptName } from './scripts.js';

/** BullMQ worker settings a consuming process may tune. */
export interface BullMQWorkerSettings {
  /**
   * How long a worker holds a job before other workers may take it over, in ms. The worker renews
   * the lock every half of it while the attempt runs; a crashed worker's jobs come back after it.
   * @default 30000
   */
  lockDuration?: number | undefined;
  /** How often each worker looks for jobs whose worker died (lock expired), in ms. @default 30000 */
  stalledInterval?: number | undefined;
  /**
   * How many times a job may lose its worker (crash, kill) before it is moved to the dead letters
   * instead of being run again: this stops a job that crashes every worker. @default 3
   */
  maxStalledCount?: number | undefined;
}

/** Options for {@link BullMQQueue}. */
export interface BullMQQueueOptions {
  /**
   * The Redis to use: ioredis options (`{ host, port, password, db, tls, … }`, or `{ url }`), or an
   * ioredis instance or cluster you own (for workers it needs `maxRetriesPerRequest: null`). Every
   * producer and worker of one queue points at the same Redis.
   * @example { host: '127.0.0.1', port: 6379 }
   */
  connection: ConnectionOptions;
  /**
   * Prefix of every Redis key (BullMQ's and this package's). Producers and workers that share a
   * queue use the same prefix; with Redis Cluster, make it a hash tag such as `'{empathy}'`.
   * @default 'empathy'
   */
  prefix?: string | undefined;
  /**
   * Run deliveries in this process. A queue given to `EmpathyOS` only produces by default: its
   * `emit()` stores jobs in Redis and worker processes deliver them. `startWorker()` turns this on
   * for you; set it to produce and deliver in one process.
   * @default false
   */
  consume?: boolean | undefined;
  /**
   * How long `close()` lets this process keep delivering until the queue is empty, in ms, when it
   * consumes. Use `close({ drainMs: 0 })` to hand pending jobs to the other workers at once.
   * @default 10000
   */
  drainMs?: number | undefined;
  /** BullMQ worker settings for consuming processes. */
  worker?: BullMQWorkerSettings | undefined;
  /**
   * Told about Redis and worker errors that no call can report (a lost connection, a job that
   * failed inside BullMQ). Never receives a secret from this package.
   * @default a one-line warning on stderr
   */
  onError?: ((error: Error) => void) | undefined;
  /**
   * BullMQ's own telemetry, passed to every BullMQ queue and worker this queue creates: spans for
   * BullMQ's operations (adding, moving, processing jobs), e.g. `new BullMQOtel('empathy')` from
   * the `bullmq-otel` package. Independent of the delivery telemetry (`openTelemetry()` from
   * `@empathy/webhooks-otel`), whose trace context rides in each job's data either way.
   * @default none
   */
  telemetry?: Telemetry | undefined;
}

/** What a BullMQ job carries: the event and core's attempt bookkeeping. */
interface JobData {
  event: EmpathyEvent;
  /** Attempts already made. */
  attempt: number;
  enqueuedAt: number;
  lastError?: JobError | undefined;
  /** The W3C trace context of the emit that queued the job. */
  trace?: TraceCarrier | undefined;
}

interface Lane {
  webhook: string;
  /** The shared Redis client the lane's queue and worker use. */
  client: RedisClient;
  queue: Queue<JobData, void, string>;
  worker: Worker<JobData, void, string> | undefined;
}

/**
 * The value BullMQ's limiter key holds while a lane is paused (rate limit or open circuit).
 * Workers are configured with a limiter whose `max` equals it, so BullMQ's own counter never
 * reaches it and only a pause stops the lane.
 */
const LANE_PAUSED = 1e15;

/** What an attempt still running at close()'s deadline resolves to: its job is handed back. */
const HANDED_BACK = Symbol('handed back');

/** Settings `startWorker` hands to the queue it consumes. */
interface WorkerRole {
  concurrency: number | undefined;
}
const workerRoles = new WeakMap<BullMQQueue, WorkerRole>();
/** Queues a dispatcher already consumes. */
const consumed = new WeakSet<BullMQQueue>();

/**
 * Makes `queue` consume when a dispatcher calls `consume()`. Used by `startWorker`.
 * @internal
 */
export function enableWorkerRole(queue: BullMQQueue, role: WorkerRole): void {
  if (consumed.has(queue)) throw alreadyConsumed();
  workerRoles.set(queue, role);
}

function alreadyConsumed(): WebhookConfigError {
  return new WebhookConfigError(
    'BullMQQueue.consume() was already called: give each EmpathyOS, Dispatcher or startWorker its own BullMQQueue',
  );
}

/**
 * A {@link DeliveryQueue} on Redis with BullMQ, for many processes and machines: producers
 * (processes that `emit`) store jobs in Redis, workers (`startWorker`) deliver them. One BullMQ
 * queue per webhook (its lane); a retry is a delayed job, a rate-limit or open-circuit wait pauses
 * the lane for every worker, rate limits are counted in Redis (so N workers share one limit), and
 * dead letters live in Redis with replay. A worker that dies loses nothing: its jobs go back to
 * the queue when their lock expires (at-least-once; receivers de-duplicate on `event_id`).
 *
 * @example
 * // producer
 * const queue = new BullMQQueue({ connection: { host: '127.0.0.1', port: 6379 } });
 * const empathy = new EmpathyOS({ userId: 'team', webhooks: [slack], queue });
 * // worker process
 * const worker = startWorker({ queue: new BullMQQueue({ connection }), webhooks: [slack] });
 */
export class BullMQQueue implements DeliveryQueue {
  /** Dead letters in Redis: any producer or worker of the queue can list, replay, delete them. */
  readonly deadLetters: RedisDeadLetterStore;
  /** Rate limiters counted in Redis, shared by every worker of this queue. */
  readonly rateLimiterFactory: RateLimiterFactory;
  /**
   * Incident state (what each webhook sent for an incident, to update it later) in Redis, shared
   * by every producer and worker on this prefix and kept across restarts.
   */
  readonly incidentStore: RedisIncidentStore;
  /** The Redis key prefix. */
  readonly prefix: string;
  readonly #connectionOptions: ConnectionOptions;
  readonly #consumeOption: boolean;
  readonly #drainMs: number;
  readonly #worker: Required<BullMQWorkerSettings>;
  readonly #onError: (error: Error) => void;
  readonly #telemetry: Telemetry | undefined;
  readonly #lanes = new Map<string, Promise<Lane>>();
  readonly #starting = new Set<Promise<unknown>>();
  /** Attempts in flight in this process, each with the function that hands its job back. */
  readonly #running = new Set<() => void>();
  #connection: RedisConnection | undefined;
  #client: Promise<RedisClient> | undefined;
  #handler: JobHandler | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: BullMQQueueOptions) {
    const o = parseOptions(options);
    this.prefix = o.prefix;
    this.#connectionOptions = o.connection;
    this.#consumeOption = o.consume;
    this.#drainMs = o.drainMs;
    this.#worker = o.worker;
    this.#onError = o.onError;
    this.#telemetry = o.telemetry;
    const run = (name: ScriptName, keys: string[], args: (string | number)[]) => this.#run(name, keys, args);
    this.deadLetters = new RedisDeadLetterStore(this.prefix, run as DeadLetterScriptRunner, (jobs) =>
      this.enqueue(jobs),
    );
    this.rateLimiterFactory = redisRateLimiterFactory(this.prefix, run, this.#onError);
    this.incidentStore = new RedisIncidentStore(this.prefix, run);
  }

  /** Whether this process delivers (it was created with `consume: true` or given to `startWorker`). */
  get consuming(): boolean {
    return this.#consumeOption || workerRoles.has(this);
  }

  /**
   * Stores jobs in Redis, one BullMQ queue per webhook; resolves once Redis has them. Jobs are
   * stored as JSON: an event whose data cannot be (a BigInt, a cycle) rejects with a
   * `WebhookConfigError` naming it before anything of this call reaches Redis.
   */
  async enqueue(jobs: DeliveryJob[]): Promise<void> {
    if (this.#closed) {
      throw new WebhookError('BullMQQueue is closed: close() was called, so it accepts no new jobs');
    }
    // BullMQ would throw a bare TypeError, possibly after adding the jobs of other lanes.
    const checked = new Set<EmpathyEvent>();
    for (const job of jobs) {
      if (checked.has(job.event)) continue;
      serializeEvent(job.event);
      checked.add(job.event);
    }
    if (jobs.length === 1) {
      const job = jobs[0]!;
      const lane = await this.#lane(job.webhook);
      if (!lane.worker) this.#startWorker(lane);
      await lane.queue.add(job.event.event_type, toData(job), jobOptions(job));
      return;
    }
    const byLane = new Map<string, DeliveryJob[]>();
    for (const job of jobs) {
      const list = byLane.get(job.webhook);
      if (list) list.push(job);
      else byLane.set(job.webhook, [job]);
    }
    await Promise.all(
      [...byLane].map(async ([webhook, list]) => {
        const lane = await this.#lane(webhook);
        if (!lane.worker) this.#startWorker(lane);
        await lane.queue.addBulk(
          list.map((job) => ({ name: job.event.event_type, data: toData(job), opts: jobOptions(job) })),
        );
      }),
    );
  }

  /**
   * Called by the dispatcher. In a consuming process it starts a BullMQ worker for each webhook
   * registered with the dispatcher (also for one registered later, at its first event); otherwise
   * it only remembers the handler and this process stays a producer. A worker never takes jobs of
   * a webhook it does not have: those wait for a worker that does.
   */
  consume(handler: JobHandler): void {
    if (consumed.has(this)) throw alreadyConsumed();
    if (this.consuming) assertWorkerConnection(this.#connectionOptions);
    consumed.add(this);
    this.#handler = handler;
    if (!this.consuming) return;
    for (const name of handler.webhookNames()) {
      this.#track(this.#lane(name).then((lane) => this.#startWorker(lane)));
    }
  }

  /**
   * Resolves once this process's workers are connected and waiting for jobs (or, for a producer,
   * once Redis answers). While Redis is unreachable it keeps waiting, as every command does.
   */
  async ready(): Promise<void> {
    await this.#redis();
    while (this.#starting.size > 0) await Promise.all([...this.#starting]);
    const lanes = await Promise.all(this.#lanes.values());
    await Promise.all(lanes.map((lane) => lane.worker?.waitUntilReady()));
  }

  /**
   * Resolves when the lanes this process knows (the webhooks it enqueued to or consumes) have
   * nothing waiting, delayed or in flight in Redis, whichever process runs them. Polls Redis.
   */
  async idle(): Promise<void> {
    let delay = 10;
    while (!this.#closed) {
      const pending = await this.pending().catch((error: Error) => {
        this.#onError(error);
        return 1;
      });
      if (pending === 0) return;
      await sleep(delay);
      delay = Math.min(delay * 2, 200);
    }
  }

  /** Jobs waiting, delayed (retries, paused lanes) or in flight in Redis, for one webhook or all known lanes. */
  async pending(webhook?: string): Promise<number> {
    const lanes = webhook === undefined ? [...this.#lanes.values()] : [this.#lane(webhook)];
    let total = 0;
    for (const lane of await Promise.all(lanes)) {
      const counts = await lane.queue.getJobCounts(
        'wait',
        'paused',
        'delayed',
        'prioritized',
        'active',
        'waiting-children',
      );
      for (const n of Object.values(counts)) total += n;
    }
    return total;
  }

  /** Jobs waiting, delayed or in flight in Redis per known lane, for every lane that has any. */
  async pendingByWebhook(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const webhook of this.#lanes.keys()) {
      const n = await this.pending(webhook);
      if (n > 0) out[webhook] = n;
    }
    return out;
  }

  /**
   * Stops delivering and releases Redis. A consuming process first keeps delivering until the
   * queue is empty or `drainMs` has passed; then its workers take no new job, and the jobs of
   * attempts still in flight are handed back to the queue at once, for any worker to run again
   * (at least once). Everything else stays in Redis for the other workers: nothing is lost, and
   * close() keeps its deadline even when a delivery hangs.
   */
  close(options: { drainMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.drainMs ?? this.#drainMs);
    return this.#closing;
  }

  async #close(drainMs: number): Promise<void> {
    if (this.consuming && this.#handler && drainMs > 0 && this.#lanes.size > 0) {
      let timer: LongTimeout | undefined;
      // drainMs may be longer than one Node timer allows.
      await Promise.race([this.idle(), new Promise<void>((r) => (timer = setLongTimeout(r, drainMs)))]);
      timer?.clear();
    }
    this.#closed = true;
    await Promise.allSettled([...this.#starting]);
    const lanes = (await Promise.allSettled(this.#lanes.values()))
      .filter((r) => r.status === 'fulfilled')
      .map((r) => r.value);
    // Workers fetch no job once closing; then the attempts still running hand their jobs back,
    // or the workers' close would wait for every one to end (a hung delivery holds it for the
    // whole attempt timeout).
    // A worker closed while its blocking connection is still starting gets disconnected, and the
    // handshake commands BullMQ sent without awaiting them reject unhandled ("Connection is
    // closed."). Let a handshake finish first, for a bounded time (Redis may be unreachable); a
    // job leased meanwhile is handed back (#process sees the queue closed).
    await settledWithin(
      lanes.map((lane) => lane.worker?.waitUntilReady()),
      HANDSHAKE_MS,
    );
    const workersClosed = Promise.allSettled(lanes.map((lane) => lane.worker?.close()));
    for (const handBack of this.#running) handBack();
    this.#running.clear();
    await workersClosed;
    await Promise.allSettled(lanes.map((lane) => lane.queue.close()));
    await this.#connection?.close();
  }

  /** The shared Redis client (created on first use), with this package's scripts loaded. */
  #redis(): Promise<RedisClient> {
    if (!this.#client) {
      const options = this.#connectionOptions;
      const connection = isRedisInstance(options)
        ? new RedisConnection(options, { shared: true, blocking: false })
        : // Workers' blocking connections are duplicates of this one, and BullMQ requires
          // maxRetriesPerRequest: null for them. Commands then wait for Redis to come back.
          new RedisConnection({ ...options, maxRetriesPerRequest: null } as ConnectionOptions, {
            shared: false,
            blocking: false,
          });
      connection.on('error', this.#onError);
      this.#connection = connection;
      this.#client = connection.client.then((client) => {
        for (const [name, script] of Object.entries(SCRIPTS)) client.defineCommand(name, script);
        return client;
      });
    }
    return this.#client;
  }

  async #run(name: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const client = await this.#redis();
    return client.runCommand(name, [...keys, ...args]);
  }

  #track(promise: Promise<unknown>): void {
    const tracked: Promise<void> = promise.then(
      () => void this.#starting.delete(tracked),
      (error: Error) => {
        this.#starting.delete(tracked);
        this.#onError(error);
      },
    );
    this.#starting.add(tracked);
  }

  #lane(webhook: string): Promise<Lane> {
    let lane = this.#lanes.get(webhook);
    if (!lane) {
      lane = this.#createLane(webhook);
      this.#lanes.set(webhook, lane);
      // A lane that could not be created (Redis unreachable) is tried again next time.
      lane.catch(() => this.#lanes.get(webhook) === lane && this.#lanes.delete(webhook));
    }
    return lane;
  }

  async #createLane(webhook: string): Promise<Lane> {
    const client = await this.#redis();
    const queue = new Queue<JobData, void, string>(laneName(webhook), {
      connection: client,
      prefix: this.prefix,
      defaultJobOptions: { removeOnComplete: true },
      ...(this.#telemetry && { telemetry: this.#telemetry }),
    });
    queue.on('error', this.#onError);
    const lane: Lane = { webhook, client, queue, worker: undefined };
    this.#startWorker(lane);
    return lane;
  }

  /** In a consuming process, starts the lane's BullMQ worker (once) if the dispatcher has its webhook. */
  #startWorker(lane: Lane): void {
    const handler = this.#handler;
    if (lane.worker || !handler || !this.consuming || this.#closed) return;
    if (!handler.webhookNames().includes(lane.webhook)) return;
    const concurrency = workerRoles.get(this)?.concurrency ?? handler.concurrency(lane.webhook);
    const worker = new Worker<JobData, void, string>(
      lane.queue.name,
      (job, token) => this.#process(lane, handler, job, token),
      {
        connection: lane.client,
        prefix: this.prefix,
        concurrency,
        lockDuration: this.#worker.lockDuration,
        stalledInterval: this.#worker.stalledInterval,
        maxStalledCount: this.#worker.maxStalledCount,
        // Never reached by BullMQ's own counter: it only lets a lane pause (see LANE_PAUSED) work.
        limiter: { max: LANE_PAUSED, duration: 1000 },
        ...(this.#telemetry && { telemetry: this.#telemetry }),
      },
    );
    worker.on('error', this.#onError);
    worker.on('failed', (job) => {
      if (job) this.#adopt(lane, job).catch(this.#onError);
    });
    lane.worker = worker;
    this.#track(this.#adoptFailedJobs(lane));
  }

  /** Runs one BullMQ job through the dispatcher and carries out its decision. */
  async #process(
    lane: Lane,
    handler: JobHandler,
    job: Job<JobData, void, string>,
    token: string | undefined,
  ): Promise<void> {
    const data = job.data;
    const delivery = toDeliveryJob(lane.webhook, data);
    const outcome = this.#closed ? HANDED_BACK : await this.#untilHandedBack(handler.handle(delivery));
    if (outcome === HANDED_BACK) {
      // close() reached its deadline first: the job is due again now, with its attempt count
      // unchanged, rather than once its lock lapses. The attempt itself is abandoned.
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    switch (outcome.kind) {
      case 'delivered':
        return;
      case 'retry':
        await job.updateData({ ...data, attempt: data.attempt + 1, lastError: outcome.error });
        await job.moveToDelayed(outcome.at, token);
        throw new DelayedError();
      case 'wait':
        // Only this job moves, its attempt unspent.
        await job.moveToDelayed(outcome.at, token);
        throw new DelayedError();
      case 'defer': {
        // The whole lane waits, in every worker; the job goes back to the head of the line.
        const ms = Math.max(1, Math.ceil(outcome.at - Date.now()));
        await this.#run('empathyPauseLane', [lane.queue.keys.limiter!], [ms, LANE_PAUSED]);
        throw Worker.RateLimitError();
      }
      case 'dead':
        await this.deadLetters.put(deadLetterOf(delivery, outcome));
        return;
    }
  }

  /** The attempt's outcome, or {@link HANDED_BACK} if close() hands its job back first. */
  #untilHandedBack(attempt: Promise<JobOutcome>): Promise<JobOutcome | typeof HANDED_BACK> {
    return new Promise((resolve) => {
      const handBack = () => resolve(HANDED_BACK);
      this.#running.add(handBack);
      // handle() never rejects (JobHandler's contract).
      void attempt.then((outcome) => {
        this.#running.delete(handBack);
        resolve(outcome);
      });
    });
  }

  /**
   * A job that failed inside BullMQ (it lost its worker more than `maxStalledCount` times, or
   * Redis refused to record an outcome) becomes a dead letter, so it can be replayed.
   */
  async #adopt(lane: Lane, job: Job<JobData, void, string>): Promise<void> {
    const event = job.data?.event;
    if (!event || typeof event.event_id !== 'string') return;
    const letter: DeadLetter = {
      id: deliveryJobId(lane.webhook, event),
      webhook: lane.webhook,
      event,
      attempts: job.data.attempt ?? 0,
      error: {
        name: 'WebhookDeliveryError',
        message: `[${lane.webhook}] the job failed in the queue worker: ${job.failedReason || 'unknown reason'}`,
      },
      failedAt: job.finishedOn ?? Date.now(),
    };
    if (job.data.trace) letter.trace = job.data.trace;
    await this.deadLetters.put(letter);
    await job.remove();
  }

  /** Moves jobs a previous worker left in BullMQ's failed set into the dead letters. */
  async #adoptFailedJobs(lane: Lane): Promise<void> {
    for (let round = 0; round < 100; round++) {
      const failed = await lane.queue.getFailed(0, 99);
      if (failed.length === 0) return;
      for (const job of failed) await this.#adopt(lane, job as Job<JobData, void, string>);
    }
  }
}

/** How long close() lets a starting worker finish its Redis handshake, in ms. */
const HANDSHAKE_MS = 2000;

/** Waits for `promises` to settle, or `ms`, whichever is first. */
async function settledWithin(promises: (Promise<unknown> | undefined)[], ms: number): Promise<void> {
  let timer: LongTimeout | undefined;
  await Promise.race([
    Promise.allSettled(promises),
    new Promise<void>((r) => (timer = setLongTimeout(r, ms))),
  ]);
  timer?.clear();
}

function deliveryJobId(webhook: string, event: EmpathyEvent): string {
  return `${event.event_id}:${webhook}`;
}

function toData(job: DeliveryJob): JobData {
  const data: JobData = { event: job.event, attempt: job.attempt, enqueuedAt: job.enqueuedAt };
  if (job.lastError) data.lastError = job.lastError;
  if (job.trace) data.trace = job.trace;
  return data;
}

function jobOptions(job: DeliveryJob): { jobId: string; delay?: number } {
  const delay = job.availableAt - Date.now();
  return delay > 0 ? { jobId: jobIdFor(job.event.event_id), delay } : { jobId: jobIdFor(job.event.event_id) };
}

function toDeliveryJob(webhook: string, data: JobData): DeliveryJob {
  const job: DeliveryJob = {
    id: deliveryJobId(webhook, data.event),
    webhook,
    event: data.event,
    attempt: data.attempt,
    availableAt: Date.now(),
    enqueuedAt: data.enqueuedAt,
  };
  if (data.lastError) job.lastError = data.lastError;
  if (data.trace) job.trace = data.trace;
  return job;
}

/** Workers block on a duplicate of the connection, which BullMQ requires to never give up on a command. */
function assertWorkerConnection(connection: ConnectionOptions): void {
  if (!isRedisInstance(connection)) return;
  const options = (connection as { options?: { maxRetriesPerRequest?: unknown; redisOptions?: object } })
    .options;
  const retries =
    (options?.redisOptions as { maxRetriesPerRequest?: unknown } | undefined)?.maxRetriesPerRequest ??
    options?.maxRetriesPerRequest;
  if (retries !== null && retries !== undefined) {
    throw new WebhookConfigError(
      `BullMQQueue: a consuming queue's ioredis instance needs maxRetriesPerRequest: null (a BullMQ requirement for workers)`,
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const DEFAULT_WORKER: Required<BullMQWorkerSettings> = {
  lockDuration: 30_000,
  stalledInterval: 30_000,
  maxStalledCount: 3,
};

function parseOptions(options: BullMQQueueOptions) {
  const fail = (message: string): never => {
    throw new WebhookConfigError(`BullMQQueue: ${message}`);
  };
  if (options === null || typeof options !== 'object') fail('options must be an object');
  const { connection, prefix = 'empathy', consume = false, drainMs = 10_000, worker = {}, onError } = options;
  // Never echo the connection: it may hold a password.
  if (connection === null || typeof connection !== 'object') {
    fail(`option 'connection' must be ioredis options (e.g. { host, port }) or an ioredis instance`);
  }
  if (
    isRedisInstance(connection) &&
    (connection as { options?: { keyPrefix?: string } }).options?.keyPrefix
  ) {
    fail(`option 'connection' must not use an ioredis keyPrefix; use the 'prefix' option instead`);
  }
  if (typeof prefix !== 'string' || !/^\S{1,100}$/.test(prefix)) {
    fail(`option 'prefix' must be 1-100 characters without spaces (got ${JSON.stringify(prefix)})`);
  }
  if (typeof consume !== 'boolean') fail(`option 'consume' must be a boolean`);
  if (typeof drainMs !== 'number' || !Number.isFinite(drainMs) || drainMs < 0) {
    fail(`option 'drainMs' must be a number >= 0 (got ${JSON.stringify(drainMs)})`);
  }
  if (worker === null || typeof worker !== 'object') fail(`option 'worker' must be an object`);
  const settings = { ...DEFAULT_WORKER };
  for (const [key, min] of [
    ['lockDuration', 100],
    ['stalledInterval', 10],
    ['maxStalledCount', 0],
  ] as const) {
    const value = worker[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < min) {
      fail(`option 'worker.${key}' must be an integer >= ${min} (got ${JSON.stringify(value)})`);
    }
    settings[key] = value;
  }
  if (onError !== undefined && typeof onError !== 'function') fail(`option 'onError' must be a function`);
  const telemetry = options.telemetry;
  if (
    telemetry !== undefined &&
    (telemetry === null ||
      typeof telemetry !== 'object' ||
      typeof telemetry.tracer?.startSpan !== 'function' ||
      typeof telemetry.contextManager?.with !== 'function')
  ) {
    fail(
      `option 'telemetry' must be a BullMQ Telemetry (a tracer and a contextManager), e.g. new BullMQOtel(name)`,
    );
  }
  if (consume) assertWorkerConnection(connection);
  return {
    connection,
    prefix,
    consume,
    drainMs,
    worker: settings,
    telemetry,
    onError:
      onError ??
      ((error: Error) => console.warn(`[empathy-webhooks] BullMQQueue: ${error?.message ?? error}`)),
  };
}
