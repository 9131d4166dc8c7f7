import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  isWebhookSignatureError,
  PayloadSigner,
  signPayload,
  verifyStandardWebhook,
  verifyWebhookSignature,
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

  it('reads headers from a fetch Headers object too', () => {
    const signed = new PayloadSigner(secret).sign(body, 'evt_1');
    expect(verifyStandardWebhook(body, new Headers({ ...signed }), secret)).toEqual(JSON.parse(body));
  });
});
