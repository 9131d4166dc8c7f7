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
} from '@empathy/webhooks-core';
import ky, { type KyInstance } from 'ky';
import { type GrafanaApi, httpError, networkError } from './errors.js';
import {
  type AnnotationOptions,
  DYNAMIC_LABELS,
  formatAnnotation,
  formatLokiEntry,
  type LokiEntry,
  lokiPushBody,
} from './format.js';
import { LokiBatcher } from './loki-batch.js';

/** Where and how to push log lines to Loki. */
export interface GrafanaLokiOptions {
  /**
   * Loki's base URL; `/loki/api/v1/push` is appended.
   * @example 'https://logs-prod-012.grafana.net' (Grafana Cloud) or 'http://loki:3100'
   */
  url: string;
  /** Basic auth user: on Grafana Cloud, the Loki instance's numeric user id. @default none */
  username?: string | undefined;
  /** Basic auth password: on Grafana Cloud, an access policy token with `logs:write`. @default none */
  password?: string | undefined;
  /** A bearer token, for a Loki behind a gateway that takes one (instead of basic auth). @default none */
  token?: string | undefined;
  /** Sent as `X-Scope-OrgID`, for multi-tenant Loki. @default none */
  tenantId?: string | undefined;
  /**
   * Static labels on every stream, next to `event_type`, `severity` and `user_id`.
   * @default { app: 'empathy' }
   */
  labels?: Record<string, string> | undefined;
  /** Most lines in one push. @default 100 */
  maxBatchSize?: number | undefined;
}

/** Options for {@link GrafanaWebhook}. Set `url` + `token` for annotations, `loki` for log lines, or both. */
export interface GrafanaWebhookOptions extends CommonWebhookOptions {
  /**
   * Your Grafana's URL (a sub-path is kept): events become annotations via `POST /api/annotations`.
   * Omit it to send log lines only.
   * @example 'https://acme.grafana.net'
   */
  url?: string | undefined;
  /** A service account token with the `annotations:create` permission (`glsa_…`). Required with `url`. */
  token?: string | undefined;
  /** Put annotations on this dashboard. @default none: organisation-wide annotations, found by tag */
  dashboardUid?: string | undefined;
  /** Put annotations on this panel of `dashboardUid`. @default none */
  panelId?: number | undefined;
  /** Tags added to every annotation. @default [] */
  tags?: string[] | undefined;
  /** Push every event to Loki as a JSON log line. @default none */
  loki?: GrafanaLokiOptions | undefined;
  /** @default ['*'] */
  events?: readonly EventSelector[] | undefined;
  /**
   * Deliveries in flight at once; log lines of concurrent deliveries share one Loki push.
   * @default 16
   */
  concurrency?: number | undefined;
}

const DEFAULT_LABELS = { app: 'empathy' };
const MAX_BATCH_BYTES = 1024 * 1024;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Annotations made for events whose log line failed: their retry must not annotate again. */
const MAX_REMEMBERED = 10_000;

interface Annotations {
  endpoint: string;
  origin: string;
  authorization: string;
  options: AnnotationOptions;
}

interface Loki {
  endpoint: string;
  origin: string;
  headers: Record<string, string>;
  labels: Record<string, string>;
  maxBatchSize: number;
}

/**
 * Logs events to Grafana: an annotation per event (Grafana's HTTP API; on a dashboard, a panel,
 * or organisation-wide, tagged), and/or a JSON log line per event in Loki (labels `event_type`,
 * `severity`, `user_id`; concurrent deliveries share one push).
 *
 * @example
 * const grafana = new GrafanaWebhook({
 *   url: 'https://acme.grafana.net', token: process.env.GRAFANA_TOKEN,
 *   loki: { url: 'https://logs-prod-012.grafana.net', username: '123456', password: process.env.LOKI_TOKEN },
 *   events: ['*'],
 * });
 */
export class GrafanaWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: WebhookPlugin['circuitBreaker'];
  readonly concurrency: number;
  readonly onFailure: WebhookPlugin['onFailure'];
  readonly #annotations: Annotations | undefined;
  readonly #loki: Loki | undefined;
  readonly #secrets: string[] = [];
  readonly #annotated = new Map<string, number | undefined>();
  #http: KyInstance | undefined;
  #batcher: LokiBatcher | undefined;

  constructor(options: GrafanaWebhookOptions) {
    const common = parseCommonOptions(options, { name: 'grafana', events: ['*'], concurrency: 16 });
    this.name = common.name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;
    const fail: (message: string) => never = (message) => {
      throw new WebhookConfigError(message, { webhook: this.name });
    };
    if (options.url === undefined && options.loki === undefined) {
      fail(`set 'url' and 'token' (annotations), 'loki' (log lines), or both`);
    }
    if (options.url !== undefined) {
      checkUrl(options.url, 'url', fail);
      if (typeof options.token !== 'string' || options.token.trim() === '') {
        fail(
          `option 'token' must be a Grafana service account token (annotations need 'annotations:create')`,
        );
      }
      if (options.dashboardUid !== undefined && !/^[\w-]{1,40}$/.test(String(options.dashboardUid))) {
        fail(`option 'dashboardUid' must be a dashboard UID: 1-40 letters, digits, '-' or '_'`);
      }
      if (options.panelId !== undefined && (!Number.isInteger(options.panelId) || options.panelId < 1)) {
        fail(`option 'panelId' must be a positive integer (got ${JSON.stringify(options.panelId)})`);
      }
      if (options.panelId !== undefined && options.dashboardUid === undefined) {
        fail(`option 'panelId' needs 'dashboardUid': a panel belongs to a dashboard`);
      }
      if (
        options.tags !== undefined &&
        (!Array.isArray(options.tags) || !options.tags.every((t) => typeof t === 'string' && t.trim() !== ''))
      ) {
        fail(`option 'tags' must be an array of non-empty strings`);
      }
      this.#secrets.push(options.token);
      const endpoint = resolve(options.url, 'api/annotations');
      this.#annotations = {
        endpoint,
        origin: safeOrigin(endpoint),
        authorization: `Bearer ${options.token}`,
        options: { dashboardUid: options.dashboardUid, panelId: options.panelId, tags: options.tags },
      };
    } else if (
      options.token !== undefined ||
      options.dashboardUid !== undefined ||
      options.panelId !== undefined
    ) {
      fail(`options 'token', 'dashboardUid' and 'panelId' are for annotations: set 'url' too`);
    }
    if (options.loki !== undefined) this.#loki = this.#parseLoki(options.loki, fail);
  }

  /**
   * One attempt: the annotation (unless an earlier attempt already made it), then the log line.
   * Loki drops a line it already has (same stream, time and text), so a retry never duplicates one.
   */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const detail: Record<string, unknown> = {};
    let status: number | undefined;
    if (this.#annotations) {
      if (this.#annotated.has(event.event_id)) {
        detail.annotationId = this.#annotated.get(event.event_id);
      } else {
        const made = await this.#annotate(this.#annotations, event, ctx.signal);
        status = made.status;
        detail.annotationId = made.id;
        if (this.#loki) this.#remember(event.event_id, made.id);
      }
    }
    if (this.#loki) {
      await this.#lokiBatcher(this.#loki).add(formatLokiEntry(event, this.#loki.labels), ctx.signal);
      this.#annotated.delete(event.event_id);
      status ??= 204;
      detail.loki = true;
    }
    const id = detail.annotationId === undefined ? undefined : String(detail.annotationId);
    return { status, id, detail };
  }

  async #annotate(
    api: Annotations,
    event: EmpathyEvent,
    signal: AbortSignal,
  ): Promise<{ status: number; id: number | undefined }> {
    const { status, text } = await this.#post(
      'Grafana annotations',
      api.endpoint,
      api.origin,
      JSON.stringify(formatAnnotation(event, api.options)),
      { authorization: api.authorization },
      signal,
    );
    const id = (parseJson(text) as { id?: unknown } | undefined)?.id;
    return { status, id: typeof id === 'number' ? id : undefined };
  }

  #lokiBatcher(loki: Loki): LokiBatcher {
    this.#batcher ??= new LokiBatcher(
      async (entries: LokiEntry[], signal: AbortSignal) => {
        const body = JSON.stringify(lokiPushBody(entries));
        await this.#post('Loki push', loki.endpoint, loki.origin, body, loki.headers, signal);
      },
      { maxEntries: loki.maxBatchSize, maxBytes: MAX_BATCH_BYTES },
    );
    return this.#batcher;
  }

  async #post(
    api: GrafanaApi,
    url: string,
    origin: string,
    body: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<{ status: number; text: string }> {
    let response: Response;
    let text: string;
    try {
      response = await this.#client().post(url, {
        body,
        headers: { ...headers, 'content-type': 'application/json' },
        signal,
      });
      text = await response.text();
    } catch (error) {
      throw networkError(this.name, api, error, origin, this.#secrets);
    }
    if (!response.ok) throw httpError(this.name, api, response, text, this.#secrets);
    return { status: response.status, text };
  }

  // Core's retry policy is the only retry: ky's retries and timeout are off, the attempt's
  // AbortSignal bounds each request, and HTTP errors come back as responses we classify.
  #client(): KyInstance {
    this.#http ??= ky.create({
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      headers: { 'user-agent': '@empathy/webhooks-grafana' },
    });
    return this.#http;
  }

  #remember(eventId: string, annotationId: number | undefined): void {
    if (this.#annotated.size >= MAX_REMEMBERED) {
      this.#annotated.delete(this.#annotated.keys().next().value as string);
    }
    this.#annotated.set(eventId, annotationId);
  }

  #parseLoki(loki: GrafanaLokiOptions, fail: (message: string) => never): Loki {
    if (loki === null || typeof loki !== 'object') fail(`option 'loki' must be an object with a 'url'`);
    checkUrl(loki.url, 'loki.url', fail);
    const headers: Record<string, string> = {};
    if (loki.username !== undefined || loki.password !== undefined) {
      if (typeof loki.username !== 'string' || loki.username === '' || loki.username.includes(':')) {
        fail(`option 'loki.username' must be a non-empty string without ':' when 'loki.password' is set`);
      }
      if (typeof loki.password !== 'string' || loki.password === '') {
        fail(`option 'loki.password' must be a non-empty string when 'loki.username' is set`);
      }
      if (loki.token !== undefined)
        fail(`set either 'loki.token' or 'loki.username' + 'loki.password', not both`);
      headers.authorization = `Basic ${Buffer.from(`${loki.username}:${loki.password}`).toString('base64')}`;
      this.#secrets.push(loki.password, headers.authorization.slice('Basic '.length));
    } else if (loki.token !== undefined) {
      if (typeof loki.token !== 'string' || loki.token.trim() === '') {
        fail(`option 'loki.token' must be a non-empty string`);
      }
      headers.authorization = `Bearer ${loki.token}`;
      this.#secrets.push(loki.token);
    }
    if (loki.tenantId !== undefined) {
      if (typeof loki.tenantId !== 'string' || !/^[\w.!*'()-]{1,150}$/.test(loki.tenantId)) {
        fail(`option 'loki.tenantId' must be a Loki tenant id (1-150 letters, digits or _ - . ! * ' ( ))`);
      }
      headers['x-scope-orgid'] = loki.tenantId;
    }
    const labels = loki.labels ?? DEFAULT_LABELS;
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
      fail(`option 'loki.labels' must be an object of label names to values`);
    }
    for (const [name, value] of Object.entries(labels)) {
      if (!LABEL_NAME.test(name) || name.startsWith('__')) {
        fail(
          `option 'loki.labels' has an invalid label name '${name}' (letters, digits and _, not starting with __)`,
        );
      }
      if ((DYNAMIC_LABELS as readonly string[]).includes(name)) {
        fail(`option 'loki.labels' may not set '${name}': the webhook sets it from each event`);
      }
      if (typeof value !== 'string' || value === '' || value.length > 1024) {
        fail(`option 'loki.labels.${name}' must be a non-empty string of at most 1024 characters`);
      }
    }
    const maxBatchSize = loki.maxBatchSize ?? 100;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || maxBatchSize > 10_000) {
      fail(
        `option 'loki.maxBatchSize' must be an integer from 1 to 10000 (got ${JSON.stringify(maxBatchSize)})`,
      );
    }
    const endpoint = resolve(loki.url, 'loki/api/v1/push');
    return { endpoint, origin: safeOrigin(endpoint), headers, labels: { ...labels }, maxBatchSize };
  }
}

function checkUrl(value: unknown, option: string, fail: (message: string) => never): void {
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    url = undefined;
  }
  if (typeof value !== 'string' || !url || !/^https?:$/.test(url.protocol)) {
    fail(
      `option '${option}' must be an http(s) URL (got ${typeof value === 'string' ? safeOrigin(value) : typeof value})`,
    );
  }
  if (url!.username || url!.password) {
    fail(`option '${option}' must not carry credentials: use the token/username/password options`);
  }
}

/** `path` under `base`, keeping a sub-path such as `https://host/grafana/`. */
function resolve(base: string, path: string): string {
  return new URL(path, base.endsWith('/') ? base : `${base}/`).href;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
