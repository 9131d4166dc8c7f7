import type { IncidentState, IncidentStore } from '@empathy/webhooks-core/queue';
import type { Statements } from './statements.js';

/** What the incident store needs of the queue's open file. */
export interface IncidentFile {
  /** Runs a read; a failure becomes a `WebhookError` naming the file. */
  read<T>(read: () => T): T;
  /** Runs a write; a failure becomes a `WebhookError` naming the file. */
  write<T>(write: () => T): T;
  /** The prepared statements, opening the file if needed (throws once the queue is closed). */
  statements(): Statements;
  /** Runs `run` in one immediate transaction: no other process writes in between. */
  immediate<T>(run: () => T): T;
}

/** How often expired incidents are deleted, at most. */
const PRUNE_EVERY_MS = 60_000;

/**
 * Incident state in the `incidents` table of the queue's file: every process on the file sees
 * the same state, and it outlives restarts. Each update is one immediate transaction (read,
 * change, write), so two processes never interleave on one incident.
 */
export function createIncidentStore(file: IncidentFile): IncidentStore {
  let lastPrune = 0;
  const parse = (row: { state: string } | undefined): IncidentState | undefined =>
    row === undefined ? undefined : (JSON.parse(row.state) as IncidentState);
  return {
    get: async (webhook, key) =>
      parse(
        file.read(() => file.statements().incidentGet.get(webhook, key, Date.now())) as
          | { state: string }
          | undefined,
      ),
    update: async (webhook, key, change, ttlMs) =>
      file.write(() => {
        const sql = file.statements();
        const now = Date.now();
        return file.immediate(() => {
          if (now - lastPrune >= PRUNE_EVERY_MS) {
            lastPrune = now;
            sql.incidentPrune.run(now);
          }
          const state = change(
            parse(sql.incidentGet.get(webhook, key, now) as { state: string } | undefined),
          );
          sql.incidentPut.run(webhook, key, JSON.stringify(state), now + ttlMs);
          return state;
        });
      }),
  };
}
