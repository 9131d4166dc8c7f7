import { EventsApi } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v1/apis/EventsApi.js';
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
  type WebhookDeliveryError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { type DatadogApi, datadogClientError, datadogHttpError, datadogNetworkError } from './errors.js';
import { type FormatOptions, formatDatadogEvent, MAX_TAG } from './format.js';
import { MetricBuffer, type MetricsErrorInfo } from './metric-buffer.js';
import { eventMetricPoints, METRIC_NAME, type MetricPoint, type MetricType, toSeries } from './metrics.js';
import { attemptConfiguration, Exchange } from './transport.js';

/** Datadog sites (`DD_SITE` values): docs.datadoghq.com/getting_started/site/ */
export const DATADOG_SITES = [
  'datadoghq.com',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'datadoghq.eu',
  'ap1.datadoghq.com',
  'ap2.datadoghq.com',
  'uk1.datadoghq.com',
  'ddog-gov.com',
  'us2.ddog-gov.com',
] as const;

/** A Datadog site. */
export type DatadogSite = (typeof DATADOG_SITES)[number];

// The short names Datadog uses for its sites (US1, US3, EU1, …).
const SITE_ALIASES: Record<string, DatadogSite> = {
  us1: 'datadoghq.com',
  us3: 'us3.datadoghq.com',
  us5: 'us5.datadoghq.com',
  eu: 'datadoghq.eu',
  eu1: 'datadoghq.eu',
  ap1: 'ap1.datadoghq.com',
  ap2: 'ap2.datadoghq.com',
  uk1: 'uk1.datadoghq.com',
  gov: 'ddog-gov.com',
  'us1-fed': 'ddog-gov.com',
  us2: 'us2.ddog-gov.com',
};

/** Batching of metrics sent with {@link DatadogWebhook.sendMetric} (and `eventMetrics`). */
export interface DatadogMetricsOptions {
  /**
   * Most points in one request; a full batch is sent at once. Each request also stays under
   * Datadog's 512,000-byte payload limit (bigger batches are split).
   * @default 1000
   */
  batchSize?: number | undefined;
  /** Points waiting are sent at least this often, in seconds. @default 10 */
  flushIntervalSeconds?: number | undefined;
  /**
   * Also send metrics for every delivered event: `empathy.events` (count, by type and severity),
   * `empathy.prediction.confidence`, `empathy.performance.<name>` for a performance issue's
   * `metrics`, `empathy.interactions.duration_ms` for completions. Custom metrics are billed by
   * Datadog, hence off by default.
   * @default false
   */
  eventMetrics?: boolean | undefined;
  /**
   * Told when a batch could not be sent. `info.dropped` says whether the points are gone
   * (refused, or closing) or kept for the next flush (network error, 5xx, 429).
   * @default a one-line warning on stderr
   */
  onError?: ((error: WebhookDeliveryError, info: MetricsErrorInfo) => void) | undefined;
}

/** Options for {@link DatadogWebhook}. */
export interface DatadogWebhookOptions extends CommonWebhookOptions {
  /** A Datadog API key (Organization settings → API keys). A credential: never shown in errors. */
  apiKey: string;
  /**
   * A Datadog application key. Posting events and metrics needs only the API key, so it is not
   * sent to either endpoint; it is accepted (the seed's configuration passes one) and kept secret.
   */
  appKey?: string | undefined;
  /**
   * Your Datadog site (`datadoghq.com`, `datadoghq.eu`, `us3.datadoghq.com`, `us5.datadoghq.com`,
   * `ap1.datadoghq.com`, …, or the short `us3`, `eu`, `ap1`, …), or a base URL (a proxy, a fake).
   * @default 'datadoghq.com'
   * @example 'datadoghq.eu'
   */
  site?: DatadogSite | (string & {}) | undefined;
  /** The API's base URL; instead of `site`. @default `https://api.<site>` */
  baseUrl?: string | undefined;
  /**
   * Tags added to every event and metric.
   * @example ['env:prod', 'team:platform']
   */
  tags?: string[] | undefined;
  /** Your own aggregation key (events with one key group together). @default a fingerprint */
  aggregationKey?: ((event: EmpathyEvent) => string) | undefined;
  /** Metric batching. */
  metrics?: DatadogMetricsOptions | undefined;
  /** Event types to post as Datadog events. @default ['*'] */
  events?: readonly EventSelector[] | undefined;
}

/** Options of one {@link DatadogWebhook.sendMetric} call. */
export interface SendMetricOptions {
  /** @default 'gauge' */
  type?: MetricType | undefined;
  /** When the value was measured. @default now */
  timestamp?: Date | undefined;
  /** Seconds a `count` or `rate` covers. @default the flush interval, for count and rate */
  interval?: number | undefined;
  /** A Datadog unit name, e.g. `millisecond`. */
  unit?: string | undefined;
}

const DEFAULT_BATCH_SIZE = 1000;
const DEFAULT_FLUSH_INTERVAL_SECONDS = 10;
const DEFAULT_TIMEOUT_SECONDS = 30;
const MAX_BUFFERED_POINTS = 100_000;

/**
 * Posts Empathy Framework events to Datadog as events (v1 Events API, markdown, tagged, grouped
 * by an aggregation key) and sends custom metrics in batches (v2 Metrics API) with
 * {@link DatadogWebhook.sendMetric}. Built on `@datadog/datadog-api-client` with its retries
 * off: core's retry policy is the only one.
 *
 * @example
 * const datadog = new DatadogWebhook({
 *   apiKey: process.env.DATADOG_API_KEY!,
 *   appKey: process.env.DATADOG_APP_KEY,
 *   events: ['performance_issue', 'prediction', 'error'],
 * });
 * datadog.sendMetric('empathy.prediction.confidence', 0.87, ['user:developer_123', 'level:4']);
 */
export class DatadogWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: WebhookPlugin['circuitBreaker'];
  readonly concurrency: number;
  readonly onFailure: WebhookPlugin['onFailure'];
  /** The API's base URL (no credentials in it), e.g. `https://api.datadoghq.eu`. */
  readonly baseUrl: string;
  readonly #keys: { apiKey: string; appKey: string | undefined };
  readonly #secrets: string[];
  readonly #origin: string;
  readonly #tags: string[];
  readonly #format: FormatOptions;
  readonly #metrics: Required<Omit<DatadogMetricsOptions, 'onError'>> & {
    onError: NonNullable<DatadogMetricsOptions['onError']>;
  };
  #buffer: MetricBuffer | undefined;
  #metricsApi: Promise<MetricsApiModule> | undefined;
  #closed = false;

  constructor(options: DatadogWebhookOptions) {
    const common = parseCommonOptions(options, { name: 'datadog', events: ['*'], concurrency: 8 });
    this.name = common.name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    // Datadog accepts 250,000 events per minute per organisation (docs.datadoghq.com/api/latest/rate-limits/):
    // no client-side default; a 429 carries X-RateLimit-Reset, which core waits for.
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;
    const fail: (message: string) => never = (message) => {
      throw new WebhookConfigError(message, { webhook: this.name });
    };

    if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
      fail(`option 'apiKey' must be a Datadog API key (a non-empty string)`);
    }
    if (
      options.appKey !== undefined &&
      (typeof options.appKey !== 'string' || options.appKey.trim() === '')
    ) {
      fail(`option 'appKey' must be a non-empty string when set`);
    }
    this.#keys = { apiKey: options.apiKey, appKey: options.appKey };
    this.#secrets = [options.apiKey, ...(options.appKey ? [options.appKey] : [])];
    this.baseUrl = resolveBaseUrl(options, fail);
    this.#origin = safeOrigin(this.baseUrl);

    const tags = options.tags ?? [];
    if (!Array.isArray(tags) || !tags.every(isTag)) {
      fail(`option 'tags' must be an array of non-empty strings of at most ${MAX_TAG} characters`);
    }
    this.#tags = [...tags];
    if (options.aggregationKey !== undefined && typeof options.aggregationKey !== 'function') {
      fail(`option 'aggregationKey' must be a function (event) => string`);
    }
    this.#format = { tags: this.#tags, aggregationKey: options.aggregationKey };
    this.#metrics = parseMetricsOptions(options.metrics ?? {}, fail);
  }

  /** One attempt: posts the event to `POST /api/v1/events`. */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const body = formatDatadogEvent(event, this.#format);
    const exchange = new Exchange(ctx.signal);
    let created: Awaited<ReturnType<EventsApi['createEvent']>>;
    try {
      created = await new EventsApi(attemptConfiguration(this.baseUrl, this.#keys, exchange)).createEvent({
        body,
      });
    } catch (error) {
      throw this.#toError('events', error, exchange);
    }
    if (this.#metrics.eventMetrics && !this.#closed) {
      const now = Math.floor(Date.now() / 1000);
      this.#metricBuffer().add(eventMetricPoints(event, this.#tags, now, this.#countInterval()));
    }
    const id =
      created.event?.idStr ?? (created.event?.id === undefined ? undefined : String(created.event.id));
    const detail: Record<string, unknown> = { aggregationKey: body.aggregationKey };
    if (created.event?.url) detail.url = created.event.url;
    return { status: exchange.response?.status, id, detail };
  }

  /**
   * Queues one metric value; it is sent with others in the next batch (never one request per
   * value). Gauge by default.
   *
   * @example
   * datadog.sendMetric('empathy.interactions.duration_ms', 1234, ['user:developer_123']);
   * datadog.sendMetric('empathy.deploys', 1, ['service:auth'], { type: 'count' });
   */
  sendMetric(metric: string, value: number, tags: string[] = [], options: SendMetricOptions = {}): void {
    const fail: (message: string) => never = (message) => {
      throw new WebhookConfigError(`sendMetric(): ${message}`, { webhook: this.name });
    };
    if (this.#closed) fail('the webhook is closed');
    if (typeof metric !== 'string' || !METRIC_NAME.test(metric)) {
      fail(
        `metric name must start with a letter and hold only ASCII letters, digits, '_' and '.', at most 200 (got ${JSON.stringify(String(metric).slice(0, 210))})`,
      );
    }
    if (typeof value !== 'number' || !Number.isFinite(value))
      fail(`value of '${metric}' must be a finite number`);
    if (!Array.isArray(tags) || !tags.every(isTag)) {
      fail(`tags of '${metric}' must be an array of non-empty strings of at most ${MAX_TAG} characters`);
    }
    const type = options.type ?? 'gauge';
    if (!['gauge', 'count', 'rate'].includes(type)) fail(`type must be 'gauge', 'count' or 'rate'`);
    const at = options.timestamp ?? new Date();
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) fail(`timestamp must be a valid Date`);
    const interval = options.interval ?? (type === 'gauge' ? undefined : this.#countInterval());
    if (interval !== undefined && (!Number.isInteger(interval) || interval < 1)) {
      fail(`interval must be a positive integer number of seconds`);
    }
    if (
      options.unit !== undefined &&
      (typeof options.unit !== 'string' || !/^[a-z_]{1,50}$/.test(options.unit))
    ) {
      fail(`unit must be a Datadog unit name such as 'millisecond'`);
    }
    const point: MetricPoint = {
      metric,
      type,
      value,
      timestamp: Math.floor(at.getTime() / 1000),
      tags: [...new Set([...this.#tags, ...tags])],
    };
    if (interval !== undefined) point.interval = interval;
    if (options.unit !== undefined) point.unit = options.unit;
    this.#metricBuffer().add([point]);
  }

  /** Sends every metric waiting now. Failures go to `metrics.onError`; this never rejects. */
  async flushMetrics(): Promise<void> {
    await this.#buffer?.flush();
  }

  /** Metric values waiting to be sent. */
  get pendingMetrics(): number {
    return this.#buffer?.size ?? 0;
  }

  /** Sends the metrics still buffered (called by the host's `close()`); then `sendMetric` throws. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#buffer?.close();
  }

  // Counts and rates cover the flush interval, in whole seconds.
  #countInterval(): number {
    return Math.max(1, Math.round(this.#metrics.flushIntervalSeconds));
  }

  #metricBuffer(): MetricBuffer {
    // The v2 client is large (its model serialiser takes seconds to load on a busy machine):
    // start loading it with the first metric, so the first flush does not spend its attempt's
    // timeout on the import.
    if (!this.#metricsApi) {
      this.#metricsApi = loadMetricsApi();
      // Awaited (and so reported) by the first flush; this only keeps it from being "unhandled".
      this.#metricsApi.catch(() => {});
    }
    this.#buffer ??= new MetricBuffer((points, signal) => this.#submit(points, signal), {
      webhook: this.name,
      batchSize: this.#metrics.batchSize,
      intervalMs: this.#metrics.flushIntervalSeconds * 1000,
      timeoutMs: (this.retryPolicy?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
      maxBuffered: Math.max(MAX_BUFFERED_POINTS, this.#metrics.batchSize * 10),
      onError: this.#metrics.onError,
    });
    return this.#buffer;
  }

  async #submit(points: MetricPoint[], signal: AbortSignal): Promise<void> {
    const { MetricsApi } = await (this.#metricsApi ?? loadMetricsApi());
    const exchange = new Exchange(signal);
    try {
      await new MetricsApi(attemptConfiguration(this.baseUrl, this.#keys, exchange)).submitMetrics({
        body: { series: toSeries(points) },
      });
    } catch (error) {
      throw this.#toError('metrics', error, exchange);
    }
  }

  #toError(api: DatadogApi, error: unknown, exchange: Exchange): WebhookDeliveryError {
    if (exchange.response) return datadogHttpError(this.name, api, exchange.response, this.#secrets);
    if (exchange.failed) return datadogNetworkError(this.name, api, error, this.#origin, this.#secrets);
    return datadogClientError(this.name, api, error, this.#secrets);
  }
}

type MetricsApiModule =
  typeof import('@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/MetricsApi.js');

function loadMetricsApi(): Promise<MetricsApiModule> {
  return import('@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/MetricsApi.js');
}

function resolveBaseUrl(options: DatadogWebhookOptions, fail: (message: string) => never): string {
  if (options.site !== undefined && options.baseUrl !== undefined) {
    fail(`set either 'site' or 'baseUrl', not both`);
  }
  const given = options.baseUrl ?? options.site ?? 'datadoghq.com';
  const option = options.baseUrl !== undefined ? 'baseUrl' : 'site';
  if (typeof given !== 'string' || given.trim() === '') fail(`option '${option}' must be a non-empty string`);
  if (/^https?:\/\//i.test(given)) {
    let url: URL;
    try {
      url = new URL(given);
    } catch {
      return fail(`option '${option}' is not a valid URL`);
    }
    if (url.username || url.password) fail(`option '${option}' must not carry credentials: use 'apiKey'`);
    if (url.search || url.hash) fail(`option '${option}' must be a base URL without query or fragment`);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }
  if (option === 'baseUrl') fail(`option 'baseUrl' must be an http(s) URL (got ${safeOrigin(given)})`);
  const name = given
    .trim()
    .toLowerCase()
    .replace(/^app\./, '');
  const site = SITE_ALIASES[name] ?? (DATADOG_SITES as readonly string[]).find((s) => s === name);
  if (site === undefined) {
    const hint = DATADOG_SITES.find((s) => s.startsWith(name.split('.')[0] ?? '') || name.includes(s));
    fail(
      `option 'site' must be a Datadog site (${DATADOG_SITES.join(', ')}) or a base URL (got ${JSON.stringify(given.slice(0, 100))})${hint ? `; did you mean '${hint}'?` : ''}`,
    );
  }
  return `https://api.${site}`;
}

function parseMetricsOptions(
  metrics: DatadogMetricsOptions,
  fail: (message: string) => never,
): Required<Omit<DatadogMetricsOptions, 'onError'>> & {
  onError: NonNullable<DatadogMetricsOptions['onError']>;
} {
  if (metrics === null || typeof metrics !== 'object') fail(`option 'metrics' must be an object`);
  const batchSize = metrics.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    fail(`option 'metrics.batchSize' must be an integer from 1 to 100000 (got ${JSON.stringify(batchSize)})`);
  }
  const interval = metrics.flushIntervalSeconds ?? DEFAULT_FLUSH_INTERVAL_SECONDS;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval <= 0 || interval > 3600) {
    fail(
      `option 'metrics.flushIntervalSeconds' must be a number in (0, 3600] (got ${JSON.stringify(interval)})`,
    );
  }
  const eventMetrics = metrics.eventMetrics ?? false;
  if (typeof eventMetrics !== 'boolean') fail(`option 'metrics.eventMetrics' must be a boolean`);
  if (metrics.onError !== undefined && typeof metrics.onError !== 'function') {
    fail(`option 'metrics.onError' must be a function (error, info)`);
  }
  return {
    batchSize,
    flushIntervalSeconds: interval,
    eventMetrics,
    onError:
      metrics.onError ??
      ((error, info) =>
        console.warn(
          `${error.message} (${info.points} metric points ${info.dropped ? 'dropped' : 'kept for the next flush'})`,
        )),
  };
}

function isTag(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= MAX_TAG;
}
