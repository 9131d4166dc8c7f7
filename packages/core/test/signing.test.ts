import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  isWebhookConfigError,
  isWebhookSignatureError,
  PayloadSigner,
  signPayload,
  verifyStandardWebhook,
  verifyWebhookSignature,
  WebhookConfigError,
} from '../src/index.js';

const body = JSON.stringify({ event_type: 'prediction', event_id: 'evt_abc123', data: { note: 'héllo ✓' } });

describe('X-Signature', () => {
  it("is the hex HMAC-SHA256 the seed's receiver computes", () => {
    const expected = createHmac('sha256', Buffer.from('s3cret', 'utf8'))
      .update(Buffer.from(body, 'utf8'))
      .digest('hex');
    expect(signPayload(body, 's3cret')).toBe(expected);
    expect(new PayloadSigner('s3cret').sign(body, 'evt_abc123')['x-signature']).toBe(expected);
  });

  it('verifies bytes and strings alike, rejects tampering, wrong secrets and junk', () => {
    const sig = signPayload(body, 's3cret');
    expect(verifyWebhookSignature(body, sig, 's3cret')).toBe(true);
    expect(verifyWebhookSignature(new TextEncoder().encode(body), sig, 's3cret')).toBe(true);
    expect(verifyWebhookSignature(body.replace('abc', 'abd'), sig, 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, sig, 'other')).toBe(false);
    expect(verifyWebhookSignature(body, sig.slice(0, 10), 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, undefined, 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, 'zz'.repeat(32), 's3cret')).toBe(false);
  });

  it('accepts only the exact lowercase hex the signer emits', () => {
    const sig = signPayload(body, 's3cret');
    expect(verifyWebhookSignature(body, sig.toUpperCase(), 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, ` ${sig}`, 's3cret')).toBe(false);
    expect(verifyWebhookSignature(body, `sha256=${sig}`, 's3cret')).toBe(false);
  });

  it('verifies against any secret of a rotation list', () => {
    const sig = signPayload(body, 'old-secret');
    expect(verifyWebhookSignature(body, sig, ['new-secret', 'old-secret'])).toBe(true);
    expect(verifyWebhookSignature(body, sig, ['new-secret', 'other-secret'])).toBe(false);
  });

  it('never passes with an empty or missing secret: a zero-length-key forgery is a config error', () => {
    const forged = createHmac('sha256', Buffer.alloc(0)).update(body).digest('hex');
    for (const secret of ['', [''], ['s3cret', ''], [], undefined, null, 42]) {
      expect(() => verifyWebhookSignature(body, forged, secret as string)).toThrow(
        expect.objectContaining({ name: 'WebhookConfigError' }),
      );
      expect(() => signPayload(body, secret as string)).toThrow(
        expect.objectContaining({ name: 'WebhookConfigError' }),
      );
    }
  });

  it('names a parsed body as the mistake instead of answering false', () => {
    const sig = signPayload(body, 's3cret');
    try {
      verifyWebhookSignature(JSON.parse(body), sig, 's3cret');
      expect.unreachable();
    } catch (error) {
      expect(isWebhookConfigError(error)).toBe(true);
      expect((error as Error).message).toMatch(/raw request body .* got an object/);
    }
  });
});

describe('Standard Webhooks', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

  it('signs so that the official standardwebhooks package verifies', () => {
    const headers = new PayloadSigner(secret).sign(body, 'evt_abc123');
    expect(headers['webhook-id']).toBe('evt_abc123');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('uses a non-whsec secret as raw bytes, as the spec allows', () => {
    const headers = new PayloadSigner('plain-secret-value').sign(body, 'evt_abc123');
    const raw = Buffer.from('plain-secret-value').toString('base64');
    expect(new Webhook(raw).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('our verifier accepts what the official signer signs, with rotation and tolerance', () => {
    const ts = new Date();
    const official = new Webhook(secret).sign('msg_1', ts, body);
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)),
      'webhook-signature': `v1,AAAA ${official}`,
    };
    expect(verifyStandardWebhook(body, headers, ['whsec_b2xkLWtleS1vbGQta2V5LW9sZC1rZXk=', secret])).toEqual(
      JSON.parse(body),
    );
    expect(() => verifyStandardWebhook(body, headers, 'whsec_b2xkLWtleS1vbGQta2V5LW9sZC1rZXk=')).toThrow(
      /no signature/,
    );
    const old = { ...headers, 'webhook-timestamp': String(Math.floor(ts.getTime() / 1000) - 600) };
    try {
      verifyStandardWebhook(body, old, secret);
      expect.unreachable();
    } catch (error) {
      expect(isWebhookSignatureError(error)).toBe(true);
      expect((error as Error).message).toBe('webhook-timestamp is too old');
    }
    expect(() => verifyStandardWebhook(body, { 'webhook-id': 'x' }, secret)).toThrow(/missing/);
  });

  it('uses a base64 secret without the whsec_ prefix as the same key, as the reference libraries do', () => {
    const bare = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const headers = new PayloadSigner(bare).sign(body, 'evt_abc123');
    const prefixed = new PayloadSigner(`whsec_${bare}`).sign(
      body,
      'evt_abc123',
      Number(headers['webhook-timestamp']),
    );
    expect(headers['webhook-signature']).toBe(prefixed['webhook-signature']);
    // X-Signature keys with the secret's own UTF-8 bytes, as the seed's receiver does.
    expect(headers['x-signature']).toBe(signPayload(body, bare));
    expect(new Webhook(bare).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(new Webhook(`whsec_${bare}`).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('signs with the UTF-8 bytes of a secret that is not base64; the documented receiver-side equivalents verify', () => {
    for (const secret of ['plain-secret-value', 'pässwörd ✓ with spaces', 'abcde']) {
      const headers = new PayloadSigner(secret).sign(body, 'evt_abc123');
      const base64 = Buffer.from(secret, 'utf8').toString('base64');
      expect(new Webhook(base64).verify(body, { ...headers })).toEqual(JSON.parse(body));
      expect(new Webhook(`whsec_${base64}`).verify(body, { ...headers })).toEqual(JSON.parse(body));
      expect(
        new Webhook(new TextEncoder().encode(secret), { format: 'raw' }).verify(body, { ...headers }),
      ).toEqual(JSON.parse(body));
      expect(verifyStandardWebhook(body, headers, secret)).toEqual(JSON.parse(body));
      expect(verifyStandardWebhook(body, headers, `whsec_${base64}`)).toEqual(JSON.parse(body));
    }
  });

  it('refuses malformed whsec_ secrets and empty secrets anywhere, signing and verifying', () => {
    const headers = new PayloadSigner(secret).sign(body, 'evt_1');
    const forged = {
      ...headers,
      'webhook-signature': `v1,${createHmac('sha256', Buffer.alloc(0)).update(`evt_1.${headers['webhook-timestamp']}.${body}`).digest('base64')}`,
    };
    for (const bad of [
      'whsec_',
      'whsec_!!!!',
      'whsec_abc$',
      'whsec_a',
      'whsec_ab=c',
      '',
      [''],
      [secret, ''],
      [],
    ]) {
      expect(() => new PayloadSigner(bad as string)).toThrow(
        expect.objectContaining({ name: 'WebhookConfigError' }),
      );
      expect(() => verifyStandardWebhook(body, forged, bad as string)).toThrow(
        expect.objectContaining({ name: 'WebhookConfigError' }),
      );
    }
    try {
      new PayloadSigner('whsec_!!!!');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/whsec_ signing secret must be followed by base64/);
      expect((error as Error).message).not.toContain('!!!!');
    }
  });

  it('refuses a tolerance that is negative or not finite instead of accepting any timestamp', () => {
    const y2k = Date.UTC(2000, 0, 1) / 1000;
    const headers = new PayloadSigner(secret).sign(body, 'evt_1', y2k);
    for (const toleranceSeconds of [Number.NaN, Number.POSITIVE_INFINITY, -1, '300' as unknown]) {
      expect(() =>
        verifyStandardWebhook(body, headers, secret, { toleranceSeconds: toleranceSeconds as number }),
      ).toThrow(expect.objectContaining({ name: 'WebhookConfigError' }));
    }
    expect(() => verifyStandardWebhook(body, headers, secret, { toleranceSeconds: 0 })).toThrow(/too old/);
  });

  it('returns undefined for an empty body and the text for a body that is not JSON', () => {
    const signer = new PayloadSigner(secret);
    expect(verifyStandardWebhook('', signer.sign('', 'evt_1'), secret)).toBeUndefined();
    expect(verifyStandardWebhook('not json {', signer.sign('not json {', 'evt_1'), secret)).toBe(
      'not json {',
    );
    expect(verifyStandardWebhook('"json string"', signer.sign('"json string"', 'evt_1'), secret)).toBe(
      'json string',
    );
  });

  it('refuses ids that cannot go in a header', () => {
    const signer = new PayloadSigner(secret);
    for (const id of ['', 'evt\r\nx-injected: 1', undefined]) {
      expect(() => signer.sign(body, id as string)).toThrow(
        expect.objectContaining({ name: 'WebhookConfigError' }),
      );
    }
  });

  it('reads headers from a fetch Headers object too', () => {
    const signed = new PayloadSigner(secret).sign(body, 'evt_1');
    expect(verifyStandardWebhook(body, new Headers({ ...signed }), secret)).toEqual(JSON.parse(body));
  });
});

describe('keys that sign like the empty key', () => {
  it('are refused: HMAC pads a key of zero bytes to the empty key', () => {
    const text = 'payload';
    const empty = createHmac('sha256', Buffer.alloc(0)).update(text).digest('hex');
    expect(
      createHmac('sha256', Buffer.from([0, 0]))
        .update(text)
        .digest('hex'),
    ).toBe(empty);
    for (const secret of ['\u0000', '\u0000\u0000\u0000', 'AA==', 'AAAA', 'whsec_AAAAAA==']) {
      expect(() => new PayloadSigner(secret)).toThrow(
        expect.objectContaining({ name: 'WebhookConfigError' }),
      );
    }
    expect(() => verifyWebhookSignature(text, empty, '\u0000')).toThrow(
      expect.objectContaining({ name: 'WebhookConfigError' }),
    );
  });
});

describe('options that cannot be printed', () => {
  // Found by the fuzzer: an object whose toString is not a function made the error message
  // itself throw a raw TypeError ("Cannot convert object to primitive value").
  const hostile = [{ toString: 0 }] as never;
  it('a tolerance that is such an object is a WebhookConfigError, not a TypeError', () => {
    expect(() =>
      verifyStandardWebhook('{}', {}, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', {
        toleranceSeconds: hostile,
      }),
    ).toThrow(WebhookConfigError);
  });
  it('a signing timestamp that is such an object is a WebhookConfigError, not a TypeError', () => {
    const signer = new PayloadSigner('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(() => signer.sign('{}', 'evt_1', hostile)).toThrow(WebhookConfigError);
  });
});
