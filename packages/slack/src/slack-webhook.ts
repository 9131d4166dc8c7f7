import {
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  type IncidentContext,
  isWebhookDeliveryError,
  type RateLimit,
  WebhookConfigError,
} from '@empathy/webhooks-core';
import {
  parseEndpointOption,
  permanentError,
  readBodyText,
  WebhookBase,
  type WebhookOptions,
} from '@empathy/webhooks-core/kit';
import { IncomingWebhook } from '@slack/webhook';
import { type SlackAnswer, STALE_THREAD_ERRORS, toSlackError } from './errors.js';
import { fitPayload } from './fit.js';
import { buildPayload, type SlackPayload } from './format.js';
import { notifyIncident } from './lifecycle.js';
import { attemptWebApi, type SlackWebApi } from './web-api.js';

/** Options shared by both modes. */
interface SlackCommonOptions extends WebhookOptions<SlackPayload> {
  /**
   * Unique name; the monitor's key and the prefix of every error message.
   * @default 'slack'
   */
  name?: string | undefined;
  /**
   * Event types to post; `'*'` for all.
   * @default ['prediction', 'alert', 'error']
   */
  events?: readonly EventSelector[] | undefined;
  /**
   * Most messages in flight at once. 1 keeps messages in the order they were emitted and lets
   * related events find their thread.
   * @default 1
   */
  concurrency?: number | undefined;
  /**
   * Slack allows about one message per second per channel (short bursts tolerated); past it, it
   * answers 429 with Retry-After, which core honours.
   * @default { maxRequestsPerMinute: 60 }
   */
  rateLimit?: RateLimit | undefined;
  /**
   * Posts as this name. Bot tokens need the `chat:write.customize` scope for it; app-created
   * incoming webhooks ignore it.
   * @example 'Empathy Bot'
   */
  username?: string | undefined;
  /**
   * Posts with this emoji as the icon (same caveats as `username`).
   * @example ':robot_face:'
   */
  iconEmoji?: string | undefined;
}

/** Options for posting through an incoming webhook (`@slack/webhook`). */
export interface SlackIncomingWebhookOptions extends SlackCommonOptions {
  /**
   * The incoming webhook URL, `https://hooks.slack.com/services/T…/B…/…`. It is a credential:
   * it never appears in errors, stats or dead letters (only its origin does).
   * @example process.env.SLACK_WEBHOOK_URL
   */
  webhookUrl: string;
  /**
   * Posts to this channel instead of the webhook's own. Only legacy webhooks honour it.
   * @default the webhook's channel
   */
  channel?: string | undefined;
  token?: never | undefined;
  baseUrl?: never | undefined;
  threadKey?: never | undefined;
}

/** Options for posting with a bot token through `chat.postMessage` (`@slack/web-api`). */
export interface SlackBotTokenOptions extends SlackCommonOptions {
  /**
   * A bot token (`xoxb-…`) with the `chat:write` scope. Never appears in errors, stats or dead letters.
   * @example process.env.SLACK_BOT_TOKEN
   */
  token: string;
  /**
   * The channel to post to: an ID (`C0123456789`) or a name (`#ai-alerts`). The app must be a member.
   * @example '#ai-alerts'
   */
  channel: string;
  /**
   * Where the Web API lives; `/api/` is appended. For a proxy or a local fake. Must be https
   * (plain http, and private or loopback addresses, only with `allowPrivateNetwork: true`).
   * @default 'https://slack.com'
   */
  baseUrl?: string | undefined;
  /**
   * Threads related events outside incidents: events with the same key are posted as replies in
   * the thread of the first one (e.g. the reviews of one pull request). Return `undefined` to post
   * at the top level; `false` turns this threading off. Threads are remembered in memory, per
   * instance (the last 1000). Events of an incident (conditions such as alerts and test failures,
   * or any event with `data.incident_key`) are not asked: their repeats and resolution always go
   * to the incident's first message (updated, and replied to in its thread).
   * @default defaultThreadKey
   */
  threadKey?: false | ((event: EmpathyEvent) => string | undefined) | undefined;
  webhookUrl?: never | undefined;
}

/** Options for {@link SlackWebhook}: either `webhookUrl`, or `token` and `channel`. */
export type SlackWebhookOptions = SlackIncomingWebhookOptions | SlackBotTokenOptions;

/** The events a Slack webhook posts unless told otherwise: the seed's example. */
export const DEFAULT_SLACK_EVENTS = [
  'prediction',
  'alert',
  'error',
] as const satisfies readonly EventSelector[];

/** About one message per second per channel: docs.slack.dev/apis/web-api/rate-limits. */
export const DEFAULT_SLACK_RATE_LIMIT = { maxRequestsPerMinute: 60 } satisfies RateLimit;

const DEFAULT_API = 'https://slack.com';
const MAX_THREADS = 1000;

/**
 * The default {@link SlackBotTokenOptions.threadKey}: `data.dedup_key` when the event carries
 * one, else a key for events that naturally follow each other — an alert and its resolution
 * (same source and title), repeated failures of one test, reviews of one pull request, risks of
 * one deployment, a performance issue on one endpoint. Other events start no thread.
 *
 * A `SlackWebhook` in a dispatcher asks it only for events outside incidents (of the types above,
 * the code reviews): the conditions are threaded by their incident. It stays as it is for code
 * that calls it, and for `deliver` called without a dispatcher's incident.
 */
export function defaultThreadKey(event: EmpathyEvent): string | undefined {
  const d = event.data as Record<string, unknown>;
  if (typeof d.dedup_key === 'string' && d.dedup_key !== '') return d.dedup_key;
  const key = (...parts: unknown[]) => `${event.event_type}:${parts.map((p) => String(p ?? '')).join('|')}`;
  switch (event.event_type) {
    case 'alert':
      return typeof d.title === 'string' && d.title !== '' ? key(d.source, d.title) : undefined;
    case 'test_failure':
      return key(d.suite, d.test_name);
    case 'code_review_complete':
      return key(d.repository, d.pull_request);
    case 'deployment_risk':
      return key(d.service, d.environment, d.version);
    case 'performance_issue':
      return key(d.service, d.endpoint, d.metric);
    default:
      return undefined;
  }
}

/**
 * Posts Empathy events to Slack as Block Kit messages, through an incoming webhook
 * (`webhookUrl`) or with a bot token (`token` + `channel`, via `chat.postMessage`, with related
 * events threaded). With a bot token, an incident's repeats and resolution update its first
 * message (`chat.update`, same `ts`) and reply in its thread; incoming webhooks cannot edit, so
 * they post a message saying "seen N times" or "Resolved" instead. Each request goes over core's
 * guarded transport (SSRF guard, bounded reads, aborted at the attempt's deadline): the SDKs' own
 * retries are off, and core's retry policy, Retry-After handling and rate limit apply.
 *
 * @example
 * const slack = new SlackWebhook({
 *   webhookUrl: process.env.SLACK_WEBHOOK_URL!,
 *   channel: '#ai-alerts',
 *   username: 'Empathy Bot',
 *   iconEmoji: ':robot_face:',
 *   events: ['prediction', 'alert', 'error'],
 * });
 */
export class SlackWebhook extends WebhookBase<SlackPayload> {
  /** How this webhook posts. */
  readonly mode: 'incoming_webhook' | 'bot_token';
  /** Where it posts, safe to print: the webhook URL's origin, or the Web API method. */
  readonly target: string;
  readonly #webhookUrl: string | undefined;
  readonly #token: string | undefined;
  readonly #apiUrl: string;
  /** `' at <origin>'` when the Web API is not Slack's own, for error targets. */
  readonly #apiAt: string;
  readonly #channel: string | undefined;
  readonly #username: string | undefined;
  readonly #iconEmoji: string | undefined;
  readonly #threadKey: ((event: EmpathyEvent) => string | undefined) | undefined;
  /** Thread key → `ts` of the thread's first message, least recently used first. */
  readonly #threads = new Map<string, string>();

  constructor(options: SlackWebhookOptions) {
    super(options, {
      fit: fitPayload,
      name: 'slack',
      events: DEFAULT_SLACK_EVENTS,
      concurrency: 1,
      rateLimit: DEFAULT_SLACK_RATE_LIMIT,
    });
    const webhook = this.name;
    // Checked at run time too: JavaScript callers and `as any` get the same clear errors.
    const o = options as {
      [K in
        | 'webhookUrl'
        | 'token'
        | 'baseUrl'
        | 'threadKey'
        | 'channel'
        | 'username'
        | 'iconEmoji']?: unknown;
    };
    const fail = (message: string) => new WebhookConfigError(message, { webhook });
    if (o.webhookUrl !== undefined && o.token !== undefined) {
      throw fail(
        `options 'webhookUrl' and 'token' exclude each other: pass one (incoming webhook, or bot token + channel)`,
      );
    }
    if (o.webhookUrl === undefined && o.token === undefined) {
      throw fail(`needs option 'webhookUrl' (incoming webhook) or options 'token' and 'channel' (bot token)`);
    }
    this.#channel = optionalString(o.channel, 'channel', webhook, /^\S{1,80}$/, 'a channel ID or #name');
    this.#username = optionalString(o.username, 'username', webhook, /^.{1,80}$/, '1-80 characters');
    this.#iconEmoji = optionalString(
      o.iconEmoji,
      'iconEmoji',
      webhook,
      /^:[\w+'-]+:$/,
      'an emoji code like :robot_face:',
    );
    const endpoint = (value: unknown, option: string, what: string) =>
      parseEndpointOption(value, { option, webhook, what, allowPrivateNetwork: this.allowPrivateNetwork });

    if (o.webhookUrl !== undefined) {
      this.mode = 'incoming_webhook';
      const url = endpoint(o.webhookUrl, 'webhookUrl', 'the incoming webhook URL');
      for (const option of ['baseUrl', 'threadKey'] as const) {
        if (o[option] !== undefined) {
          throw fail(
            `option '${option}' applies to bot-token mode only ('token' + 'channel'), not to 'webhookUrl'`,
          );
        }
      }
      this.#webhookUrl = url.href;
      this.#token = undefined;
      this.#apiUrl = '';
      this.#apiAt = '';
      this.#threadKey = undefined;
      this.redactor.addUrl(o.webhookUrl as string).addUrl(url);
      this.target = url.origin;
    } else {
      this.mode = 'bot_token';
      if (typeof o.token !== 'string' || !/^\S{4,}$/.test(o.token)) {
        throw fail(`option 'token' must be a bot token string (xoxb-…) without spaces`);
      }
      if (this.#channel === undefined) {
        throw fail(`option 'channel' is required with 'token': the channel ID or #name to post to`);
      }
      const base = endpoint(o.baseUrl ?? DEFAULT_API, 'baseUrl', 'where the Slack Web API lives');
      const href = base.href.replace(/\/+$/, '');
      this.#apiUrl = href.endsWith('/api') ? `${href}/` : `${href}/api/`;
      if (o.threadKey !== undefined && o.threadKey !== false && typeof o.threadKey !== 'function') {
        throw fail(`option 'threadKey' must be a function (event) => string | undefined, or false`);
      }
      this.#threadKey =
        o.threadKey === false
          ? undefined
          : ((o.threadKey as ((event: EmpathyEvent) => string | undefined) | undefined) ?? defaultThreadKey);
      this.#token = o.token;
      this.#webhookUrl = undefined;
      this.redactor.addSecret(o.token);
      this.#apiAt = base.origin === DEFAULT_API ? '' : ` at ${base.origin}`;
      this.target = `Slack chat.postMessage${this.#apiAt}`;
    }
  }

  /**
   * The event's message (the seed's Block Kit layout), posted as and where the options say. With
   * an incident, it shows where the condition stands: seen N times, or resolved.
   */
  protected render(event: EmpathyEvent, incident?: IncidentContext): SlackPayload {
    return buildPayload(
      event,
      { channel: this.#channel, username: this.#username, iconEmoji: this.#iconEmoji },
      incident,
    );
  }

  /**
   * One attempt, through the guarded transport, aborted with `ctx.signal`: one request, or in
   * bot-token mode for a repeat or resolution of an incident, two (`chat.update` of its message,
   * then a reply in its thread; see `notifyIncident`).
   */
  protected async send(
    payload: SlackPayload,
    event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    if (this.mode === 'incoming_webhook') return this.#sendToWebhook(payload, ctx);
    const api = this.#webApi(ctx);
    // An incident's messages are found through its stored reference, not a thread key.
    return ctx.incident === undefined
      ? this.#postMessage(api, payload, event)
      : notifyIncident(api, payload, ctx.incident, this.#channel!);
  }

  /**
   * Incoming webhooks cannot edit, and answer no message reference: every notification of an
   * incident is a message of its own, which says how many times the condition was seen, or that
   * it resolved (naming the original's title and first-seen time).
   */
  async #sendToWebhook(payload: SlackPayload, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const seen: { answer?: SlackAnswer } = {};
    const hook = new IncomingWebhook(this.#webhookUrl!, {
      // The answer to a post is "ok": nothing in a success body is needed.
      fetch: this.#attemptFetch(ctx, seen, (status) => status < 200 || status > 299, false),
      timeout: 0,
      retryConfig: { retries: 0 },
    });
    try {
      await hook.send(payload);
      return { status: 200, detail: { mode: this.mode } };
    } catch (error) {
      throw toSlackError(this.errors, error, seen.answer);
    }
  }

  /** The Web API for one attempt, its fetch bound to the attempt's signal. */
  #webApi(ctx: DeliveryContext): SlackWebApi {
    return attemptWebApi({
      token: this.#token!,
      apiUrl: this.#apiUrl,
      // The Web API answers 200 for everything but rate limits; the body (ts, channel, or
      // ok:false) is read by the client, within the transport's bound.
      fetch: (seen) => this.#attemptFetch(ctx, seen, (status) => status !== 200, true),
      scope: (method) => ({ ...this.errors, target: `Slack ${method}${this.#apiAt}` }),
    });
  }

  /** An event outside any incident: posted, as a reply in its thread key's thread if it has one. */
  async #postMessage(api: SlackWebApi, payload: SlackPayload, event: EmpathyEvent): Promise<DeliveryReceipt> {
    const key = this.#threadOf(event);
    const parent = key === undefined ? undefined : this.#threads.get(key);
    try {
      const result = await api.postMessage({
        ...payload,
        channel: payload.channel ?? this.#channel!,
        ...(parent === undefined ? {} : { thread_ts: parent }),
      });
      if (key !== undefined) this.#remember(key, parent ?? result.ts);
      const detail: Record<string, unknown> = { mode: this.mode, channel: result.channel };
      if (parent !== undefined) detail.thread_ts = parent;
      return { status: 200, id: result.ts, detail };
    } catch (failure) {
      // The parent message is gone: the next attempt starts a new thread.
      const code = isWebhookDeliveryError(failure) ? failure.code : undefined;
      if (key !== undefined && code !== undefined && STALE_THREAD_ERRORS.has(code)) {
        this.#threads.delete(key);
      }
      throw failure;
    }
  }

  /**
   * The `fetch` the SDKs use for one attempt: core's guarded transport with the attempt's
   * signal. An error answer's body is read here to core's bound and kept in `seen` (with its
   * headers, which `@slack/webhook` drops); a success body is passed on, or dropped unread.
   */
  #attemptFetch(
    ctx: DeliveryContext,
    seen: { answer?: SlackAnswer },
    isError: (status: number) => boolean,
    keepSuccessBody: boolean,
  ) {
    return async (url: string | URL, init: RequestInit = {}): Promise<Response> => {
      const response = await this.http.fetch(url, { ...init, signal: ctx.signal });
      const { status, statusText, headers } = response;
      if (isError(status)) {
        const body = await readBodyText(response);
        seen.answer = { status, headers, body };
        return new Response(body, { status, statusText, headers });
      }
      if (keepSuccessBody) return response;
      await response.body?.cancel();
      return new Response(null, { status, statusText, headers });
    };
  }

  #threadOf(event: EmpathyEvent): string | undefined {
    if (!this.#threadKey) return undefined;
    let key: unknown;
    try {
      key = this.#threadKey(event);
    } catch (error) {
      throw permanentError(
        this.errors,
        `option 'threadKey' threw: ${error instanceof Error ? error.message : String(error)}`,
        'ETHREADKEY',
        error,
      );
    }
    return typeof key === 'string' && key !== '' ? key : undefined;
  }

  #remember(key: string, ts: string | undefined): void {
    if (ts === undefined) return;
    this.#threads.delete(key);
    this.#threads.set(key, ts);
    if (this.#threads.size > MAX_THREADS) this.#threads.delete(this.#threads.keys().next().value!);
  }
}

function optionalString(
  value: unknown,
  option: string,
  webhook: string,
  pattern: RegExp,
  rule: string,
): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new WebhookConfigError(`option '${option}' must be ${rule} (got ${JSON.stringify(value)})`, {
      webhook,
    });
  }
  return value;
}
