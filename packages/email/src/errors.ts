import { isWebhookDeliveryError, type WebhookDeliveryError } from '@empathy/webhooks-core';
import { type ErrorScope, networkError, permanentError, replyError } from '@empathy/webhooks-core/kit';

/** How core should treat an SMTP reply, in the terms its retry policy understands. */
export interface SmtpReplyClass {
  /** Whether the same message may be accepted later (4xx) or never (5xx). */
  retryable: boolean;
  /**
   * For a transient reply, the HTTP status it amounts to, which core's retry policy and circuit
   * breaker judge: 429 when the server is throttling, else 503. A permanent reply has none.
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

/** What nodemailer puts on its errors (a subset of its `NodemailerError`). */
interface NodemailerErrorFields {
  message?: unknown;
  code?: unknown;
  /** The SMTP command the server answered, e.g. `RCPT TO`, `DATA`, `AUTH PLAIN`. */
  command?: unknown;
  /** The server's reply line, e.g. `550 5.1.1 <ops@example.com>: Recipient address rejected`. */
  response?: unknown;
  responseCode?: unknown;
  /** Set with `responseCode`: true for 5xx replies (but 503), false for 4xx. */
  permanent?: unknown;
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
 * Turns what nodemailer threw into a delivery error with core's builders. An SMTP reply →
 * `replyError` (`[email] SMTP 451 from smtp.example.com:587 (EMESSAGE): DATA refused: 4.3.0 …`):
 * a transient reply amounts to 503 (429 when the server is throttling, with the wait it names),
 * a permanent one is not retried. No reply: a failure another attempt cannot fix (bad
 * credentials, no recipients) is permanent, anything else (refused, dropped, timed out, TLS, a
 * refused address) is core's network error. Only the reply is parsed here; the message shape and
 * redaction are core's, and nodemailer's error is never attached.
 */
export function toEmailError(scope: ErrorScope, error: unknown): WebhookDeliveryError {
  if (isWebhookDeliveryError(error)) return error;
  const e = (
    typeof error === 'object' && error !== null ? error : { message: error }
  ) as NodemailerErrorFields;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const command = typeof e.command === 'string' && e.command !== 'API' ? e.command : undefined;
  if (typeof e.responseCode === 'number') {
    const response = typeof e.response === 'string' ? e.response : '';
    // The reply without its code, which the message names already: "4.3.0 Temporary …".
    const text = response.replace(/^\d{3}[ -]?/, '');
    const reply = classifySmtpReply(
      e.responseCode,
      response,
      typeof e.permanent === 'boolean' ? e.permanent : undefined,
    );
    return replyError(scope, {
      reply: `SMTP ${e.responseCode}`,
      code,
      detail: command ? `${command} refused: ${text}` : text,
      ...reply,
    });
  }
  const message = typeof e.message === 'string' ? e.message : String(error);
  if (code !== undefined && PERMANENT_CODES.has(code)) {
    return permanentError(scope, `SMTP to ${scope.target} failed: ${message} (${code})`, code);
  }
  if (code === 'ECONNECTION') {
    // The pool's own words ("Reached maximum number of retries…") describe a requeue that is
    // switched off: core retries instead.
    return networkError(
      scope,
      Object.assign(new Error('the connection closed before the server accepted the message'), { code }),
    );
  }
  return networkError(scope, error);
}
