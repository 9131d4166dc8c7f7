import type { DeadLetterStore } from '@empathy/webhooks-core';
import { type DeadRow, toDeadLetter } from './rows.js';
import type { Statements } from './statements.js';

/** What the dead-letter store needs of the queue's open file. */
export interface DeadLetterFile {
  /** Runs a read; a failure becomes a `WebhookError` naming the file. */
  read<T>(read: () => T): T;
  /** Runs a write; a failure becomes a `WebhookError` naming the file. */
  write<T>(write: () => T): T;
  /** The prepared statements, opening the file if needed (throws once the queue is closed). */
  statements(): Statements;
  /** Runs `run` in one transaction (after `statements()` opened the file). */
  transaction<T>(run: () => T): T;
  /** Jobs of these webhooks were put back in the queue: look for them. */
  requeued(webhooks: Iterable<string>): void;
}

/** Dead letters kept in the `dead_letters` table: list, get, replay (one or all), delete, clear. */
export function createDeadLetterStore(file: DeadLetterFile): DeadLetterStore {
  // Every call reads or writes the file: failures become WebhookErrors naming it.
  return {
    list: async (filter = {}) => {
      const rows = file.read(() =>
        file.statements().deadList.all({
          webhook: filter.webhook ?? null,
          limit: filter.limit ?? -1,
        }),
      ) as DeadRow[];
      return rows.map(toDeadLetter);
    },
    get: async (id) => {
      const row = file.read(() => file.statements().deadGet.get(id)) as DeadRow | undefined;
      return row ? toDeadLetter(row) : undefined;
    },
    replay: async (id) => {
      const webhook = file.write(() => {
        const sql = file.statements();
        const now = Date.now();
        return file.transaction(() => {
          const row = sql.deadGet.get(id) as DeadRow | undefined;
          if (!row) return undefined;
          sql.requeueOne.run(now, now, id);
          sql.deadDelete.run(id);
          return row.webhook;
        });
      });
      if (webhook === undefined) return false;
      file.requeued([webhook]);
      return true;
    },
    replayAll: async (filter = {}) => {
      const { count, webhooks } = file.write(() => {
        const sql = file.statements();
        const now = Date.now();
        const webhook = { webhook: filter.webhook ?? null };
        return file.transaction(() => {
          const names = (sql.deadWebhooks.all(webhook) as { webhook: string }[]).map((r) => r.webhook);
          sql.requeueAll.run({ ...webhook, now });
          return { count: sql.deadClear.run(webhook).changes, webhooks: names };
        });
      });
      file.requeued(webhooks);
      return count;
    },
    countByWebhook: async () => {
      const rows = file.read(() => file.statements().deadCounts.all()) as {
        webhook: string;
        n: number;
      }[];
      return Object.fromEntries(rows.map((r) => [r.webhook, r.n]));
    },
    delete: async (id) => file.write(() => file.statements().deadDelete.run(id).changes > 0),
    clear: async (filter = {}) =>
      file.write(() => file.statements().deadClear.run({ webhook: filter.webhook ?? null }).changes),
  };
}
