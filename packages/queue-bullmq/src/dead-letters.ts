import type { DeadLetter, DeadLetterStore } from '@empathy/webhooks-core';
import { type DeliveryJob, jobFromDeadLetter } from '@empathy/webhooks-core/queue';
import { deadLetterKeys } from './keys.js';

type DeadScript =
  | 'empathyDeadPut'
  | 'empathyDeadGet'
  | 'empathyDeadList'
  | 'empathyDeadDelete'
  | 'empathyDeadCount';

/** Runs one of the queue's dead-letter scripts. */
export type DeadLetterScriptRunner = (
  name: DeadScript,
  keys: string[],
  args: (string | number)[],
) => Promise<unknown>;

/**
 * Dead letters in Redis, shared by every producer and worker of a queue: a hash of letters (JSON)
 * and a sorted set by failure time. Any process can list, replay, delete or clear them.
 * Replaying puts the letter back in the queue before deleting it, so a crash in between repeats
 * a delivery rather than losing it.
 */
export class RedisDeadLetterStore implements DeadLetterStore {
  readonly #keys: string[];
  readonly #run: DeadLetterScriptRunner;
  readonly #requeue: (jobs: DeliveryJob[]) => Promise<void>;

  constructor(prefix: string, run: DeadLetterScriptRunner, requeue: (jobs: DeliveryJob[]) => Promise<void>) {
    const keys = deadLetterKeys(prefix);
    this.#keys = [keys.letters, keys.order];
    this.#run = run;
    this.#requeue = requeue;
  }

  /** Stores a letter (a later letter with the same id replaces it). */
  async put(letter: DeadLetter): Promise<void> {
    await this.#run('empathyDeadPut', this.#keys, [letter.id, JSON.stringify(letter), letter.failedAt]);
  }

  /** Dead letters, oldest first, optionally one webhook's, at most `limit`. */
  async list(filter: { webhook?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const limit = filter.limit === undefined ? -1 : Math.max(0, Math.floor(filter.limit));
    const json = (await this.#run('empathyDeadList', this.#keys, [filter.webhook ?? '', limit])) as string[];
    return json.map((text) => JSON.parse(text) as DeadLetter);
  }

  /** One dead letter by id, or `undefined`. */
  async get(id: string): Promise<DeadLetter | undefined> {
    const json = (await this.#run('empathyDeadGet', this.#keys.slice(0, 1), [id])) as string | null;
    return json ? (JSON.parse(json) as DeadLetter) : undefined;
  }

  /** Puts one back in the queue (same event id), then deletes it; false if there is none. */
  async replay(id: string): Promise<boolean> {
    const letter = await this.get(id);
    if (!letter) return false;
    await this.#requeue([jobFromDeadLetter(letter)]);
    await this.#delete([id]);
    return true;
  }

  /** Puts all (or one webhook's) back in the queue, then deletes them; returns how many. */
  async replayAll(filter: { webhook?: string } = {}): Promise<number> {
    const letters = await this.list(filter);
    if (letters.length === 0) return 0;
    await this.#requeue(letters.map(jobFromDeadLetter));
    await this.#delete(letters.map((l) => l.id));
    return letters.length;
  }

  /** Deletes one; false if there is none. */
  async delete(id: string): Promise<boolean> {
    return (await this.#delete([id])) > 0;
  }

  /** Deletes all (or one webhook's); returns how many. */
  async clear(filter: { webhook?: string } = {}): Promise<number> {
    return Number(await this.#run('empathyDeadDelete', this.#keys, ['webhook', filter.webhook ?? '']));
  }

  /** How many letters each webhook has (webhooks with none are left out), counted inside Redis. */
  async countByWebhook(): Promise<Record<string, number>> {
    const flat = (await this.#run('empathyDeadCount', this.#keys.slice(0, 1), [])) as (string | number)[];
    const out: Record<string, number> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = Number(flat[i + 1]);
    return out;
  }

  async #delete(ids: string[]): Promise<number> {
    let removed = 0;
    // Lua's unpack and Redis's argument lists have limits: delete in chunks.
    for (let i = 0; i < ids.length; i += 1000) {
      removed += Number(await this.#run('empathyDeadDelete', this.#keys, ['ids', ...ids.slice(i, i + 1000)]));
    }
    return removed;
  }
}
