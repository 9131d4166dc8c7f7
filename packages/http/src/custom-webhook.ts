import { isIP } from 'node:net';
import {
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  PayloadSigner,
  parseCommonOptions,
  parseRetryAfter,
  type RateLimit,
  type RetryPolicy,
  redact,
  safeOrigin,
  WebhookConfigError,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { Pool } from 'undici';
import { BlockedAddressError, guardedLookup, privateAddressReason } from '@empathy/webhooks-core/kit';
import { type Answer, send } from './transport.js';

/** HTTP methods a webhook may use. */
export type WebhookMethod = 'POST' | 'PUT' | 'PATCH';

/** Options of {@link CustomWebhook}: the seed's options in camelCase, plus `name`, `concurrency`, `allowPrivateNetwork`. */
export interface CustomWebhookOptions extends CommonWebhookOptions {
  /** The endpoint. `https:` in production; `http:` is accepted. @example 'https://your-service.com/webhooks/empathy' */
  url: string;
  /** @default 'POST' */
  method?: WebhookMethod | undefined;
  /** Extra request headers (e.g. `Authorization`); their values are treated as secrets. */
  headers?: Record<string, string> | undefined;
  /** Event types to send. @default ['*'] */
  events?: readonly EventSelector[] | undefined;
  /**
   * Secret for `X-Signature` and Standard Webhooks signatures. Several secrets (current first)
   * sign with each during a key rotation. A `whsec_…` secret is base64-decoded for Standard
   * Webhooks.
   */
  signingSecret?: string | readonly string[] | undefined;
  /** Adds the signature headers. @default true when `signingSecret` is set */
  signPayload?: boolean | undefined;
  /**
   * Allow loopback, private, link-local, CGNAT and cloud-metadata addresses (local development,
   * tests, a receiver on your own network). @default false
   */
  allowPrivateNetwork?: boolean | undefined;
  /** Most requests in flight (and pooled keep-alive connections). @default 16 */
  concurrency?: number | undefined;
  retryPolicy?: RetryPolicy | undefined;
  rateLimit?: RateLimit | undefined;
}

const USER_AGENT = 'empathy-webhooks/0.1 (+https://github.com/empathy-framework/webhooks)';
const METHODS: readonly WebhookMethod[] = ['POST', 'PUT', 'PATCH'];

/**
 * Sends every event it subscribes to as the seed's JSON payload to any HTTP endpoint: signed
 * (`X-Signature` and Standard Webhooks headers), over a keep-alive connection pool (undici),
 * behind an SSRF guard. Status codes and Retry-After drive core's retry policy.
 *
 * @example
 * const custom = new CustomWebhook({
 *   url: 'https://your-service.com/webhooks/empathy',
 *   headers: { Authorization: `Bearer ${process.env.API_TOKEN}` },
 *   events: ['*'],
 *   signingSecret: process.env.WEBHOOK_SECRET,
 *   retryPolicy: { maxRetries: 3, backoffMultiplier: 2, timeoutSeconds: 30 },
 * });
 */
export class CustomWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: CommonWebhookOptions['circuitBreaker'];
  readonly concurrency: number;
  readonly onFailure: CommonWebhookOptions['onFailure'];
  /** The endpoint's origin (safe to print). */
  readonly origin: string;
  /** The endpoint URL. Treat it as a credential: its path or query may carry one. */
  readonly url: string;
  readonly method: WebhookMethod;

  readonly #path: string;
  readonly #headers: string[];
  readonly #signer: PayloadSigner | undefined;
  readonly #secrets: string[];
  readonly #allowPrivateNetwork: boolean;
  #pool: Pool | undefined;

  constructor(options: CustomWebhookOptions) {
    if (options === null || typeof options !== 'object') {
      throw new WebhookConfigError('CustomWebhook: options must be an object');
    }
    const url = parseUrl(options.url, options.name);
    const common = parseCommonOptions(options, {
      // An IPv6 literal's brackets are not allowed in a name: `custom:[::1]:8080` → `custom:::1:8080`.
      name: `custom:${url.host.replace(/[[\]]/g, '')}`,
      events: ['*'],
      concurrency: 16,
    });
    const name = common.name;
    const method = (options.method ?? 'POST').toUpperCase() as WebhookMethod;
    if (!METHODS.includes(method)) {
      throw new WebhookConfigError(
        `option 'method' must be one of ${METHODS.join(', ')} (got ${JSON.stringify(options.method)})`,
        {
          webhook: name,
        },
      );
    }
    const allowPrivate = options.allowPrivateNetwork ?? false;
    if (typeof allowPrivate !== 'boolean') {
      throw new WebhookConfigError(`option 'allowPrivateNetwork' must be a boolean`, { webhook: name });
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const reason = isIP(host) ? privateAddressReason(host) : undefined;
    if (reason && !allowPrivate) {
      throw new WebhookConfigError(
        `option 'url' points at a ${reason} address (${safeOrigin(url)}); set allowPrivateNetwork: true to allow it`,
        { webhook: name },
      );
    }
    const headers = options.headers ?? {};
    if (typeof headers !== 'object' || Object.values(headers).some((v) => typeof v !== 'string')) {
      throw new WebhookConfigError(`option 'headers' must be an object of string values`, { webhook: name });
    }
    const signingSecret = options.signingSecret;
    const signPayload = options.signPayload ?? signingSecret !== undefined;
    if (signPayload && (signingSecret === undefined || signingSecret.length === 0)) {
      throw new WebhookConfigError(`option 'signPayload' needs a 'signingSecret'`, { webhook: name });
    }
    let signer: PayloadSigner | undefined;
    if (signPayload) {
      try {
        signer = new PayloadSigner(signingSecret as string | string[]);
      } catch (error) {
        throw new WebhookConfigError((error as Error).message, { webhook: name });
      }
    }

    this.name = name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;
    this.url = url.href;
    this.origin = url.origin;
    this.method = method;
    this.#path = `${url.pathname}${url.search}`;
    this.#signer = signer;
    this.#allowPrivateNetwork = allowPrivate;
    // Flat [name, value, …] arrays are what undici consumes without copying.
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    this.#headers = Object.entries({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...lower,
    }).flat();
    this.#secrets = [
      // 'Bearer <token>': the token alone is the secret too.
      ...Object.values(headers).flatMap((v) => [v, ...v.split(/\s+/).filter((part) => part.length >= 8)]),
      ...(typeof signingSecret === 'string' ? [signingSecret] : (signingSecret ?? [])),
      url.pathname.length > 1 ? url.pathname : undefined,
      url.search.length > 1 ? url.search.slice(1) : undefined,
      url.username || undefined,
      url.password || undefined,
    ].filter((s): s is string => typeof s === 'string' && s.length >= 4);
  }

  /**
   * One attempt: the event as JSON (signed when a secret is set) to `url`. A non-2xx answer
   * throws a {@link WebhookDeliveryError} with the status and any Retry-After for core's retry
   * policy; a refused (private) address is permanent.
   */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    // Encoded once: the same bytes are signed and sent.
    let body: Buffer;
    try {
      body = Buffer.from(JSON.stringify(event), 'utf8');
    } catch (error) {
      // A BigInt or a cycle in the event's data: no retry will fix that.
      throw new WebhookDeliveryError(`the event cannot be sent as JSON: ${(error as Error).message}`, {
        webhook: this.name,
        retryable: false,
        code: 'EINVALIDPAYLOAD',
      });
    }
    let headers = this.#headers;
    if (this.#signer) {
      const s = this.#signer.sign(body, event.event_id);
      headers = headers.concat(
        'x-signature',
        s['x-signature'],
        'webhook-id',
        s['webhook-id'],
        'webhook-timestamp',
        s['webhook-timestamp'],
        'webhook-signature',
        s['webhook-signature'],
      );
    }
    // Trace context for the receiver (telemetry on): after signing, so the signed bytes are unchanged.
    const trace = ctx.traceHeaders;
    if (trace) for (const name in trace) headers = headers.concat(name, trace[name]!);
    let answer: Answer;
    try {
      // undici's own timeouts end the request with core's per-attempt timeout, so no
      // AbortController is needed on the hot path.
      answer = await send(this.#connection(), {
        path: this.#path,
        method: this.method,
        headers,
        body,
        headersTimeout: ctx.timeoutMs,
        bodyTimeout: ctx.timeoutMs,
      });
    } catch (error) {
      throw this.#networkError(error);
    }
    const status = answer.status;
    if (status >= 200 && status < 300) return { status };
    const retryAfterMs = parseRetryAfter(answer.retryAfter);
    const snippet = redact(answer.body.slice(0, 200).replace(/\s+/g, ' ').trim(), this.#secrets);
    throw new WebhookDeliveryError(
      `HTTP ${status} from ${this.origin}${retryAfterMs !== undefined ? ` (retry after ${Math.ceil(retryAfterMs / 1000)}s)` : ''}${snippet ? `: ${snippet}` : ''}`,
      { webhook: this.name, status, retryAfterMs },
    );
  }

  /**
   * Closes the connection pool. The host calls it after its drain deadline, so requests still in
   * flight are aborted rather than awaited (a durable queue delivers those jobs again).
   */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.destroy();
  }

  #connection(): Pool {
    this.#pool ??= new Pool(this.origin, {
      connections: this.concurrency,
      keepAliveTimeout: 30_000,
      connect: this.#allowPrivateNetwork ? { timeout: 10_000 } : { timeout: 10_000, lookup: guardedLookup },
    });
    return this.#pool;
  }

  #networkError(error: unknown): WebhookDeliveryError {
    const cause = (error as { cause?: unknown }).cause;
    const blocked = [error, cause].find((e): e is BlockedAddressError => e instanceof BlockedAddressError);
    if (blocked) {
      return new WebhookDeliveryError(redact(blocked.message, this.#secrets), {
        webhook: this.name,
        retryable: false,
        code: blocked.code,
      });
    }
    const err = error as { code?: string; message?: string };
    const code = typeof err.code === 'string' ? err.code : undefined;
    return new WebhookDeliveryError(
      `request to ${this.origin} failed: ${redact(String(err.message ?? error), this.#secrets)}${code ? ` (${code})` : ''}`,
      { webhook: this.name, code, retryable: true },
    );
  }
}

function parseUrl(value: unknown, name: string | undefined): URL {
  const webhook = name ?? 'custom';
  if (typeof value !== 'string' || value.length === 0) {
    throw new WebhookConfigError(`option 'url' is required (a string like 'https://example.com/webhook')`, {
      webhook,
    });
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WebhookConfigError(`option 'url' is not a valid URL`, { webhook });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebhookConfigError(`option 'url' must be http: or https: (got ${url.protocol})`, { webhook });
  }
  return url;
}

/**
 * The seed's `WebhookConfig`: the same as {@link CustomWebhook} (a JSON POST of every subscribed
 * event to a URL), under the name the seed's Quick Start uses.
 */
export class WebhookConfig extends CustomWebhook {}

/** Options of {@link WebhookConfig}. */
export type WebhookConfigOptions = CustomWebhookOptions;
