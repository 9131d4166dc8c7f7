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
  safeOrigin,
  WebhookConfigError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import ky, { type KyInstance } from 'ky';
import { type ErrorContext, requestError, responseError } from './errors.js';
import { formatDiscordMessage } from './format.js';

/** Options of {@link DiscordWebhook}. */
export interface DiscordWebhookOptions extends CommonWebhookOptions {
  /**
   * The channel's webhook URL (Server Settings → Integrations → Webhooks → Copy Webhook URL).
   * Its path holds the webhook's token: it is a credential, never shown in errors or stats.
   * @example process.env.DISCORD_WEBHOOK_URL
   */
  webhookUrl: string | URL;
  /**
   * Overrides the webhook's display name for these messages: 1–80 characters, without
   * "discord" or "clyde" (Discord refuses those).
   * @default the name set on the webhook in Discord
   */
  username?: string | undefined;
  /**
   * Overrides the webhook's avatar (an http(s) image URL).
   * @default the avatar set on the webhook in Discord
   */
  avatarUrl?: string | undefined;
  /**
   * Posts into this thread of the webhook's channel (required for forum channels).
   * @default none: the channel itself
   */
  threadId?: string | undefined;
  /**
   * Text above the embed, or a function of the event that returns it. It cannot ping anyone
   * either: every message carries `allowed_mentions: { parse: [] }`. Cut to 2000 characters.
   * @default none
   * @example (event) => event.severity === 'critical' ? 'Critical event' : undefined
   */
  content?: string | ((event: EmpathyEvent) => string | undefined) | undefined;
  /**
   * Event types to receive; `'*'` for all.
   * @default ['alert', 'deployment_risk', 'test_failure', 'code_review_complete', 'pattern_discovered', 'error']
   */
  events?: readonly EventSelector[] | undefined;
  /**
   * Discord's documented limit for a webhook is 30 messages a minute; over it, deliveries wait.
   * @default { maxRequestsPerMinute: 30 }
   */
  rateLimit?: RateLimit | undefined;
  /**
   * Deliveries in flight at once. One keeps messages in the order they were emitted (retries
   * aside), and one at a time is far faster than Discord's per-webhook limit anyway.
   * @default 1
   */
  concurrency?: number | undefined;
}

/** The events a {@link DiscordWebhook} receives unless `events` says otherwise: status and community updates. */
export const DEFAULT_DISCORD_EVENTS = [
  'alert',
  'deployment_risk',
  'test_failure',
  'code_review_complete',
  'pattern_discovered',
  'error',
] as const satisfies readonly EventSelector[];

/** Discord's per-webhook limit. */
export const DEFAULT_DISCORD_RATE_LIMIT = { maxRequestsPerMinute: 30 } as const satisfies RateLimit;

const WEBHOOK_PATH = /^\/api(?:\/v\d+)?\/webhooks\/(\d{1,25})\/([\w-]{1,200})\/?$/;

/**
 * Posts each event to a Discord channel through a webhook: one embed with the title, text,
 * colour by severity, fields, timestamp and footer, within Discord's limits, and nothing in it
 * can ping anyone. One attempt per `deliver`; retries, Retry-After, rate limiting and timeouts
 * are core's.
 *
 * @example
 * const discord = new DiscordWebhook({
 *   webhookUrl: process.env.DISCORD_WEBHOOK_URL!,
 *   username: 'Empathy Bot',
 *   events: ['alert', 'deployment_risk'],
 * });
 * const empathy = new EmpathyOS({ userId: 'team', webhooks: [discord] });
 */
export class DiscordWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: CircuitBreakerOptions | false | undefined;
  readonly concurrency: number;
  readonly onFailure: CommonWebhookOptions['onFailure'];
  // Private fields: `util.inspect(webhook)` (an onFailure logging its first argument) shows none of them.
  readonly #endpoint: URL;
  readonly #errors: ErrorContext;
  readonly #username: string | undefined;
  readonly #avatarUrl: string | undefined;
  readonly #content: DiscordWebhookOptions['content'];
  #client: KyInstance | undefined;

  constructor(options: DiscordWebhookOptions) {
    const common = parseCommonOptions(options, {
      name: 'discord',
      events: DEFAULT_DISCORD_EVENTS,
      concurrency: 1,
      rateLimit: DEFAULT_DISCORD_RATE_LIMIT,
    });
    this.name = common.name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;

    const { endpoint, secrets } = parseWebhookUrl(options.webhookUrl, this.name);
    const threadId = options.threadId;
    if (threadId !== undefined) {
      if (typeof threadId !== 'string' || !/^\d{1,25}$/.test(threadId)) {
        throw new WebhookConfigError(`option 'threadId' must be a thread's numeric id`, {
          webhook: this.name,
        });
      }
      endpoint.searchParams.set('thread_id', threadId);
    }
    this.#endpoint = endpoint;
    this.#errors = { webhook: this.name, origin: safeOrigin(endpoint), secrets };
    this.#username = parseUsername(options.username, this.name);
    this.#avatarUrl = parseAvatarUrl(options.avatarUrl, this.name);
    if (
      options.content !== undefined &&
      typeof options.content !== 'string' &&
      typeof options.content !== 'function'
    ) {
      throw new WebhookConfigError(`option 'content' must be a string or a function (event) => string`, {
        webhook: this.name,
      });
    }
    this.#content = options.content;
  }

  /** Sends one message with one embed for `event`. One attempt. */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const content = typeof this.#content === 'function' ? this.#content(event) : this.#content;
    const message = formatDiscordMessage(event, {
      content,
      username: this.#username,
      avatarUrl: this.#avatarUrl,
    });
    let response: Response;
    try {
      response = await this.#http().post(this.#endpoint, { json: message, signal: ctx.signal });
    } catch (error) {
      // A timeout or shutdown aborted the request: core reports it as such.
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw requestError(this.#errors, error);
    }
    if (!response.ok) throw await responseError(this.#errors, response);
    // With `wait=true` Discord answers 200 with the created message.
    const created = (await response.json().catch(() => undefined)) as { id?: unknown } | undefined;
    const receipt: DeliveryReceipt = { status: response.status };
    if (typeof created?.id === 'string') receipt.id = created.id;
    return receipt;
  }

  #http(): KyInstance {
    // ky's own retries and timeout are off: core's retry policy is the only one.
    this.#client ??= ky.create({
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      headers: { 'user-agent': '@empathy/webhooks-discord' },
    });
    return this.#client;
  }
}

function parseWebhookUrl(value: unknown, webhook: string): { endpoint: URL; secrets: string[] } {
  const fail = (rule: string): never => {
    // The value is a credential: the message describes it, never quotes it.
    throw new WebhookConfigError(`option 'webhookUrl' ${rule}`, { webhook });
  };
  const url = parseEndpointOption(value, {
    option: 'webhookUrl',
    webhook,
    what: 'the Discord channel webhook URL',
  });
  const match = WEBHOOK_PATH.exec(url.pathname);
  if (!match) {
    fail(`must look like https://discord.com/api/webhooks/<id>/<token> (the path does not match)`);
  }
  const [, id, token] = match as RegExpExecArray;
  // Pin the API version; `wait=true` makes Discord answer with the message (and its errors).
  const endpoint = new URL(`/api/v10/webhooks/${id}/${token}`, url.origin);
  for (const [key, v] of url.searchParams) endpoint.searchParams.set(key, v);
  endpoint.searchParams.set('wait', 'true');
  return {
    endpoint,
    secrets: [String(value), url.href, endpoint.href, url.pathname, `${id}/${token}`, token!],
  };
}

function parseUsername(value: unknown, webhook: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim().length < 1 || value.length > 80) {
    throw new WebhookConfigError(`option 'username' must be 1-80 characters`, { webhook });
  }
  if (/discord|clyde/i.test(value) || ['everyone', 'here'].includes(value.trim().toLowerCase())) {
    throw new WebhookConfigError(
      `option 'username' may not contain "discord" or "clyde" or be "everyone" / "here" (Discord refuses it)`,
      { webhook },
    );
  }
  return value;
}

function parseAvatarUrl(value: unknown, webhook: string): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new WebhookConfigError(`option 'avatarUrl' must be an http(s) URL of an image`, { webhook });
  }
  return url.href;
}
