import { isIP } from 'node:net';
import { WebhookConfigError } from './errors.js';
import { type EmpathyEvent, type EventSelector, unknownEventType } from './events.js';
import { type GroupOptions, type IncidentContext, normalizeGroup } from './incident.js';
import { privateAddressReason } from './kit/ssrf.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './policies/circuit-breaker.js';
import { normalizeRateLimit, type RateLimit } from './policies/rate-limit.js';
import { normalizeRetryPolicy, type RetryPolicy } from './policies/retry.js';

/** What core hands to `deliver` for one attempt. */
export interface DeliveryContext {
  /** Aborted when the attempt exceeds the retry policy's `timeoutSeconds` or the host closes. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** The event id: the same on every attempt, so receivers and vendors can de-duplicate. */
  readonly idempotencyKey: string;
  /** Per-attempt timeout in ms. */
  readonly timeoutMs: number;
  /**
   * Trace-context headers (`traceparent`, `tracestate`) to send with the attempt's request, so the
   * receiver's trace continues this delivery's. Set only when the host has a telemetry that
   * propagates to receivers; HTTP integrations add them to the request as they are.
   */
  readonly traceHeaders?: Readonly<Record<string, string>> | undefined;
  /**
   * Set when the event belongs to an incident (see `incidentOf`): its status, how many times it
   * fired, and the references this webhook returned for it earlier, so the integration can update
   * what it sent (edit the message, reply in its thread, close the ticket) instead of posting anew.
   */
  readonly incident?: IncidentContext | undefined;
}

/** What a successful attempt reports. */
export interface DeliveryReceipt {
  /** HTTP status of the vendor's answer, when there was one. */
  status?: number | undefined;
  /** A vendor id for what was created (Jira key, comment id, message ts, …). */
  id?: string | undefined;
  /** Extra, secret-free detail (e.g. `{ action: 'commented' }`). */
  detail?: Record<string, unknown> | undefined;
  /**
   * References to what this attempt created or updated for the event's incident (`{ ts, channel }`
   * of a Slack message, a Discord message id, a Jira key), kept by core with the incident and
   * handed back as `ctx.incident.ref` with its next event. Merged into what was kept; strings only,
   * secret-free.
   */
  incidentRef?: Record<string, string> | undefined;
}

/**
 * A destination for events. Implement it to write your own integration: `deliver` makes exactly
 * one attempt and throws a {@link WebhookDeliveryError} on failure; retrying, waiting, rate
 * limiting and recording stats are core's job.
 */
export interface WebhookPlugin {
  /** Unique per host; the monitor's key. */
  readonly name: string;
  /** Event types this webhook receives; `'*'` for all. */
  readonly events: readonly EventSelector[];
  /** Further narrows which events are delivered. */
  readonly filter?: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy?: RetryPolicy | undefined;
  readonly rateLimit?: RateLimit | undefined;
  /** Circuit breaker settings, or `false` to switch it off. */
  readonly circuitBreaker?: CircuitBreakerOptions | false | undefined;
  /** The most deliveries in flight at once for this webhook. */
  readonly concurrency?: number | undefined;
  /** Folds repeats of one incident into one notification (see {@link GroupOptions}). */
  readonly group?: GroupOptions | undefined;
  /** Called once per event after the last attempt failed (the event is then in the dead letters). */
  readonly onFailure?:
    | ((webhook: WebhookPlugin, event: EmpathyEvent, error: Error) => void | Promise<void>)
    | undefined;
  /** One attempt. */
  deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt>;
  /**
   * Called when the webhook is registered with a host (a dispatcher). A webhook with work of its
   * own, not routed from an event (Datadog's metric batches, PagerDuty's `resolve()`), queues it
   * through `host` instead of
   * running its own timers, retries and timeouts. It may return a function the host calls when
   * it lets go of the webhook: when it closes, before its queue stops (what is queued then is
   * delivered within the close's drain time, or kept by a durable queue), and when the webhook is
   * removed (then nothing more can be queued).
   */
  attach?(host: WebhookHost): (() => void | Promise<void>) | undefined;
  /** Releases connections and flushes buffers; called by the host's `close()`. */
  close?(): Promise<void>;
}

/** What a host lends a webhook registered in it (see {@link WebhookPlugin.attach}). */
export interface WebhookHost {
  /**
   * Queues `event` for this webhook alone, as a job like any other (its `events` and `filter`
   * are not asked: the webhook made the event for itself). Resolves once the job is stored
   * (durably, for durable queues); rejects when the host is closed or the webhook was removed.
   */
  enqueue(event: EmpathyEvent): Promise<void>;
}

/** Options every integration accepts. */
export interface CommonWebhookOptions {
  /** Unique name; the monitor's key and the prefix of every error message. */
  name?: string | undefined;
  /** Event types to receive; `'*'` for all. */
  events?: readonly EventSelector[] | undefined;
  /** Receive only events for which this returns true. @example (e) => e.severity === 'high' */
  filter?: ((event: EmpathyEvent) => boolean) | undefined;
  /** @default { maxRetries: 3, backoffMultiplier: 2, initialDelaySeconds: 1, timeoutSeconds: 30 } */
  retryPolicy?: RetryPolicy | undefined;
  /** Over the limit, deliveries wait and are sent later; nothing is dropped. */
  rateLimit?: RateLimit | undefined;
  /** @default { failureThreshold: 5, cooldownSeconds: 30 } */
  circuitBreaker?: CircuitBreakerOptions | false | undefined;
  /** Most deliveries in flight at once. @default 4 (integrations may choose another) */
  concurrency?: number | undefined;
  /**
   * Noise control: repeats of one incident (same `incidentOf(event).key`) are folded into one
   * notification that says how many it stands for; a resolved event is always sent.
   * @example group: { waitSeconds: 30, intervalSeconds: 300 }
   * @default none: every event is its own notification (repeats still update the first where the vendor can)
   */
  group?: GroupOptions | undefined;
  /** Called once per event after the last attempt failed. */
  onFailure?:
    | ((webhook: WebhookPlugin, event: EmpathyEvent, error: Error) => void | Promise<void>)
    | undefined;
  /**
   * Allow loopback, private, link-local, CGNAT and cloud-metadata addresses (and plain `http:`):
   * a local fake, a self-hosted instance on your own network. Without it such a target is refused
   * before connecting, whether it is written as an address or a name that resolves to one.
   * @default false
   */
  allowPrivateNetwork?: boolean | undefined;
}

/** {@link CommonWebhookOptions} after validation. */
export interface ParsedCommonOptions {
  name: string;
  events: readonly EventSelector[];
  filter: ((event: EmpathyEvent) => boolean) | undefined;
  retryPolicy: RetryPolicy | undefined;
  rateLimit: RateLimit | undefined;
  circuitBreaker: CircuitBreakerOptions | false | undefined;
  concurrency: number;
  group: GroupOptions | undefined;
  onFailure:
    | ((webhook: WebhookPlugin, event: EmpathyEvent, error: Error) => void | Promise<void>)
    | undefined;
  allowPrivateNetwork: boolean;
}

/**
 * Validates the common options once, at construction, and throws a {@link WebhookConfigError}
 * that names the option and the webhook.
 */
export function parseCommonOptions(
  options: CommonWebhookOptions,
  defaults: { name: string; events?: readonly EventSelector[]; concurrency?: number; rateLimit?: RateLimit },
): ParsedCommonOptions {
  if (options === null || typeof options !== 'object') {
    throw new WebhookConfigError(`${defaults.name}: options must be an object`);
  }
  const name = options.name ?? defaults.name;
  if (typeof name !== 'string' || !/^[\w.:@/-]{1,100}$/.test(name)) {
    throw new WebhookConfigError(
      `option 'name' must be 1-100 characters of letters, digits, '_', '-', '.', ':', '@' or '/' (got ${JSON.stringify(name)})`,
    );
  }
  const events = options.events ?? defaults.events;
  if (!Array.isArray(events) || events.length === 0) {
    throw new WebhookConfigError(`option 'events' must be a non-empty array of event types or ['*']`, {
      webhook: name,
    });
  }
  for (const event of events) {
    if (event === '*') continue;
    if (typeof event !== 'string') {
      throw new WebhookConfigError(`option 'events' holds a non-string entry`, { webhook: name });
    }
    const problem = unknownEventType(event);
    if (problem !== undefined) throw new WebhookConfigError(`option 'events': ${problem}`, { webhook: name });
  }
  if (options.filter !== undefined && typeof options.filter !== 'function') {
    throw new WebhookConfigError(`option 'filter' must be a function (event) => boolean`, { webhook: name });
  }
  if (options.onFailure !== undefined && typeof options.onFailure !== 'function') {
    throw new WebhookConfigError(`option 'onFailure' must be a function (webhook, event, error)`, {
      webhook: name,
    });
  }
  const concurrency = options.concurrency ?? defaults.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new WebhookConfigError(
      `option 'concurrency' must be an integer from 1 to 1024 (got ${concurrency})`,
      {
        webhook: name,
      },
    );
  }
  // Validate now; the dispatcher normalises again when it registers the webhook.
  if (options.retryPolicy !== undefined) normalizeRetryPolicy(options.retryPolicy, name);
  const rateLimit = options.rateLimit ?? defaults.rateLimit;
  if (rateLimit !== undefined) normalizeRateLimit(rateLimit, name);
  const circuitBreaker = options.circuitBreaker;
  if (circuitBreaker !== undefined && circuitBreaker !== false && typeof circuitBreaker !== 'object') {
    throw new WebhookConfigError(`option 'circuitBreaker' must be an object or false`, { webhook: name });
  }
  const allowPrivateNetwork = options.allowPrivateNetwork ?? false;
  if (typeof allowPrivateNetwork !== 'boolean') {
    throw new WebhookConfigError(`option 'allowPrivateNetwork' must be a boolean`, { webhook: name });
  }
  if (circuitBreaker) new CircuitBreaker(circuitBreaker, name);
  normalizeGroup(options.group, name);
  return {
    name,
    events: [...events],
    allowPrivateNetwork,
    filter: options.filter,
    retryPolicy: options.retryPolicy,
    rateLimit,
    circuitBreaker,
    concurrency,
    group: options.group,
    onFailure: options.onFailure,
  };
}

/**
 * Whether a webhook subscribed to this event (its `events` list, then its `filter`). A filter
 * must return a boolean synchronously: anything else (a Promise, `1`, `'yes'`, `undefined`) throws
 * a {@link WebhookConfigError} naming the webhook, and whatever the filter throws is rethrown.
 */
export function wants(plugin: WebhookPlugin, event: EmpathyEvent): boolean {
  const events = plugin.events;
  if (!events.includes('*') && !events.includes(event.event_type)) return false;
  if (plugin.filter === undefined) return true;
  const verdict: unknown = plugin.filter(event);
  if (verdict === true || verdict === false) return verdict;
  if (typeof (verdict as PromiseLike<unknown> | null)?.then === 'function') {
    // Its outcome is never used: a rejection must not become an unhandled rejection.
    Promise.resolve(verdict).catch(() => {});
    throw new WebhookConfigError(
      `option 'filter' returned a Promise; filters must return true or false synchronously (an async filter is not awaited)`,
      { webhook: plugin.name },
    );
  }
  throw new WebhookConfigError(
    `option 'filter' returned ${describeVerdict(verdict)}; filters must return true or false`,
    { webhook: plugin.name },
  );
}

/** What a filter returned, without printing contents (they may come from the event). */
function describeVerdict(value: unknown): string {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'bigint') {
    return String(value);
  }
  if (typeof value === 'string') return `a string (${value.length} characters)`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Validates a vendor endpoint option (a webhook URL, an API base URL): a URL string (or `URL`),
 * `https:` (or `http:` with `allowPrivateNetwork`), and, without `allowPrivateNetwork`, not a
 * private, loopback or metadata address or a `localhost` name (the guarded lookup refuses names
 * that resolve to one when connecting). Messages never quote the value: webhook URLs are
 * credentials; they show its origin at most.
 *
 * @param where the option's name, the webhook's name, and what the option should hold (for the
 *   "is required" message)
 * @example parseEndpointOption(options.webhookUrl, { option: 'webhookUrl', webhook: 'discord', what: 'the Discord channel webhook URL', allowPrivateNetwork: false })
 */
export function parseEndpointOption(
  value: unknown,
  where: { option: string; webhook: string; what: string; allowPrivateNetwork?: boolean | undefined },
): URL {
  const fail = (rule: string): never => {
    throw new WebhookConfigError(`option '${where.option}' ${rule}`, { webhook: where.webhook });
  };
  if ((typeof value !== 'string' || value === '') && !(value instanceof URL)) {
    return fail(`is required: ${where.what} (a string)`);
  }
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    return fail('is not a valid URL');
  }
  const allowPrivate = where.allowPrivateNetwork === true;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowPrivate)) {
    fail(
      url.protocol === 'http:'
        ? `must be an https URL (got ${url.origin}); plain http is allowed only with allowPrivateNetwork: true`
        : `must be an https URL (got ${url.protocol})`,
    );
  }
  if (!allowPrivate) {
    const reason = privateHostReason(url.hostname);
    if (reason) {
      fail(`points at a ${reason} address (${url.origin}); set allowPrivateNetwork: true to allow it`);
    }
  }
  return url;
}

/** Why a URL's host is private when written as an address or a `localhost` name, else `undefined`. */
export function privateHostReason(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  // RFC 6761: localhost and every name under it resolve to loopback.
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  return isIP(host) === 0 ? undefined : privateAddressReason(host);
}
