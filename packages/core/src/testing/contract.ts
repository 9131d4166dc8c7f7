import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../dispatcher.js';
import { isWebhookDeliveryError } from '../errors.js';
import { type EmpathyEvent, EVENT_TYPES, type EventSelector, type EventType } from '../events.js';
import { MAX_ERROR_DETAIL } from '../kit/delivery-errors.js';
import { privateAddressReason } from '../kit/ssrf.js';
import type { DeliveryContext, WebhookPlugin } from '../plugin.js';
import type { CircuitBreakerOptions } from '../policies/circuit-breaker.js';
import type { RetryPolicy } from '../policies/retry.js';
import type { DeliveryQueue } from '../queue/types.js';
import type { FakeResponse, FakeServer } from './fake-server.js';
import { hostileEvent, sampleEvent, UNSAFE_CHARACTERS } from './samples.js';

/**
 * A failure the vendor fake can be told to produce for the next request. `endless_body` and
 * `trickle_body` answer the vendor's success status and then a body that never ends (fast, or a
 * byte every 50 ms).
 */
export type ContractFailure =
  | 'server_error'
  | 'rate_limited'
  | 'client_error'
  | 'hang'
  | 'disconnect'
  | 'endless_body'
  | 'trickle_body';

/** Common options the contract suite passes to the plugin under test. */
export interface ContractPluginOptions {
  name: string;
  events: EventSelector[];
  retryPolicy: RetryPolicy;
  circuitBreaker: CircuitBreakerOptions | false;
  onFailure: (webhook: WebhookPlugin, event: EmpathyEvent, error: Error) => void;
  /** Set by the harness's fakes on 127.0.0.1; `false` in the cases that check the SSRF guard. */
  allowPrivateNetwork: boolean;
  /** The user's `format` hook, in the cases that check it. */
  format?: ((event: EmpathyEvent, defaults: any) => any) | undefined;
  /**
   * Point the plugin at this origin (`http://host:port`) instead of the fake's, keeping the rest
   * of its endpoint (path, token): the SSRF cases use private and loopback targets.
   */
  endpoint?: string | undefined;
}

/** What an integration gives the contract suite. */
export interface ContractHarness {
  /** Builds the plugin under test, pointed at the vendor fake, with these options merged in. */
  create(options: ContractPluginOptions): WebhookPlugin;
  /** Makes the vendor answer its next request with `failure` (the way that vendor does). */
  failNext(failure: ContractFailure, retryAfterSeconds?: number): void;
  /**
   * Requests the vendor received so far: when, the status it answered (0: none), and for a
   * streamed answer (`endless_body`, `trickle_body`) when the client closed the connection.
   */
  received(): { at: number; status: number; streamed?: boolean | undefined; closedAt?: number | undefined }[];
  /** The fake vendor's origin (`http://127.0.0.1:<port>`; for SMTP, `smtp://127.0.0.1:<port>`). */
  origin: string;
  /** Strings that must never appear in errors, stats or dead letters (tokens, webhook URLs). */
  secrets: string[];
  /**
   * Makes the vendor answer its next request with an error (a 4xx the vendor sends, e.g. 400 or
   * 401) whose message echoes `text` the way the vendor would (a JSON `message`, an `error`
   * field, an SMTP reply text).
   */
  echoNext(text: string): void;
  /**
   * What the vendor received for each delivered request, as text (raw bodies: JSON, form data, a
   * mail's decoded parts). The contract reads every string in it.
   */
  payloads(): string[];
  /** Returns `defaults` (the integration's payload) with `text` put where the vendor shows it. */
  mark(defaults: any, text: string): any;
  /** Event types the plugin handles. @default its `events`, or every built-in type for '*' */
  events?: EventType[] | undefined;
  /**
   * Puts back the fields of the hostile sample that decide where an event goes, which the vendor
   * must refuse as garbage (GitHub: a review's `data.repository` names the repository it is
   * for). Every other field stays hostile. @default the sample as it is
   */
  hostile?: ((event: EmpathyEvent) => EmpathyEvent) | undefined;
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
  /** A vendor error whose message echoes `text` (see {@link ContractHarness.echoNext}). */
  echo: (text: string) => FakeResponse;
  /** The vendor's success answer (status and headers; the body is replaced by a stream). @default 200, JSON */
  success?: FakeResponse | undefined;
}

/** Builds the `failNext` / `received` / `close` part of a harness over a {@link FakeServer}. */
export function fakeServerHarness(
  server: FakeServer,
  failures: VendorFailures,
): Pick<ContractHarness, 'failNext' | 'received' | 'close' | 'echoNext' | 'payloads' | 'origin'> {
  const success = failures.success ?? { status: 200, headers: { 'content-type': 'application/json' } };
  return {
    echoNext: (text) => server.respondNext(failures.echo(text)),
    payloads: () => server.requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.body),
    failNext(failure, retryAfterSeconds = 1) {
      if (failure === 'endless_body' || failure === 'trickle_body') {
        server.respondNext({
          status: success.status,
          headers: success.headers,
          body: typeof success.body === 'string' ? success.body : '',
          stream: failure === 'endless_body' ? 'endless' : 'trickle',
        });
      } else if (failure === 'hang') server.respondNext({ hang: true });
      else if (failure === 'disconnect') server.respondNext({ disconnect: true });
      else if (failure === 'rate_limited') server.respondNext(failures.rate_limited(retryAfterSeconds));
      else server.respondNext(failures[failure]);
    },
    received: () =>
      server.requests.map((r) => ({
        at: r.receivedAt,
        status: r.status,
        streamed: r.streamedBytes !== undefined,
        // A getter: the fake records the close after the request was listed.
        get closedAt() {
          return r.closedAt;
        },
      })),
    origin: server.url,
    close: () => server.close(),
  };
}

// Short waits between retries; a generous attempt timeout, so a loaded machine (CI on 2 cores)
// does not turn slow attempts into timeouts in cases that are not about timeouts. The timeout
// cases set their own.
const FAST_RETRIES: RetryPolicy = {
  maxRetries: 2,
  initialDelaySeconds: 0.05,
  backoffMultiplier: 1,
  timeoutSeconds: 15,
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

    const start = (
      retryPolicy: RetryPolicy = FAST_RETRIES,
      overrides: Partial<ContractPluginOptions> = {},
    ) => {
      failures = [];
      const plugin = harness.create({
        name: 'contract',
        events: ['*'],
        retryPolicy,
        circuitBreaker: false,
        onFailure: (_webhook, event, error) => void failures.push({ event, error }),
        allowPrivateNetwork: true,
        ...overrides,
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
    /** The plugin under test with the contract's options and `overrides` (no dispatcher). */
    const createWith = (overrides: Partial<ContractPluginOptions>) =>
      harness.create({
        name: 'contract',
        events: ['*'],
        retryPolicy: FAST_RETRIES,
        circuitBreaker: false,
        onFailure: (_webhook, event, error) => void failures.push({ event, error }),
        allowPrivateNetwork: true,
        ...overrides,
      });
    /** One direct attempt that must fail: its error. */
    const deliverError = async (plugin: WebhookPlugin): Promise<unknown> => {
      const event = firstEvent(plugin);
      try {
        await plugin.deliver(event, directContext(event));
      } catch (error) {
        return error;
      }
      return undefined;
    };
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

    for (const [failure, what] of [
      ['endless_body', 'a 2xx whose body never ends'],
      ['trickle_body', 'a 2xx whose body trickles'],
    ] as const) {
      it(`cuts ${what} at timeoutSeconds with bounded memory, then delivers to the recovered endpoint`, async () => {
        const plugin = start({ ...FAST_RETRIES, maxRetries: 0, timeoutSeconds: 1 });
        const before = process.memoryUsage();
        let peak = 0;
        const sampler = setInterval(() => {
          const now = process.memoryUsage();
          peak = Math.max(peak, now.rss - before.rss, now.arrayBuffers - before.arrayBuffers);
        }, 20);
        try {
          harness.failNext(failure);
          await dispatcher.dispatch(firstEvent(plugin));
          await dispatcher.flush();
        } finally {
          clearInterval(sampler);
        }
        // Whatever the first outcome (a 2xx is enough for some integrations), the attempt ended
        // and stopped reading: memory stayed bounded while the fake kept writing.
        expect(peak, 'memory grew while the body streamed').toBeLessThan(96 * 1024 * 1024);
        const next = sampleEvent(
          handled(plugin)[0] as (typeof EVENT_TYPES)[number],
          {},
          { eventId: 'evt_after' },
        );
        const outcomes: string[] = [];
        const off = dispatcher.monitor.on((o) => {
          if (o.eventId === 'evt_after') outcomes.push(o.kind);
        });
        await dispatcher.dispatch(next);
        await dispatcher.flush();
        off();
        expect(outcomes, 'the next delivery reached the recovered endpoint').toContain('delivered');
        await assertNoSecrets(stats());
        const streamed = harness.received().find((r) => r.streamed);
        if (streamed) {
          // The client, not the fake, ended the stream: by the deadline, with slack for a loaded machine.
          await expect.poll(() => streamed.closedAt, { timeout: 5_000 }).toBeDefined();
          expect(streamed.closedAt! - streamed.at).toBeLessThan(1_000 + 4_000);
        }
      });
    }

    it('leaks no 6-character piece of a secret that an error body echoes around the cut point', async () => {
      const plugin = start({ ...FAST_RETRIES, maxRetries: 0 });
      const event = firstEvent(plugin);
      const seen: unknown[] = [];
      const off = dispatcher.monitor.on((o) => seen.push(o));
      for (const secret of harness.secrets) {
        for (
          let offset = Math.max(0, MAX_ERROR_DETAIL - secret.length - 64);
          offset <= MAX_ERROR_DETAIL + 8;
          offset++
        ) {
          harness.echoNext(`${PAD.repeat(offset)}${secret}${PAD.repeat(16)}`);
          try {
            await plugin.deliver(event, directContext(event));
            throw new Error('the echoed error was reported as delivered');
          } catch (error) {
            seen.push(error, String(error), inspect(error, { depth: 12 }));
          }
        }
        // Once through the dispatcher too, cut mid-secret: stats, monitor, dead letters, onFailure.
        harness.echoNext(`${PAD.repeat(MAX_ERROR_DETAIL - Math.floor(secret.length / 2))}${secret}`);
        await dispatcher.dispatch({ ...event, event_id: `evt_echo_${seen.length}` });
        await dispatcher.flush();
      }
      off();
      const text = [
        ...seen.map((v) => (typeof v === 'string' ? v : inspect(v, { depth: 12 }))),
        ...seen.map((v) => (v instanceof Error ? JSON.stringify({ ...v, message: v.message }) : '')),
        JSON.stringify(stats()),
        JSON.stringify(await dispatcher.deadLetters.list()),
        ...failures.map((f) => inspect(f.error, { depth: 12 })),
      ].join('\n');
      expect(failures.length).toBe(harness.secrets.length);
      for (const piece of secretPieces(harness.secrets)) {
        for (let i = 0; i + 6 <= piece.length; i++) {
          const window = piece.slice(i, i + 6);
          if (!text.includes(window)) continue;
          expect.fail(`a 6-character piece of a secret leaked: ${JSON.stringify(window)}`);
        }
      }
    });

    it('refuses a private, loopback or metadata target before connecting, unless allowPrivateNetwork', async () => {
      const port = new URL(harness.origin).port;
      const before = harness.received().length;
      for (const endpoint of [
        'https://169.254.169.254',
        'https://10.0.0.1',
        'https://[fd00::1]',
        'https://[::ffff:127.0.0.1]',
        `http://127.0.0.1:${port}`,
        `http://localhost:${port}`,
      ]) {
        let refused: unknown;
        let plugin: WebhookPlugin | undefined;
        try {
          plugin = createWith({ endpoint, allowPrivateNetwork: false });
        } catch (error) {
          refused = error;
        }
        if (plugin) refused = await deliverError(plugin);
        expect(refused, `${endpoint} was not refused`).toBeDefined();
        expect(String((refused as Error).message)).toMatch(/allowPrivateNetwork/);
        await plugin?.close?.();
      }
      // A name that resolves to a private address is refused when connecting.
      const host = hostname();
      const { address } = await lookup(host);
      expect(
        privateAddressReason(address),
        `this machine's name ${host} resolves to a private address`,
      ).toBeDefined();
      // https: plain http is refused by itself without allowPrivateNetwork; this is the guard's case.
      const named = createWith({ endpoint: `https://${host}:${port}`, allowPrivateNetwork: false });
      const error = await deliverError(named);
      expect(isWebhookDeliveryError(error) && error.retryable, 'a refused address is permanent').toBe(false);
      expect(String((error as Error).message)).toMatch(/allowPrivateNetwork/);
      await named.close?.();
      expect(harness.received().length, 'nothing reached the fake').toBe(before);
      // The option is what allows it.
      const allowed = createWith({ endpoint: `http://${host}:${port}`, allowPrivateNetwork: true });
      await expect(
        allowed.deliver(firstEvent(allowed), directContext(firstEvent(allowed))),
      ).resolves.toBeDefined();
      await allowed.close?.();
    });

    it("sends what the user's format returns, and dead-letters only the event whose format throws", async () => {
      const MARK = 'format-override-7f3a';
      // One dispatcher on one queue: a second consumer of a shared queue (BullMQ) would race it.
      const custom = start(FAST_RETRIES, {
        format: (event: EmpathyEvent, defaults: unknown) => {
          if (event.event_id === 'evt_format_throws') throw new Error('my formatter broke');
          return harness.mark(defaults, MARK);
        },
      });
      const type = handled(custom)[0] as (typeof EVENT_TYPES)[number];
      await dispatcher.dispatch(sampleEvent(type, {}, { eventId: 'evt_format_throws' }));
      await dispatcher.dispatch(sampleEvent(type, {}, { eventId: 'evt_format_ok' }));
      await dispatcher.flush();
      expect(stats()).toMatchObject({ successCount: 1, failedCount: 1, retriedCount: 0 });
      expect(stats().lastError).toMatch(/format/);
      const letters = await dispatcher.deadLetters.list();
      expect(letters.map((l) => l.event.event_id)).toEqual(['evt_format_throws']);
      expect(failures.map((f) => f.event.event_id)).toEqual(['evt_format_throws']);
      expect(
        harness.payloads().some((p) => p.includes(MARK)),
        'the formatted payload was sent',
      ).toBe(true);
    });

    it('strips every unsafe character class from what it sends (the hostile sample)', async () => {
      const plugin = start();
      for (const type of handled(plugin)) {
        const event: EmpathyEvent = hostileEvent(type as (typeof EVENT_TYPES)[number]);
        await dispatcher.dispatch(harness.hostile ? harness.hostile(event) : event);
      }
      await dispatcher.flush();
      expect(stats()).toMatchObject({ failedCount: 0 });
      const payloads = harness.payloads();
      expect(payloads.length).toBeGreaterThanOrEqual(handled(plugin).length);
      for (const payload of payloads) {
        for (const text of textsOf(payload)) {
          const found = UNSAFE_CHARACTERS.exec(text);
          if (found) {
            expect.fail(
              `U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} was sent: …${JSON.stringify(text.slice(Math.max(0, found.index - 20), found.index + 20))}…`,
            );
          }
        }
      }
    });
  });
}

/** Padding for echoed secrets: a character no secret holds and the text policy keeps. */
const PAD = '\u00B7';

/** An attempt context for calling `deliver` directly (no dispatcher). */
function directContext(event: EmpathyEvent): DeliveryContext {
  return {
    signal: AbortSignal.timeout(10_000),
    attempt: 1,
    idempotencyKey: event.event_id,
    timeoutMs: 10_000,
  };
}

/** What a secret must not leak: the whole secret, or a URL's credential-bearing pieces. */
function secretPieces(secrets: string[]): string[] {
  const out: string[] = [];
  for (const secret of secrets) {
    let url: URL | undefined;
    try {
      url = /^[a-z][a-z0-9+.-]*:\/\//i.test(secret) ? new URL(secret) : undefined;
    } catch {
      url = undefined;
    }
    if (!url) {
      out.push(secret);
      continue;
    }
    const pieces = [
      ...url.pathname.split('/'),
      ...url.search
        .slice(1)
        .split('&')
        .map((p) => p.slice(p.indexOf('=') + 1)),
      url.username,
      url.password,
    ];
    // Plain lower-case words (`webhooks`, `services`) name a route, not a credential.
    out.push(...pieces.filter((p) => p.length >= 6 && !/^[a-z]+$/.test(p)));
  }
  return out;
}

/** Every string in a payload: the text itself, JSON leaves, form values, JSON inside those. */
function textsOf(payload: string, depth = 0): string[] {
  const out = [payload];
  if (depth > 3) return out;
  const trimmed = payload.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
    try {
      const walk = (value: unknown): void => {
        if (typeof value === 'string') out.push(...textsOf(value, depth + 1));
        else if (Array.isArray(value)) value.forEach(walk);
        else if (value && typeof value === 'object') {
          for (const [k, v] of Object.entries(value)) {
            out.push(k);
            walk(v);
          }
        }
      };
      walk(JSON.parse(trimmed));
      return out;
    } catch {
      // Not JSON.
    }
  }
  if (/^[\w.%-]+=/.test(trimmed) && !/\s/.test(trimmed)) {
    for (const [, value] of new URLSearchParams(trimmed)) out.push(...textsOf(value, depth + 1));
  }
  return out;
}
