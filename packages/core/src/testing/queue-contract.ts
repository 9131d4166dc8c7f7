import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWebhookError } from '../errors.js';
import { createEvent } from '../events.js';
import type { DeliveryJob, DeliveryQueue, JobError, JobHandler, JobOutcome } from '../queue/types.js';
import type { TraceCarrier } from '../telemetry.js';

/** What a queue gives {@link describeQueueContract}. */
export interface QueueContractHarness {
  /**
   * A queue over this test's storage (a temp file, a Redis prefix). Called once per test, and in
   * the durable cases again after the first queue was closed: every call must see what the
   * earlier ones stored (same file, same prefix). The queue must deliver in this process
   * (e.g. `BullMQQueue` with `consume: true`). The suite closes every queue it opened.
   */
  open(): DeliveryQueue | Promise<DeliveryQueue>;
  /** Jobs left behind by `close()` are delivered by the next `open()` (SQLite, Redis). */
  durable: boolean;
  /** Removes this test's storage; called after the queues are closed. */
  cleanup?(): void | Promise<void>;
}

/** How long the suite waits for a queue to do something before it fails the test, in ms. */
const PATIENCE = 20_000;
/** How far ahead the suite schedules retries and pauses, in ms: long enough to see "not before". */
const LATER = 300;

const TRACE: TraceCarrier = {
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'empathy=contract',
};
const REFUSED: JobError = { name: 'WebhookDeliveryError', message: 'HTTP 400 from contract', status: 400 };

/** One handled attempt, as the scripted handler saw it. */
interface Handled {
  id: string;
  webhook: string;
  attempt: number;
  at: number;
  trace: TraceCarrier | undefined;
  lastError: JobError | undefined;
}

/**
 * A {@link JobHandler} without HTTP: `decide` answers each job; `hold` keeps an attempt in flight
 * until the returned promise settles. Records every attempt and the most in flight per webhook.
 */
function scriptedHandler(webhooks: string[], concurrency: Record<string, number> = {}) {
  const handled: Handled[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  let decide: (job: DeliveryJob, seen: number) => JobOutcome = () => ({ kind: 'delivered', receipt: {} });
  let hold: ((job: DeliveryJob) => Promise<void>) | undefined;
  const seen = new Map<string, number>();
  const handler: JobHandler = {
    webhookNames: () => webhooks,
    concurrency: (webhook) => concurrency[webhook] ?? 4,
    async handle(job) {
      handled.push({
        id: job.id,
        webhook: job.webhook,
        attempt: job.attempt,
        at: Date.now(),
        trace: job.trace,
        lastError: job.lastError,
      });
      const n = (inFlight.get(job.webhook) ?? 0) + 1;
      inFlight.set(job.webhook, n);
      maxInFlight.set(job.webhook, Math.max(n, maxInFlight.get(job.webhook) ?? 0));
      const times = (seen.get(job.id) ?? 0) + 1;
      seen.set(job.id, times);
      try {
        if (hold) await hold(job);
        return decide(job, times);
      } finally {
        inFlight.set(job.webhook, (inFlight.get(job.webhook) ?? 1) - 1);
      }
    },
  };
  return {
    handler,
    handled,
    inFlight,
    maxInFlight,
    /** Answers each job with `fn(job, times it was seen)`. */
    decideWith(fn: typeof decide) {
      decide = fn;
    },
    holdWith(fn: typeof hold) {
      hold = fn;
    },
    ids: (webhook?: string) =>
      handled.filter((h) => webhook === undefined || h.webhook === webhook).map((h) => h.id),
  };
}

let sequence = 0;

/** A new job for `webhook`; its event id is unique to this run. */
function newJob(webhook: string, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  // Ids sort in creation order (queues may order ties by id).
  const eventId = `evt_qc_${process.pid}_${Date.now().toString(36)}_${String(++sequence).padStart(6, '0')}`;
  const now = Date.now();
  return {
    id: `${eventId}:${webhook}`,
    webhook,
    event: createEvent('alert', { message: `contract ${sequence}` }, { userId: 'contract', eventId }),
    attempt: 0,
    availableAt: now,
    enqueuedAt: now,
    ...extra,
  };
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + PATIENCE;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`queue contract: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `promise`, or a clear failure after {@link PATIENCE} (a queue that never settles fails, not hangs). */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`queue contract: ${what} did not settle`)), PATIENCE);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The contract every {@link DeliveryQueue} passes, through its public API with a scripted
 * {@link JobHandler} (no HTTP): jobs are delivered; a retry runs at its time and not before; a
 * deferred job keeps its place in the lane and spends no attempt; dead jobs become dead letters
 * that can be listed, read, replayed, deleted and cleared; per-webhook concurrency holds;
 * `idle()` waits for retries; `close({ drainMs })` stops leasing and keeps the rest (a durable
 * queue delivers it after reopening); a closed queue refuses jobs with a `WebhookError`; trace
 * carriers survive every step. Requires vitest.
 *
 * @example
 * describeQueueContract('SqliteQueue', () => {
 *   const path = join(mkdtempSync(join(tmpdir(), 'q-')), 'queue.db');
 *   return { durable: true, open: () => new SqliteQueue({ path, pollMs: 50 }) };
 * });
 */
export function describeQueueContract(
  title: string,
  setup: () => QueueContractHarness | Promise<QueueContractHarness>,
): void {
  describe(`${title}: queue contract`, () => {
    let harness: QueueContractHarness;
    let opened: DeliveryQueue[];

    beforeEach(async () => {
      harness = await setup();
      opened = [];
    });
    afterEach(async () => {
      for (const queue of opened.splice(0).reverse()) await queue.close({ drainMs: 0 });
      await harness.cleanup?.();
    });

    const open = async (): Promise<DeliveryQueue> => {
      const queue = await harness.open();
      opened.push(queue);
      return queue;
    };
    const settle = (queue: DeliveryQueue) => within(queue.idle(), 'idle()');

    it('delivers stored jobs in order, also jobs stored before consume() was called', async () => {
      const queue = await open();
      const script = scriptedHandler(['a'], { a: 1 });
      const jobs = [newJob('a'), newJob('a'), newJob('a')];
      await queue.enqueue(jobs.slice(0, 2));
      queue.consume(script.handler);
      await queue.enqueue(jobs.slice(2));
      await settle(queue);
      expect(script.ids()).toEqual(jobs.map((j) => j.id));
      expect(script.handled.map((h) => h.attempt)).toEqual([0, 0, 0]);
      expect(await queue.deadLetters.list()).toEqual([]);
      if (queue.pending) expect(await queue.pending()).toBe(0);
    });

    it('runs a retry at its time, not before, with the attempt counted and the error kept', async () => {
      const queue = await open();
      const script = scriptedHandler(['a']);
      let retryAt = 0;
      script.decideWith((_job, times) => {
        if (times > 1) return { kind: 'delivered', receipt: {} };
        retryAt = Date.now() + LATER;
        return { kind: 'retry', at: retryAt, error: REFUSED };
      });
      queue.consume(script.handler);
      const job = newJob('a');
      await queue.enqueue([job]);
      // idle() covers retries still waiting for their time.
      await settle(queue);
      expect(script.handled).toHaveLength(2);
      const [first, second] = script.handled;
      expect(first).toMatchObject({ id: job.id, attempt: 0 });
      expect(second).toMatchObject({ id: job.id, attempt: 1, lastError: REFUSED });
      expect(second!.at).toBeGreaterThanOrEqual(retryAt);
    });

    it('a deferred job keeps its place in its lane and spends no attempt; the lane waits', async () => {
      const queue = await open();
      const script = scriptedHandler(['a', 'b'], { a: 1, b: 1 });
      let pausedUntil = 0;
      script.decideWith((job, times) => {
        if (job.id === jobs[0]!.id && times === 1) {
          pausedUntil = Date.now() + LATER;
          return { kind: 'defer', at: pausedUntil, reason: 'rate_limit' };
        }
        return { kind: 'delivered', receipt: {} };
      });
      const jobs = [newJob('a'), newJob('a'), newJob('a')];
      const other = newJob('b');
      await queue.enqueue(jobs);
      queue.consume(script.handler);
      await queue.enqueue([other]);
      await settle(queue);
      const inA = script.handled.filter((h) => h.webhook === 'a');
      expect(inA.map((h) => h.id)).toEqual([jobs[0]!.id, ...jobs.map((j) => j.id)]);
      expect(inA.map((h) => h.attempt)).toEqual([0, 0, 0, 0]);
      for (const h of inA.slice(1)) expect(h.at).toBeGreaterThanOrEqual(pausedUntil);
      // Another webhook's lane is not paused by it.
      expect(script.ids('b')).toEqual([other.id]);
    });

    it('a waiting job runs again at its time with its attempt unspent and its error kept; its lane goes on', async () => {
      const queue = await open();
      const script = scriptedHandler(['a'], { a: 1 });
      let waitUntil = 0;
      script.decideWith((job, times) => {
        if (job.id === waiting.id && times === 1) return { kind: 'retry', at: Date.now(), error: REFUSED };
        if (job.id === waiting.id && times === 2) {
          waitUntil = Date.now() + LATER;
          return { kind: 'wait', at: waitUntil };
        }
        return { kind: 'delivered', receipt: {} };
      });
      const waiting = newJob('a');
      const behind = newJob('a');
      await queue.enqueue([waiting]);
      queue.consume(script.handler);
      await waitFor(() => script.handled.length >= 2, 'the waiting job to be handled twice');
      await queue.enqueue([behind]);
      await settle(queue);
      const runs = script.handled.filter((h) => h.id === waiting.id);
      expect(runs.map((h) => h.attempt)).toEqual([0, 1, 1]);
      expect(runs[2]!.lastError).toEqual(REFUSED);
      expect(runs[2]!.at).toBeGreaterThanOrEqual(waitUntil);
      // The job behind it in the same lane did not wait for it.
      const other = script.handled.find((h) => h.id === behind.id)!;
      expect(other.at).toBeLessThan(waitUntil);
    });

    it('a dead job becomes a dead letter: list, get, replay, replayAll, delete, clear', async () => {
      const queue = await open();
      const script = scriptedHandler(['a', 'b'], { a: 1, b: 1 });
      let refuse = true;
      script.decideWith(() =>
        refuse ? { kind: 'dead', error: REFUSED, attempts: 1 } : { kind: 'delivered', receipt: {} },
      );
      queue.consume(script.handler);
      const [a1, a2, a3] = [newJob('a', { trace: TRACE }), newJob('a'), newJob('a')];
      const b1 = newJob('b');
      await queue.enqueue([a1!]);
      await settle(queue);
      await queue.enqueue([a2!, a3!, b1]);
      await settle(queue);
      const letters = queue.deadLetters;

      expect((await letters.list({ webhook: 'a' })).map((l) => l.id)).toEqual([a1!.id, a2!.id, a3!.id]);
      expect((await letters.list()).map((l) => l.id).sort()).toEqual([a1!.id, a2!.id, a3!.id, b1.id].sort());
      expect(await letters.list({ webhook: 'a', limit: 1 })).toHaveLength(1);
      const letter = await letters.get(a1!.id);
      expect(letter).toMatchObject({ id: a1!.id, webhook: 'a', attempts: 1, error: REFUSED, trace: TRACE });
      expect(letter!.event.event_id).toBe(a1!.event.event_id);
      expect(letter!.failedAt).toBeGreaterThan(0);
      expect(await letters.get('evt_none:a')).toBeUndefined();
      if (letters.countByWebhook) expect(await letters.countByWebhook()).toEqual({ a: 3, b: 1 });

      refuse = false;
      const before = script.handled.length;
      expect(await letters.replay(a1!.id)).toBe(true);
      expect(await letters.replay(a1!.id)).toBe(false);
      await settle(queue);
      const replayed = script.handled.slice(before);
      expect(replayed).toHaveLength(1);
      // A replay is a fresh job for the same event, and continues the same trace.
      expect(replayed[0]).toMatchObject({ id: a1!.id, attempt: 0, trace: TRACE });

      expect(await letters.replayAll({ webhook: 'b' })).toBe(1);
      await settle(queue);
      expect(script.ids('b')).toEqual([b1.id, b1.id]);

      expect(await letters.delete(a2!.id)).toBe(true);
      expect(await letters.delete(a2!.id)).toBe(false);
      expect((await letters.list()).map((l) => l.id)).toEqual([a3!.id]);

      refuse = true;
      await queue.enqueue([newJob('b')]);
      await settle(queue);
      expect(await letters.clear({ webhook: 'b' })).toBe(1);
      expect(await letters.clear()).toBe(1);
      expect(await letters.list()).toEqual([]);
      expect(await letters.replayAll()).toBe(0);
    });

    it("runs no more of a webhook's jobs at once than its concurrency, and reaches it", async () => {
      const queue = await open();
      const script = scriptedHandler(['a', 'b'], { a: 2, b: 1 });
      let open_ = false;
      const waiting: (() => void)[] = [];
      script.holdWith(() => (open_ ? Promise.resolve() : new Promise<void>((r) => waiting.push(r))));
      queue.consume(script.handler);
      await queue.enqueue([...Array.from({ length: 6 }, () => newJob('a')), newJob('b'), newJob('b')]);
      await waitFor(
        () => script.inFlight.get('a') === 2 && script.inFlight.get('b') === 1,
        'two attempts of a and one of b in flight',
      );
      open_ = true;
      for (const release of waiting.splice(0)) release();
      await settle(queue);
      expect(script.handled).toHaveLength(8);
      expect(script.maxInFlight.get('a')).toBe(2);
      expect(script.maxInFlight.get('b')).toBe(1);
    });

    it('idle() resolves at once on an empty queue', async () => {
      const queue = await open();
      queue.consume(scriptedHandler(['a']).handler);
      await settle(queue);
      if (queue.pending) expect(await queue.pending()).toBe(0);
    });

    it('close({ drainMs }) stops leasing and keeps the rest; a closed queue refuses new jobs', async () => {
      const queue = await open();
      const script = scriptedHandler(['a'], { a: 1 });
      let hung = true;
      const waiting: (() => void)[] = [];
      script.holdWith(() => (hung ? new Promise<void>((r) => waiting.push(r)) : Promise.resolve()));
      queue.consume(script.handler);
      const jobs = [
        newJob('a', { trace: TRACE }),
        newJob('a', { trace: TRACE }),
        newJob('a', { trace: TRACE }),
      ];
      await queue.enqueue(jobs);
      await waitFor(() => script.handled.length === 1, 'the first attempt');
      await within(queue.close({ drainMs: 200 }), 'close({ drainMs: 200 }) with a hung attempt');
      hung = false;
      for (const release of waiting.splice(0)) release();
      await new Promise((r) => setTimeout(r, 100));
      expect(script.ids(), 'a closed queue leases nothing more').toEqual([jobs[0]!.id]);

      const refused = await queue.enqueue([newJob('a')]).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isWebhookError(refused), `enqueue after close() rejected with ${String(refused)}`).toBe(true);
      expect((refused as Error).message).toMatch(/closed/);
      if (queue.enqueueSync) expect(() => queue.enqueueSync!([newJob('a')])).toThrow(/closed/);

      if (!harness.durable) return;
      const reopened = await open();
      const next = scriptedHandler(['a']);
      reopened.consume(next.handler);
      await waitFor(
        () => next.ids().includes(jobs[1]!.id) && next.ids().includes(jobs[2]!.id),
        'the kept jobs to be delivered after reopening',
      );
      for (const h of next.handled) expect(h.trace).toEqual(TRACE);
    });

    it('hands the trace carrier back unchanged on every attempt', async () => {
      const queue = await open();
      const script = scriptedHandler(['a']);
      script.decideWith((_job, times) =>
        times === 1
          ? { kind: 'retry', at: Date.now() + 20, error: REFUSED }
          : { kind: 'delivered', receipt: {} },
      );
      queue.consume(script.handler);
      const traced = newJob('a', { trace: TRACE });
      const plain = newJob('a');
      await queue.enqueue([traced, plain]);
      await settle(queue);
      const of = (id: string) => script.handled.filter((h) => h.id === id).map((h) => h.trace);
      expect(of(traced.id)).toEqual([TRACE, TRACE]);
      expect(of(plain.id)).toEqual([undefined, undefined]);
    });
  });
}
