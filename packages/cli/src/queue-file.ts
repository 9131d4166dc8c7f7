import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DeadLetterStore } from '@empathy/webhooks-core';
import { UsageError } from './args.js';

/** What the CLI uses of a `SqliteQueue`. */
export interface QueueFile {
  readonly deadLetters: DeadLetterStore;
  pending(webhook?: string): Promise<number>;
  pendingByWebhook(): Promise<Record<string, number>>;
  delivered(filter?: { webhook?: string }): Promise<{ webhook: string; attempts: number }[]>;
  close(options?: { drainMs?: number }): Promise<void>;
}

/** Thrown when the file cannot be used; printed as one line, exit code 1. */
export class QueueFileError extends Error {
  override name = 'QueueFileError';
}

const PACKAGE = '@empathy/webhooks-store-sqlite';

/**
 * Opens a `SqliteQueue` file an application writes to. Refuses a missing file, or one that is not
 * a queue file (so that pointing `--db` at another SQLite database never adds tables to it).
 */
export async function openQueueFile(path: string | undefined, cwd = process.cwd()): Promise<QueueFile> {
  if (path === undefined || path === '') throw new UsageError('option --queue <file.db> needs a file');
  let mod: typeof import('@empathy/webhooks-store-sqlite');
  try {
    mod = await import(PACKAGE);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(PACKAGE)) {
      throw new QueueFileError(
        `this command reads SqliteQueue files and needs ${PACKAGE}: install it next to the CLI ` +
          `(npm install -g ${PACKAGE}, or npx -p @empathy/webhooks-cli -p ${PACKAGE} empathy-webhooks …)`,
      );
    }
    throw new QueueFileError(`cannot load ${PACKAGE}: ${e.message}`);
  }
  await checkQueueFile(path, cwd);
  const queue = new mod.SqliteQueue({ path: resolve(cwd, path) });
  try {
    // Opens the file now, so that a broken file is reported here and not halfway through a command.
    await queue.pending();
  } catch (error) {
    await queue.close({ drainMs: 0 }).catch(() => {});
    const cause = (error as Error).cause as Error | undefined;
    throw new QueueFileError(`cannot open ${path}: ${cause?.message ?? (error as Error).message}`);
  }
  return queue;
}

/**
 * Refuses a missing file, or one that is not a `SqliteQueue` file: an SQLite database whose
 * `user_version` is set (SqliteQueue's schema version). In WAL mode a new file's header may lag
 * behind its `-wal` file, which is then trusted. Messages name `path` as given.
 */
export async function checkQueueFile(path: string, cwd = process.cwd()): Promise<void> {
  const file = resolve(cwd, path);
  let header: Buffer;
  try {
    const handle = await open(file, 'r');
    try {
      header = Buffer.alloc(100);
      const { bytesRead } = await handle.read(header, 0, 100, 0);
      header = header.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new QueueFileError(
      code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path} (${code ?? 'error'})`,
    );
  }
  if (header.length < 100 || header.subarray(0, 16).toString('latin1') !== 'SQLite format 3\u0000') {
    throw new QueueFileError(`${path} is not an SQLite file`);
  }
  if (header.readUInt32BE(60) === 0) {
    const wal = await open(`${file}-wal`, 'r').then(
      (h) => h.close().then(() => true),
      () => false,
    );
    if (!wal) throw new QueueFileError(`${path} is not a SqliteQueue file (no schema version)`);
  }
}
