import {
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  WebhookConfigError,
} from '@empathy/webhooks-core';
import {
  type ErrorScope,
  type IncidentContext,
  networkError,
  parseEndpointOption,
  readBodyJson,
  userAgent,
  WebhookBase,
  type WebhookOptions,
} from '@empathy/webhooks-core/kit';
import pkg from '../package.json' with { type: 'json' };
import { type GrafanaApi, grafanaError } from './errors.js';
import {
  type AnnotationOptions,
  DYNAMIC_LABELS,
  fitAnnotation,
  fitLokiEntry,
  formatGrafanaPayload,
  type GrafanaAnnotation,
  type GrafanaPayload,
  LABEL_NAME,
  type LokiEntry,
  lokiPushBody,
} from './format.js';
import { LokiBatcher } from './loki-batch.js';

/** Where and how to push log lines to Loki. */
export interface GrafanaLokiOptions {
  /**
   * Loki's base URL; `/loki/api/v1/push` is appended. A Loki on your own network
   * (`http://loki:3100`) needs `allowPrivateNetwork: true`.
   * @example 'https://logs-prod-012.grafana.net' (Grafana Cloud)
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
export interface GrafanaWebhookOptions extends WebhookOptions<GrafanaPayload> {
  /**
   * Your Grafana's URL (a sub-path is kept): events become annotations via `POST /api/annotations`.
   * Omit it to send log lines only. https, or http with `allowPrivateNetwork` (a Grafana on your
   * own network).
   * @example 'https://acme.grafana.net'
   */
  url?: string | undefined;
  /**
   * A service account token (`glsa_…`) with the `annotations:create` permission, and
   * `annotations:write` to update an incident's annotation. Required with `url`.
   */
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
/** Annotations made for events whose log line failed: their retry must not annotate again. */
const MAX_REMEMBERED = 10_000;
/** Grafana answers an annotation with `{ message, id }`: a few dozen bytes. */
const MAX_ANNOTATION_ANSWER = 4096;
/** An annotation id as Grafana gives it (int64) and this webhook stores it. */
const ANNOTATION_ID = /^[1-9]\d{0,18}$/;

interface Annotations {
  endpoint: URL;
  authorization: string;
  options: AnnotationOptions;
}

interface Loki {
  endpoint: URL;
  headers: Record<string, string>;
  labels: Record<string, string>;
  maxBatchSize: number;
}

/**
 * Logs events to Grafana: an annotation per event (Grafana's HTTP API; on a dashboard, a panel,
 * or organisation-wide, tagged), and/or a JSON log line per event in Loki (labels `event_type`,
 * `severity`, `user_id`; concurrent deliveries share one push). An incident (a condition that
 * fires, repeats and clears) has one annotation: repeats update its text, the resolution makes
 * it a region ending at the resolution and tags it `resolved`.
 *
 * @example
 * const grafana = new GrafanaWebhook({
 *   url: 'https://acme.grafana.net', token: process.env.GRAFANA_TOKEN,
 *   loki: { url: 'https://logs-prod-012.grafana.net', username: '123456', password: process.env.LOKI_TOKEN },
 *   events: ['*'],
 * });
 */
export class GrafanaWebhook extends WebhookBase<GrafanaPayload> {
  /** Where annotations go (else where log lines go): an origin, safe to print. */
  readonly target: string;
  // Private fields: `util.inspect(webhook)` (an onFailure logging its first argument) shows none of them.
  readonly #annotations: Annotations | undefined;
  readonly #loki: Loki | undefined;
  readonly #annotated = new Map<string, number | undefined>();
  #batcher: LokiBatcher | undefined;

  constructor(options: GrafanaWebhookOptions) {
    super(options, { name: 'grafana', events: ['*'], concurrency: 16, userAgent: userAgent(pkg) });
    const fail: (message: string) => never = (message) => {
      throw new WebhookConfigError(message, { webhook: this.name });
    };
    if (options.url === undefined && options.loki === undefined) {
      fail(`set 'url' and 'token' (annotations), 'loki' (log lines), or both`);
    }
    if (options.url !== undefined) {
      if (typeof options.token === 'string') this.redactor.addSecret(options.token);
      const base = this.#endpointOption(options.url, 'url', 'your Grafana URL', fail);
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
      const authorization = `Bearer ${options.token}`;
      this.redactor.addHeaderValue(authorization);
      this.#annotations = {
        endpoint: under(base, 'api/annotations'),
        authorization,
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
    this.target = ((this.#annotations ?? this.#loki) as { endpoint: URL }).endpoint.origin;
  }

  /** The annotation and/or log line for `event`: what `format` receives as `defaults`. */
  protected render(event: EmpathyEvent, incident?: IncidentContext): GrafanaPayload {
    return formatGrafanaPayload(
      event,
      { annotation: this.#annotations?.options, lokiLabels: this.#loki?.labels },
      incident,
    );
  }

  /** Grafana's and Loki's rules, applied to what the user's `format` returned. */
  protected override fit(payload: GrafanaPayload): GrafanaPayload {
    if (payload.annotation === undefined && payload.loki === undefined) {
      throw new Error('it holds neither an annotation nor a log line');
    }
    const fitted: GrafanaPayload = {};
    if (payload.annotation !== undefined) {
      if (!this.#annotations) throw new Error(`an annotation needs the 'url' and 'token' options`);
      fitted.annotation = fitAnnotation(payload.annotation);
    }
    if (payload.loki !== undefined) {
      if (!this.#loki) throw new Error(`a log line needs the 'loki' option`);
      fitted.loki = fitLokiEntry(payload.loki);
    }
    return fitted;
  }

  /**
   * One attempt: the annotation (unless an earlier attempt already made it), then the log line.
   * Loki drops a line it already has (same stream, time and text), so a retry never duplicates one.
   * For an incident, the annotation its first event made (`incidentRef.annotation_id`) is updated
   * (`PATCH`): a repeat's text, a resolution's text, tags and end (a region); when Grafana no
   * longer has it (404), a new one is made and becomes the incident's.
   */
  protected async send(
    payload: GrafanaPayload,
    event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    const detail: Record<string, unknown> = {};
    let status: number | undefined;
    let created = false;
    if (payload.annotation !== undefined && this.#annotations) {
      if (this.#annotated.has(event.event_id)) {
        detail.annotationId = this.#annotated.get(event.event_id);
        created = true;
      } else {
        const made = await this.#annotation(this.#annotations, payload.annotation, ctx);
        status = made.status;
        detail.annotationId = made.id;
        created = made.created;
        // A retry of this attempt (its log line failed) must not make the annotation again.
        if (created && payload.loki !== undefined) this.#remember(event.event_id, made.id);
      }
    }
    if (payload.loki !== undefined && this.#loki) {
      await this.#lokiBatcher(this.#loki).add(payload.loki, ctx.signal);
      this.#annotated.delete(event.event_id);
      status ??= 204;
      detail.loki = true;
    }
    const id = detail.annotationId === undefined ? undefined : String(detail.annotationId);
    const receipt: DeliveryReceipt = { status, id, detail };
    // A new annotation is the incident's from now on: its repeats and resolution update it.
    if (ctx.incident && created && id !== undefined) receipt.incidentRef = { annotation_id: id };
    return receipt;
  }

  /** Updates the incident's annotation when there is one Grafana still has, else makes one. */
  async #annotation(
    api: Annotations,
    annotation: NonNullable<GrafanaPayload['annotation']>,
    ctx: DeliveryContext,
  ): Promise<{ status: number; id: number | undefined; created: boolean }> {
    const ref = ctx.incident?.ref?.annotation_id;
    // A shared store holds what any process wrote: only an id goes into the URL.
    if (ref !== undefined && ANNOTATION_ID.test(ref)) {
      const status = await this.#patch(api, ref, patchOf(annotation, ctx.incident!), ctx.signal);
      if (status !== undefined) return { status, id: Number(ref), created: false };
    }
    return { ...(await this.#annotate(api, annotation, ctx.signal)), created: true };
  }

  async #annotate(
    api: Annotations,
    annotation: GrafanaPayload['annotation'],
    signal: AbortSignal,
  ): Promise<{ status: number; id: number | undefined }> {
    const response = await this.#post(
      'Grafana annotations',
      api.endpoint,
      JSON.stringify(annotation),
      { authorization: api.authorization },
      signal,
    );
    const answer = (await readBodyJson(response, MAX_ANNOTATION_ANSWER)) as { id?: unknown } | undefined;
    return { status: response.status, id: typeof answer?.id === 'number' ? answer.id : undefined };
  }

  /**
   * `PATCH /api/annotations/{id}` (Grafana 6.0+; the token needs `annotations:write`): the
   * status, or `undefined` when Grafana answers 404 (the annotation was deleted, or lives in
   * another Grafana). Any other refusal throws the kit's error.
   */
  async #patch(
    api: Annotations,
    id: string,
    body: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    const scope: ErrorScope = { ...this.errors, target: 'Grafana annotations' };
    let response: Response;
    try {
      response = await this.sendJson(
        'PATCH',
        `${api.endpoint.href}/${id}`,
        body,
        { signal },
        {
          authorization: api.authorization,
        },
      );
    } catch (error) {
      throw networkError(scope, error);
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) throw await grafanaError(scope, response);
    // Grafana answers `{ message: 'Annotation patched' }`: nothing to read.
    await response.body?.cancel();
    return response.status;
  }

  #lokiBatcher(loki: Loki): LokiBatcher {
    this.#batcher ??= new LokiBatcher(
      async (entries: LokiEntry[], signal: AbortSignal) => {
        const body = JSON.stringify(lokiPushBody(entries));
        const response = await this.#post('Loki push', loki.endpoint, body, loki.headers, signal);
        // Loki answers 204; whatever a proxy adds is not needed.
        await response.body?.cancel();
      },
      { maxEntries: loki.maxBatchSize, maxBytes: MAX_BATCH_BYTES },
    );
    return this.#batcher;
  }

  /** One POST; a non-2xx answer or no answer throws the kit's error, naming the API. */
  async #post(
    api: GrafanaApi,
    url: URL,
    body: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Response> {
    const scope: ErrorScope = { ...this.errors, target: api };
    let response: Response;
    try {
      response = await this.postJson(url, body, { signal }, headers);
    } catch (error) {
      throw networkError(scope, error);
    }
    if (!response.ok) throw await grafanaError(scope, response);
    return response;
  }

  #remember(eventId: string, annotationId: number | undefined): void {
    if (this.#annotated.size >= MAX_REMEMBERED) {
      this.#annotated.delete(this.#annotated.keys().next().value as string);
    }
    this.#annotated.set(eventId, annotationId);
  }

  #endpointOption(value: unknown, option: string, what: string, fail: (message: string) => never): URL {
    const url = parseEndpointOption(value, {
      option,
      webhook: this.name,
      what,
      allowPrivateNetwork: this.allowPrivateNetwork,
    });
    if (url.username || url.password) {
      fail(`option '${option}' must not carry credentials: use the token/username/password options`);
    }
    return url;
  }

  #parseLoki(loki: GrafanaLokiOptions, fail: (message: string) => never): Loki {
    if (loki === null || typeof loki !== 'object') fail(`option 'loki' must be an object with a 'url'`);
    // Registered first: a refusal below may not quote them, and nothing later may either.
    for (const secret of [loki.password, loki.token]) {
      if (typeof secret === 'string') this.redactor.addSecret(secret);
    }
    const base = this.#endpointOption(loki.url, 'loki.url', "your Loki's URL", fail);
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
    } else if (loki.token !== undefined) {
      if (typeof loki.token !== 'string' || loki.token.trim() === '') {
        fail(`option 'loki.token' must be a non-empty string`);
      }
      headers.authorization = `Bearer ${loki.token}`;
    }
    this.redactor.addHeaderValue(headers.authorization);
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
    return { endpoint: under(base, 'loki/api/v1/push'), headers, labels: { ...labels }, maxBatchSize };
  }
}

/**
 * What an update of an incident's annotation changes: the text and tags (Grafana replaces the
 * tags it is sent), and for a resolution the end, which makes the annotation a region from its
 * first event to the resolution. Its start stays.
 */
function patchOf(annotation: GrafanaAnnotation, incident: IncidentContext): Record<string, unknown> {
  const body: Record<string, unknown> = { text: annotation.text, tags: annotation.tags };
  if (incident.status === 'resolved') body.timeEnd = annotation.timeEnd ?? annotation.time;
  return body;
}

/** `path` under `base`, keeping a sub-path such as `https://host/grafana/`. */
function under(base: URL, path: string): URL {
  return new URL(path, base.href.endsWith('/') ? base.href : `${base.href}/`);
}
