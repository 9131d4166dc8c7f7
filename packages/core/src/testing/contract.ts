import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../dispatcher.js';
import { isWebhookDeliveryError } from '../errors.js';
import { type EmpathyEvent, EVENT_TYPES, type EventSelector, type EventType } from '../events.js';
import type { WebhookPlugin } from '../plugin.js';
import type { CircuitBreakerOptions } from '../policies/circuit-breaker.js';
import type { RetryPolicy } from '../policies/retry.js';
import type { DeliveryQueue } from '../queue/types.js';
import type { FakeResponse, FakeServer } from './fake-server.js';
import { sampleEvent } from './samples.js';

/** A failure the vendor fake can be told to produce for the next request. */
export type ContractFailure = 'server_error' | 'rate_limited' | 'client_error' | 'hang' | 'disconnect';

/** Common options the contract suite passes to the plugin under test. */
export interface ContractPluginOptions {
  name: string;
  events: EventSelector[];
  retryPolicy: RetryPolicy;
  circuitBreaker: CircuitBreakerOptions | false;
  onFailure: (webhook: WebhookPlugin, event: EmpathyEvent, error: Error) => void;
}

/** What an integration gives the contract suite. */
export interface ContractHarness {
  /** Builds the plugin under test, pointed at the vendor fake, with these options merged in. */
  create(options: ContractPluginOptions): WebhookPlugin;
  /** Makes the vendor answer its next request with `failure` (the way that vendor does). */
  failNext(failure: ContractFailure, retryAfterSeconds?: number): void;
  /** Requests the vendor received so far: when, and the status it answered (0: none). */
  received(): { at: number; status: number }[];
  /** Strings that must never appear in errors, stats or dead letters (tokens, webhook URLs). */
  secrets: string[];
  /** Event types the plugin handles. @default its `events`, or every built-in type for '*' */
  events?: EventType[] | undefined;
  /**
   * A fresh queue per test, to run the contract on a durable or distributed queue.
   * @default a new in-memory queue
   */
  queue?: (() => DeliveryQueue) | undefined;
  /** Stops the fake. */
  close(): Promise<void>;
}

/** How a vendor answers each {@link ContractFailure}, for {@link fakeServerHarness}. */
export interface VendorFailures {
  server_error: FakeResponse;
  rate_limited: (retryAfterSeconds: number) => FakeResponse;
  client_error: FakeResponse;
}

/** Builds the `failNext` / `received` / `close` part of a harness over a {@link FakeServer}. */
export function fakeServerHarness(
  server: FakeServer,
  failures: VendorFailures,
): Pick<ContractHarness, 'failNext' | 'received' | 'close'> {
  return {
    failNext(failure, retryAfterSeconds = 1) {
      if (failure === 'hang') server.respondNext({ hang: true });
      else if (failure === 'disconnect') server.respondNext({ disconnect: true });
      else if (failure === 'rate_limited') server.respondNext(failures.rate_limited(retryAfterSeconds));
      else server.respondNext(failures[failure]);
    },
    received: () => server.requests.map((r) => ({ at: r.receivedAt, status: r.status })),
    close: () => server.close(),
  };
}

const FAST_RETRIES: RetryPolicy = {
  maxRetries: 2,
  initialDelaySeconds: 0.05,
  backoffMultiplier: 1,
  timeoutSeconds: 1,
  jitter: false,
};

/**
 * The shared contract every integration passes, run against a fake of its vendor with the real
 * SDK pointed at it: every handled event type is delivered; 5xx, network errors and timeouts are
 * retried; 429 waits for Retry-After; a permanent refusal is not retried, ends in the dead
 * letters and calls `onFailure` once; no secret leaks into errors, stats or dead letters.
 *
 * @example
 * describeWebhookContract('slack (bot token)', async () => {
 *   const server = await createFakeServer(slackApi);
 *   return { ...fakeServerHarness(server, slackFailures), secrets: [TOKEN],
 *     create: (o) => new SlackWebhook({ ...o, token: TOKEN, channel: '#ai', baseUrl: server.url }) };
 * });
 */
export function describeWebhookContract(title: string, setup: () => Promise<ContractHarness>): void {
  describe(`${title}: webhook plugin contract`, () => {
    let harness: ContractHarness;
    let dispatcher: Dispatcher;
    let failures: { event: EmpathyEvent; error: Error }[];

    const start = (retryPolicy: RetryPolicy = FAST_RETRIES) => {
      failures = [];
      const plugin = harness.create({
        name: 'contract',
        events: ['*'],
        retryPolicy,
        circuitBreaker: false,
        onFailure: (_webhook, event, error) => void failures.push({ event, error }),
      });
      dispatcher = new Dispatcher({ webhooks: [plugin], queue: harness.queue?.() });
      return plugin;
    };
    const handled = (plugin: WebhookPlugin): EventType[] =>
      harness.events ??
      (plugin.events.includes('*')
        ? [...EVENT_TYPES]
        : (plugin.events.filter((e) => e !== '*') as EventType[]));
    const stats = () => dispatcher.monitor.getWebhookStats('contract');
    const firstEvent = (plugin: WebhookPlugin) =>
      sampleEvent(handled(plugin)[0] as (typeof EVENT_TYPES)[number]);
    const assertNoSecrets = async (...values: unknown[]) => {
      const text = [
        ...values.map((v) => inspect(v, { depth: 12, showHidden: false })),
        JSON.stringify(stats()),
        JSON.stringify(await dispatcher.deadLetters.list()),
      ].join('\n');
      for (const secret of harness.secrets) expect(text, 'a secret leaked').not.toContain(secret);
    };

    beforeEach(async () => {
      harness = await setup();
    });
    afterEach(async () => {
      await dispatcher?.close({ drainMs: 0 });
      await harness.close();
    });

    it('delivers every event type it handles', async () => {
      const plugin = start();
      const types = handled(plugin);
      expect(types.length).toBeGreaterThan(0);
      for (const type of types) {
        await dispatcher.dispatch(
          sampleEvent(type as (typeof EVENT_TYPES)[number], {}, { eventId: `evt_contract_${type}` }),
        );
      }
      await dispatcher.flush();
      expect(stats()).toMatchObject({ successCount: types.length, failedCount: 0 });
      expect(harness.received().length).toBeGreaterThanOrEqual(types.length);
    });

    it('retries a server error, then delivers', async () => {
      const plugin = start();
      harness.failNext('server_error');
      await dispatcher.dispatch(firstEvent(plugin));
      await dispatcher.flush();
      expect(stats()).toMatchObject({ successCount: 1, failedCount: 0, retriedCount: 1, totalSent: 2 });
      expect(harness.received().some((r) => r.status >= 500)).toBe(true);
      await assertNoSecrets(stats());
    });

    it('waits for Retry-After when rate limited', async () => {
      const plugin = start();
      harness.failNext('rate_limited', 1);
      await dispatcher.dispatch(firstEvent(plugin));
      await dispatcher.flush();
      const received = harness.received();
      const limited = received.findIndex((r) => r.status === 429);
      expect(limited, 'the fake answered 429').toBeGreaterThanOrEqual(0);
      const next = received[limited + 1];
      expect(next, 'a retry followed the 429').toBeDefined();
      expect(next!.at - received[limited]!.at).toBeGreaterThanOrEqual(900);
      expect(stats()).toMatchObject({ successCount: 1, retriedCount: 1 });
    });

    it('does not retry a permanent refusal: dead letter and onFailure once', async () => {
      const plugin = start();
      harness.failNext('client_error');
      const event = firstEvent(plugin);
      await dispatcher.dispatch(event);
      await dispatcher.flush();
      expect(stats()).toMatchObject({ successCount: 0, failedCount: 1, retriedCount: 0, totalSent: 1 });
      expect(failures).toHaveLength(1);
      expect(failures[0]!.event.event_id).toBe(event.event_id);
      expect(isWebhookDeliveryError(failures[0]!.error)).toBe(true);
      expect((failures[0]!.error as { retryable?: boolean }).retryable).toBe(false);
      expect(failures[0]!.error.message).toMatch(/^\[contract\] /);
      const letters = await dispatcher.deadLetters.list();
      expect(letters).toHaveLength(1);
      expect(letters[0]!.event.event_id).toBe(event.event_id);
      await assertNoSecrets(failures[0]!.error, letters);
    });

    it('replays a dead letter once the vendor recovers', async () => {
      const plugin = start();
      harness.failNext('client_error');
      await dispatcher.dispatch(firstEvent(plugin));
      await dispatcher.flush();
      const [letter] = await dispatcher.deadLetters.list();
      expect(await dispatcher.deadLetters.get(letter!.id)).toEqual(letter);
      expect(await dispatcher.deadLetters.get('no-such-letter')).toBeUndefined();
      expect(await dispatcher.deadLetters.replay(letter!.id)).toBe(true);
      await dispatcher.flush();
      expect(stats()).toMatchObject({ successCount: 1, failedCount: 1, pendingCount: 0 });
      expect(await dispatcher.deadLetters.list()).toHaveLength(0);
      expect(await dispatcher.deadLetters.get(letter!.id)).toBeUndefined();
    });

    it('times out a hung attempt and retries it', async () => {
      const plugin = start({ ...FAST_RETRIES, timeoutSeconds: 0.5 });
      harness.failNext('hang');
      await dispatcher.dispatch(firstEvent(plugin));
      await dispatcher.flush();
      expect(stats()).toMatchObject({ successCount: 1, retriedCount: 1 });
      expect(stats().lastError).toMatch(/timed out/);
    });

    it('retries a dropped connection', async () => {
      const plugin = start();
      harness.failNext('disconnect');
      await dispatcher.dispatch(firstEvent(plugin));
      await dispatcher.flush();
      expect(stats()).toMatchObject({ successCount: 1, retriedCount: 1 });
      await assertNoSecrets(stats());
    });

    it('gives up after maxRetries and keeps the last error, without secrets', async () => {
      const plugin = start({ ...FAST_RETRIES, maxRetries: 1 });
      harness.failNext('server_error');
      harness.failNext('server_error');
      await dispatcher.dispatch(firstEvent(plugin));
      await dispatcher.flush();
      expect(stats()).toMatchObject({ successCount: 0, failedCount: 1, totalSent: 2, retriedCount: 1 });
      expect(failures).toHaveLength(1);
      expect((failures[0]!.error as { status?: number }).status).toBeGreaterThanOrEqual(500);
      await assertNoSecrets(failures[0]!.error);
    });
  });
}
