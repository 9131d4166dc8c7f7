import {
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
import { discordError } from './errors.js';
import { type DiscordMessage, fitDiscordMessage, formatDiscordMessage, toMessageEdit } from './format.js';

/** Options of {@link DiscordWebhook}. */
export interface DiscordWebhookOptions extends WebhookOptions<DiscordMessage> {
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
 * How much of Discord's answer is read for the created message's id. With `wait=true` Discord
 * echoes the message (at most ~6000 characters of embed text plus its JSON), far below this.
 */
const MAX_SUCCESS_BODY = 64 * 1024;
/** A Discord snowflake, as a message id stored with an incident must be before it goes in a path. */
const SNOWFLAKE = /^\d{1,25}$/;
/** Discord's code for "Unknown Message": the message to edit was deleted (or is in another thread). */
const UNKNOWN_MESSAGE = '10008';

/**
 * Posts each event to a Discord channel through a webhook: one embed with the title, text,
 * colour by severity, fields, timestamp and footer, within Discord's limits, and nothing in it
 * can ping anyone. An incident (a condition that fires, repeats and clears) is one message:
 * repeats and the resolution edit it. One attempt per `deliver`; retries, Retry-After, rate
 * limiting and timeouts are core's.
 *
 * @example
 * const discord = new DiscordWebhook({
 *   webhookUrl: process.env.DISCORD_WEBHOOK_URL!,
 *   username: 'Empathy Bot',
 *   events: ['alert', 'deployment_risk'],
 * });
 * const empathy = new EmpathyOS({ userId: 'team', webhooks: [discord] });
 */
export class DiscordWebhook extends WebhookBase<DiscordMessage> {
  /** The webhook URL's origin: the only part of it that is safe to print. */
  readonly target: string;
  // Private fields: `util.inspect(webhook)` (an onFailure logging its first argument) shows none of them.
  readonly #endpoint: URL;
  /** `{origin}/api/v10/webhooks/{id}/{token}/messages/`, with the POST's query but `wait`. */
  readonly #messages: URL;
  readonly #username: string | undefined;
  readonly #avatarUrl: string | undefined;
  readonly #content: DiscordWebhookOptions['content'];

  constructor(options: DiscordWebhookOptions) {
    super(options, {
      fit: fitDiscordMessage,
      name: 'discord',
      userAgent: userAgent(pkg),
      events: DEFAULT_DISCORD_EVENTS,
      concurrency: 1,
      rateLimit: DEFAULT_DISCORD_RATE_LIMIT,
    });
    const url = parseEndpointOption(options.webhookUrl, {
      option: 'webhookUrl',
      webhook: this.name,
      what: 'the Discord channel webhook URL',
      allowPrivateNetwork: this.allowPrivateNetwork,
    });
    this.redactor.addUrl(url);
    const match = WEBHOOK_PATH.exec(url.pathname);
    if (!match) {
      // The value is a credential: the message describes it, never quotes it.
      throw new WebhookConfigError(
        `option 'webhookUrl' must look like https://discord.com/api/webhooks/<id>/<token> (the path does not match)`,
        { webhook: this.name },
      );
    }
    const [, id, token] = match as RegExpExecArray;
    // Pin the API version; `wait=true` makes Discord answer with the message (and its errors).
    const endpoint = new URL(`/api/v10/webhooks/${id}/${token}`, url.origin);
    for (const [key, value] of url.searchParams) endpoint.searchParams.set(key, value);
    endpoint.searchParams.set('wait', 'true');
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
    // An edit goes to the same thread (`thread_id`) as the post; `wait` is the POST's alone.
    const messages = new URL(`/api/v10/webhooks/${id}/${token}/messages/`, url.origin);
    for (const [key, value] of endpoint.searchParams) {
      if (key !== 'wait') messages.searchParams.set(key, value);
    }
    this.#messages = messages;
    this.redactor.addUrl(endpoint).addSecret(`${id}/${token}`);
    this.target = url.origin;
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

  /**
   * The message with one embed for `event`, showing where its incident stands: what `format`
   * receives as `defaults`.
   */
  protected render(event: EmpathyEvent, incident?: IncidentContext): DiscordMessage {
    let content: string | undefined;
    try {
      content = typeof this.#content === 'function' ? this.#content(event) : this.#content;
    } catch (error) {
      throw permanentError(
        this.errors,
        `option 'content' threw: ${error instanceof Error ? error.message : String(error)}`,
        'EFORMAT',
      );
    }
    return formatDiscordMessage(event, {
      content,
      username: this.#username,
      avatarUrl: this.#avatarUrl,
      incident,
    });
  }

  /**
   * An incident's repeat or resolution edits the message its first notification posted
   * (`ctx.incident.ref.message_id`); anything else, or an edit of a message that is gone, is a
   * POST. The posted message's id is the receipt's `id` and, for an incident, its `incidentRef`.
   */
  protected async send(
    message: DiscordMessage,
    _event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    const messageId = ctx.incident?.ref?.message_id;
    if (messageId !== undefined && SNOWFLAKE.test(messageId)) {
      const edited = await this.#edit(messageId, message, ctx);
      if (edited !== undefined) return edited;
      // Deleted meanwhile (by a moderator, with its thread): the incident gets a new message.
      const reposted = await this.#post(message, ctx);
      reposted.detail = { action: 'reposted', replaced: messageId };
      return reposted;
    }
    return this.#post(message, ctx);
  }

  /** One POST with `wait=true`: Discord answers 200 with the created message, of which only the id is read. */
  async #post(message: DiscordMessage, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const response = await this.postJson(this.#endpoint, message, ctx);
    if (!response.ok) throw await discordError(this.errors, response);
    const created = (await readBodyJson(response, MAX_SUCCESS_BODY)) as { id?: unknown } | undefined;
    const receipt: DeliveryReceipt = { status: response.status };
    if (typeof created?.id === 'string' && SNOWFLAKE.test(created.id)) {
      receipt.id = created.id;
      if (ctx.incident !== undefined) receipt.incidentRef = { message_id: created.id };
    }
    return receipt;
  }

  /**
   * One PATCH of the incident's message with `message`'s text and embeds; `undefined` when
   * Discord answers 404 Unknown Message (10008), any other failure is the attempt's error.
   */
  async #edit(
    messageId: string,
    message: DiscordMessage,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt | undefined> {
    // Not `new URL(id, base)`: a relative reference would drop the base's query (`thread_id`).
    const url = new URL(this.#messages);
    url.pathname += messageId;
    const response = await this.sendJson('PATCH', url, toMessageEdit(message), ctx);
    if (!response.ok) {
      const error = await discordError(this.errors, response);
      if (response.status === 404 && error.code === UNKNOWN_MESSAGE) return undefined;
      throw error;
    }
    // Discord answers with the edited message: nothing in it is needed.
    await response.body?.cancel();
    return { status: response.status, id: messageId, detail: { action: 'edited' } };
  }
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
