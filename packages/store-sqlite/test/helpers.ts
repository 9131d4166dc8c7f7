import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent } from '@empathy/webhooks-core';
import type { DeliveryJob, JobHandler, JobOutcome } from '@empathy/webhooks-core/queue';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh database path in a temporary folder, removed after the test. */
export function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-queue-'));
  dirs.push(dir);
  return join(dir, 'queue.db');
}

/** A new job for `webhook`, as the dispatcher builds them. */
export function job(webhook: string, n: number, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  const now = Date.now();
  const event = createEvent('alert', { message: `alert ${n}` }, { userId: 'u1', eventId: `evt_${n}` });
  return {
    id: `${event.event_id}:${webhook}`,
    webhook,
    event,
    attempt: 0,
    availableAt: now,
    enqueuedAt: now,
    ...extra,
  };
}

/** A JobHandler that records what it ran and answers with `decide`. */
export function recordingHandler(
  decide: (job: DeliveryJob) => JobOutcome | Promise<JobOutcome> = () => ({ kind: 'delivered', receipt: {} }),
  concurrency: number | ((webhook: string) => number) = 4,
) {
  const handled: { id: string; webhook: string; attempt: number; at: number }[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const handler: JobHandler = {
    // SqliteQueue runs every webhook in one process and never asks; these are the ones seen.
    webhookNames: () => [...maxInFlight.keys()],
    concurrency: (webhook) => (typeof concurrency === 'number' ? concurrency : concurrency(webhook)),
    async handle(job) {
      handled.push({ id: job.id, webhook: job.webhook, attempt: job.attempt, at: Date.now() });
      const n = (inFlight.get(job.webhook) ?? 0) + 1;
      inFlight.set(job.webhook, n);
      maxInFlight.set(job.webhook, Math.max(n, maxInFlight.get(job.webhook) ?? 0));
      try {
        return await decide(job);
      } finally {
        inFlight.set(job.webhook, inFlight.get(job.webhook)! - 1);
      }
    },
  };
  return { handler, handled, maxInFlight };
}

/** Reads the file through a second connection, as another process would. */
export function peek<T = Record<string, unknown>>(path: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
