import {
  createEvent,
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  type RateLimit,
  WebhookConfigError,
} from '@empathy/webhooks-core';
import {
  type IncidentContext,
  parseEndpointOption,
  permanentError,
  readBodyJson,
  userAgent,
  WebhookBase,
  type WebhookOptions,
} from '@empathy/webhooks-core/kit';
import pkg from '../package.json' with { type: 'json' };
import { type EventsApiResponse, eventsApiError } from './errors.js';
import {
  ACTION_METADATA,
  type FormatOptions,
  fitPagerDutyEvent,
  formatPagerDutyEvent,
  incidentKey,
  MAX_DEDUP_KEY,
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
export interface PagerDutyWebhookOptions extends WebhookOptions<PagerDutyEventBody> {
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
   * `/v2/enqueue` is appended. https, or http and private addresses with `allowPrivateNetwork`.
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
  /**
   * `payload.group`, e.g. `'prod-datapipe'` (PagerDuty's logical grouping of components). Named
   * so because `group` is every webhook's noise control (`{ waitSeconds, … }`). @default none
   */
  componentGroup?: string | undefined;
  /**
   * Computes the `dedup_key` (at most 255 characters). Events with the same key update one
   * incident; a resolve with it closes that incident.
   * @default the event's incident key (`ctx.incident.key`): `data.incident_key`, else
   * `data.dedup_key`, else a fingerprint of the fields that identify the condition
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
  /** Who asked: the queued event's `user_id`, shown in stats and dead letters. @default 'pagerduty' */
  userId?: string | undefined;
}

/** PagerDuty's Events API v2 rate limit per routing key. */
export const PAGERDUTY_RATE_LIMIT = { maxRequestsPerMinute: 120 } as const satisfies RateLimit;

/** The Events API answers `{ status, message, dedup_key }`: a few hundred bytes. */
const MAX_ANSWER = 4096;

/**
 * Opens, updates and resolves PagerDuty incidents through the Events API v2. Each event becomes a
 * `trigger` whose `dedup_key` is the event's incident key (core's `incidentOf`: `data.incident_key`,
 * else a stable fingerprint of the condition), so repeats update one incident and say how often
 * it fired; an event with `data.resolved: true` resolves it with the same key.
 *
 * @example
 * const pagerduty = new PagerDutyWebhook({
 *   routingKey: process.env.PAGERDUTY_ROUTING_KEY!,
 *   events: ['alert'],
 *   filter: (event) => event.severity === 'high',
 * });
 * const empathy = new EmpathyOS({ userId: 'ops', webhooks: [pagerduty] });
 */
export class PagerDutyWebhook extends WebhookBase<PagerDutyEventBody> {
  /** The Events API's origin (the region's, or `baseUrl`'s): safe to print. */
  readonly target: string;
  // Private fields: `util.inspect(webhook)` (an onFailure logging its first argument) shows none of them.
  readonly #routingKey: string;
  readonly #endpoint: URL;
  readonly #format: FormatOptions;

  constructor(options: PagerDutyWebhookOptions) {
    super(options, {
      fit: fitPagerDutyEvent,
      name: 'pagerduty',
      userAgent: userAgent(pkg),
      events: ['alert'],
      concurrency: 1,
      rateLimit: PAGERDUTY_RATE_LIMIT,
    });
    const fail = (message: string): never => {
      throw new WebhookConfigError(message, { webhook: this.name });
    };
    if ('apiKey' in options || 'api_key' in options) {
      fail(
        `option 'apiKey' is not used: the Events API takes the 'routingKey' (integration key) of an Events API v2 integration`,
      );
    }
    const key = options.routingKey;
    if (typeof key === 'string') this.redactor.addSecret(key);
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
    const base = parseEndpointOption(options.baseUrl ?? PAGERDUTY_REGIONS[region], {
      option: 'baseUrl',
      webhook: this.name,
      what: 'the Events API origin',
      allowPrivateNetwork: this.allowPrivateNetwork,
    });
    if (base.username || base.password) fail(`option 'baseUrl' must not carry a user name or password`);
    this.#endpoint = new URL('v2/enqueue', base.href.endsWith('/') ? base.href : `${base.href}/`);
    this.target = base.origin;

    for (const option of ['source', 'component', 'componentGroup'] as const) {
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
      group: options.componentGroup,
      dedupKey: options.dedupKey,
    };
  }

  /** The `dedup_key` this webhook uses for `event`: pass it to {@link resolve} or {@link acknowledge}. */
  dedupKeyFor(event: EmpathyEvent): string {
    return incidentKey(event, this.#format.dedupKey);
  }

  /**
   * Resolves the incident with this `dedup_key`. Queued as a job of this webhook in the host it
   * is registered in (an `EmpathyOS` or a `Dispatcher`), so it is rate-limited, retried, counted
   * and dead-lettered like every delivery (and runs after the triggers queued before it).
   * Resolves with the queued event once the job is stored; its `event_id` finds it in the
   * monitor and the dead letters. Rejects with a `WebhookConfigError` for a bad key or when the
   * webhook is registered nowhere.
   */
  resolve(dedupKey: string, options: PagerDutyActionOptions = {}): Promise<EmpathyEvent> {
    return this.#request('resolve', dedupKey, options);
  }

  /**
   * Acknowledges the incident with this `dedup_key`, queued like {@link resolve} (see there).
   */
  acknowledge(dedupKey: string, options: PagerDutyActionOptions = {}): Promise<EmpathyEvent> {
    return this.#request('acknowledge', dedupKey, options);
  }

  async #request(
    action: 'acknowledge' | 'resolve',
    dedupKey: string,
    options: PagerDutyActionOptions,
  ): Promise<EmpathyEvent> {
    if (typeof dedupKey !== 'string' || dedupKey.trim() === '' || dedupKey.length > MAX_DEDUP_KEY) {
      throw new WebhookConfigError(
        `${action}(): dedupKey must be a non-empty string of at most 255 characters`,
        {
          webhook: this.name,
        },
      );
    }
    const userId = options.userId ?? 'pagerduty';
    if (typeof userId !== 'string' || userId === '') {
      throw new WebhookConfigError(`${action}(): userId must be a non-empty string`, { webhook: this.name });
    }
    // What the job must do travels in the event: a durable queue may run it in another process.
    // An alert that says the condition cleared is what a resolve always was.
    const event = createEvent(
      'alert',
      {
        title: `PagerDuty ${action}`,
        message: `${action === 'resolve' ? 'Resolve' : 'Acknowledge'} the incident ${dedupKey}`,
        dedup_key: dedupKey,
        // A resolve clears the incident; an acknowledge is a command about it, not an occurrence
        // (it must not be counted, folded by `group`, or mistaken for a repeat).
        ...(action === 'resolve' ? { resolved: true } : { incident_key: null }),
      },
      { userId, metadata: { [ACTION_METADATA]: action } },
    );
    await this.enqueue(event);
    return event;
  }

  /**
   * The Events API event for `event`: what `format` receives as `defaults`. With the attempt's
   * `incident`, its key is the `dedup_key` and a trigger's `custom_details` carry the count.
   */
  protected render(event: EmpathyEvent, incident?: IncidentContext): PagerDutyEventBody {
    try {
      return formatPagerDutyEvent(event, this.#format, incident);
    } catch (error) {
      // A `dedupKey` option that throws, or an action event without its key: no retry helps.
      throw permanentError(
        this.errors,
        `the event cannot be sent: ${error instanceof Error ? error.message : String(error)}`,
        'EFORMAT',
      );
    }
  }

  /** One POST to `/v2/enqueue`; the receipt's `id` is the `dedup_key` PagerDuty answers with. */
  protected async send(
    body: PagerDutyEventBody,
    _event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    const response = await this.postJson(this.#endpoint, { routing_key: this.#routingKey, ...body }, ctx);
    if (!response.ok) throw await eventsApiError(this.errors, response);
    const answer = (await readBodyJson(response, MAX_ANSWER)) as EventsApiResponse | undefined;
    const id = typeof answer?.dedup_key === 'string' ? answer.dedup_key : body.dedup_key;
    return { status: response.status, id, detail: { action: body.event_action } };
  }
}
