import {
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  PayloadSigner,
  type RateLimit,
  type RetryPolicy,
  WebhookConfigError,
} from '@empathy/webhooks-core';
import {
  cleanJson,
  guardedLookup,
  httpError,
  type IncidentContext,
  networkError,
  parseHeaders,
  parseRetryAfter,
  permanentError,
  privateHostReason,
  userAgent,
  WebhookBase,
  type WebhookOptions,
} from '@empathy/webhooks-core/kit';
import { Pool } from 'undici';
import pkg from '../package.json' with { type: 'json' };
import { send } from './transport.js';
import { type CustomWebhookEvent, wireIncident } from './wire-incident.js';

/** HTTP methods a webhook may use. */
export type WebhookMethod = 'POST' | 'PUT' | 'PATCH';

/**
 * What a {@link CustomWebhook} sends as its JSON body: the event envelope (with its `incident`
 * block for an incident's event) by default, or what the user's `format` returns.
 */
export type CustomWebhookBody = CustomWebhookEvent | Record<string, unknown>;

/** Options of {@link CustomWebhook}: the seed's options in camelCase, plus `name`, `concurrency`, `allowPrivateNetwork`, `format`. */
export interface CustomWebhookOptions extends WebhookOptions<CustomWebhookBody> {
  /** The endpoint. `https:` in production; `http:` is accepted. @example 'https://your-service.com/webhooks/empathy' */
  url: string;
  /** @default 'POST' */
  method?: WebhookMethod | undefined;
  /**
   * Extra request headers (e.g. `Authorization`); their values are treated as secrets. Validated
   * at construction: token names, visible-ASCII values without CR/LF, no hop-by-hop headers.
   */
  headers?: Record<string, string> | undefined;
  /** Event types to send. @default ['*'] */
  events?: readonly EventSelector[] | undefined;
  /**
   * Secret for `X-Signature` and Standard Webhooks signatures. Several secrets (current first)
   * sign with each during a key rotation. For Standard Webhooks, `whsec_<base64>` and the bare
   * base64 text are the same key (as in every reference library); any other string is used as
   * its UTF-8 bytes. An empty, zero-byte or malformed (`whsec_!!!!`) secret is a
   * `WebhookConfigError`.
   */
  signingSecret?: string | readonly string[] | undefined;
  /** Adds the signature headers. @default true when `signingSecret` is set */
  signPayload?: boolean | undefined;
  /** Most requests in flight (and pooled keep-alive connections). @default 16 */
  concurrency?: number | undefined;
  retryPolicy?: RetryPolicy | undefined;
  rateLimit?: RateLimit | undefined;
}

// The bundler inlines package.json, so the published build names its own version.
const USER_AGENT = userAgent(pkg);
const METHODS: readonly WebhookMethod[] = ['POST', 'PUT', 'PATCH'];
const SIGNATURE_HEADERS = ['x-signature', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];

/**
 * Sends every event it subscribes to as the seed's JSON payload to any HTTP endpoint: signed
 * (`X-Signature` and Standard Webhooks headers), over a keep-alive connection pool (undici),
 * behind the kit's SSRF guard. Status codes and Retry-After drive core's retry policy.
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
export class CustomWebhook extends WebhookBase<CustomWebhookBody> {
  /** The endpoint's origin: the only part of the URL that is safe to print. */
  readonly target: string;
  /** The endpoint's origin (same as `target`). */
  readonly origin: string;
  readonly method: WebhookMethod;

  // Private: the URL's path and query, and the headers, may carry credentials.
  readonly #path: string;
  readonly #headers: string[];
  readonly #signer: PayloadSigner | undefined;
  #pool: Pool | undefined;

  constructor(options: CustomWebhookOptions) {
    if (options === null || typeof options !== 'object') {
      throw new WebhookConfigError('CustomWebhook: options must be an object');
    }
    const url = parseUrl(options.url, options.name);
    super(options, {
      // An IPv6 literal's brackets are not allowed in a name: `custom:[::1]:8080` → `custom:::1:8080`.
      name: `custom:${url.host.replace(/[[\]]/g, '')}`,
      events: ['*'],
      concurrency: 16,
    });
    const name = this.name;
    const method = (options.method ?? 'POST').toUpperCase() as WebhookMethod;
    if (!METHODS.includes(method)) {
      throw new WebhookConfigError(
        `option 'method' must be one of ${METHODS.join(', ')} (got ${JSON.stringify(options.method)})`,
        { webhook: name },
      );
    }
    const reason = this.allowPrivateNetwork ? undefined : privateHostReason(url.hostname);
    if (reason) {
      throw new WebhookConfigError(
        `option 'url' points at a ${reason} address (${url.origin}); set allowPrivateNetwork: true to allow it`,
        { webhook: name },
      );
    }
    const headers = parseHeaders(options.headers, {
      option: 'headers',
      webhook: name,
      reserved: SIGNATURE_HEADERS,
    });
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

    this.target = url.origin;
    this.origin = url.origin;
    this.method = method;
    this.#path = `${url.pathname}${url.search}`;
    this.#signer = signer;
    // Flat [name, value, …] arrays are what undici consumes without copying.
    this.#headers = Object.entries({
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...headers,
    }).flat();
    this.redactor.addUrl(url);
    for (const value of Object.values(headers)) this.redactor.addHeaderValue(value);
    for (const secret of typeof signingSecret === 'string' ? [signingSecret] : (signingSecret ?? [])) {
      this.redactor.addSecret(secret);
    }
  }

  /**
   * Closes the connection pool. The host calls it after its drain deadline, so requests still in
   * flight are aborted rather than awaited (a durable queue delivers those jobs again).
   */
  override async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await super.close();
    await pool?.destroy();
  }

  /**
   * The event envelope itself: the seed's payload. An event that belongs to an incident also
   * carries `incident: { key, status, occurrences, first_seen_at }` (the attempt's
   * `ctx.incident`), so a receiver can group its notifications; any other event is sent as is.
   */
  protected render(event: EmpathyEvent, incident?: IncidentContext): CustomWebhookBody {
    if (incident === undefined) return event;
    return { ...event, incident: wireIncident(incident) };
  }

  /**
   * One attempt: the body as JSON (signed when a secret is set) to `url`. A non-2xx answer
   * throws a delivery error with the status and any Retry-After for core's retry policy; a
   * refused (private) address is permanent.
   */
  protected send(
    body: CustomWebhookBody,
    event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    // Encoded once: the same bytes are signed and sent.
    let bytes: Buffer;
    try {
      // The text policy, at the cost of one scan when there is nothing to clean.
      bytes = Buffer.from(cleanJson(JSON.stringify(body)), 'utf8');
    } catch (error) {
      // A BigInt or a cycle in the event's data: no retry will fix that.
      return Promise.reject(
        permanentError(
          this.errors,
          `the event cannot be sent as JSON: ${(error as Error).message}`,
          'EINVALIDPAYLOAD',
        ),
      );
    }
    let headers = this.#headers;
    if (this.#signer) {
      const s = this.#signer.sign(bytes, event.event_id);
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
    return send(
      this.#connection(),
      {
        path: this.#path,
        method: this.method,
        headers,
        body: bytes,
        // undici's own timers at the attempt's deadline (its 300 s defaults cost measurably more
        // per request, see docs/benchmarks.md); the attempt's abort still cuts a trickling body.
        headersTimeout: ctx.timeoutMs,
        bodyTimeout: ctx.timeoutMs,
      },
      ctx,
    ).then(
      (answer) => {
        const status = answer.status;
        if (status >= 200 && status < 300) return { status };
        throw httpError(this.errors, {
          status,
          detail: answer.body,
          retryAfterMs: parseRetryAfter(answer.retryAfter),
        });
      },
      (error) => {
        throw networkError(this.errors, error);
      },
    );
  }

  #connection(): Pool {
    this.#pool ??= new Pool(this.origin, {
      connections: this.concurrency,
      keepAliveTimeout: 30_000,
      connect: this.allowPrivateNetwork ? { timeout: 10_000 } : { timeout: 10_000, lookup: guardedLookup },
    });
    return this.#pool;
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
