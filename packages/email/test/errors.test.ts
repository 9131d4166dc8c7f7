import { inspect } from 'node:util';
import { WebhookDeliveryError } from '@empathy/webhooks-core';
import { isRetryable, Redactor } from '@empathy/webhooks-core/kit';
import { normalizeRetryPolicy } from '@empathy/webhooks-core/queue';
import { describe, expect, it } from 'vitest';
import { toEmailError } from '../src/errors.js';
import { classifySmtpReply } from '../src/index.js';

const SECRETS = ['pa55-word-xyz', 'cGE1NS13b3JkLXh5eg=='];
const scope = {
  webhook: 'ops-email',
  target: 'smtp.example.com:587',
  redactor: SECRETS.reduce((r, s) => r.addSecret(s), new Redactor()),
};

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
  it('retries 4xx replies (as a 503) and gives up on 5xx (but 503)', () => {
    expect(classifySmtpReply(451, '451 4.3.0 Temporary local problem')).toEqual({
      retryable: true,
      status: 503,
    });
    expect(classifySmtpReply(452, '452 4.2.2 Mailbox full')).toEqual({ retryable: true, status: 503 });
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
});

describe('toEmailError', () => {
  const policy = normalizeRetryPolicy(undefined, 'email');

  it('names the reply, the server, the command and what the server said; 5xx is permanent', () => {
    const error = toEmailError(
      scope,
      smtpError('EENVELOPE', 'RCPT TO', '550 5.1.1 <ops@example.com>: Recipient address rejected'),
    );
    expect(error).toMatchObject({
      name: 'WebhookDeliveryError',
      message:
        '[ops-email] SMTP 550 from smtp.example.com:587 (EENVELOPE): RCPT TO refused: 5.1.1 <ops@example.com>: Recipient address rejected',
      code: 'EENVELOPE',
      retryable: false,
      status: undefined,
    });
    expect(isRetryable(policy, error)).toBe(false);
    expect(error.cause).toBeUndefined();
  });

  it("gives a transient reply the status core's retry policy and breaker judge, and the server's wait", () => {
    const limited = toEmailError(
      scope,
      smtpError('EENVELOPE', 'MAIL FROM', '450 4.7.1 Rate limit exceeded, try again in 2 seconds'),
    );
    expect(limited).toMatchObject({ retryable: true, status: 429, retryAfterMs: 2000 });
    expect(limited.message).toMatch(/ \(retry after 2s\)$/);
    const busy = toEmailError(
      scope,
      smtpError('EAUTH', 'AUTH PLAIN', '454 4.7.0 Temporary authentication failure'),
    );
    expect(busy).toMatchObject({ retryable: true, status: 503 });
    expect(isRetryable(policy, busy)).toBe(true);
  });

  it('retries connection failures, which have no reply, as network errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2525'), {
      code: 'ESOCKET',
      command: 'CONN',
    });
    expect(toEmailError(scope, refused)).toMatchObject({
      message:
        '[ops-email] request to smtp.example.com:587 failed: connect ECONNREFUSED 127.0.0.1:2525 (ESOCKET)',
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
    expect(toEmailError(scope, dropped)).toMatchObject({
      message:
        '[ops-email] request to smtp.example.com:587 failed: the connection closed before the server accepted the message (ECONNECTION)',
      retryable: true,
    });
    const endless = Object.assign(new Error('Server response exceeds maximum allowed size'), {
      code: 'EPROTOCOL',
    });
    expect(toEmailError(scope, endless)).toMatchObject({ retryable: true, code: 'EPROTOCOL' });
  });

  it('does not retry what another attempt cannot fix', () => {
    const missing = Object.assign(new Error('Missing credentials for "PLAIN"'), {
      code: 'EAUTH',
      command: 'API',
    });
    expect(toEmailError(scope, missing)).toMatchObject({
      message: '[ops-email] SMTP to smtp.example.com:587 failed: Missing credentials for "PLAIN" (EAUTH)',
      retryable: false,
      code: 'EAUTH',
    });
  });

  it('redacts secrets the server echoes, before the detail is cut, and never keeps the original error', () => {
    const echo = smtpError(
      'EAUTH',
      'AUTH PLAIN',
      '535 5.7.8 credentials cGE1NS13b3JkLXh5eg== (pa55-word-xyz) rejected',
    );
    const error = toEmailError(scope, echo);
    expect(error.message).toBe(
      '[ops-email] SMTP 535 from smtp.example.com:587 (EAUTH): AUTH PLAIN refused: 5.7.8 credentials *** (***) rejected',
    );
    const long = smtpError('EAUTH', 'AUTH PLAIN', `535 ${'x'.repeat(280)}pa55-word-xyz${'y'.repeat(50)}`);
    const everything = [echo, long]
      .map((e) => inspect(toEmailError(scope, e), { depth: 12, showHidden: true }))
      .join('\n');
    for (const secret of SECRETS) {
      for (let i = 0; i + 6 <= secret.length; i++) expect(everything).not.toContain(secret.slice(i, i + 6));
    }
  });

  it('passes a delivery error through and bounds long replies', () => {
    const own = new WebhookDeliveryError('already mapped', { webhook: 'email' });
    expect(toEmailError(scope, own)).toBe(own);
    const long = smtpError('EMESSAGE', 'DATA', `554 5.6.0 ${'x'.repeat(5000)}`);
    expect(toEmailError(scope, long).message.length).toBeLessThan(400);
  });
});
