import type { ErrorScope } from '@empathy/webhooks-core/kit';
import { type Logger, LogLevel, WebClient } from '@slack/web-api';
import { type SlackAnswer, toSlackError } from './errors.js';
import type { SlackPayload } from './format.js';

/** Where a posted message is: what `chat.update` and a thread reply need. */
export interface SlackMessageRef {
  /** The channel's ID (`C0123456789`), as Slack answered it. */
  channel: string;
  /** The message's timestamp, its ID within the channel. */
  ts: string;
}

/**
 * The Web API methods one attempt calls, through one `WebClient`. Each call is one request;
 * what fails is thrown as core's `WebhookDeliveryError`, naming the method.
 */
export interface SlackWebApi {
  /** `chat.postMessage`; a reply when `thread_ts` is set. Resolves to where the message is. */
  postMessage(
    message: SlackPayload & { channel: string; thread_ts?: string },
  ): Promise<Partial<SlackMessageRef>>;
  /** `chat.update` of the message at `at` with the payload's content (who posts it cannot change). */
  update(at: SlackMessageRef, payload: SlackPayload): Promise<void>;
}

/** What {@link attemptWebApi} needs from the webhook. */
export interface WebApiOptions {
  token: string;
  /** Ends in `/api/`. */
  apiUrl: string;
  /** The attempt's `fetch`, keeping an error answer it read in `seen`. */
  fetch: (seen: { answer?: SlackAnswer }) => (url: string | URL, init?: RequestInit) => Promise<Response>;
  /** The error scope naming `method` as the target. */
  scope: (method: 'chat.postMessage' | 'chat.update') => ErrorScope;
}

// The SDK logs through this: nothing, since answers (which may echo a secret) reach users
// through the delivery error, redacted.
const SILENT: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

type PostArguments = Parameters<WebClient['chat']['postMessage']>[0];
type UpdateArguments = Parameters<WebClient['chat']['update']>[0];

/**
 * The Web API for one attempt. `WebClient` takes no per-call `AbortSignal`, so each attempt gets
 * a client whose `fetch` is bound to its own signal (a few small objects; the transport pools
 * the connections).
 */
export function attemptWebApi(options: WebApiOptions): SlackWebApi {
  const seen: { answer?: SlackAnswer } = {};
  const client = new WebClient(options.token, {
    slackApiUrl: options.apiUrl,
    // One request per call: core owns retries and Retry-After (the default is 10 retries).
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: SILENT,
    fetch: options.fetch(seen),
  });
  const call = async <T>(method: 'chat.postMessage' | 'chat.update', run: () => Promise<T>): Promise<T> => {
    // An answer kept by an earlier call of this attempt is not this call's.
    seen.answer = undefined;
    try {
      return await run();
    } catch (error) {
      throw toSlackError(options.scope(method), error, seen.answer);
    }
  };
  return {
    postMessage: (message) =>
      call('chat.postMessage', async () => {
        const result = await client.chat.postMessage(message as PostArguments);
        return { channel: result.channel, ts: result.ts };
      }),
    update: (at, payload) =>
      call('chat.update', async () => {
        // chat.update changes the content only: who posted it, and where, stay.
        const { channel: _channel, username: _username, icon_emoji: _icon, ...content } = payload;
        await client.chat.update({ ...content, channel: at.channel, ts: at.ts } as UpdateArguments);
      }),
  };
}
