import type { LokiEntry } from './format.js';

/** Sends one batch of entries; rejects if Loki refused or could not be reached. */
export type PushBatch = (entries: LokiEntry[], signal: AbortSignal) => Promise<void>;

interface Waiting {
  entry: LokiEntry;
  signal: AbortSignal;
  bytes: number;
  /** Settles this delivery once; later calls do nothing. */
  settle: (error?: unknown) => void;
  /** Set while its batch is in flight: tells the batch this delivery gave up. */
  leave?: (() => void) | undefined;
}

/**
 * Group commit for Loki pushes: deliveries that arrive while a push is in flight wait and go
 * together in the next one, so N concurrent deliveries cost about one request per round trip and
 * no delivery waits on a timer. It runs inside the deliveries' attempts, not beside them: each
 * delivery's promise settles with its own batch's outcome, or with its own abort (its attempt's
 * deadline), so core still sees one attempt per delivery and retries or dead-letters each on its
 * own; nothing is retried, timed or kept here. A push is aborted once every delivery in it has
 * given up, so one slow delivery's deadline does not fail the others in its batch.
 */
export class LokiBatcher {
  readonly #push: PushBatch;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #waiting: Waiting[] = [];
  #sending = false;

  constructor(push: PushBatch, options: { maxEntries: number; maxBytes: number }) {
    this.#push = push;
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes;
  }

  /** Resolves once Loki accepted the batch holding `entry`; rejects with that batch's error or `signal`'s reason. */
  add(entry: LokiEntry, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        // Not sent yet: leave the queue. In flight: leave the batch, which stops when all have.
        this.#waiting = this.#waiting.filter((w) => w !== waiting);
        waiting.leave?.();
        waiting.settle(signal.reason);
      };
      const waiting: Waiting = {
        entry,
        signal,
        bytes: Buffer.byteLength(entry.line) + entry.timestamp.length,
        settle: (error) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiting);
      this.#next();
    });
  }

  #next(): void {
    if (this.#sending || this.#waiting.length === 0) return;
    this.#sending = true;
    let bytes = 0;
    let count = 0;
    for (const w of this.#waiting) {
      if (count === this.#maxEntries || (count > 0 && bytes + w.bytes > this.#maxBytes)) break;
      bytes += w.bytes;
      count++;
    }
    const batch = this.#waiting.slice(0, count);
    this.#waiting = this.#waiting.slice(count);
    const controller = new AbortController();
    let waitingFor = batch.length;
    for (const w of batch) {
      w.leave = () => {
        waitingFor--;
        if (waitingFor === 0) controller.abort(w.signal.reason);
      };
    }
    const settle = (error?: unknown) => {
      for (const w of batch) {
        w.leave = undefined;
        w.settle(error);
      }
      // Cut the next batch after one turn of the event loop: the deliveries that just settled
      // free their slots, and the ones core starts in their place join the waiting ones.
      setImmediate(() => {
        this.#sending = false;
        this.#next();
      });
    };
    this.#push(
      batch.map((w) => w.entry),
      controller.signal,
    ).then(() => settle(), settle);
  }
}
