import { incidentOf } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, runIncidentSequence } from '@empathy/webhooks-core/testing';
import { CustomWebhook } from '@empathy/webhooks-http';
import { afterEach, expect, it } from 'vitest';
import { SqliteQueue } from '../src/index.js';
import { tempDb } from './helpers.js';

// CustomWebhook cannot test this itself: store-sqlite depends on it, so the reverse would be a cycle.
let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
});

it("CustomWebhook's incident block keeps its count and first-seen time across a SqliteQueue restart", async () => {
  server = await createFakeServer(() => ({ status: 200 }));
  const path = tempDb();
  const { events } = await runIncidentSequence({
    webhook: () => new CustomWebhook({ url: `${server!.url}/hooks`, allowPrivateNetwork: true }),
    queue: () => new SqliteQueue({ path, pollMs: 20 }),
    restartBeforeResolve: true,
  });
  const blocks = server.requests.map((r) => (r.json() as { incident: Record<string, unknown> }).incident);
  const key = incidentOf(events[0]!)!.key;
  expect(blocks.map((b) => [b.key, b.status, b.occurrences])).toEqual([
    [key, 'firing', 1],
    [key, 'firing', 2],
    [key, 'firing', 3],
    [key, 'firing', 4],
    [key, 'resolved', 4],
  ]);
  expect(new Set(blocks.map((b) => b.first_seen_at)).size).toBe(1);
});
