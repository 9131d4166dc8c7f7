import { isWebhookDeliveryError, WebhookConfigError } from '../errors.js';
import type { EmpathyEvent, EventSelector } from '../events.js';
import type { GroupOptions, IncidentContext } from '../incident.js';
import {
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  parseCommonOptions,
  type WebhookHost,
  type WebhookPlugin,
} from '../plugin.js';
import type { CircuitBreakerOptions } from '../policies/circuit-breaker.js';
import type { RateLimit } from '../policies/rate-limit.js';
import type { RetryPolicy } from '../policies/retry.js';
import { type ErrorScope, networkError, permanentError } from './delivery-errors.js';
import { Redactor } from './redact.js';
import { HttpTransport, type HttpTransportOptions } from './transport.js';

/**
 * A user's override of what is sent: receives the event and what the integration would send
 * (`defaults`, fully typed per vendor), returns what to send instead. The vendor's limits are
 * applied to the result. If it throws, that event is dead-lettered with the error; the webhook
 * goes on with the next one.
 *
 * @example
 * format: (event, defaults) => ({ ...defaults, text: `[${event.severity}] ${defaults.text}` })
 */
export type FormatHook<TPayload> = (event: EmpathyEvent, defaults: TPayload) => TPayload;

/** {@link CommonWebhookOptions} plus the user's {@link FormatHook} for a vendor payload. */
export interface WebhookOptions<TPayload> extends CommonWebhookOptions {
  /**
   * Changes what is sent: `(event, defaults) => payload`, where `defaults` is what this
   * integration would send. @default none: send the defaults
   */
  format?: FormatHook<TPayload> | undefined;
}

/** The methods {@link WebhookBase.sendJson} sends a JSON body with. */
export type JsonMethod = 'POST' | 'PUT' | 'PATCH';

/** The defaults an integration gives for the common options. */
export interface WebhookDefaults<TPayload = unknown> {
  /** The name when the user gives none (`'slack'`). */
  name: string;
  /** The events when the user gives none. */
  events?: readonly EventSelector[] | undefined;
  /** Deliveries in flight at once. @default 4 */
  concurrency?: number | undefined;
  /** The vendor's documented limit. */
  rateLimit?: RateLimit | undefined;
  /** Options of the lazily created {@link HttpTransport} (its `allowPrivateNetwork` is the user's). */
  transport?: Omit<HttpTransportOptions, 'allowPrivateNetwork'> | undefined;
  /**
   * The vendor's limits as a pure function, applied to whatever a user's `format` returns (see
   * {@link WebhookBase.fit}); an integration whose limits need its own state overrides `fit`.
   */
  fit?: ((payload: TPayload) => TPayload) | undefined;
  /** The `user-agent` of {@link WebhookBase.sendJson} (and `postJson`), e.g. `userAgent(pkg)`. @default '@empathy/webhooks' */
  userAgent?: string | undefined;
}

/**
 * The base of every built-in integration, for third-party ones too: the common options parsed
 * and validated once, the user's `format` hook, one guarded HTTP transport, one redactor and one
 * error scope. A subclass gives what is its own: `render` (event → vendor payload, pure),
 * optionally `fit` (the vendor's limits, applied to whatever is sent), and `send` (one attempt).
 *
 * Secrets live in `#private` fields or the {@link Redactor}, never in public fields, so
 * `console.log(webhook)` prints none; `target` is what is safe to print.
 *
 * @example
 * class PagerLite extends WebhookBase<{ summary: string }> {
 *   readonly target: string;
 *   readonly #url: URL;
 *   constructor(options: WebhookOptions<{ summary: string }> & { url: string }) {
 *     super(options, { name: 'pager-lite', events: ['alert'] });
 *     this.#url = parseEndpointOption(options.url, { option: 'url', webhook: this.name, what: 'the endpoint', allowPrivateNetwork: this.allowPrivateNetwork });
 *     this.redactor.addUrl(this.#url);
 *     this.target = this.#url.origin;
 *   }
 *   protected render(event: EmpathyEvent) { return { summary: summarizeEvent(event).title }; }
 *   protected async send(payload: { summary: string }, _event: EmpathyEvent, ctx: DeliveryContext) {
 *     const response = await this.http.fetch(this.#url, { method: 'POST', body: JSON.stringify(payload), signal: ctx.signal });
 *     if (!response.ok) throw httpError(this.errors, { status: response.status, detail: await readBodyText(response) });
 *     return { status: response.status };
 *   }
 * }
 */
export abstract class WebhookBase<TPayload> implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: CircuitBreakerOptions | false | undefined;
  readonly concurrency: number;
  readonly group: GroupOptions | undefined;
  readonly onFailure: CommonWebhookOptions['onFailure'];
  /** Where deliveries go, safe to print: an origin or a vendor API's name. */
  abstract readonly target: string;
  /** Whether private, loopback and metadata addresses may be reached (the user's option). */
  protected readonly allowPrivateNetwork: boolean;
  /** Every secret this webhook holds; the error builders redact with it. */
  protected readonly redactor: Redactor = new Redactor();
  readonly #format: FormatHook<TPayload> | undefined;
  readonly #transportOptions: WebhookDefaults['transport'];
  readonly #userAgent: string;
  readonly #fit: ((payload: TPayload) => TPayload) | undefined;
  #transport: HttpTransport | undefined;
  /** The hosts this webhook is registered in, the latest last. */
  readonly #hosts: WebhookHost[] = [];

  constructor(options: WebhookOptions<TPayload>, defaults: WebhookDefaults<TPayload>) {
    if (options === null || typeof options !== 'object') {
      throw new WebhookConfigError(`${defaults.name}: options must be an object`);
    }
    const common = parseCommonOptions(options, defaults);
    this.name = common.name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.group = common.group;
    this.onFailure = common.onFailure;
    this.allowPrivateNetwork = common.allowPrivateNetwork;
    if (options.format !== undefined && typeof options.format !== 'function') {
      throw new WebhookConfigError(`option 'format' must be a function (event, defaults) => payload`, {
        webhook: this.name,
      });
    }
    this.#format = options.format;
    this.#transportOptions = defaults.transport;
    this.#userAgent = defaults.userAgent ?? '@empathy/webhooks';
    this.#fit = defaults.fit;
  }

  /**
   * What this webhook sends for `event`: the integration's rendering, the user's `format`, then
   * the vendor's limits. Throws a permanent {@link WebhookDeliveryError} (code `EFORMAT`) when
   * `format` throws or returns nothing. `incident` is the attempt's `ctx.incident`: where the
   * event's incident stands (fired N times, resolved), which the rendering shows.
   */
  payload(event: EmpathyEvent, incident?: IncidentContext): TPayload {
    const defaults = this.render(event, incident);
    const format = this.#format;
    if (format === undefined) return defaults;
    let custom: TPayload;
    try {
      custom = format(event, defaults);
    } catch (error) {
      throw permanentError(this.errors, `option 'format' threw: ${describe(error)}`, 'EFORMAT', error);
    }
    if (custom === undefined || custom === null || typeof custom !== 'object') {
      throw permanentError(
        this.errors,
        `option 'format' must return the payload to send (got ${typeof custom})`,
        'EFORMAT',
      );
    }
    if (typeof (custom as { then?: unknown }).then === 'function') {
      throw permanentError(this.errors, `option 'format' must return the payload, not a Promise`, 'EFORMAT');
    }
    try {
      return this.fit(custom);
    } catch (error) {
      throw permanentError(
        this.errors,
        `the payload returned by 'format' cannot be sent: ${describe(error)}`,
        'EFORMAT',
        error,
      );
    }
  }

  /** One attempt: {@link payload}, then {@link send}. Anything but a delivery error is a network error. */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const payload = this.payload(event, ctx.incident);
    try {
      return await this.send(payload, event, ctx);
    } catch (error) {
      throw isWebhookDeliveryError(error) ? error : networkError(this.errors, error);
    }
  }

  /** {@link WebhookPlugin.attach}: remembers the host until the webhook is removed from it. */
  attach(host: WebhookHost): () => void {
    this.#hosts.push(host);
    return () => {
      const at = this.#hosts.indexOf(host);
      if (at !== -1) this.#hosts.splice(at, 1);
    };
  }

  /**
   * Queues `event` for this webhook alone in the host it was last registered in: a job like any
   * delivery (rate limit, retries, monitor, dead letters, `onFailure`). For methods of an
   * integration that send something of their own. Rejects with a {@link WebhookConfigError}
   * when the webhook is registered nowhere, or its host is closed.
   */
  protected enqueue(event: EmpathyEvent): Promise<void> {
    const host = this.#hosts.at(-1);
    if (host === undefined) {
      return Promise.reject(
        new WebhookConfigError(
          'this webhook is not registered in an EmpathyOS or Dispatcher: register it first, its jobs run there',
          { webhook: this.name },
        ),
      );
    }
    return host.enqueue(event);
  }

  /** Releases the transport's connections. Subclasses that hold more call `super.close()`. */
  async close(): Promise<void> {
    this.#transport?.close();
  }

  /** The guarded HTTP transport, made on first use. */
  protected get http(): HttpTransport {
    this.#transport ??= new HttpTransport({
      ...this.#transportOptions,
      allowPrivateNetwork: this.allowPrivateNetwork,
    });
    return this.#transport;
  }

  /**
   * One JSON POST through {@link http}, aborted by the attempt's signal: what most vendor APIs
   * take. `body` is JSON-encoded unless it is a string already (encoded by the caller). The
   * answer's body is the caller's to read (bounded: `readBodyJson`) or cancel.
   */
  protected postJson(
    url: URL | string,
    body: unknown,
    ctx: Pick<DeliveryContext, 'signal'>,
    headers: Readonly<Record<string, string>> = {},
  ): Promise<Response> {
    return this.sendJson('POST', url, body, ctx, headers);
  }

  /**
   * {@link postJson} with another method, for vendor APIs that update what a POST created
   * (`PATCH` a message, `PUT` a record): the same JSON body, `content-type`, `user-agent` and
   * abort at the attempt's signal. `headers` are added to (and may override) those two.
   *
   * @example
   * const response = await this.sendJson('PATCH', `${this.#messages}/${id}`, edit, ctx, { authorization });
   */
  protected sendJson(
    method: JsonMethod,
    url: URL | string,
    body: unknown,
    ctx: Pick<DeliveryContext, 'signal'>,
    headers: Readonly<Record<string, string>> = {},
  ): Promise<Response> {
    return this.http.fetch(url, {
      method,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: ctx.signal,
      headers: { 'content-type': 'application/json', 'user-agent': this.#userAgent, ...headers },
    });
  }

  /** What the error builders need: this webhook's name, target and secrets. */
  protected get errors(): ErrorScope {
    return { webhook: this.name, target: this.target, redactor: this.redactor };
  }

  /**
   * The event as the vendor's payload: pure, within the vendor's limits. `incident`, when the
   * event belongs to one, says whether it is firing or resolved and how many times it fired
   * (`summarizeEvent(event, incident)` reads it into the title and facts).
   */
  protected abstract render(event: EmpathyEvent, incident?: IncidentContext): TPayload;

  /**
   * Applies the vendor's limits to a payload the user's `format` returned (cut text, drop
   * blocks past a count). Throws when the payload cannot be sent at all. @default unchanged
   */
  protected fit(payload: TPayload): TPayload {
    return this.#fit ? this.#fit(payload) : payload;
  }

  /** One attempt to send `payload`; throws a delivery error built with `httpError` / `networkError`. */
  protected abstract send(
    payload: TPayload,
    event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
