import { EventsApi } from '@datadog/datadog-api-client/dist/packages/datadog-api-client-v1/apis/EventsApi.js';
import {
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  isWebhookDeliveryError,
  WebhookConfigError,
  type WebhookDeliveryError,
} from '@empathy/webhooks-core';
import {
  type ErrorScope,
  type IncidentContext,
  networkError,
  parseEndpointOption,
  permanentError,
  WebhookBase,
  type WebhookHost,
  type WebhookOptions,
} from '@empathy/webhooks-core/kit';
import { datadogAnswerError } from './errors.js';
import {
  type DatadogEvent,
  type FormatOptions,
  fitDatadogEvent,
  formatDatadogEvent,
  MAX_TAG,
} from './format.js';
import { MetricBatcher } from './metric-batcher.js';
import {
  eventMetricPoints,
  isMetricsEvent,
  METRIC_NAME,
  type MetricPoint,
  type MetricType,
  metricsEvent,
  readMetricBatch,
} from './metrics.js';
import { attemptConfiguration, Exchange, MAX_RESPONSE_BYTES } from './transport.js';

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
   * Most points in one batch (one job, one request); a full batch is queued at once. Each batch
   * also stays under Datadog's 512,000-byte payload limit (bigger ones are split).
   * @default 1000
   */
  batchSize?: number | undefined;
  /** Points waiting are queued at least this often, in seconds. @default 10 */
  flushIntervalSeconds?: number | undefined;
  /**
   * Also send metrics for every delivered event: `empathy.events` (count, by type and severity),
   * `empathy.prediction.confidence`, `empathy.performance.<name>` for a performance issue's
   * `metrics`, `empathy.interactions.duration_ms` for completions. Custom metrics are billed by
   * Datadog, hence off by default.
   * @default false
   */
  eventMetrics?: boolean | undefined;
}

/** Options for {@link DatadogWebhook}. */
export interface DatadogWebhookOptions extends WebhookOptions<DatadogEvent> {
  /** A Datadog API key (Organization settings → API keys). A credential: never shown in errors. */
  apiKey: string;
  /**
   * A Datadog application key. Posting events and metrics needs only the API key, so it is not
   * sent to either endpoint; it is accepted (the seed's configuration passes one) and kept secret.
   */
  appKey?: string | undefined;
  /**
   * Your Datadog site (`datadoghq.com`, `datadoghq.eu`, `us3.datadoghq.com`, `us5.datadoghq.com`,
   * `ap1.datadoghq.com`, …, or the short `us3`, `eu`, `ap1`, …), or a base URL (a proxy, a fake;
   * on a private network it needs `allowPrivateNetwork: true`).
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
  /**
   * Your own aggregation key (events with one key group together; more than 100 characters are
   * hashed down). @default `data.aggregation_key`, else the event's incident key (`ctx.incident.key`)
   */
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
const MAX_BUFFERED_POINTS = 100_000;
const EVENTS_PATH = '/api/v1/events';
const SERIES_PATH = '/api/v2/series';

type MetricsApiModule =
  typeof import('@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/MetricsApi.js');

/**
 * Posts Empathy Framework events to Datadog as events (v1 Events API, markdown, tagged, grouped
 * by an aggregation key) and sends custom metrics in batches (v2 Metrics API) with
 * {@link DatadogWebhook.sendMetric}. Built on `@datadog/datadog-api-client` (its retries off) over
 * the plugin kit: the SDK's `httpApi` is the kit's guarded `fetch`.
 *
 * Metric batches are jobs of this webhook in its host's queue (see `WebhookPlugin.attach`), so
 * they get the same rate limit, retries, timeout, circuit breaker, monitor and dead letters as
 * events: `sendMetric` needs the webhook registered with a host (`EmpathyOS`, a `Dispatcher` or
 * `startWorker`).
 *
 * @example
 * const datadog = new DatadogWebhook({
 *   apiKey: process.env.DATADOG_API_KEY!,
 *   appKey: process.env.DATADOG_APP_KEY,
 *   events: ['performance_issue', 'prediction', 'error'],
 * });
 * const empathy = new EmpathyOS({ userId: 'performance_agent', webhooks: [datadog] });
 * datadog.sendMetric('empathy.prediction.confidence', 0.87, ['user:developer_123', 'level:4']);
 */
export class DatadogWebhook extends WebhookBase<DatadogEvent> {
  /** The API's origin (no credentials in it), e.g. `https://api.datadoghq.eu`: safe to print. */
  readonly target: string;
  /** The API's base URL (no credentials in it), e.g. `https://api.datadoghq.eu`. */
  readonly baseUrl: string;
  readonly #keys: { apiKey: string; appKey: string | undefined };
  readonly #tags: string[];
  readonly #format: FormatOptions;
  readonly #metrics: Required<DatadogMetricsOptions>;
  readonly #batcher: MetricBatcher;
  /** The hosts this webhook is registered with; metric batches go to the first. */
  readonly #hosts: WebhookHost[] = [];
  #metricsApi: Promise<MetricsApiModule> | undefined;
  #closed = false;

  constructor(options: DatadogWebhookOptions) {
    // Datadog accepts 250,000 events per minute per organisation (docs.datadoghq.com/api/latest/rate-limits/):
    // no client-side default; a 429 carries X-RateLimit-Reset, which core waits for.
    super(options, {
      fit: fitDatadogEvent,
      name: 'datadog',
      events: ['*'],
      concurrency: 8,
      transport: { maxResponseBytes: MAX_RESPONSE_BYTES },
    });
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
    this.redactor.addSecret(options.apiKey).addSecret(options.appKey);
    this.baseUrl = resolveBaseUrl(options, this.name, this.allowPrivateNetwork, fail);
    this.target = new URL(this.baseUrl).origin;

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
    this.#batcher = new MetricBatcher({
      batchSize: this.#metrics.batchSize,
      intervalMs: this.#metrics.flushIntervalSeconds * 1000,
      maxBuffered: Math.max(MAX_BUFFERED_POINTS, this.#metrics.batchSize * 10),
      queue: (points) => this.#queueBatch(points),
      dropped: (points, error) => this.#reportDropped(points, error),
    });
  }

  /**
   * The event as a Datadog event, from core's shared reading. With the attempt's `incident`, the
   * incident key is the aggregation key, a repeat says how often it fired, a resolution is a
   * `success` event titled `Resolved: …`.
   */
  protected render(event: EmpathyEvent, incident?: IncidentContext): DatadogEvent {
    return formatDatadogEvent(event, this.#format, incident);
  }

  /**
   * One attempt: a metric batch's job posts its series (`POST /api/v2/series`); any other event
   * goes through `format` and is posted as a Datadog event (`POST /api/v1/events`).
   */
  override async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    if (!isMetricsEvent(event)) return super.deliver(event, ctx);
    let batch: ReturnType<typeof readMetricBatch>;
    try {
      batch = readMetricBatch(event);
    } catch (error) {
      throw permanentError(
        this.errors,
        `a metric job that cannot be sent: ${(error as Error).message}`,
        'EMETRICS',
      );
    }
    const exchange = new Exchange(this.http.fetch, ctx.signal);
    try {
      const { MetricsApi } = await this.#loadMetricsApi();
      await new MetricsApi(attemptConfiguration(this.baseUrl, this.#keys, exchange)).submitMetrics({
        body: { series: batch.series },
      });
    } catch (error) {
      throw this.#toError(SERIES_PATH, error, exchange);
    }
    return { status: exchange.status, detail: { metrics: batch.points, series: batch.series.length } };
  }

  /** One attempt to post an event: `POST /api/v1/events`. */
  protected async send(
    body: DatadogEvent,
    event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    const exchange = new Exchange(this.http.fetch, ctx.signal);
    let created: Awaited<ReturnType<EventsApi['createEvent']>>;
    try {
      created = await new EventsApi(attemptConfiguration(this.baseUrl, this.#keys, exchange)).createEvent({
        body,
      });
    } catch (error) {
      throw this.#toError(EVENTS_PATH, error, exchange);
    }
    if (this.#metrics.eventMetrics && !this.#closed && this.#hosts.length > 0) {
      const now = Math.floor(Date.now() / 1000);
      this.#batcher.add(eventMetricPoints(event, this.#tags, now, this.#countInterval()));
    }
    const id =
      created.event?.idStr ?? (created.event?.id === undefined ? undefined : String(created.event.id));
    const detail: Record<string, unknown> = { aggregationKey: body.aggregationKey };
    if (created.event?.url) detail.url = created.event.url;
    return { status: exchange.status, id, detail };
  }

  /**
   * Registered with a host: metric batches are queued there as jobs of this webhook. When the
   * host lets go (its `close()`, or removing the webhook), what is still waiting is queued then
   * (on close it is delivered within the drain time, or kept by a durable queue); what cannot be
   * queued is reported through `onFailure`.
   */
  override attach(host: WebhookHost): () => Promise<void> {
    const release = super.attach(host);
    this.#hosts.push(host);
    return async () => {
      try {
        if (this.#hosts[0] === host) await this.#batcher.drain();
      } finally {
        release();
        this.#hosts.splice(this.#hosts.indexOf(host), 1);
        if (this.#hosts.length === 0) this.#batcher.stop();
      }
    };
  }

  /**
   * Adds one metric value; it is sent with others in the next batch (never one request per
   * value), as a job in the host's queue. Gauge by default. Throws a `WebhookConfigError` for an
   * invalid metric, and when the webhook is not registered with a host or is closed.
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
    if (this.#hosts.length === 0) {
      fail(
        'the webhook is not registered with a host (EmpathyOS, a Dispatcher or startWorker): metric batches are delivered as its jobs',
      );
    }
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
    // The v2 client is large (its model serialiser takes seconds to load on a busy machine):
    // start loading it with the first metric, so the first batch's attempt does not spend its
    // timeout on the import. Its failure is the attempt's to report.
    if (this.#metricsApi === undefined) void this.#loadMetricsApi().catch(() => {});
    this.#batcher.add([point]);
  }

  /**
   * Queues every metric waiting now as jobs, and resolves once they are stored: the host's
   * `flush()` then waits for their delivery. Rejects (keeping the points for the next round) when
   * the host's queue refuses them.
   */
  async flushMetrics(): Promise<void> {
    await this.#batcher.flush();
  }

  /** Metric values waiting to be queued. */
  get pendingMetrics(): number {
    return this.#batcher.size;
  }

  /** After this, `sendMetric` throws. Called by the host's `close()`, once its queue is closed. */
  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#batcher.stop();
    // A host queues the rest when it lets go (attach's detach), before this; anything still here
    // never had one to go to.
    await this.#batcher.drain();
    await super.close();
  }

  // Counts and rates cover the flush interval, in whole seconds.
  #countInterval(): number {
    return Math.max(1, Math.round(this.#metrics.flushIntervalSeconds));
  }

  async #queueBatch(points: MetricPoint[]): Promise<void> {
    const host = this.#hosts[0];
    if (!host) {
      throw new WebhookConfigError(
        'no host to queue metric batches with: the webhook was closed or removed',
        {
          webhook: this.name,
        },
      );
    }
    await host.enqueue(metricsEvent(points, this.name));
  }

  /** Points that will never be queued: `onFailure` is told, with a batch event that holds them. */
  #reportDropped(points: MetricPoint[], error: Error): void {
    const event = metricsEvent(points, this.name);
    const failure = permanentError(
      this.errors,
      `${points.length} metric points were not sent: ${error.message}`,
      'EMETRICSDROPPED',
    );
    const onFailure = this.onFailure;
    if (!onFailure) {
      // Nothing is lost silently: without an onFailure the loss is logged.
      console.warn(failure.message);
      return;
    }
    try {
      Promise.resolve(onFailure(this, event, failure)).catch((thrown: unknown) =>
        console.warn(`[${this.name}] onFailure threw: ${(thrown as Error)?.message ?? thrown}`),
      );
    } catch (thrown) {
      console.warn(`[${this.name}] onFailure threw: ${(thrown as Error)?.message ?? thrown}`);
    }
  }

  #loadMetricsApi(): Promise<MetricsApiModule> {
    this.#metricsApi ??= import(
      '@datadog/datadog-api-client/dist/packages/datadog-api-client-v2/apis/MetricsApi.js'
    );
    // A failed import is tried again by the next attempt.
    this.#metricsApi.catch(() => {
      this.#metricsApi = undefined;
    });
    return this.#metricsApi;
  }

  /**
   * What an SDK call threw, as a delivery error naming the request: Datadog's answer (the
   * exchange kept it, with its headers), no answer (a network error), or the SDK refusing the
   * request before sending it (permanent: another attempt would fail the same way), or misreading
   * a success (retried).
   */
  #toError(path: string, error: unknown, exchange: Exchange): WebhookDeliveryError {
    if (isWebhookDeliveryError(error)) return error;
    const scope: ErrorScope = { ...this.errors, target: `POST ${this.target}${path}` };
    if (exchange.response) return datadogAnswerError(scope, exchange.response);
    if (exchange.failed) return networkError(scope, error);
    if (exchange.status !== undefined) {
      return networkError(
        scope,
        Object.assign(
          new Error(`Datadog's answer could not be read: ${(error as Error)?.message ?? error}`),
          {
            code: 'EBADRESPONSE',
          },
        ),
      );
    }
    return permanentError(
      scope,
      `the Datadog SDK refused the request: ${(error as Error)?.message ?? String(error)}`,
      'ESDK',
    );
  }
}

/** `site` (a name, a short name or a URL) or `baseUrl`, as the API's base URL. */
function resolveBaseUrl(
  options: DatadogWebhookOptions,
  webhook: string,
  allowPrivateNetwork: boolean,
  fail: (message: string) => never,
): string {
  if (options.site !== undefined && options.baseUrl !== undefined) {
    fail(`set either 'site' or 'baseUrl', not both`);
  }
  const given = options.baseUrl ?? options.site ?? 'datadoghq.com';
  const option = options.baseUrl !== undefined ? 'baseUrl' : 'site';
  if (typeof given !== 'string' || given.trim() === '') fail(`option '${option}' must be a non-empty string`);
  if (option === 'baseUrl' || /^[a-z][a-z0-9+.-]*:\/\//i.test(given)) {
    const url = parseEndpointOption(given, {
      option,
      webhook,
      what: 'the Datadog API base URL',
      allowPrivateNetwork,
    });
    if (url.username || url.password) fail(`option '${option}' must not carry credentials: use 'apiKey'`);
    if (url.search || url.hash) fail(`option '${option}' must be a base URL without query or fragment`);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  }
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
): Required<DatadogMetricsOptions> {
  if (metrics === null || typeof metrics !== 'object') fail(`option 'metrics' must be an object`);
  if ((metrics as { onError?: unknown }).onError !== undefined) {
    fail(
      `option 'metrics.onError' is gone: metric batches are jobs now, retried by the host and reported through 'onFailure' (and the dead letters) when they fail for good`,
    );
  }
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
  return { batchSize, flushIntervalSeconds: interval, eventMetrics };
}

function isTag(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= MAX_TAG;
}
