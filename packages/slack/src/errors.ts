import {
  isWebhookDeliveryError,
  parseRetryAfter,
  redact,
  WebhookDeliveryError,
} from '@empathy/webhooks-core';

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

/** What {@link toSlackDeliveryError} needs besides the error. */
export interface SlackErrorContext {
  /** The webhook's name (prefix of the message). */
  webhook: string;
  /** What was called, for the message: `chat.postMessage` or `incoming webhook`. */
  operation: string;
  /** Strings to blank out of anything that came from the SDK (token, webhook URL and its path). */
  secrets: readonly string[];
  /** The Retry-After header of the answer, when the SDK does not keep it (incoming webhooks). */
  retryAfter?: string | null | undefined;
}

/**
 * Turns whatever `@slack/web-api` or `@slack/webhook` threw into a {@link WebhookDeliveryError}:
 * HTTP status and Retry-After kept, `ok: false` codes classified, no secret in the message or
 * the cause. SDK errors are never attached as they are: the cause is a fresh, redacted Error.
 */
export function toSlackDeliveryError(error: unknown, ctx: SlackErrorContext): WebhookDeliveryError {
  if (isWebhookDeliveryError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkError;
  const { webhook, operation } = ctx;
  const cause = sanitizedCause(error, ctx.secrets);

  switch (e.code) {
    // @slack/web-api with rejectRateLimitedCalls: a 429 with Retry-After.
    case 'slack_webapi_rate_limited_error': {
      const retryAfterMs = toMs(e.retryAfter);
      return new WebhookDeliveryError(`HTTP 429 from ${operation}${retryHint(retryAfterMs)}`, {
        webhook,
        status: 429,
        retryAfterMs,
        code: 'rate_limited',
        cause,
      });
    }
    // { ok: false, error: '…' }, which Slack sends with HTTP 200.
    case 'slack_webapi_platform_error': {
      const code = safeCode(e.data?.error) ?? 'unknown_error';
      const retryable = TRANSIENT_SLACK_ERRORS.has(code) || STALE_THREAD_ERRORS.has(code);
      const retryAfterMs = toMs(e.data?.response_metadata?.retryAfter);
      const needed = code === 'missing_scope' ? safeCode(e.data?.needed) : undefined;
      const hint = HINTS[code] ?? (retryable ? 'will retry' : 'not retried');
      return new WebhookDeliveryError(
        `${operation} failed: ${code} (${hint}${needed ? `: ${needed}` : ''})${retryHint(retryAfterMs)}`,
        { webhook, status: 200, retryable, retryAfterMs, code, cause },
      );
    }
    // Any other HTTP status (web-api: any non-200; incoming webhook: any non-2xx).
    case 'slack_webapi_http_error':
    case 'slack_webhook_http_error': {
      const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
      const header = ctx.retryAfter ?? headerValue(e.headers, 'retry-after');
      const retryAfterMs = parseRetryAfter(header);
      const code = bodyCode(e.body);
      const hint = code && HINTS[code] ? ` (${HINTS[code]})` : '';
      return new WebhookDeliveryError(
        `HTTP ${status} from ${operation}${code ? `: ${code}` : ''}${hint}${retryHint(retryAfterMs)}`,
        { webhook, status, retryAfterMs, code, cause },
      );
    }
    // No answer: connection refused or reset, DNS, TLS, an aborted attempt.
    case 'slack_webapi_request_error':
    case 'slack_webhook_request_error': {
      const reason = networkReason(e.original ?? e.cause);
      return new WebhookDeliveryError(
        redact(`request to ${operation} failed: ${reason.message}`, ctx.secrets),
        {
          webhook,
          retryable: true,
          code: reason.code,
          cause,
        },
      );
    }
  }
  // @slack/web-api gives up on a 429 without a usable Retry-After with a plain Error.
  const message = redact(String(e.message ?? error), ctx.secrets);
  if (/^Retry header did not contain a valid timeout/.test(message)) {
    return new WebhookDeliveryError(`HTTP 429 from ${operation} (no usable Retry-After)`, {
      webhook,
      status: 429,
      code: 'rate_limited',
      cause,
    });
  }
  return new WebhookDeliveryError(`${operation} failed: ${message}`, { webhook, retryable: true, cause });
}

interface SdkError {
  code?: string | undefined;
  message?: string | undefined;
  retryAfter?: number | undefined;
  statusCode?: number | undefined;
  headers?: Record<string, string> | undefined;
  body?: unknown | undefined;
  original?: unknown | undefined;
  cause?: unknown | undefined;
  data?: { error?: unknown; needed?: unknown; response_metadata?: { retryAfter?: number } } | undefined;
}

/** A copy of the error that is safe to keep: name and redacted message, no request, no headers. */
function sanitizedCause(error: unknown, secrets: readonly string[]): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const copy = new Error(redact(source.message, secrets));
  copy.name = source.name;
  return copy;
}

/** The innermost useful reason of a network failure: `fetch failed` hides `ECONNREFUSED` in its cause. */
function networkReason(error: unknown): { message: string; code?: string } {
  let current = error as { message?: unknown; code?: unknown; cause?: unknown; name?: unknown } | undefined;
  let code: string | undefined;
  const messages: string[] = [];
  for (let depth = 0; current && depth < 5; depth++) {
    if (typeof current.code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(current.code)) code = current.code;
    if (current.name === 'AbortError' || current.name === 'TimeoutError') return { message: 'aborted', code };
    if (typeof current.message === 'string' && current.message) messages.push(current.message);
    current = current.cause as typeof current;
  }
  return { message: messages.join(': ') || 'network error', code };
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** The error code in a Slack answer body: `{"ok":false,"error":"…"}` (Web API) or plain text (webhooks). */
function bodyCode(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  const text = body.trim();
  try {
    return safeCode((JSON.parse(text) as { error?: unknown })?.error);
  } catch {
    return safeCode(text);
  }
}

// Only short snake_case codes are echoed: an answer body could hold anything.
function safeCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z][a-z0-9_:.]{0,63}$/.test(value) ? value : undefined;
}

function toMs(seconds: unknown): number | undefined {
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function retryHint(ms: number | undefined): string {
  return ms === undefined ? '' : ` (retry after ${Math.round(ms / 100) / 10}s)`;
}
