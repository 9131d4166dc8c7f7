import { WebhookError } from '@empathy/webhooks-core';
import type { IncidentState, IncidentStore } from '@empathy/webhooks-core/queue';
import { incidentKey } from './keys.js';

/** Runs one of this package's Lua scripts. */
export type IncidentScriptRunner = (
  name: 'empathyIncidentGet' | 'empathyIncidentSet',
  keys: string[],
  args: (string | number)[],
) => Promise<unknown>;

/** How many times an update is recomputed when other workers keep changing the incident first. */
const MAX_TRIES = 50;

/**
 * Incident state in Redis, shared by every process on the queue's prefix: one hash per
 * (webhook, incident key) holding the state and a version, expiring `ttlMs` after its last
 * update. Updates are optimistic: read, change, then a compare-and-set script that writes only
 * if nobody wrote in between, else read again.
 */
export class RedisIncidentStore implements IncidentStore {
  readonly #prefix: string;
  readonly #run: IncidentScriptRunner;

  constructor(prefix: string, run: IncidentScriptRunner) {
    this.#prefix = prefix;
    this.#run = run;
  }

  async get(webhook: string, key: string): Promise<IncidentState | undefined> {
    return (await this.#read(incidentKey(this.#prefix, webhook, key))).state;
  }

  async update(
    webhook: string,
    key: string,
    change: (state: IncidentState | undefined) => IncidentState,
    ttlMs: number,
  ): Promise<IncidentState> {
    const redisKey = incidentKey(this.#prefix, webhook, key);
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const { version, state } = await this.#read(redisKey);
      const next = change(state);
      const written = await this.#run(
        'empathyIncidentSet',
        [redisKey],
        [version, JSON.stringify(next), Math.ceil(ttlMs)],
      );
      if (Number(written) === 1) return next;
      // Someone else wrote first: back off a little (more each time) and recompute.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * (tries + 1)));
    }
    throw new WebhookError(
      `BullMQQueue: incident state of '${webhook}' changed under ${MAX_TRIES} updates in a row; giving up this one`,
    );
  }

  async #read(redisKey: string): Promise<{ version: string; state: IncidentState | undefined }> {
    const [version, json] = (await this.#run('empathyIncidentGet', [redisKey], [])) as [
      string | null,
      string | null,
    ];
    if (version === null || json === null) return { version: '', state: undefined };
    return { version, state: JSON.parse(json) as IncidentState };
  }
}
