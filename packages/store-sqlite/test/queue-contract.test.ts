import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeQueueContract } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '../src/index.js';

describeQueueContract('SqliteQueue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-queue-contract-'));
  const path = join(dir, 'queue.db');
  return {
    durable: true,
    // A real file; a short poll so jobs left by a closed queue are found quickly after reopening.
    open: () => new SqliteQueue({ path, pollMs: 50 }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
});
