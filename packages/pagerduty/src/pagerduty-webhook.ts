import {
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  parseCommonOptions,
  type RateLimit,
  type RetryPolicy,
  safeOrigin,
  WebhookConfigError,
  type WebhookPlugin,
  WebhookTimeoutError,
} from '@empathy/webhooks-core';
import ky, { type KyInstance } from 'ky';
import { eventsApiError, networkError, parseBody } from './errors.js';
import {
  type FormatOptions,
  formatPagerDutyEvent,
  incidentKey,
  MAX_DEDUP_KEY,
  type PagerDutyAction,
  type PagerDutyEventBody,
} from './format.js';

/** Where PagerDuty receives events, per service region. */
export const PAGERDUTY_REGIONS = {
  us: 'https://events.pagerduty.com',
  eu: 'https://events.eu.pagerduty.com',
} as const;

/** A PagerDuty service region. */
export type PagerDutyRegion = keyof typeof PAGERDUTY_REGIONS;

/** Options for {@link PagerDutyWebhook}. */
export interface PagerDutyWebhookOptions extends CommonWebhookOptions {
  /**
   * The 32-character integration key of an "Events API v2" integration on a PagerDuty service
   * (or an event orchestration). A credential: it never appears in errors or stats.
   * @example process.env.PAGERDUTY_ROUTING_KEY
   */
  routingKey: string;
  /** Event types that open incidents. @default ['alert'] */
  events?: readonly EventSelector[] | undefined;
  /**
   * Only these events page. @example (event) => event.severity === 'high' || event.severity === 'critical'
   * @default every event of `events`
   */
  filter?: ((event: EmpathyEvent) => boolean) | undefined;
  /** The service region of your PagerDuty account. @default 'us' */
  region?: PagerDutyRegion | undefined;
  /**
   * Send to this origin instead of the region's (a proxy, or a local fake in tests). The path
   * `/v2/enqueue` is appended.
   * @default the region's endpoint: 'https://events.pagerduty.com'
   */
  baseUrl?: string | undefined;
  /**
   * `payload.source` when the event names no affected system itself (`data.source`, else
   * `data.service`). @default 'empathy-framework'
   */
  source?: string | undefined;
  /** `payload.component`, e.g. `'auth-service'`. @default none */
  component?: string | undefined;
  /** `payload.group`, e.g. `'prod-datapipe'`. @default none */
  group?: string | undefined;
  /**
   * Computes the `dedup_key` (at most 255 characters). Events with the same key update one
   * incident; a resolve with it closes that incident.
   * @default `data.dedup_key` if set, else a fingerprint of the fields that identify the condition
   */
  dedupKey?: ((event: EmpathyEvent) => string) | undefined;
  /** @default { maxRequestsPerMinute: 120 } (PagerDuty's limit per routing key) */
  rateLimit?: RateLimit | undefined;
  /**
   * Deliveries in flight at once. One keeps a trigger and its resolve in order.
   * @default 1
   */
  concurrency?: number | undefined;
}

/** Options of {@link PagerDutyWebhook.resolve} and {@link PagerDutyWebhook.acknowledge}. */
export interface PagerDutyActionOptions {
  /** Aborts the request. A timeout of the retry policy's `timeoutSeconds` applies regardless. */
  signal?: AbortSignal | undefined;
}

/** PagerDuty's Events API v2 rate limit per routing key. */
export const PAGERDUTY_RATE_LIMIT = { maxRequestsPerMinute: 120 } as const satisfies RateLimit;

const DEFAULT_TIMEOUT_SECONDS = 30;

/**
 * Opens, updates and resolves PagerDuty incidents through the Events API v2. Each event becomes a
 * `trigger` whose `dedup_key` is a stable fingerprint of the condition, so repeats update one
 * incident; an event with `data.resolved: true` resolves it.
 *
 * @example
 * const pagerduty = new PagerDutyWebhook({
 *   routingKey: process.env.PAGERDUTY_ROUTING_KEY!,
 *   events: ['alert'],
 *   filter: (event) => event.severity === 'high',
 * });
 * const empathy = new EmpathyOS({ userId: 'ops', webhooks: [pagerduty] });
 */
export class PagerDutyWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: WebhookPlugin['circuitBreaker'];
  readonly concurrency: number;
  readonly onFailure: WebhookPlugin['onFailure'];
  readonly #routingKey: string;
  readonly #endpoint: string;
  readonly #origin: string;
  readonly #format: FormatOptions;
  #http: KyInstance | undefined;

  constructor(options: PagerDutyWebhookOptions) {
    const common = parseCommonOptions(options, {
      name: 'pagerduty',
      events: ['alert'],
      concurrency: 1,
      rateLimit: PAGERDUTY_RATE_LIMIT,
    });
    this.name = common.name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;

    const fail = (message: string): never => {
      throw new WebhookConfigError(message, { webhook: this.name });
    };
    if ('apiKey' in options || 'api_key' in options) {
      fail(
        `option 'apiKey' is not used: the Events API takes the 'routingKey' (integration key) of an Events API v2 integration`,
      );
    }
    const key = options.routingKey;
    if (typeof key !== 'string' || !/^\S{32}$/.test(key)) {
      const got = typeof key === 'string' ? `a string of ${key.length} characters` : typeof key;
      fail(
        `option 'routingKey' must be the 32-character integration key of an Events API v2 integration (got ${got})`,
      );
    }
    this.#routingKey = key;

    const region = options.region ?? 'us';
    if (!Object.hasOwn(PAGERDUTY_REGIONS, region)) {
      fail(`option 'region' must be 'us' or 'eu' (got ${JSON.stringify(region)})`);
    }
    const base = options.baseUrl ?? PAGERDUTY_REGIONS[region];
    if (typeof base !== 'string' || !/^https?:$/.test(parseUrl(base)?.protocol ?? '')) {
      fail(`option 'baseUrl' must be an http(s) URL (got ${safeOrigin(String(base))})`);
    }
    this.#endpoint = new URL('v2/enqueue', base.endsWith('/') ? base : `${base}/`).href;
    this.#origin = safeOrigin(this.#endpoint);

    for (const option of ['source', 'component', 'group'] as const) {
      const value = options[option];
      if (value !== undefined && (typeof value !== 'string' || value.trim() === '' || value.length > 255)) {
        fail(`option '${option}' must be a non-empty string of at most 255 characters`);
      }
    }
    if (options.dedupKey !== undefined && typeof options.dedupKey !== 'function') {
      fail(`option 'dedupKey' must be a function (event) => string`);
    }
    this.#format = {
      source: options.source,
      component: options.component,
      group: options.group,
      dedupKey: options.dedupKey,
    };
  }

  /** One attempt: posts the event's trigger (or resolve) to the Events API. */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    return this.#send(formatPagerDutyEvent(event, this.#format), ctx.signal);
  }

  /** The `dedup_key` this webhook uses for `event`: pass it to {@link resolve} or {@link acknowledge}. */
  dedupKeyFor(event: EmpathyEvent): string {
    return incidentKey(event, this.#format.dedupKey);
  }

  /**
   * Resolves the incident with this `dedup_key` now: one request, not queued, not retried.
   * Throws a `WebhookDeliveryError` if PagerDuty refuses it or cannot be reached.
   */
  resolve(dedupKey: string, options: PagerDutyActionOptions = {}): Promise<DeliveryReceipt> {
    return this.#act('resolve', dedupKey, options);
  }

  /**
   * Acknowledges the incident with this `dedup_key` now: one request, not queued, not retried.
   * Throws a `WebhookDeliveryError` if PagerDuty refuses it or cannot be reached.
   */
  acknowledge(dedupKey: string, options: PagerDutyActionOptions = {}): Promise<DeliveryReceipt> {
    return this.#act('acknowledge', dedupKey, options);
  }

  async #act(
    action: Exclude<PagerDutyAction, 'trigger'>,
    dedupKey: string,
    options: PagerDutyActionOptions,
  ): Promise<DeliveryReceipt> {
    if (typeof dedupKey !== 'string' || dedupKey.trim() === '' || dedupKey.length > MAX_DEDUP_KEY) {
      throw new WebhookConfigError(
        `${action}(): dedupKey must be a non-empty string of at most 255 characters`,
        {
          webhook: this.name,
        },
      );
    }
    const timeoutMs = (this.retryPolicy?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    try {
      return await this.#send({ event_action: action, dedup_key: dedupKey }, signal);
    } catch (error) {
      if (timeout.aborted && !options.signal?.aborted) {
        throw new WebhookTimeoutError(timeoutMs, { webhook: this.name });
      }
      throw error;
    }
  }

  async #send(body: PagerDutyEventBody, signal: AbortSignal): Promise<DeliveryReceipt> {
    // format.ts caps every field, so the event stays far below PagerDuty's 512 KB.
    const json = JSON.stringify({ routing_key: this.#routingKey, ...body });
    let status: number;
    let text: string;
    let headers: Headers;
    try {
      const response = await this.#client().post(this.#endpoint, {
        body: json,
        headers: { 'content-type': 'application/json' },
        signal,
      });
      status = response.status;
      headers = response.headers;
      text = await response.text();
    } catch (error) {
      throw networkError(this.name, error, this.#origin, [this.#routingKey]);
    }
    if (status < 200 || status >= 300) {
      throw eventsApiError(this.name, { status, headers }, text, [this.#routingKey]);
    }
    return {
      status,
      id: parseBody(text)?.dedup_key ?? body.dedup_key,
      detail: { action: body.event_action },
    };
  }

  // Core's retry policy is the only retry: ky's own retries and timeout are off, the attempt's
  // AbortSignal bounds the request, and HTTP errors come back as responses we classify.
  #client(): KyInstance {
    this.#http ??= ky.create({
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      headers: { 'user-agent': '@empathy/webhooks-pagerduty' },
    });
    return this.#http;
  }
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
