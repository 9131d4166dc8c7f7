// The README's "Write a plugin" example, as written (only the import paths differ); the
// readme-example test holds the two together.
import {
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  WebhookConfigError,
} from '../src/index.js';
import {
  httpError,
  parseEndpointOption,
  parseRetryAfter,
  readBodyJson,
  summarizeEvent,
  WebhookBase,
  type WebhookOptions,
} from '../src/kit/index.js';

/** What StatusPage's API takes: the payload users can change with `format`. */
export interface Incident {
  title: string;
  body: string;
}

export interface StatusPageOptions extends WebhookOptions<Incident> {
  apiKey: string;
  /** @default 'https://api.statuspage.example' (tests point it at a local fake) */
  baseUrl?: string;
}

export class StatusPageWebhook extends WebhookBase<Incident> {
  readonly target: string; // safe to print: the origin only
  readonly #apiKey: string;
  readonly #incidents: URL;

  constructor(options: StatusPageOptions) {
    // Every common option (events, filter, retryPolicy, rateLimit, format, allowPrivateNetwork, …)
    // is validated once by the base: a bad one throws WebhookConfigError naming it.
    super(options, {
      name: 'statuspage',
      events: ['alert'],
      rateLimit: { maxRequestsPerMinute: 60 }, // the vendor's limit: over it, jobs wait
    });
    const base = parseEndpointOption(options.baseUrl ?? 'https://api.statuspage.example', {
      option: 'baseUrl',
      webhook: this.name,
      what: 'the StatusPage API URL',
      allowPrivateNetwork: this.allowPrivateNetwork, // loopback, private and metadata: refused
    });
    if (typeof options.apiKey !== 'string' || options.apiKey === '') {
      throw new WebhookConfigError(`option 'apiKey' is required`, { webhook: this.name });
    }
    this.#apiKey = options.apiKey;
    this.redactor.addSecret(options.apiKey); // never in an error, a stat or a dead letter
    this.#incidents = new URL('/incidents', base);
    this.target = base.origin;
  }

  // The event as the vendor's payload: the shared reading gives the same title as every vendor.
  protected render(event: EmpathyEvent): Incident {
    const summary = summarizeEvent(event);
    return { title: summary.title, body: summary.text ?? '' };
  }

  // One attempt. The transport is SSRF-guarded, aborts at the deadline, bounds what it reads.
  protected async send(
    incident: Incident,
    _event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    const res = await this.http.fetch(this.#incidents, {
      method: 'POST',
      body: JSON.stringify(incident),
      signal: ctx.signal, // core's per-attempt timeout
      headers: {
        authorization: `Bearer ${this.#apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': ctx.idempotencyKey,
      },
    });
    if (!res.ok) {
      const body = (await readBodyJson(res)) as { error?: string } | undefined;
      throw httpError(this.errors, {
        status: res.status, // the retry policy decides from it
        detail: body?.error, // redacted, then cut
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      });
    }
    await res.body?.cancel(); // the id is not needed: read nothing more
    return { status: res.status };
  }
}
