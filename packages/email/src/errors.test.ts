import { inspect } from 'node:util';
import {
  DEFAULT_RETRY_POLICY,
  isRetryable,
  normalizeRetryPolicy,
  WebhookDeliveryError,
} from '@empathy/webhooks-core';
import { describe, expect, it } from 'vitest';
import { classifySmtpReply, toEmailDeliveryError } from './errors.js';

const context = { server: 'smtp.example.com:587', secrets: ['pa55-word-xyz', 'cGE1NS13b3JkLXh5eg=='] };

/** A nodemailer error as its SMTP client builds them. */
function smtpError(code: string, command: string, response: string): Error {
  const responseCode = Number(response.slice(0, 3));
  return Object.assign(new Error(`Message failed: ${response}`), {
    code,
    command,
    response,
    responseCode,
    permanent: responseCode >= 500 && responseCode !== 503,
  });
}

describe('classifySmtpReply', () => {
  it('retries 4xx replies and gives up on 5xx (but 503)', () => {
    expect(classifySmtpReply(451, '451 4.3.0 Temporary local problem')).toEqual({
      retryable: true,
      status: 503,
    });
    expect(classifySmtpReply(452, '452 4.2.2 Mailbox full')).toEqual({ retryable: true, status: 503 });
    expect(classifySmtpReply(421, '421 4.3.2 Service shutting down')).toEqual({
      retryable: true,
      status: 503,
    });
    expect(classifySmtpReply(550, '550 5.1.1 User unknown')).toEqual({ retryable: false });
    expect(classifySmtpReply(554, '554 5.7.1 Message rejected as spam')).toEqual({ retryable: false });
    expect(classifySmtpReply(503, '503 5.5.1 Bad sequence of commands')).toEqual({
      retryable: true,
      status: 503,
    });
  });

  it('reads throttling as 429, with the wait the server names', () => {
    expect(classifySmtpReply(454, '454 Throttling failure: Maximum sending rate exceeded.')).toEqual({
      retryable: true,
      status: 429,
    });
    expect(classifySmtpReply(421, '421 4.7.0 Error: too many connections from 10.0.0.1')).toEqual({
      retryable: true,
      status: 429,
    });
    expect(classifySmtpReply(450, '450 4.7.1 Rate limit exceeded, try again in 30 seconds')).toEqual({
      retryable: true,
      status: 429,
      retryAfterMs: 30_000,
    });
    expect(classifySmtpReply(451, '451 4.7.1 Greylisted, please retry after 5 minutes')).toMatchObject({
      status: 429,
      retryAfterMs: 300_000,
    });
  });

  it("follows nodemailer's own verdict when it has one", () => {
    expect(classifySmtpReply(550, '550 weird', false)).toEqual({ retryable: true, status: 503 });
    expect(classifySmtpReply(450, '450 weird', true)).toEqual({ retryable: false });
  });

  it("matches core's retry rule: transient replies are retried by the default policy, permanent ones not", () => {
    const policy = normalizeRetryPolicy(undefined, 'email');
    const asError = (code: number, text: string) =>
      new WebhookDeliveryError('x', { webhook: 'email', ...classifySmtpReply(code, text) });
    expect(isRetryable(policy, asError(451, '451 4.3.0 later'))).toBe(true);
    expect(isRetryable(policy, asError(450, '450 4.7.1 rate limited'))).toBe(true);
    expect(isRetryable(policy, asError(550, '550 5.1.1 no such user'))).toBe(false);
    expect(DEFAULT_RETRY_POLICY.retryOnStatus).toContain(503);
  });
});

describe('toEmailDeliveryError', () => {
  it('describes a refused command with the server, the reply and the verdict', () => {
    const error = toEmailDeliveryError(
      'ops-email',
      smtpError('EENVELOPE', 'RCPT TO', '550 5.1.1 <ops@example.com>: Recipient address rejected'),
      context,
    );
    expect(error).toMatchObject({
      name: 'WebhookDeliveryError',
      message:
        '[ops-email] smtp.example.com:587: RCPT TO refused: 550 5.1.1 <ops@example.com>: Recipient address rejected (permanent)',
      code: 'EENVELOPE',
      retryable: false,
      status: undefined,
    });
    expect(error.cause).toBeUndefined();
  });

  it('keeps the status and wait of a transient reply', () => {
    const error = toEmailDeliveryError(
      'email',
      smtpError('EENVELOPE', 'MAIL FROM', '450 4.7.1 Rate limit exceeded, try again in 2 seconds'),
      context,
    );
    expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2000 });
    expect(error.message).toMatch(/\(transient\)$/);
  });

  it('retries connection failures, which have no reply', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2525'), {
      code: 'ESOCKET',
      originalCode: 'ECONNREFUSED',
      command: 'CONN',
    });
    expect(toEmailDeliveryError('email', refused, context)).toMatchObject({
      message: '[email] smtp.example.com:587: connect ECONNREFUSED 127.0.0.1:2525 (ESOCKET)',
      retryable: true,
      status: undefined,
      code: 'ESOCKET',
    });
    const dropped = Object.assign(
      new Error('Reached maximum number of retries after connection was closed'),
      {
        code: 'ECONNECTION',
      },
    );
    expect(toEmailDeliveryError('email', dropped, context)).toMatchObject({
      message:
        '[email] smtp.example.com:587: the connection closed before the server accepted the message (ECONNECTION)',
      retryable: true,
    });
    const slow = Object.assign(new Error('Greeting never received'), {
      code: 'ETIMEDOUT',
      timeoutType: 'GREETING_TIMEOUT',
    });
    expect(toEmailDeliveryError('email', slow, context).message).toBe(
      '[email] smtp.example.com:587: timed out (GREETING_TIMEOUT) (ETIMEDOUT)',
    );
  });

  it('does not retry what another attempt cannot fix', () => {
    const missing = Object.assign(new Error('Missing credentials for "PLAIN"'), {
      code: 'EAUTH',
      command: 'API',
    });
    expect(toEmailDeliveryError('email', missing, context)).toMatchObject({
      retryable: false,
      code: 'EAUTH',
    });
    const auth = smtpError('EAUTH', 'AUTH PLAIN', '535 5.7.8 Authentication credentials invalid');
    expect(toEmailDeliveryError('email', auth, context)).toMatchObject({ retryable: false });
    const busy = smtpError('EAUTH', 'AUTH PLAIN', '454 4.7.0 Temporary authentication failure');
    expect(toEmailDeliveryError('email', busy, context)).toMatchObject({ retryable: true, status: 503 });
  });

  it('redacts secrets the server echoes, and never keeps the original error', () => {
    const echo = smtpError(
      'EAUTH',
      'AUTH PLAIN',
      '535 5.7.8 credentials cGE1NS13b3JkLXh5eg== (pa55-word-xyz) rejected',
    );
    const error = toEmailDeliveryError('email', echo, context);
    expect(error.message).toBe(
      '[email] smtp.example.com:587: AUTH PLAIN refused: 535 5.7.8 credentials *** (***) rejected (permanent)',
    );
    const everything = inspect(error, { depth: 12, showHidden: true });
    for (const secret of context.secrets) expect(everything).not.toContain(secret);
  });

  it('passes a delivery error through and bounds long replies', () => {
    const own = new WebhookDeliveryError('already mapped', { webhook: 'email' });
    expect(toEmailDeliveryError('email', own, context)).toBe(own);
    const long = smtpError('EMESSAGE', 'DATA', `554 5.6.0 ${'x'.repeat(5000)}`);
    expect(toEmailDeliveryError('email', long, context).message.length).toBeLessThan(400);
  });
});
