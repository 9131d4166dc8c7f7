/**
 * The Standard Webhooks reference libraries' own test cases, ported to our signer and verifier.
 * Source: github.com/standard-webhooks/standard-webhooks at b2fa7b8 (libraries/…):
 *   javascript/src/webhook.test.ts, python/tests/test_webhooks.py, go/webhook_test.go,
 *   java/src/test/java/com/standardwebhooks/{WebhookTest,TestScenario}.java,
 *   php/tests/{WebhookTest,TestPayload}.php
 * Each case names the file(s) it comes from. The expected signatures are computed here with
 * node:crypto from the base64-decoded key, as the reference tests compute them, not with our code.
 */
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  isWebhookConfigError,
  isWebhookSignatureError,
  PayloadSigner,
  verifyStandardWebhook,
} from '../src/index.js';

const DEFAULT_MSG_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const DEFAULT_PAYLOAD = '{"test": 2432232314}';
const DEFAULT_SECRET = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TOLERANCE = 5 * 60;
/** A fixed "now" (the signing vector's time), so the cases never depend on the clock. */
const NOW = 1614265330;

/** The reference tests' TestPayload: headers signed with the base64-decoded secret. */
function testPayload(options: { timestamp?: number; secret?: string; payload?: string; id?: string } = {}) {
  const {
    timestamp = NOW,
    secret = DEFAULT_SECRET,
    payload = DEFAULT_PAYLOAD,
    id = DEFAULT_MSG_ID,
  } = options;
  const signature = createHmac('sha256', Buffer.from(secret, 'base64'))
    .update(`${id}.${timestamp}.${payload}`)
    .digest('base64');
  return {
    payload,
    header: {
      'webhook-id': id,
      'webhook-signature': `v1,${signature}`,
      'webhook-timestamp': String(timestamp),
    } as Record<string, string>,
  };
}

const verify = (payload: string, header: Record<string, string>, secret = DEFAULT_SECRET) =>
  verifyStandardWebhook(payload, header, secret, { now: NOW * 1000 });

function expectSignatureError(fn: () => unknown, message?: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isWebhookSignatureError(thrown), `expected a WebhookSignatureError, got ${String(thrown)}`).toBe(
    true,
  );
  if (message) expect((thrown as Error).message).toMatch(message);
}

function expectConfigError(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(isWebhookConfigError(thrown), `expected a WebhookConfigError, got ${String(thrown)}`).toBe(true);
}

describe('Standard Webhooks reference test cases', () => {
  // javascript "sign function works", python test_sign_function, go TestWebhookSign,
  // java verifyWebhookSignWorks, php testSignFunctionWorks.
  it('signs the reference vector, with the prefixed and the bare secret', () => {
    const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
    for (const key of [`whsec_${DEFAULT_SECRET}`, DEFAULT_SECRET]) {
      const headers = new PayloadSigner(key).sign(DEFAULT_PAYLOAD, DEFAULT_MSG_ID, NOW);
      expect(headers['webhook-signature']).toBe(expected);
      expect(headers['webhook-timestamp']).toBe('1614265330');
      expect(verify(DEFAULT_PAYLOAD, { ...headers }, key)).toEqual({ test: 2432232314 });
    }
  });

  // javascript/python/php "valid signature is valid and returns json", go "valid signature is valid",
  // java verifyValidPayloadAndHeaders.
  it('verifies a valid signature and returns the JSON', () => {
    const tp = testPayload();
    expect(verify(tp.payload, tp.header)).toEqual({ test: 2432232314 });
    // php TestPayload signs {"test": 2432232315}.
    const php = testPayload({ payload: '{"test": 2432232315}' });
    expect(verify(php.payload, php.header)).toEqual({ test: 2432232315 });
  });

  // javascript/python "valid unbranded signature", php testValidBrandlessSignatureIsValidAndReturnsJson.
  it('verifies with exactly the three unbranded headers', () => {
    const tp = testPayload();
    const unbranded = {
      'webhook-id': tp.header['webhook-id']!,
      'webhook-signature': tp.header['webhook-signature']!,
      'webhook-timestamp': tp.header['webhook-timestamp']!,
    };
    expect(verify(tp.payload, unbranded)).toEqual({ test: 2432232314 });
  });

  // java verifyCaseInsensitiveHeaders (TestScenario.withMixedCaseHeaders).
  it('reads header names case-insensitively', () => {
    const tp = testPayload();
    const mixed = {
      'Webhook-Id': tp.header['webhook-id']!,
      'WEBHOOK-TIMESTAMP': tp.header['webhook-timestamp']!,
      'webhook-SIGNATURE': tp.header['webhook-signature']!,
    };
    expect(verify(tp.payload, mixed)).toEqual({ test: 2432232314 });
  });

  // All five: missing id / timestamp / signature.
  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'refuses a request without %s',
    (name) => {
      const tp = testPayload();
      delete tp.header[name];
      expectSignatureError(() => verify(tp.payload, tp.header), /missing/);
    },
  );

  // javascript/python "invalid timestamp throws error" ("hello").
  it('refuses a timestamp that is not a number', () => {
    const tp = testPayload();
    tp.header['webhook-timestamp'] = 'hello';
    expectSignatureError(() => verify(tp.payload, tp.header), /not a unix time/);
  });

  it.each([
    ['javascript "invalid signature", php testInvalidSignatureThrowsException', 'v1,dawfeoifkpqwoekfpqoekf'],
    ['python test_invalid_signature_raises_error', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA='],
    ['go "invalid signature is invalid"', 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc='],
    ['go "partial signature is invalid", javascript "partial signature"', 'v1,'],
    ['java withWrongVersion', 'v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='],
    ['java withInvalidSignatureFormat', 'invalid_signature'],
    ['java withInvalidSignatureValue', 'v1,invalid_signature'],
  ])('refuses an invalid signature (%s)', (_source, signature) => {
    const tp = testPayload();
    tp.header['webhook-signature'] = signature;
    expectSignatureError(() => verify(tp.payload, tp.header), /no signature/);
  });

  // javascript "partial signature throws error": the first 8 characters of a valid header.
  it('refuses a truncated valid signature', () => {
    const tp = testPayload();
    tp.header['webhook-signature'] = tp.header['webhook-signature']!.slice(0, 8);
    expectSignatureError(() => verify(tp.payload, tp.header), /no signature/);
  });

  // The signing vector's signature is valid for the vector's time only: the reference tests'
  // TestPayload signs "now", so a vector signature on a fresh timestamp must fail.
  it('refuses the vector signature on another timestamp', () => {
    const tp = testPayload({ timestamp: NOW + 1 });
    tp.header['webhook-signature'] = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
    expectSignatureError(
      () => verifyStandardWebhook(tp.payload, tp.header, DEFAULT_SECRET, { now: (NOW + 1) * 1000 }),
      /no signature/,
    );
  });

  // All five: "old timestamp fails" / "new timestamp fails", one second beyond the 5-minute
  // tolerance. Go's "old timestamp fails" signs exactly now - 5 min with nanosecond clocks and
  // fails on the drift; at whole seconds the boundary itself is accepted, as the JS, Python,
  // Java and PHP checks (`now - ts > tolerance`) accept it.
  it('refuses timestamps beyond the tolerance and accepts the boundary', () => {
    const old = testPayload({ timestamp: NOW - TOLERANCE - 1 });
    expectSignatureError(() => verify(old.payload, old.header), /too old/);
    const future = testPayload({ timestamp: NOW + TOLERANCE + 1 });
    expectSignatureError(() => verify(future.payload, future.header), /in the future/);
    for (const ts of [NOW - TOLERANCE, NOW + TOLERANCE]) {
      const edge = testPayload({ timestamp: ts });
      expect(verify(edge.payload, edge.header)).toEqual({ test: 2432232314 });
    }
  });

  // go "invalid timestamp fails when ignoring tolerance": a validly signed timestamp from 2000.
  it('refuses a validly signed timestamp from the year 2000', () => {
    const y2k = testPayload({ timestamp: Date.UTC(2000, 0, 1) / 1000 });
    expectSignatureError(() => verify(y2k.payload, y2k.header), /too old/);
  });

  // javascript/python/php "multi sig payload is valid", go "valid multi sig is valid",
  // java verifyValidPayloadWithMultipleSignaturesIsValid.
  it('accepts several signatures when one is valid', () => {
    const tp = testPayload();
    tp.header['webhook-signature'] = [
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      tp.header['webhook-signature'], // valid signature
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
    ].join(' ');
    expect(verify(tp.payload, tp.header)).toEqual({ test: 2432232314 });
  });

  // javascript "verification works with and without signature prefix", python
  // test_signature_verification_with_and_without_prefix, go TestWebhookPrefix, java
  // verifySecretWorksWithOrWithoutPrefix, php testSignatureVerificationWithAndWithoutPrefix.
  it('treats the bare and the whsec_-prefixed secret as the same key', () => {
    const tp = testPayload();
    expect(verify(tp.payload, tp.header, DEFAULT_SECRET)).toEqual({ test: 2432232314 });
    expect(verify(tp.payload, tp.header, `whsec_${DEFAULT_SECRET}`)).toEqual({ test: 2432232314 });
  });

  // python test_signature_verification_with_unpadded_secret.
  it('decodes unpadded base64 secrets (one and two padding characters missing)', () => {
    for (const [secret, padded] of [
      ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS='],
      ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr=='],
    ] as const) {
      const tp = testPayload({ secret: padded });
      expect(verify(tp.payload, tp.header, secret)).toEqual({ test: 2432232314 });
      expect(verify(tp.payload, tp.header, `whsec_${secret}`)).toEqual({ test: 2432232314 });
      // And our signer signs with the same key.
      const ours = new PayloadSigner(secret).sign(tp.payload, DEFAULT_MSG_ID, NOW);
      expect(ours['webhook-signature']).toBe(tp.header['webhook-signature']);
    }
  });

  // javascript "empty payload returns undefined".
  it('verifies a validly signed empty body and returns undefined', () => {
    const tp = testPayload({ payload: '' });
    expect(verify('', tp.header)).toBeUndefined();
  });

  // javascript "empty key raises error", python test_empty_secret_raises_error, go
  // TestWebhookNoEmptySecrets / TestWebhookNoEmptyPrefixedSecrets, php testRejectsEmptySecret /
  // testRejectsEmptyPrefixedSecret.
  it('refuses an empty key, for signing and for verifying', () => {
    const tp = testPayload();
    for (const secret of ['', 'whsec_', undefined, null]) {
      expectConfigError(() => new PayloadSigner(secret as string));
      expectConfigError(() =>
        verifyStandardWebhook(tp.payload, tp.header, secret as string, { now: NOW * 1000 }),
      );
    }
  });

  // php testInvalidFloatTimestamp / testInvalidStringTimestamp / testInvalidNegativeTimestamp.
  it('refuses to sign with a fractional, non-numeric or negative timestamp', () => {
    const signer = new PayloadSigner(`whsec_${DEFAULT_SECRET}`);
    for (const ts of [
      161426533.5,
      Number.NaN,
      -161426533,
      Number.POSITIVE_INFINITY,
      '161426533' as unknown,
    ]) {
      expectConfigError(() => signer.sign(DEFAULT_PAYLOAD, DEFAULT_MSG_ID, ts as number));
    }
    expect(signer.sign(DEFAULT_PAYLOAD, DEFAULT_MSG_ID, 0)['webhook-timestamp']).toBe('0');
  });

  it('signs what the official standardwebhooks package verifies, with either form of the secret', () => {
    const now = Math.floor(Date.now() / 1000);
    for (const ours of [`whsec_${DEFAULT_SECRET}`, DEFAULT_SECRET]) {
      const headers = new PayloadSigner(ours).sign(DEFAULT_PAYLOAD, DEFAULT_MSG_ID, now);
      for (const theirs of [`whsec_${DEFAULT_SECRET}`, DEFAULT_SECRET]) {
        expect(new Webhook(theirs).verify(DEFAULT_PAYLOAD, { ...headers })).toEqual({ test: 2432232314 });
      }
    }
  });
});
