import {
  type CircuitBreakerOptions,
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  parseCommonOptions,
  parseEndpointOption,
  type RateLimit,
  type RetryPolicy,
  redact,
  safeOrigin,
  WebhookConfigError,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { LogLevel, WebClient } from '@slack/web-api';
import { IncomingWebhook } from '@slack/webhook';
import { STALE_THREAD_ERRORS, toSlackDeliveryError } from './errors.js';
import { buildPayload } from './format.js';

/** Options shared by both modes. */
interface SlackCommonOptions extends CommonWebhookOptions {
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
   * (http only for localhost).
   * @default 'https://slack.com'
   */
  baseUrl?: string | undefined;
  /**
   * Threads related events: events with the same key are posted as replies in the thread of the
   * first one (e.g. an alert and its resolution). Return `undefined` to post at the top level;
   * `false` turns threading off. Threads are remembered in memory, per instance (the last 1000).
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

const MAX_THREADS = 1000;

/**
 * The default {@link SlackBotTokenOptions.threadKey}: `data.dedup_key` when the event carries
 * one, else a key for events that naturally follow each other — an alert and its resolution
 * (same source and title), repeated failures of one test, reviews of one pull request, risks of
 * one deployment, a performance issue on one endpoint. Other events start no thread.
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
 * events threaded). Each delivery is one request: the SDKs' own retries are off, and core's
 * retry policy, Retry-After handling and rate limit apply.
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
export class SlackWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: CircuitBreakerOptions | false | undefined;
  readonly concurrency: number;
  readonly onFailure: WebhookPlugin['onFailure'];
  /** How this webhook posts. */
  readonly mode: 'incoming_webhook' | 'bot_token';
  readonly #webhookUrl: string | undefined;
  readonly #token: string | undefined;
  readonly #apiUrl: string;
  readonly #channel: string | undefined;
  readonly #username: string | undefined;
  readonly #iconEmoji: string | undefined;
  readonly #threadKey: ((event: EmpathyEvent) => string | undefined) | undefined;
  readonly #secrets: string[];
  /** Thread key → `ts` of the thread's first message, least recently used first. */
  readonly #threads = new Map<string, string>();

  constructor(options: SlackWebhookOptions) {
    const common = parseCommonOptions(options, {
      name: 'slack',
      events: DEFAULT_SLACK_EVENTS,
      concurrency: 1,
      rateLimit: DEFAULT_SLACK_RATE_LIMIT,
    });
    const webhook = common.name;
    this.name = webhook;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;

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

    if (o.webhookUrl !== undefined) {
      this.mode = 'incoming_webhook';
      const url = endpoint(o.webhookUrl, 'webhookUrl', webhook);
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
      this.#threadKey = undefined;
      this.#secrets = [o.webhookUrl as string, url.href, `${url.pathname}${url.search}`];
    } else {
      this.mode = 'bot_token';
      if (typeof o.token !== 'string' || !/^\S{4,}$/.test(o.token)) {
        throw fail(`option 'token' must be a bot token string (xoxb-…) without spaces`);
      }
      if (this.#channel === undefined) {
        throw fail(`option 'channel' is required with 'token': the channel ID or #name to post to`);
      }
      const base = endpoint(o.baseUrl ?? 'https://slack.com', 'baseUrl', webhook).href.replace(/\/+$/, '');
      this.#apiUrl = base.endsWith('/api') ? `${base}/` : `${base}/api/`;
      if (o.threadKey !== undefined && o.threadKey !== false && typeof o.threadKey !== 'function') {
        throw fail(`option 'threadKey' must be a function (event) => string | undefined, or false`);
      }
      this.#threadKey =
        o.threadKey === false
          ? undefined
          : ((o.threadKey as ((event: EmpathyEvent) => string | undefined) | undefined) ?? defaultThreadKey);
      this.#token = o.token;
      this.#webhookUrl = undefined;
      this.#secrets = [o.token];
    }
  }

  /** One attempt: posts the event's message once. */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const payload = buildPayload(event, {
      channel: this.#channel,
      username: this.#username,
      iconEmoji: this.#iconEmoji,
    });
    return this.mode === 'incoming_webhook'
      ? this.#sendToWebhook(payload, ctx.signal)
      : this.#postMessage(event, payload, ctx.signal);
  }

  async #sendToWebhook(
    payload: ReturnType<typeof buildPayload>,
    signal: AbortSignal,
  ): Promise<DeliveryReceipt> {
    // @slack/webhook keeps no headers on its HTTP errors: read Retry-After on the way through.
    let retryAfter: string | null = null;
    const hook = new IncomingWebhook(this.#webhookUrl!, {
      fetch: boundFetch(signal, (response) => {
        retryAfter = response.headers.get('retry-after');
      }),
    });
    try {
      await hook.send(payload);
      return { status: 200, detail: { mode: this.mode } };
    } catch (error) {
      throw toSlackDeliveryError(error, {
        webhook: this.name,
        operation: `incoming webhook ${safeOrigin(this.#webhookUrl!)}`,
        secrets: this.#secrets,
        retryAfter,
      });
    }
  }

  async #postMessage(
    event: EmpathyEvent,
    payload: ReturnType<typeof buildPayload>,
    signal: AbortSignal,
  ): Promise<DeliveryReceipt> {
    const key = this.#threadOf(event);
    const parent = key === undefined ? undefined : this.#threads.get(key);
    // The Web API client takes no per-call AbortSignal, so each attempt gets a client bound to
    // its own signal (a few small objects; connections are pooled by fetch underneath).
    const client = new WebClient(this.#token, {
      slackApiUrl: this.#apiUrl,
      // One request per attempt: core owns retries and Retry-After (the default is 10 retries).
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
      fetch: boundFetch(signal),
    });
    try {
      const result = await client.chat.postMessage({
        ...payload,
        channel: this.#channel!,
        ...(parent === undefined ? {} : { thread_ts: parent }),
      });
      if (key !== undefined) this.#remember(key, parent ?? result.ts);
      const detail: Record<string, unknown> = { mode: this.mode, channel: result.channel };
      if (parent !== undefined) detail.thread_ts = parent;
      return { status: 200, id: result.ts, detail };
    } catch (error) {
      const failure = toSlackDeliveryError(error, {
        webhook: this.name,
        operation: 'chat.postMessage',
        secrets: this.#secrets,
      });
      // The parent message is gone: the next attempt starts a new thread.
      if (key !== undefined && failure.code !== undefined && STALE_THREAD_ERRORS.has(failure.code)) {
        this.#threads.delete(key);
      }
      throw failure;
    }
  }

  #threadOf(event: EmpathyEvent): string | undefined {
    if (!this.#threadKey) return undefined;
    let key: unknown;
    try {
      key = this.#threadKey(event);
    } catch (error) {
      throw new WebhookDeliveryError(
        `option 'threadKey' threw: ${redact((error as Error)?.message ?? String(error), this.#secrets)}`,
        { webhook: this.name, retryable: false },
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

type SdkFetch = (url: string | URL, init?: { signal?: AbortSignal }) => Promise<Response>;

/** A fetch for the SDKs that aborts with the attempt's signal (core's per-attempt timeout). */
function boundFetch(signal: AbortSignal, onResponse?: (response: Response) => void): SdkFetch {
  return async (url, init = {}) => {
    const response = await fetch(url, {
      ...(init as RequestInit),
      signal: init.signal ? AbortSignal.any([init.signal, signal]) : signal,
    });
    onResponse?.(response);
    return response;
  };
}

/** Validates a URL option: https, or http to this machine only (a local fake or proxy). */
function endpoint(value: unknown, option: string, webhook: string): URL {
  return parseEndpointOption(value, { option, webhook, what: 'a URL' });
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
