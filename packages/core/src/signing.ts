import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { WebhookConfigError, WebhookSignatureError } from './errors.js';

/**
 * Payload signing and verification.
 *
 * Two schemes go out together when a webhook has a `signingSecret`:
 * - `X-Signature`: hex HMAC-SHA256 of the exact body bytes, keyed with the secret's UTF-8 bytes
 *   (the seed's receiver verifies this with `hmac.new(secret.encode(), payload, sha256)`).
 * - Standard Webhooks (standardwebhooks.com): `webhook-id` (the event id), `webhook-timestamp`
 *   (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. A
 *   `whsec_` secret is base64-decoded per the spec; any other string is used as raw UTF-8 bytes.
 */

type Body = string | Uint8Array;

function toBuffer(body: Body): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return typeof body === 'string'
    ? Buffer.from(body, 'utf8')
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** The Standard Webhooks key bytes of a secret: base64 after `whsec_`, otherwise the UTF-8 bytes. */
export function standardWebhookKey(secret: string): Uint8Array {
  if (secret.startsWith('whsec_')) {
    const key = Buffer.from(secret.slice(6), 'base64');
    if (key.length === 0) throw new WebhookConfigError('a whsec_ signing secret must carry base64 key bytes');
    return key;
  }
  return Buffer.from(secret, 'utf8');
}

/** Hex HMAC-SHA256 of `payload` keyed with the secret's UTF-8 bytes: the `X-Signature` value. */
export function signPayload(payload: Body, secret: string): string {
  return createHmac('sha256', secret).update(toBuffer(payload)).digest('hex');
}

/**
 * The seed's receiver check, in constant time: whether `signature` (hex, as sent in `X-Signature`)
 * is the HMAC-SHA256 of the exact `payload` bytes under `secret`. Pass the raw body, not a
 * re-serialised object.
 */
export function verifyWebhookSignature(
  payload: Body,
  signature: string | null | undefined,
  secret: string,
): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/i.test(signature.trim())) return false;
  const expected = createHmac('sha256', secret).update(toBuffer(payload)).digest();
  return timingSafeEqual(expected, Buffer.from(signature.trim(), 'hex'));
}

/** Headers a signer adds to a request. */
export interface SignatureHeaders {
  'x-signature': string;
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs bodies with one or more secrets (several = key rotation: receivers accept any). Key
 * objects are built once, not per request.
 */
export class PayloadSigner {
  readonly #xKey: KeyObject;
  readonly #swKeys: KeyObject[];

  /** @param secrets the current secret first; older ones still being rotated out after it. */
  constructor(secrets: string | readonly string[]) {
    const list = typeof secrets === 'string' ? [secrets] : [...secrets];
    if (list.length === 0 || list.some((s) => typeof s !== 'string' || s.length === 0)) {
      throw new WebhookConfigError(`option 'signingSecret' must be a non-empty string or array of strings`);
    }
    this.#xKey = createSecretKey(Buffer.from(list[0]!, 'utf8'));
    this.#swKeys = list.map((s) => createSecretKey(standardWebhookKey(s)));
  }

  /** Signature headers for `body`, sent as event `id` at `timestampSeconds`. */
  sign(body: Body, id: string, timestampSeconds: number = Math.floor(Date.now() / 1000)): SignatureHeaders {
    const bytes = toBuffer(body);
    const ts = String(timestampSeconds);
    const prefix = Buffer.from(`${id}.${ts}.`, 'utf8');
    const signatures = this.#swKeys.map(
      (key) => `v1,${createHmac('sha256', key).update(prefix).update(bytes).digest('base64')}`,
    );
    return {
      'x-signature': createHmac('sha256', this.#xKey).update(bytes).digest('hex'),
      'webhook-id': id,
      'webhook-timestamp': ts,
      'webhook-signature': signatures.join(' '),
    };
  }
}

/** Options for {@link verifyStandardWebhook}. */
export interface VerifyStandardWebhookOptions {
  /** How far `webhook-timestamp` may be from now, in seconds. @default 300 */
  toleranceSeconds?: number | undefined;
  /** "Now" in epoch ms (tests). */
  now?: number | undefined;
}

/** Headers as node:http, fetch `Headers` or a plain object gives them. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? record[Object.keys(record).find((k) => k.toLowerCase() === name) ?? ''];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Verifies a Standard Webhooks request: the `webhook-signature` header may carry several
 * space-separated `v1,<sig>` entries, and `secret` may be several secrets (rotation): any match
 * passes. Throws {@link WebhookSignatureError} with the reason; returns the parsed JSON body.
 *
 * @example
 * const event = verifyStandardWebhook(rawBody, req.headers, process.env.WEBHOOK_SECRET!);
 */
export function verifyStandardWebhook<T = unknown>(
  payload: Body,
  headers: HeaderSource,
  secret: string | readonly string[],
  options: VerifyStandardWebhookOptions = {},
): T {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signature = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signature) {
    throw new WebhookSignatureError('missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  if (!/^\d+$/.test(timestamp))
    throw new WebhookSignatureError('webhook-timestamp is not a unix time in seconds');
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const ts = Number(timestamp);
  if (ts < now - tolerance) throw new WebhookSignatureError('webhook-timestamp is too old');
  if (ts > now + tolerance) throw new WebhookSignatureError('webhook-timestamp is in the future');
  const bytes = toBuffer(payload);
  const secrets = typeof secret === 'string' ? [secret] : secret;
  const expected = secrets.map((s) =>
    createHmac('sha256', standardWebhookKey(s)).update(`${id}.${timestamp}.`).update(bytes).digest(),
  );
  for (const entry of signature.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (expected.some((e) => e.length === given.length && timingSafeEqual(e, given))) {
      return JSON.parse(bytes.toString('utf8')) as T;
    }
  }
  throw new WebhookSignatureError('no signature in webhook-signature matches');
}
