import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { httpError, MAX_ERROR_DETAIL, Redactor, replyError } from '../src/kit/index.js';
import { isRetryable, normalizeRetryPolicy } from '../src/policies/retry.js';

const SECRET = 'pa55-w0rd-S3cr3t-value';
const scope = () => ({
  webhook: 'mail',
  target: 'smtp.example.com:587',
  redactor: new Redactor().addSecret(SECRET),
});
const policy = normalizeRetryPolicy(undefined, 'mail');

describe('replyError: a refusal that is not an HTTP status', () => {
  it('names the answer as its protocol does, in the shape of httpError', () => {
    const error = replyError(scope(), {
      reply: 'SMTP 450',
      status: 429,
      code: 'EENVELOPE',
      detail: 'MAIL FROM refused: 4.7.1 Rate limit exceeded',
      retryAfterMs: 30_000,
    });
    expect(error.message).toBe(
      '[mail] SMTP 450 from smtp.example.com:587 (EENVELOPE): MAIL FROM refused: 4.7.1 Rate limit exceeded (retry after 30s)',
    );
    expect(error).toMatchObject({ status: 429, retryAfterMs: 30_000, code: 'EENVELOPE', retryable: true });
    const http = httpError(scope(), { status: 429, code: 'EENVELOPE', detail: 'x', retryAfterMs: 30_000 });
    expect(http.message).toBe('[mail] HTTP 429 from smtp.example.com:587 (EENVELOPE): x (retry after 30s)');
  });

  it('with a status, the retry policy decides; without one, the protocol verdict does', () => {
    const transient = replyError(scope(), { reply: 'SMTP 451', status: 503, retryable: false });
    expect(transient.retryable).toBe(true);
    expect(isRetryable(policy, transient)).toBe(true);
    const permanent = replyError(scope(), { reply: 'SMTP 550', retryable: false });
    expect(permanent).toMatchObject({ status: undefined, retryable: false });
    expect(isRetryable(policy, permanent)).toBe(false);
    const stale = replyError(scope(), { reply: 'ok:false', code: 'thread_not_found', retryable: true });
    expect(isRetryable(policy, stale)).toBe(true);
    expect(replyError(scope(), { reply: 'ok:false' }).retryable).toBe(true);
  });

  it('redacts the detail before it cuts it: no piece of a secret around the cut survives', () => {
    for (let offset = MAX_ERROR_DETAIL - SECRET.length - 4; offset <= MAX_ERROR_DETAIL + 2; offset++) {
      const error = replyError(scope(), {
        reply: 'SMTP 535',
        retryable: false,
        detail: `${'x'.repeat(offset)}${SECRET}${'y'.repeat(20)}`,
      });
      const text = `${error.message}\n${inspect(error, { depth: 5 })}`;
      for (let i = 0; i + 6 <= SECRET.length; i++) expect(text).not.toContain(SECRET.slice(i, i + 6));
    }
  });
});
