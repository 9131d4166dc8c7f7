import type Database from 'better-sqlite3';

/**
 * Schema migrations, in order. Migration `i` takes the file from `user_version = i` to `i + 1`.
 * Never edit a released migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: jobs waiting or in flight, dead letters, and a short log of deliveries. The hot tables have
  // no index on a random key (ids hold a UUID): each would dirty a random page per row and
  // multiply the bytes every commit writes. Rows arrive and leave in `seq` order.

  `
  CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY,            -- arrival order (rowid)
    id           TEXT    NOT NULL,               -- '<event_id>:<webhook>'
    webhook      TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    event        TEXT    NOT NULL,               -- the event envelope, JSON
    attempt      INTEGER NOT NULL DEFAULT 0,     -- attempts already made
    available_at INTEGER NOT NULL,               -- epoch ms before which the job must not run
    enqueued_at  INTEGER NOT NULL,
    last_error   TEXT,                           -- JobError, JSON
    lease_owner  TEXT,                           -- '<host>:<pid>:<nonce>' of the process running it
    lease_until  INTEGER NOT NULL DEFAULT 0      -- epoch ms; the lease is free at or after this
  );
  CREATE INDEX jobs_due ON jobs (webhook, available_at);

  CREATE TABLE dead_letters (
    seq       INTEGER PRIMARY KEY,
    id        TEXT    NOT NULL UNIQUE,
    webhook   TEXT    NOT NULL,
    event     TEXT    NOT NULL,
    attempts  INTEGER NOT NULL,
    error     TEXT    NOT NULL,
    failed_at INTEGER NOT NULL
  );
  CREATE INDEX dead_letters_webhook ON dead_letters (webhook);

  CREATE TABLE deliveries (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL,
    webhook      TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    status       INTEGER,
    delivered_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_time ON deliveries (delivered_at);
  `,
  // 2: the W3C trace context of the emit that queued a job, kept with the job and its dead letter
  // so that a delivery after a restart or in another process continues the trace. Adding a
  // nullable column rewrites nothing: existing rows read NULL (no trace).
  `
  ALTER TABLE jobs ADD COLUMN traceparent TEXT;
  ALTER TABLE jobs ADD COLUMN tracestate TEXT;
  ALTER TABLE dead_letters ADD COLUMN traceparent TEXT;
  ALTER TABLE dead_letters ADD COLUMN tracestate TEXT;
  `,
  // 3: incident state per (webhook, incident key): the vendor's references to what was sent and
  // the counts of \`group\`, so a restart between "fired" and "resolved" updates the original.
  `
  CREATE TABLE incidents (
    webhook    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    state      TEXT    NOT NULL,                 -- IncidentState, JSON
    expires_at INTEGER NOT NULL,                 -- epoch ms
    PRIMARY KEY (webhook, key)
  ) WITHOUT ROWID;
  CREATE INDEX incidents_expiry ON incidents (expires_at);
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the file up to {@link SCHEMA_VERSION} in one immediate transaction, so two processes
 * opening a new file at once migrate it once. Throws if the file is newer than this build.
 */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `the file has schema version ${version}, newer than this package's ${SCHEMA_VERSION}: upgrade @empathy/webhooks-store-sqlite`,
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (version !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
