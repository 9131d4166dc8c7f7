import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import type { JobRow } from './rows.js';
import type { Statements } from './statements.js';

/**
 * This process's leases on jobs in the file. A leased row is this process's until `lease_until`;
 * the poll renews it while the job runs, and another process takes it over once it lapses.
 */
export class Leases {
  /** Identifies this process's leases: `<host>:<pid>:<nonce>`. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Jobs this process holds a lease on (ready, running or awaiting their commit), by seq. */
  readonly held = new Set<number>();
  /** How long a lease lasts, in ms. */
  readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
  }

  /** Leases up to `limit` due, free jobs of `webhook`, oldest first. Call `hold(seq)` for each kept. */
  take(sql: Statements, webhook: string, now: number, limit: number): JobRow[] {
    const rows = sql.lease.all(this.owner, now + this.ms, webhook, now, now, limit) as JobRow[];
    // RETURNING does not keep the subquery's order.
    rows.sort((a, b) => a.available_at - b.available_at || a.seq - b.seq);
    return rows;
  }

  /** Renews every lease this process holds, so that nobody takes over jobs it still runs. */
  renew(db: Database.Database, sql: Statements, now: number): void {
    if (this.held.size === 0) return;
    const until = now + this.ms;
    db.transaction(() => {
      for (const seq of this.held) sql.renew.run(until, seq, this.owner);
    })();
  }

  /** Hands the jobs this process still holds (not started, or cut off by close()) back to the queue. */
  release(db: Database.Database, sql: Statements): void {
    if (this.held.size === 0) return;
    try {
      db.transaction(() => {
        for (const seq of this.held) sql.release.run(seq, this.owner);
      })();
      this.held.clear();
    } catch {
      // The leases then expire after `ms`.
    }
  }
}

/** Frees the leases of processes on this machine that no longer run. */
export function reclaimFromDeadProcesses(sql: Statements): void {
  const host = hostname();
  const owners = sql.leaseOwners.all(Date.now()) as { lease_owner: string }[];
  for (const { lease_owner: owner } of owners) {
    const [ownerHost, pid] = owner.split(':');
    if (ownerHost === host && pid !== undefined && !isAlive(Number(pid))) sql.freeOwner.run(owner);
  }
}

/** Whether a process with this pid runs on this machine (EPERM: it runs, as another user). */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
