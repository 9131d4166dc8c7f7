import { createHmac } from 'node:crypto';
import {
  isWebhookConfigError,
  isWebhookPayloadError,
  isWebhookSignatureError,
  PayloadSigner,
  signPayload,
} from '@empathy/webhooks-core';
import { sampleEvent } from '@empathy/webhooks-core/fakes';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createReceiver, MemoryReplayStore } from '../src/index.js';
import { SECRET } from './helpers.js';

const event = sampleEvent('prediction', {}, { eventId: 'evt_verify_1' });
const body = JSON.stringify(event);
const signed = (payload = body, secret: string | string[] = SECRET, ts?: number) => ({
  ...new PayloadSigner(secret).sign(payload, event.event_id, ts),
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('createReceiver: refuses to start on a secret or option that would let forgeries in', () => {
  it.each([
    [{ secret: '' }, /option 'secret': a signing secret must be a non-empty string/],
    [{ secret: 'whsec_' }, /option 'secret': a whsec_ signing secret carries no key/],
    [{ secret: 'whsec_!!!!' }, /option 'secret': a whsec_ signing secret must be followed by base64/],
    [{ secret: 'AAAA' }, /only zero bytes/],
    [{ secrets: [] }, /'secrets' must be a non-empty array/],
    [{ secrets: [SECRET, ''] }, /option 'secrets\[1\]'/],
    [{ secret: undefined }, /option 'secret' is required/],
    [{}, /option 'secret' is required/],
    [{ secret: SECRET, secrets: [SECRET] }, /not both/],
    [{ secret: 42 }, /option 'secret'/],
    [{ secret: SECRET, toleranceSeconds: Number.NaN }, /toleranceSeconds/],
    [{ secret: SECRET, toleranceSeconds: -1 }, /toleranceSeconds/],
    [{ secret: SECRET, toleranceSeconds: Number.POSITIVE_INFINITY }, /toleranceSeconds/],
    [{ secret: SECRET, replayWindowSeconds: 100 }, /at least twice 'toleranceSeconds' \(300\)/],
    [{ secret: SECRET, maxBodyBytes: 0 }, /maxBodyBytes/],
    [{ secret: SECRET, readTimeoutSeconds: 0 }, /readTimeoutSeconds/],
    [{ secret: SECRET, onEvent: 'yes' }, /onEvent/],
    [{ secret: SECRET, replayStore: new Map() }, /replayStore/],
    [{ secret: SECRET, allowXSignatureOnly: 'true' }, /allowXSignatureOnly/],
  ])('%j', (options, message) => {
    const error = thrown(() => createReceiver(options as never));
    expect(isWebhookConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('!!!!');
  });
});

describe('receiver.verify', () => {
  const receiver = createReceiver({ secret: SECRET });

  it('returns the event of a request signed by CustomWebhook’s signer (both schemes)', () => {
    expect(receiver.verify(body, signed())).toEqual(event);
    expect(receiver.verify(Buffer.from(body), new Headers(signed()))).toEqual(event);
  });

  it('verifies what the official standardwebhooks package signs', () => {
    const now = new Date();
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(SECRET).sign('msg_1', now, body),
    };
    expect(receiver.verify(body, headers)).toEqual(event);
  });

  it('treats the bare base64 secret as the whsec_ one', () => {
    const bare = createReceiver({ secret: SECRET.slice('whsec_'.length) });
    const { 'x-signature': _, ...standardOnly } = signed();
    expect(bare.verify(body, standardOnly)).toEqual(event);
  });

  it.each([
    [
      'a changed body',
      () => [body.replace('evt_verify_1', 'evt_verify_2'), signed()],
      /X-Signature does not match/,
    ],
    ['no signature at all', () => [body, {}], /missing signature/],
    [
      'a wrong secret',
      () => [body, signed(body, 'whsec_b3RoZXJzZWNyZXRvdGhlcnNlY3JldA==')],
      /X-Signature does not match/,
    ],
    [
      'a good X-Signature with a bad Standard Webhooks signature',
      () => [body, { ...signed(), 'webhook-signature': 'v1,AAAA' }],
      /Standard Webhooks signature: no signature/,
    ],
    [
      'a good Standard Webhooks signature with a bad X-Signature',
      () => [body, { ...signed(), 'x-signature': signPayload(body, 'another-secret') }],
      /X-Signature does not match/,
    ],
    [
      'a stale timestamp',
      () => [body, signed(body, SECRET, Math.floor(Date.now() / 1000) - 301)],
      /Standard Webhooks signature: webhook-timestamp is too old/,
    ],
    [
      'Standard Webhooks headers in part',
      () => {
        const { 'webhook-id': _, ...rest } = signed();
        return [body, rest];
      },
      /Standard Webhooks signature: missing/,
    ],
    [
      'X-Signature alone (no signed timestamp)',
      () => [body, { 'x-signature': signPayload(body, SECRET) }],
      /X-Signature alone is not accepted/,
    ],
    [
      'a forgery signed with an empty key',
      () => {
        const ts = String(Math.floor(Date.now() / 1000));
        const sig = createHmac('sha256', Buffer.alloc(0))
          .update(`evt_verify_1.${ts}.${body}`)
          .digest('base64');
        return [
          body,
          { 'webhook-id': 'evt_verify_1', 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` },
        ];
      },
      /no signature in webhook-signature matches/,
    ],
  ])('throws WebhookSignatureError for %s', (_name, make, message) => {
    const [payload, headers] = (make as () => [string, Record<string, string>])();
    const error = thrown(() => receiver.verify(payload, headers));
    expect(isWebhookSignatureError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts X-Signature alone only with allowXSignatureOnly', () => {
    const lenient = createReceiver({ secret: SECRET, allowXSignatureOnly: true });
    expect(lenient.verify(body, { 'x-signature': signPayload(body, SECRET) })).toEqual(event);
  });

  it('verifies with any secret of a rotation, for both schemes', () => {
    const rotating = createReceiver({ secrets: ['whsec_bmV3LWtleS1uZXcta2V5LW5ldy1rZXk=', SECRET] });
    expect(rotating.verify(body, signed(body, SECRET))).toEqual(event);
    expect(rotating.verify(body, signed(body, ['whsec_bmV3LWtleS1uZXcta2V5LW5ldy1rZXk=', SECRET]))).toEqual(
      event,
    );
  });

  it.each([
    ['', /^body is empty$/],
    ['not json', /^body is not JSON$/],
    ['[1,2]', /not a JSON object/],
    ['{"hello":"world"}', /no event_type/],
    ['{"event_type":"alert"}', /no event_id/],
  ])('throws WebhookPayloadError for the authentic body %j', (payload, message) => {
    const error = thrown(() => receiver.verify(payload, signed(payload)));
    expect(isWebhookPayloadError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('names a parsed body as the mistake (a WebhookConfigError, not a failed signature)', () => {
    const error = thrown(() => receiver.verify(event as never, signed()));
    expect(isWebhookConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(/raw request body/);
  });
});

describe('MemoryReplayStore', () => {
  it('tracks new → pending → done, forgets released and expired ids', () => {
    let now = 1_000;
    const store = new MemoryReplayStore({ now: () => now });
    expect(store.claim('a', 2_000)).toBe('new');
    expect(store.claim('a', 2_000)).toBe('pending');
    store.complete('a', 2_000);
    expect(store.claim('a', 2_000)).toBe('done');
    expect(store.claim('b', 2_000)).toBe('new');
    store.release('b');
    expect(store.claim('b', 2_000)).toBe('new');
    now = 2_000;
    expect(store.claim('a', 3_000)).toBe('new');
  });

  it('holds at most maxEntries ids, forgetting the oldest first', () => {
    const store = new MemoryReplayStore({ maxEntries: 3 });
    const later = Date.now() + 60_000;
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      expect(store.claim(id, later)).toBe('new');
      store.complete(id, later);
    }
    expect(store.size).toBe(3);
    expect(store.claim('e', later)).toBe('done');
    expect(store.claim('c', later)).toBe('done');
    expect(store.claim('a', later)).toBe('new');
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(isWebhookConfigError(thrown(() => new MemoryReplayStore({ maxEntries: 0 })))).toBe(true);
  });
});
