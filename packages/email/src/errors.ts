import { isWebhookDeliveryError, redact, WebhookDeliveryError } from '@empathy/webhooks-core';

/** What nodemailer puts on its errors (a subset of its `NodemailerError`). */
interface NodemailerErrorFields {
  message?: unknown | undefined;
  code?: unknown | undefined;
  /** The SMTP command the server answered, e.g. `RCPT TO`, `DATA`, `AUTH PLAIN`. */
  command?: unknown | undefined;
  /** The server's reply line, e.g. `550 5.1.1 <ops@example.com>: Recipient address rejected`. */
  response?: unknown | undefined;
  responseCode?: unknown | undefined;
  /** Set with `responseCode`: true for 5xx replies (but 503), false for 4xx. */
  permanent?: unknown | undefined;
  timeoutType?: unknown | undefined;
}

/** How core should treat an SMTP reply, in the terms its retry policy understands. */
export interface SmtpReplyClass {
  /** Whether the same message may be accepted later (4xx) or never (5xx). */
  retryable: boolean;
  /**
   * The HTTP equivalent core's retry policy and circuit breaker act on: 429 for a rate limit,
   * 503 for any other transient reply; none for a permanent one.
   */
  status?: number | undefined;
  /** The wait the server asked for ("try again in 60 seconds"), in ms. */
  retryAfterMs?: number | undefined;
}

// Servers that throttle say so in words; no SMTP code is reserved for it (Gmail 4.7.28 "unusual
// rate", SES "454 Throttling failure", Postfix "421 4.7.0 too many connections").
const RATE_LIMITED = /\b(rate|throttl\w*|too many|too much mail)\b/i;
const RETRY_HINT = /\b(?:in|after|wait)\s+(\d{1,6})\s*(s|secs?|seconds?|m|mins?|minutes?)\b/i;

/**
 * Classifies an SMTP reply (RFC 5321: 4yz transient, 5yz permanent). `permanent` is nodemailer's
 * own verdict when it has one: it counts 503 "bad sequence of commands" as transient, since the
 * same message goes through on a new connection.
 */
export function classifySmtpReply(responseCode: number, response = '', permanent?: boolean): SmtpReplyClass {
  const isPermanent = permanent ?? (responseCode >= 500 && responseCode !== 503);
  if (isPermanent) return { retryable: false };
  const hint = RETRY_HINT.exec(response);
  const retryAfterMs =
    hint === null ? undefined : Number(hint[1]) * (hint[2]!.toLowerCase().startsWith('m') ? 60_000 : 1000);
  const limited = retryAfterMs !== undefined || RATE_LIMITED.test(response);
  return limited
    ? { retryable: true, status: 429, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }
    : { retryable: true, status: 503 };
}

// Failures nodemailer detects before or without an SMTP reply that another attempt cannot fix.
const PERMANENT_CODES = new Set([
  'EENVELOPE', // no recipients, an invalid address
  'EMESSAGE',
  'EAUTH',
  'ENOAUTH',
  'ECONFIG',
  'EMAXRECIPIENTS',
  'EREQUIRETLS',
  'EFILEACCESS',
  'EURLACCESS',
]);

/**
 * Turns whatever nodemailer threw into a {@link WebhookDeliveryError}: a 4xx reply is retryable
 * (429 with the server's wait when it is throttling, else 503), a 5xx reply is permanent, and a
 * connection failure (refused, dropped, timed out, TLS) is retryable without a status.
 *
 * The message names the server (`host:port`), the SMTP command and the server's reply, with
 * every secret redacted. nodemailer's error is not attached as `cause`: its fields are copied.
 */
export function toEmailDeliveryError(
  webhook: string,
  error: unknown,
  context: { server: string; secrets: readonly string[] },
): WebhookDeliveryError {
  if (isWebhookDeliveryError(error)) return error;
  const e = (
    typeof error === 'object' && error !== null ? error : { message: error }
  ) as NodemailerErrorFields;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const response = typeof e.response === 'string' ? e.response.replace(/\s+/g, ' ').trim() : undefined;
  const command = typeof e.command === 'string' && e.command !== 'API' ? e.command : undefined;
  const safe = (s: string) => clip(redact(s, context.secrets), 300);

  if (responseCode !== undefined) {
    const reply = classifySmtpReply(
      responseCode,
      response,
      typeof e.permanent === 'boolean' ? e.permanent : undefined,
    );
    const what = command ? `${command} refused` : 'SMTP reply';
    const verdict = reply.retryable ? 'transient' : 'permanent';
    return new WebhookDeliveryError(
      `${context.server}: ${what}: ${safe(response ?? String(responseCode))} (${verdict})`,
      { webhook, code, ...reply },
    );
  }

  const retryable = code === undefined || !PERMANENT_CODES.has(code);
  return new WebhookDeliveryError(`${context.server}: ${safe(describe(code, e))}`, {
    webhook,
    code,
    retryable,
  });
}

function describe(code: string | undefined, e: NodemailerErrorFields): string {
  const message = typeof e.message === 'string' ? e.message : String(e.message);
  switch (code) {
    case 'ECONNECTION':
      // The pool's own words ("Reached maximum number of retries…") describe a requeue we switch off.
      return 'the connection closed before the server accepted the message (ECONNECTION)';
    case 'ETIMEDOUT':
      return `timed out${typeof e.timeoutType === 'string' ? ` (${e.timeoutType})` : ''} (ETIMEDOUT)`;
    case 'EABORT':
      return 'attempt aborted (EABORT)';
    case undefined:
      return message;
    default:
      return `${message} (${code})`;
  }
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
