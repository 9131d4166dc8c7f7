import type Database from 'better-sqlite3';

/** The SQL of every statement the queue runs. */
const SQL = {
  insert: `INSERT INTO jobs (id, webhook, event_id, event, attempt, available_at, enqueued_at, last_error,
                       traceparent, tracestate)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  lease: `UPDATE jobs SET lease_owner = ?, lease_until = ?
     WHERE seq IN (SELECT seq FROM jobs WHERE webhook = ? AND available_at <= ? AND lease_until <= ?
                   ORDER BY available_at, seq LIMIT ?)
     RETURNING seq, id, webhook, event, attempt, available_at, enqueued_at, last_error, traceparent, tracestate`,
  nextDue: `SELECT available_at AS at FROM jobs WHERE webhook = ? AND lease_until <= ? ORDER BY available_at LIMIT 1`,
  renew: `UPDATE jobs SET lease_until = ? WHERE seq = ? AND lease_owner = ?`,
  release: `UPDATE jobs SET lease_owner = NULL, lease_until = 0 WHERE seq = ? AND lease_owner = ?`,
  leaseOwners: `SELECT DISTINCT lease_owner FROM jobs WHERE lease_until > ?`,
  freeOwner: `UPDATE jobs SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?`,
  retry: `UPDATE jobs SET attempt = ?, available_at = ?, last_error = ?, lease_owner = NULL, lease_until = 0
     WHERE seq = ?`,
  /** A job that waits (for another notification of its incident): attempt and last error stay. */
  wait: `UPDATE jobs SET available_at = ?, lease_owner = NULL, lease_until = 0 WHERE seq = ?`,
  remove: `DELETE FROM jobs WHERE seq = ?`,
  bury: `INSERT OR REPLACE INTO dead_letters (id, webhook, event, attempts, error, failed_at, traceparent, tracestate)
     SELECT id, webhook, event, ?, ?, ?, traceparent, tracestate FROM jobs WHERE seq = ?`,
  logDelivery: `INSERT INTO deliveries (id, webhook, event_id, attempts, status, delivered_at) VALUES (?, ?, ?, ?, ?, ?)`,
  prune: `DELETE FROM deliveries WHERE delivered_at < ?`,
  delivered: `SELECT id, webhook, event_id, attempts, status, delivered_at FROM deliveries
     WHERE (@webhook IS NULL OR webhook = @webhook) AND (@eventId IS NULL OR event_id = @eventId)
     ORDER BY seq DESC LIMIT @limit`,
  // Distinct webhooks through the index, one seek per webhook (a loose index scan).
  webhooks: `WITH RECURSIVE w(webhook) AS (
       SELECT min(webhook) FROM jobs
       UNION ALL SELECT (SELECT min(webhook) FROM jobs WHERE webhook > w.webhook) FROM w WHERE w.webhook IS NOT NULL
     ) SELECT webhook FROM w WHERE webhook IS NOT NULL`,
  anyJob: `SELECT 1 FROM jobs LIMIT 1`,
  countAll: `SELECT count(*) AS n FROM jobs`,
  countLane: `SELECT count(*) AS n FROM jobs WHERE webhook = ?`,
  countByLane: `SELECT webhook, count(*) AS n FROM jobs GROUP BY webhook`,
  deadList: `SELECT id, webhook, event, attempts, error, failed_at, traceparent, tracestate FROM dead_letters
     WHERE (@webhook IS NULL OR webhook = @webhook) ORDER BY seq LIMIT @limit`,
  deadGet: `SELECT id, webhook, event, attempts, error, failed_at, traceparent, tracestate FROM dead_letters
     WHERE id = ?`,
  deadCounts: `SELECT webhook, count(*) AS n FROM dead_letters GROUP BY webhook`,
  deadWebhooks: `SELECT DISTINCT webhook FROM dead_letters WHERE (@webhook IS NULL OR webhook = @webhook)`,
  requeueOne: `INSERT INTO jobs (id, webhook, event_id, event, attempt, available_at, enqueued_at, traceparent, tracestate)
     SELECT id, webhook, json_extract(event, '$.event_id'), event, 0, ?, ?, traceparent, tracestate
     FROM dead_letters WHERE id = ?`,
  requeueAll: `INSERT INTO jobs (id, webhook, event_id, event, attempt, available_at, enqueued_at, traceparent, tracestate)
     SELECT id, webhook, json_extract(event, '$.event_id'), event, 0, @now, @now, traceparent, tracestate
     FROM dead_letters WHERE (@webhook IS NULL OR webhook = @webhook) ORDER BY seq`,
  deadDelete: `DELETE FROM dead_letters WHERE id = ?`,
  deadClear: `DELETE FROM dead_letters WHERE (@webhook IS NULL OR webhook = @webhook)`,
  incidentGet: `SELECT state FROM incidents WHERE webhook = ? AND key = ? AND expires_at > ?`,
  incidentPut: `INSERT OR REPLACE INTO incidents (webhook, key, state, expires_at) VALUES (?, ?, ?, ?)`,
  incidentPrune: `DELETE FROM incidents WHERE expires_at <= ?`,
} as const;

/** Every statement the queue runs, prepared once per open file. */
export type Statements = Readonly<Record<keyof typeof SQL, Database.Statement>>;

/** Prepares the queue's statements on `db` (its schema must be migrated). */
export function prepare(db: Database.Database): Statements {
  const statements = {} as Record<keyof typeof SQL, Database.Statement>;
  for (const name of Object.keys(SQL) as (keyof typeof SQL)[]) statements[name] = db.prepare(SQL[name]);
  return statements;
}
