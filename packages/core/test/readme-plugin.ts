// The README's "Write a plugin" example, as written (only the import path differs); the
// readme-example test holds the two together.
import {
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  parseCommonOptions,
  parseEndpointOption,
  parseRetryAfter,
  WebhookConfigError,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '../src/index.js';

export interface StatusPageOptions extends CommonWebhookOptions {
  apiKey: string;
  /** @default 'https://api.statuspage.example' (tests point it at a local fake) */
  baseUrl?: string;
}

export class StatusPageWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: WebhookPlugin['filter'];
  readonly retryPolicy: WebhookPlugin['retryPolicy'];
  readonly rateLimit: WebhookPlugin['rateLimit'];
  readonly circuitBreaker: WebhookPlugin['circuitBreaker'];
  readonly concurrency: number;
  readonly onFailure: WebhookPlugin['onFailure'];
  readonly #apiKey: string;
  readonly #incidents: URL;

  constructor(options: StatusPageOptions) {
    // Every common option, validated once: a bad one throws WebhookConfigError naming it.
    const common = parseCommonOptions(options, {
      name: 'statuspage',
      events: ['alert'],
      rateLimit: { maxRequestsPerMinute: 60 }, // the vendor's limit: over it, jobs wait
    });
    this.name = common.name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;
    if (typeof options.apiKey !== 'string' || options.apiKey === '') {
      throw new WebhookConfigError(`option 'apiKey' is required`, { webhook: this.name });
    }
    this.#apiKey = options.apiKey;
    const base = parseEndpointOption(options.baseUrl ?? 'https://api.statuspage.example', {
      option: 'baseUrl',
      webhook: this.name,
      what: 'the StatusPage API URL',
    });
    this.#incidents = new URL('/incidents', base);
  }

  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const res = await fetch(this.#incidents, {
      method: 'POST',
      body: JSON.stringify({ title: event.event_type, body: event.data }),
      signal: ctx.signal, // core's per-attempt timeout
      headers: {
        authorization: `Bearer ${this.#apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': ctx.idempotencyKey,
      },
    });
    if (!res.ok) {
      throw new WebhookDeliveryError(`HTTP ${res.status} from ${this.#incidents.origin}`, {
        webhook: this.name,
        status: res.status,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      });
    }
    return { status: res.status };
  }
}
