/**
 * Property tests (fast-check) for both verifiers: what we sign verifies (here and in the official
 * `standardwebhooks` package), a verifier never says yes to a mutated body, id, timestamp or
 * signature, and nothing but our own errors (or `false`) ever comes out, whatever the input.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  isWebhookConfigError,
  isWebhookError,
  isWebhookSignatureError,
  PayloadSigner,
  signPayload,
  verifyStandardWebhook,
  verifyWebhookSignature,
} from '../src/index.js';

const NOW_MS = Date.UTC(2026, 0, 1);
const NOW = NOW_MS / 1000;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const zero = (bytes: Uint8Array) => bytes.every((b) => b === 0);
/**
 * Any non-empty string, control characters, lone surrogates and astral characters included, but
 * not one whose key is only zero bytes (the signer refuses those: they sign like an empty key).
 */
const anySecret = fc
  .oneof(
    fc.string({ minLength: 1 }),
    fc.string({ minLength: 1, unit: 'binary' }),
    fc.string({ minLength: 1, unit: 'grapheme' }),
  )
  .filter((s) => !zero(Buffer.from(s, 'utf8')) && !(BASE64.test(s) && zero(Buffer.from(s, 'base64'))));
const body = fc.uint8Array({ maxLength: 300 });
/** Ids as senders use them: anything printable (control characters are refused by the signer). */
const id = fc
  .string({ minLength: 1, maxLength: 40, unit: 'grapheme' })
  .filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
/** A Standard Webhooks key in each form a user may hold it in. */
const keyed = fc
  .uint8Array({ minLength: 1, maxLength: 64 })
  .filter((key) => !zero(key))
  .chain((key) => {
    const b64 = Buffer.from(key).toString('base64');
    return fc.record({
      key: fc.constant(key),
      secret: fc.constantFrom(`whsec_${b64}`, b64, b64.replace(/=+$/, ''), `whsec_${b64.replace(/=+$/, '')}`),
      padded: fc.constant(b64),
    });
  });

/** A byte string that differs from `bytes`: one bit flipped, a byte inserted, or a byte removed. */
function mutateBytes(bytes: Uint8Array) {
  return fc
    .record({
      kind: fc.constantFrom('flip', 'insert', 'delete'),
      at: fc.nat(),
      bit: fc.nat(7),
      byte: fc.nat(255),
    })
    .filter(({ kind }) => kind !== 'delete' || bytes.length > 0)
    .map(({ kind, at, bit, byte }) => {
      const out = Array.from(bytes);
      const i = at % (out.length + (kind === 'insert' ? 1 : 0) || 1);
      if (kind === 'flip' && out.length > 0) out[i] = out[i]! ^ (1 << bit);
      else if (kind === 'flip' || kind === 'insert') out.splice(i, 0, byte);
      else out.splice(i, 1);
      return Uint8Array.from(out);
    });
}

/** A string that differs from `text` in one character (replaced, inserted or removed). */
function mutateString(text: string) {
  return fc
    .record({
      at: fc.nat(),
      char: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
      kind: fc.nat(2),
    })
    .map(({ at, char, kind }) => {
      const i = at % (text.length + 1);
      if (kind === 0) return text.slice(0, i) + char + text.slice(i);
      if (kind === 1 && text.length > 0)
        return text.slice(0, i % text.length) + text.slice((i % text.length) + 1);
      return (
        text.slice(0, i % Math.max(text.length, 1)) + char + text.slice((i % Math.max(text.length, 1)) + 1)
      );
    })
    .filter((s) => s !== text);
}

function throwsOnly(fn: () => unknown, guard: (e: unknown) => boolean): boolean {
  try {
    fn();
  } catch (error) {
    if (guard(error)) return true;
    throw error;
  }
  return false;
}

describe('X-Signature verifier (fuzzed)', () => {
  it('verifies what was signed and nothing mutated', () => {
    fc.assert(
      fc.property(
        anySecret,
        body.chain((b) => fc.tuple(fc.constant(b), mutateBytes(b))),
        (secret, [bytes, mutated]) => {
          const sig = signPayload(bytes, secret);
          expect(verifyWebhookSignature(bytes, sig, secret)).toBe(true);
          expect(verifyWebhookSignature(mutated, sig, secret)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never accepts a mutated signature or another secret', () => {
    fc.assert(
      fc.property(
        anySecret,
        anySecret,
        body,
        fc.nat(63),
        fc.string({ maxLength: 70 }),
        (secret, other, bytes, at, junk) => {
          const sig = signPayload(bytes, secret);
          const flipped = sig.slice(0, at) + (sig[at] === '0' ? '1' : '0') + sig.slice(at + 1);
          expect(verifyWebhookSignature(bytes, flipped, secret)).toBe(false);
          if (junk !== sig) expect(verifyWebhookSignature(bytes, junk, secret)).toBe(false);
          if (Buffer.from(other, 'utf8').equals(Buffer.from(secret, 'utf8'))) return;
          expect(verifyWebhookSignature(bytes, sig, other)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never passes a forgery made with an empty key, whatever the secret option holds', () => {
    fc.assert(
      fc.property(fc.anything(), fc.string(), (secret, text) => {
        const forged = createHmac('sha256', Buffer.alloc(0)).update(text).digest('hex');
        let result: unknown;
        const threw = throwsOnly(() => {
          result = verifyWebhookSignature(text, forged, secret as string);
        }, isWebhookConfigError);
        if (!threw) expect(result).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('answers false or throws one of our errors, whatever it is given; never true', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), (payload, signature, secret) => {
        let result: unknown;
        const threw = throwsOnly(() => {
          result = verifyWebhookSignature(payload as string, signature as string, secret as string);
        }, isWebhookConfigError);
        if (!threw) expect(result).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Standard Webhooks verifier (fuzzed)', () => {
  const options = { now: NOW_MS };
  const ts = fc.integer({ min: NOW - 300, max: NOW + 300 });

  it('verifies what we sign, and so does the official package, with every form of the key', () => {
    fc.assert(
      fc.property(keyed, id, body, ({ secret, padded }, msgId, bytes) => {
        const now = Math.floor(Date.now() / 1000);
        const headers = new PayloadSigner(secret).sign(bytes, msgId, now);
        const text = Buffer.from(bytes).toString('utf8');
        // The official package verifies strings; compare on bodies that survive UTF-8 decoding.
        if (Buffer.from(text, 'utf8').equals(Buffer.from(bytes))) {
          // The JS library decodes unpadded keys too, once they are 4 characters or more.
          const unpadded = padded.replace(/=+$/, '');
          for (const theirs of [padded, `whsec_${padded}`, ...(unpadded.length >= 4 ? [unpadded] : [])]) {
            try {
              new Webhook(theirs).verify(text, { ...headers });
            } catch (error) {
              // Only JSON.parse of a random body may fail, and it runs after the signature matched.
              expect(error).toBeInstanceOf(SyntaxError);
            }
          }
        }
        expect(() => verifyStandardWebhook(bytes, headers, secret)).not.toThrow();
      }),
      { numRuns: 200 },
    );
  });

  it('verifies what the official package signs, with every form of the key', () => {
    fc.assert(
      fc.property(keyed, id, fc.string({ maxLength: 200 }), ts, ({ secret, padded }, msgId, text, at) => {
        const signature = new Webhook(padded).sign(msgId, new Date(at * 1000), text);
        const headers = {
          'webhook-id': msgId,
          'webhook-timestamp': String(at),
          'webhook-signature': signature,
        };
        expect(() => verifyStandardWebhook(text, headers, secret, options)).not.toThrow();
      }),
      { numRuns: 200 },
    );
  });

  it('never says yes to a mutated body, id, timestamp or signature', () => {
    const fuzzed = fc
      .tuple(
        fc.oneof(
          keyed.map((k) => k.secret),
          anySecret,
        ),
        id,
        body,
        ts,
      )
      .chain(([secret, msgId, bytes, at]) => {
        const signed = new PayloadSigner(secret).sign(bytes, msgId, at);
        const entry = signed['webhook-signature'];
        return fc.tuple(
          fc.constant({ secret, signed }),
          fc.oneof(
            mutateBytes(bytes).map((b) => ({ body: b, headers: signed })),
            mutateString(msgId)
              .filter((s) => s.length > 0)
              .map((s) => ({ body: bytes, headers: { ...signed, 'webhook-id': s } })),
            mutateString(String(at)).map((s) => ({
              body: bytes,
              headers: { ...signed, 'webhook-timestamp': s },
            })),
            fc
              .integer({ min: NOW - 300, max: NOW + 300 })
              .filter((t) => t !== at)
              .map((t) => ({
                body: bytes,
                headers: { ...signed, 'webhook-timestamp': String(t) },
              })),
            mutateString(entry)
              .filter((s) => !s.split(' ').includes(entry))
              .map((s) => ({ body: bytes, headers: { ...signed, 'webhook-signature': s } })),
          ),
        );
      });
    fc.assert(
      fc.property(fuzzed, ([{ secret }, { body: b, headers }]) => {
        expect(
          throwsOnly(() => verifyStandardWebhook(b, headers, secret, options), isWebhookSignatureError),
        ).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('throws only WebhookSignatureError for any headers a request can carry', () => {
    const name = fc.oneof(
      fc.constantFrom(
        'webhook-id',
        'Webhook-Timestamp',
        'WEBHOOK-SIGNATURE',
        'webhook-timestamp',
        'webhook-signature',
      ),
      fc.string(),
    );
    const value = fc.oneof(
      fc.string(),
      fc.array(fc.string()),
      fc.integer({ min: NOW - 400, max: NOW + 400 }).map(String),
      fc.base64String().map((s) => `v1,${s}`),
      fc.anything(),
    );
    const headers = fc.oneof(
      fc.dictionary(name, value),
      fc.dictionary(name, fc.string()).map((d) => {
        try {
          return new Headers(d);
        } catch {
          return new Headers();
        }
      }),
      fc.anything(),
    );
    fc.assert(
      fc.property(headers, body, (h, bytes) => {
        expect(
          throwsOnly(
            () =>
              verifyStandardWebhook(
                bytes,
                h as Record<string, string>,
                'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
                options,
              ),
            isWebhookSignatureError,
          ),
        ).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('throws one of our errors for any secret, tolerance and payload; never passes a forgery', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), id, (secret, tolerance, payload, msgId) => {
        // Signed with an empty key: what an attacker can sign without knowing any secret.
        const forged = createHmac('sha256', Buffer.alloc(0))
          .update(`${msgId}.${NOW}.${typeof payload === 'string' ? payload : ''}`)
          .digest('base64');
        const headers = {
          'webhook-id': msgId,
          'webhook-timestamp': String(NOW),
          'webhook-signature': `v1,${forged}`,
        };
        expect(
          throwsOnly(
            () =>
              verifyStandardWebhook(payload as string, headers, secret as string, {
                toleranceSeconds: tolerance as number,
                now: NOW_MS,
              }),
            isWebhookError,
          ),
        ).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
