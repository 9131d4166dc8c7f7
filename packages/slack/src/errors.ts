import { isWebhookDeliveryError, type WebhookDeliveryError } from '@empathy/webhooks-core';
import {
  type ErrorScope,
  httpError,
  networkError,
  parseRetryAfter,
  replyError,
} from '@empathy/webhooks-core/kit';

/**
 * `ok: false` error codes of chat.postMessage worth another attempt; every other code is a
 * permanent refusal (channel_not_found, invalid_auth, not_in_channel, invalid_blocks, …).
 * See docs.slack.dev/reference/methods/chat.postMessage#errors.
 */
export const TRANSIENT_SLACK_ERRORS: ReadonlySet<string> = new Set([
  'ratelimited',
  'rate_limited',
  'message_limit_exceeded',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);

/** `ok: false` codes that mean the thread we tried to reply in is gone: post afresh next time. */
export const STALE_THREAD_ERRORS: ReadonlySet<string> = new Set([
  'thread_not_found',
  'message_not_found',
  'invalid_thread_ts',
]);

/**
 * `ok: false` codes of chat.update that mean an incident's message can no longer be edited: it
 * was deleted, its channel was deleted or archived away from the app, or the token may not edit
 * it (another app's token, an edit window). A repeat or resolution then posts anew instead of
 * failing. See docs.slack.dev/reference/methods/chat.update#errors.
 */
export const UNEDITABLE_MESSAGE_ERRORS: ReadonlySet<string> = new Set([
  'message_not_found',
  'channel_not_found',
  'cant_update_message',
  'edit_window_closed',
]);

// Slack's rate limits, reported with ok:false instead of HTTP 429: the same thing to core.
const RATE_LIMITED = new Set(['ratelimited', 'rate_limited', 'message_limit_exceeded']);

// What to do about the permanent codes users hit most.
const HINTS: Record<string, string> = {
  channel_not_found: "check option 'channel' and that the app can see that channel",
  not_in_channel: 'invite the app to the channel (/invite @your-app)',
  is_archived: 'the channel is archived',
  channel_is_archived: 'the channel is archived',
  invalid_auth: "check option 'token'",
  not_authed: "check option 'token'",
  token_revoked: "option 'token' was revoked",
  token_expired: "option 'token' has expired",
  account_inactive: "option 'token' belongs to a deactivated account",
  missing_scope: 'the token needs the chat:write scope',
  no_service: "check option 'webhookUrl': Slack does not know this webhook (removed or disabled?)",
  invalid_token: "check option 'webhookUrl': its token is no longer valid",
  action_prohibited: 'an admin restricted posting to this channel',
  posting_to_general_channel_denied: 'only admins may post to this channel',
};

/**
 * An HTTP answer that was not a success, as an attempt's `fetch` saw it. `@slack/webhook` keeps
 * no headers on its errors and both SDKs would read a body whole: the attempt's `fetch` reads
 * the body to a bound and keeps the answer here.
 */
export interface SlackAnswer {
  status: number;
  headers: Headers;
  /** The body, read to core's error-body bound. */
  body: string;
}

/**
 * Turns what `@slack/web-api` or `@slack/webhook` threw into a delivery error with core's
 * builders: an HTTP answer → `httpError` (status, Slack's code, Retry-After); `ok: false` →
 * `replyError` (its code, a hint on what to fix, and whether another attempt may succeed);
 * nothing answered → `networkError`. Only Slack's answer is parsed here: the message shape,
 * redaction and the retry decision are core's. SDK errors are never attached.
 */
export function toSlackError(
  scope: ErrorScope,
  error: unknown,
  answer: SlackAnswer | undefined,
): WebhookDeliveryError {
  if (isWebhookDeliveryError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkError;
  if (e.code === 'slack_webapi_platform_error') {
    const data = e.data ?? {};
    const code = safeCode(data.error) ?? 'unknown_error';
    const needed = code === 'missing_scope' ? safeCode(data.needed) : undefined;
    const retryAfter = data.response_metadata?.retryAfter;
    const messages = [...strings(data.response_metadata?.messages), ...strings(data.errors)];
    return replyError(scope, {
      reply: 'ok:false',
      code,
      detail: [HINTS[code], needed && `needs ${needed}`, ...messages].filter(Boolean).join('; '),
      // Slack's rate limit in an HTTP 200 is still a rate limit: 429 to the policy and breaker.
      status: RATE_LIMITED.has(code) ? 429 : undefined,
      retryable: TRANSIENT_SLACK_ERRORS.has(code) || STALE_THREAD_ERRORS.has(code),
      retryAfterMs: typeof retryAfter === 'number' && retryAfter >= 0 ? retryAfter * 1000 : undefined,
    });
  }
  if (answer !== undefined) {
    const code = bodyCode(answer.body);
    return httpError(scope, {
      status: answer.status,
      code,
      detail: code === undefined ? answer.body : HINTS[code],
      retryAfterMs: parseRetryAfter(answer.headers.get('retry-after')),
    });
  }
  // No answer: refused, reset, DNS, a refused address, the deadline. The SDK's wrapper only adds
  // "A request error occurred"; its `original` is the reason.
  return networkError(scope, e.original ?? error);
}

interface SdkError {
  code?: string | undefined;
  original?: unknown;
  data?:
    | {
        error?: unknown;
        needed?: unknown;
        errors?: unknown;
        response_metadata?: { retryAfter?: number; messages?: unknown } | undefined;
      }
    | undefined;
}

/** The error code in a Slack answer body: `{"ok":false,"error":"…"}` (Web API) or plain text (webhooks). */
function bodyCode(body: string): string | undefined {
  const text = body.trim();
  try {
    return safeCode((JSON.parse(text) as { error?: unknown })?.error);
  } catch {
    return safeCode(text);
  }
}

// Only short snake_case codes are codes: an answer body could hold anything.
function safeCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z][a-z0-9_:.]{0,63}$/.test(value) ? value : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').slice(0, 5) : [];
}
