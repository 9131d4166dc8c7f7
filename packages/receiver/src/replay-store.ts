import { WebhookConfigError } from '@empathy/webhooks-core';

/**
 * Where a webhook id stands: never seen (or its window passed), being handled right now, or
 * handled successfully.
 */
export type ReplayState = 'new' | 'pending' | 'done';

/**
 * Remembers the webhook ids a receiver accepted, for the replay window. The in-memory
 * {@link MemoryReplayStore} is the default; implement this over Redis (`SET id pending NX PXAT
 * expiresAt`, `GET`, `SET … PXAT`, `DEL`) or a database to share it between processes.
 *
 * Methods may return a value or a Promise.
 */
export interface ReplayStore {
  /**
   * Atomically: when `id` is unknown or expired, records it as `pending` until `expiresAt`
   * (epoch ms) and answers `'new'`; otherwise answers its state and changes nothing.
   */
  claim(id: string, expiresAt: number): ReplayState | Promise<ReplayState>;
  /** The event was handled: keep `id` as `done` until `expiresAt`, so repeats are not handled again. */
  complete(id: string, expiresAt: number): void | Promise<void>;
  /** Handling failed: forget `id`, so that the sender's retry is handled. */
  release(id: string): void | Promise<void>;
}

/** Options of {@link MemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /**
   * The most ids kept. When full, the oldest id is forgotten first: size it above the deliveries
   * you receive within one replay window.
   * @default 100_000
   */
  maxEntries?: number | undefined;
  /** The clock, in epoch ms (tests). @default Date.now */
  now?: (() => number) | undefined;
}

/**
 * A {@link ReplayStore} in this process's memory, bounded in size. Ids are forgotten when their
 * window ends, or, oldest first, when more than `maxEntries` are held. Use a shared store when
 * several processes receive the same webhooks.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #entries = new Map<string, { state: 'pending' | 'done'; expiresAt: number }>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: MemoryReplayStoreOptions = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new WebhookConfigError(
        `MemoryReplayStore: maxEntries must be a positive integer (got ${String(max)})`,
      );
    }
    this.#max = max;
    this.#now = options.now ?? Date.now;
  }

  /** How many ids are held (expired ones included until they are swept). */
  get size(): number {
    return this.#entries.size;
  }

  claim(id: string, expiresAt: number): ReplayState {
    const now = this.#now();
    const entry = this.#entries.get(id);
    if (entry && entry.expiresAt > now) return entry.state;
    this.#entries.delete(id);
    this.#makeRoom(now);
    this.#entries.set(id, { state: 'pending', expiresAt });
    return 'new';
  }

  complete(id: string, expiresAt: number): void {
    // Re-inserted at the end, so that the map's order stays the order of expiry.
    this.#entries.delete(id);
    this.#makeRoom(this.#now());
    this.#entries.set(id, { state: 'done', expiresAt });
  }

  release(id: string): void {
    this.#entries.delete(id);
  }

  /**
   * Drops ids from the oldest end while they are expired, or while there is no room for one more.
   * Every id gets the same window, so insertion order is expiry order.
   */
  #makeRoom(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now && this.#entries.size < this.#max) break;
      this.#entries.delete(id);
    }
  }
}

/** Whether `value` has the three methods of a {@link ReplayStore}. */
export function isReplayStore(value: unknown): value is ReplayStore {
  const store = value as Partial<ReplayStore> | null;
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof store.claim === 'function' &&
    typeof store.complete === 'function' &&
    typeof store.release === 'function'
  );
}
