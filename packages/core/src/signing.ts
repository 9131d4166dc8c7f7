import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { WebhookConfigError, WebhookSignatureError } from './errors.js';

/**
 * Payload signing and verification.
 *
 * Two schemes go out together when a webhook has a `signingSecret`:
 * - `X-Signature`: hex HMAC-SHA256 of the exact body bytes, keyed with the secret's UTF-8 bytes
 *   (the seed's receiver verifies this with `hmac.new(secret.encode(), payload, sha256)`).
 * - Standard Webhooks (standardwebhooks.com): `webhook-id` (the event id), `webhook-timestamp`
 *   (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. The
 *   key is read as the reference libraries read it (see {@link standardWebhookKey}).
 *
 * Everything fails closed: a missing, empty or malformed secret, or a bad tolerance, is a
 * {@link WebhookConfigError} (never a pass); anything wrong with a request is `false` or a
 * {@link WebhookSignatureError}.
 */

/** A raw request body: the exact bytes that were signed. */
export type Body = string | Uint8Array | ArrayBuffer;

function toBuffer(body: Body, where: string): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  // The commonest receiver bug: a body parser ran first, and the signed bytes are gone.
  throw new WebhookConfigError(
    `${where}: the payload must be the raw request body (string, Uint8Array or ArrayBuffer), got ${describe(body)}; ` +
      'a parsed body cannot be verified: read the raw bytes (e.g. express.raw()) before any JSON parser',
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === '') return 'an empty string';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** A number option as given (`-1`, `NaN`); anything else by its kind: never `String()` of it. */
function describeNumber(value: unknown): string {
  return typeof value === 'number' ? String(value) : describe(value);
}

const PREFIX = 'whsec_';
/**
 * Standard base64, padded or not: the Python, Java, PHP and (from 4 characters) JS libraries
 * decode unpadded keys as we do; Go's refuses them, so it can never disagree with us about one.
 * A single character after the last group of four cannot encode a byte, so it is not base64.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Whether `text` is standard base64 (padding optional) that decodes to at least one byte. */
function isBase64(text: string): boolean {
  return text.length > 0 && BASE64.test(text);
}

/**
 * HMAC pads a short key with zero bytes, so a key of only zero bytes signs exactly as the empty
 * key does: anyone can forge with it.
 */
function isZeroKey(key: Uint8Array): boolean {
  return key.every((b) => b === 0);
}

function secretList(secret: unknown, option: string): string[] {
  const list = typeof secret === 'string' ? [secret] : Array.isArray(secret) ? [...secret] : undefined;
  if (list === undefined || list.length === 0) {
    throw new WebhookConfigError(`${option} must be a non-empty string or a non-empty array of them`);
  }
  list.forEach((s, i) => {
    const where = Array.isArray(secret) ? `${option}[${i}]` : option;
    if (typeof s !== 'string' || s.length === 0) {
      throw new WebhookConfigError(`${where} must be a non-empty string (got ${describe(s)})`);
    }
    if (isZeroKey(Buffer.from(s, 'utf8'))) {
      throw new WebhookConfigError(`${where} is only NUL characters: HMAC treats it as an empty key`);
    }
  });
  return list;
}

/**
 * The Standard Webhooks key bytes of a secret, read as the reference libraries (JS, Python, Go,
 * Java, PHP) read it:
 * - `whsec_<base64>` and the bare `<base64>` are the same key: the base64 text, decoded
 *   (padding optional). `whsec_` followed by anything that is not base64, or by nothing, is a
 *   {@link WebhookConfigError}.
 * - Any other string (it has characters outside the base64 alphabet, or a length base64 cannot
 *   have) is used as its UTF-8 bytes. A receiver on a reference library must then be given the
 *   raw bytes: `new Webhook(Buffer.from(secret).toString('base64'))` in JS,
 *   `Webhook(secret.encode())` in Python, `NewWebhookRaw([]byte(secret))` in Go.
 *
 * @throws {WebhookConfigError} for an empty or non-string secret, or a malformed `whsec_` one.
 */
export function standardWebhookKey(secret: string): Uint8Array {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new WebhookConfigError(`a signing secret must be a non-empty string (got ${describe(secret)})`);
  }
  if (secret.startsWith(PREFIX)) {
    const text = secret.slice(PREFIX.length);
    if (!isBase64(text)) {
      throw new WebhookConfigError(
        text.length === 0
          ? 'a whsec_ signing secret carries no key: base64 key bytes must follow whsec_'
          : 'a whsec_ signing secret must be followed by base64 (A-Z, a-z, 0-9, +, /, optional = padding)',
      );
    }
    return nonZero(Buffer.from(text, 'base64'));
  }
  return nonZero(isBase64(secret) ? Buffer.from(secret, 'base64') : Buffer.from(secret, 'utf8'));
}

function nonZero(key: Buffer): Buffer {
  if (isZeroKey(key)) {
    throw new WebhookConfigError(
      'a signing secret whose key is only zero bytes signs like an empty key: use a random key',
    );
  }
  return key;
}

/**
 * Hex HMAC-SHA256 of `payload` keyed with the secret's UTF-8 bytes: the `X-Signature` value.
 *
 * @throws {WebhookConfigError} for an empty or non-string secret, or a payload that is not raw bytes.
 */
export function signPayload(payload: Body, secret: string): string {
  const [key] = secretList(secret, 'signPayload: secret');
  return createHmac('sha256', key!).update(toBuffer(payload, 'signPayload')).digest('hex');
}

const HEX_SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * The seed's receiver check, in constant time: whether `signature` (as sent in `X-Signature`:
 * 64 lowercase hex digits) is the HMAC-SHA256 of the exact `payload` bytes under `secret`, or
 * under any of several secrets during a key rotation. Pass the raw body, not a re-serialised
 * object.
 *
 * A request can only make it return `false`; a misconfiguration throws, so that it is never
 * mistaken for a request that did not verify.
 *
 * @throws {WebhookConfigError} for a missing or empty secret (also `''` in a list), or a payload
 *   that is not the raw body (a parsed object).
 * @example
 * const signature = req.headers['x-signature'];
 * if (!verifyWebhookSignature(rawBody, typeof signature === 'string' ? signature : undefined, secret)) {
 *   return res.status(401).end();
 * }
 */
export function verifyWebhookSignature(
  payload: Body,
  signature: string | null | undefined,
  secret: string | readonly string[],
): boolean {
  const keys = secretList(secret, 'verifyWebhookSignature: secret');
  const bytes = toBuffer(payload, 'verifyWebhookSignature');
  // Exactly what the signer emits: no case or whitespace variants of one signature.
  if (typeof signature !== 'string' || !HEX_SIGNATURE.test(signature)) return false;
  const given = Buffer.from(signature, 'hex');
  let ok = false;
  for (const key of keys) {
    // Every key is tried, so the time taken does not tell which one matched.
    if (timingSafeEqual(createHmac('sha256', key).update(bytes).digest(), given)) ok = true;
  }
  return ok;
}

/**
 * Headers a signer adds to a request. A type, not an interface, so that it can be handed straight
 * back to a verifier as a {@link HeaderSource}.
 */
export type SignatureHeaders = {
  'x-signature': string;
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * Signs bodies with one or more secrets (several = key rotation: receivers accept any). Key
 * objects are built once, not per request.
 */
export class PayloadSigner {
  readonly #xKey: KeyObject;
  readonly #swKeys: KeyObject[];

  /**
   * @param secrets the current secret first; older ones still being rotated out after it.
   * @throws {WebhookConfigError} for an empty list, an empty or non-string secret, or a
   *   malformed `whsec_` secret.
   */
  constructor(secrets: string | readonly string[]) {
    const list = secretList(secrets, `option 'signingSecret'`);
    this.#xKey = createSecretKey(Buffer.from(list[0]!, 'utf8'));
    this.#swKeys = list.map((s) => createSecretKey(standardWebhookKey(s)));
  }

  /**
   * Signature headers for `body`, sent as event `id` at `timestampSeconds`.
   *
   * @throws {WebhookConfigError} for an empty id or one with control characters (it goes in a
   *   header), a timestamp that is not a non-negative integer, or a body that is not raw bytes.
   */
  sign(body: Body, id: string, timestampSeconds: number = Math.floor(Date.now() / 1000)): SignatureHeaders {
    if (typeof id !== 'string' || id.length === 0 || /[\u0000-\u001f\u007f]/.test(id)) {
      throw new WebhookConfigError(
        'PayloadSigner.sign: the id must be a non-empty string without control characters',
      );
    }
    if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
      // Receivers read webhook-timestamp as digits; '-5' or '1.5' would fail every one of them.
      throw new WebhookConfigError(
        `PayloadSigner.sign: the timestamp must be a non-negative integer of unix seconds (got ${describeNumber(timestampSeconds)})`,
      );
    }
    const bytes = toBuffer(body, 'PayloadSigner.sign');
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
  /**
   * How far `webhook-timestamp` may be from now, in seconds: a finite number, 0 or more.
   * @default 300
   */
  toleranceSeconds?: number | undefined;
  /** "Now" in epoch ms (tests). */
  now?: number | undefined;
}

/** Headers as node:http, fetch `Headers` or a plain object gives them. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

/** The first value of header `name` (case-insensitive), if it is a string. */
export function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') {
    const value: unknown = (headers as Headers).get(name);
    return typeof value === 'string' ? value : undefined;
  }
  const record = headers as Record<string, unknown>;
  let value = Object.hasOwn(record, name) ? record[name] : undefined;
  if (value === undefined) {
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    if (key !== undefined) value = record[key];
  }
  if (Array.isArray(value)) value = value[0];
  return typeof value === 'string' ? value : undefined;
}

/** Unix seconds as the signer writes them; more digits than this cannot be a time near now. */
const TIMESTAMP = /^\d{1,15}$/;

/** The signing key of each secret, as HMAC key objects (validated: throws WebhookConfigError). */
function standardKeys(secret: unknown): KeyObject[] {
  return secretList(secret, 'verifyStandardWebhook: secret').map((s) =>
    createSecretKey(standardWebhookKey(s)),
  );
}

/**
 * Verifies a Standard Webhooks request: the `webhook-signature` header may carry several
 * space-separated `v1,<sig>` entries, and `secret` may be several secrets (rotation): any match
 * passes. Entries of other versions are ignored.
 *
 * Returns the body: `undefined` for an empty body (as the reference JS library does), the parsed
 * value for JSON, and the body's text (decoded as UTF-8) for anything else, so that a verified
 * non-JSON body is never mistaken for a failed signature.
 *
 * @throws {WebhookSignatureError} with the reason when the request does not verify (missing
 *   headers, a timestamp outside the tolerance, no matching signature).
 * @throws {WebhookConfigError} for a missing or empty secret (also `''` in a list), a malformed
 *   `whsec_` secret, a tolerance that is negative or not finite, or a payload that is not raw bytes.
 * @example
 * const event = verifyStandardWebhook(rawBody, req.headers, process.env.WEBHOOK_SECRET!);
 */
export function verifyStandardWebhook<T = unknown>(
  payload: Body,
  headers: HeaderSource,
  secret: string | readonly string[],
  options: VerifyStandardWebhookOptions = {},
): T {
  const keys = standardKeys(secret);
  const tolerance = options.toleranceSeconds ?? 300;
  if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
    throw new WebhookConfigError(
      `verifyStandardWebhook: toleranceSeconds must be a finite number of seconds, 0 or more (got ${describeNumber(tolerance)})`,
    );
  }
  const nowMs = options.now ?? Date.now();
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
    throw new WebhookConfigError('verifyStandardWebhook: now must be a finite epoch time in ms');
  }
  const bytes = toBuffer(payload, 'verifyStandardWebhook');

  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signature = headerValue(headers, 'webhook-signature');
  if (!id || !timestamp || !signature) {
    throw new WebhookSignatureError('missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  if (!TIMESTAMP.test(timestamp)) {
    throw new WebhookSignatureError('webhook-timestamp is not a unix time in seconds');
  }
  const now = Math.floor(nowMs / 1000);
  const ts = Number(timestamp);
  if (ts < now - tolerance) throw new WebhookSignatureError('webhook-timestamp is too old');
  if (ts > now + tolerance) throw new WebhookSignatureError('webhook-timestamp is in the future');

  const prefix = Buffer.from(`${id}.${timestamp}.`, 'utf8');
  // Compared as the base64 text the signer emits (as the JS, Go, Java and PHP libraries do):
  // Node's lenient base64 decoder would accept a signature with junk characters added.
  const expected = keys.map((key) =>
    Buffer.from(createHmac('sha256', key).update(prefix).update(bytes).digest('base64'), 'utf8'),
  );
  let ok = false;
  for (const entry of signature.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    // UTF-8, not latin1: latin1 keeps only each character's low byte, so 'Ł' would pass for 'A'.
    const given = Buffer.from(entry.slice(comma + 1), 'utf8');
    for (const e of expected) {
      if (e.length === given.length && timingSafeEqual(e, given)) ok = true;
    }
  }
  if (!ok) throw new WebhookSignatureError('no signature in webhook-signature matches');
  return parseBody(bytes) as T;
}

/** `undefined` for an empty body, the JSON value for JSON, else the text. */
function parseBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
