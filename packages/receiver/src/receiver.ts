import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type HeaderSource,
  headerValue,
  isWebhookPayloadError,
  isWebhookSignatureError,
  type RawBody,
  standardWebhookKey,
  verifyStandardWebhook,
  verifyWebhookSignature,
  WebhookConfigError,
  WebhookPayloadError,
  WebhookSignatureError,
} from '@empathy/webhooks-core';
import { type BodyResult, readNodeBody, readWebBody } from './read-body.js';
import type { ReceivedEvent } from './received-event.js';
import { isReplayStore, MemoryReplayStore, type ReplayStore } from './replay-store.js';

/** Options of {@link createReceiver}. Give `secret` or `secrets`, not both. */
export interface ReceiverOptions {
  /**
   * The sender's signing secret (a `CustomWebhook`'s `signingSecret`): `whsec_…`, bare base64, or
   * any other string, read exactly as the sender reads it.
   * @example process.env.WEBHOOK_SECRET
   */
  secret?: string | undefined;
  /** Several secrets during a key rotation: a request verifies if it is signed with any of them. */
  secrets?: readonly string[] | undefined;
  /**
   * How far a Standard Webhooks `webhook-timestamp` may be from now, in seconds.
   * @default 300
   */
  toleranceSeconds?: number | undefined;
  /**
   * How long an accepted webhook id is remembered, in seconds: a repeat within it is
   * acknowledged without calling `onEvent` again. At least twice `toleranceSeconds` (a captured
   * request stays fresh for that long), which is the default (and at least 60).
   * @default 2 × toleranceSeconds, at least 60
   */
  replayWindowSeconds?: number | undefined;
  /**
   * Handles each verified event once. The request is answered 200 when it resolves, and 500 when
   * it throws or rejects (the sender retries; the id is forgotten so that the retry is handled).
   * Needed by `fetch()` and `node()` unless `node()` is given Express's `next`. An event that
   * belongs to an incident carries `event.incident` (`{ key, status, occurrences, first_seen_at }`).
   */
  onEvent?: ((event: ReceivedEvent) => unknown) | undefined;
  /**
   * Told about errors the sender must not see: `onEvent` failures, a misconfigured server (a
   * body parser ahead of the receiver), a replay store that failed.
   * @default console.error
   */
  onError?: ((error: unknown, event: ReceivedEvent | undefined) => void) | undefined;
  /** Where accepted ids are remembered. @default a new MemoryReplayStore() per receiver */
  replayStore?: ReplayStore | undefined;
  /**
   * Accept requests that carry `X-Signature` alone (the seed's Python sender). They have no
   * signed timestamp, so a captured one can be replayed once its id has left the replay window,
   * and a captured signed request could be stripped down to it: off unless you need it.
   * `CustomWebhook` always sends the Standard Webhooks headers too.
   * @default false
   */
  allowXSignatureOnly?: boolean | undefined;
  /** The largest body read, in bytes; a bigger one is answered 413. @default 1_048_576 (1 MiB) */
  maxBodyBytes?: number | undefined;
  /** How long the body may take to arrive, in seconds; a slower one is answered 408. @default 10 */
  readTimeoutSeconds?: number | undefined;
}

/** The receiver `createReceiver` returns. Its methods are bound: pass them around as they are. */
export interface Receiver {
  /**
   * Checks a request's signatures and returns its event. Stateless: it does not remember ids
   * (`fetch` and `node` do); de-duplicate on `event.event_id` if you call it yourself.
   *
   * @param rawBody the exact bytes received, never a re-serialised object.
   * @throws {WebhookSignatureError} when the request is not authentic or not fresh (the message
   *   says why: log it, do not send it back).
   * @throws {WebhookPayloadError} when it is authentic but not an Empathy event (not JSON, or no
   *   `event_type` / `event_id`).
   */
  verify(rawBody: RawBody, headers: HeaderSource): ReceivedEvent;
  /**
   * A web-standard handler (Hono, Next.js App Router, Bun, Deno, Cloudflare Workers): reads the
   * body (bounded), verifies, rejects replays, runs `onEvent`, and answers. Never throws.
   *
   * @example app.post('/webhooks/empathy', (c) => receiver.fetch(c.req.raw)); // Hono
   */
  fetch(request: Request): Promise<Response>;
  /**
   * node:http / Express / Connect middleware: reads the raw body itself (mount it before any
   * body parser), verifies, rejects replays, runs `onEvent` and answers. With Express's `next`
   * and no `onEvent`, it sets `req.body` to the verified event and calls `next()` instead;
   * misconfiguration errors go to `next(error)`.
   *
   * @example app.post('/webhooks/empathy', receiver.node); // Express
   * @example http.createServer(receiver.node).listen(8000); // node:http
   */
  node(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): Promise<void>;
}

/** What a handler answers: a status and a small JSON body that never says why a check failed. */
interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const ANSWERS = {
  ok: { status: 200, body: { status: 'ok' } },
  duplicate: { status: 200, body: { status: 'ok', duplicate: true } },
  badRequest: { status: 400, body: { error: 'bad request' } },
  unauthorized: { status: 401, body: { error: 'unauthorized' } },
  method: { status: 405, body: { error: 'method not allowed' }, headers: { allow: 'POST, PUT, PATCH' } },
  timeout: { status: 408, body: { error: 'request timeout' }, headers: { connection: 'close' } },
  // A repeat while the first delivery is still being handled: the sender retries after a second,
  // by when the first has either succeeded (the retry is acknowledged) or failed (it is handled).
  inProgress: { status: 409, body: { error: 'in progress' }, headers: { 'retry-after': '1' } },
  tooLarge: { status: 413, body: { error: 'payload too large' } },
  failed: { status: 500, body: { error: 'internal error' } },
} as const satisfies Record<string, Answer>;

const METHODS = new Set(['POST', 'PUT', 'PATCH']);

interface Resolved {
  secrets: string[];
  toleranceSeconds: number;
  replayWindowMs: number;
  onEvent: ((event: ReceivedEvent) => unknown) | undefined;
  onError: (error: unknown, event: ReceivedEvent | undefined) => void;
  store: ReplayStore;
  allowXSignatureOnly: boolean;
  maxBodyBytes: number;
  readTimeoutMs: number;
}

function positive(value: unknown, option: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new WebhookConfigError(
      `createReceiver: option '${option}' must be a number from 0 to ${max} (got ${String(value)})`,
    );
  }
  return value;
}

function resolveOptions(options: ReceiverOptions): Resolved {
  if (options === null || typeof options !== 'object') {
    throw new WebhookConfigError('createReceiver: options must be an object with a secret');
  }
  const { secret, secrets } = options;
  if (secret !== undefined && secrets !== undefined) {
    throw new WebhookConfigError(`createReceiver: give 'secret' or 'secrets', not both`);
  }
  if (secret === undefined && secrets === undefined) {
    throw new WebhookConfigError(
      `createReceiver: option 'secret' is required (the sender's signingSecret); a receiver that verifies nothing is not offered`,
    );
  }
  const list = secrets !== undefined ? secrets : [secret];
  if (!Array.isArray(list) || list.length === 0) {
    throw new WebhookConfigError(`createReceiver: option 'secrets' must be a non-empty array of secrets`);
  }
  list.forEach((s, i) => {
    const where = secrets !== undefined ? `'secrets[${i}]'` : `'secret'`;
    try {
      // The sender's reading of the key: an empty, zero-byte or malformed whsec_ secret fails here,
      // at start-up, instead of at the first request.
      standardWebhookKey(s as string);
    } catch (error) {
      throw new WebhookConfigError(`createReceiver: option ${where}: ${(error as Error).message}`);
    }
  });
  const toleranceSeconds = positive(options.toleranceSeconds, 'toleranceSeconds', 300, 86_400);
  const replayWindowSeconds = positive(
    options.replayWindowSeconds,
    'replayWindowSeconds',
    Math.max(2 * toleranceSeconds, 60),
    7 * 86_400,
  );
  if (replayWindowSeconds < 2 * toleranceSeconds) {
    throw new WebhookConfigError(
      `createReceiver: option 'replayWindowSeconds' (${replayWindowSeconds}) must be at least twice 'toleranceSeconds' (${toleranceSeconds}): a captured request stays fresh for that long`,
    );
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new WebhookConfigError(`createReceiver: option 'onEvent' must be a function`);
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new WebhookConfigError(`createReceiver: option 'onError' must be a function`);
  }
  if (options.replayStore !== undefined && !isReplayStore(options.replayStore)) {
    throw new WebhookConfigError(
      `createReceiver: option 'replayStore' must have claim, complete and release methods`,
    );
  }
  const allowXSignatureOnly = options.allowXSignatureOnly ?? false;
  if (typeof allowXSignatureOnly !== 'boolean') {
    throw new WebhookConfigError(`createReceiver: option 'allowXSignatureOnly' must be a boolean`);
  }
  const maxBodyBytes = positive(options.maxBodyBytes, 'maxBodyBytes', 1_048_576, 1024 ** 3);
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new WebhookConfigError(`createReceiver: option 'maxBodyBytes' must be a positive integer`);
  }
  const readTimeoutSeconds = positive(options.readTimeoutSeconds, 'readTimeoutSeconds', 10, 600);
  if (readTimeoutSeconds === 0) {
    throw new WebhookConfigError(`createReceiver: option 'readTimeoutSeconds' must be more than 0`);
  }
  return {
    secrets: list as string[],
    toleranceSeconds,
    replayWindowMs: replayWindowSeconds * 1000,
    onEvent: options.onEvent,
    onError: options.onError ?? defaultOnError,
    store: options.replayStore ?? new MemoryReplayStore(),
    allowXSignatureOnly,
    maxBodyBytes,
    readTimeoutMs: Math.round(readTimeoutSeconds * 1000),
  };
}

function defaultOnError(error: unknown): void {
  console.error('[@empathy/webhooks-receiver]', error);
}

/**
 * The receiving side of a signed webhook: verifies `X-Signature` and Standard Webhooks
 * signatures with your secret, refuses stale timestamps and handles each webhook id once within
 * the replay window, and hands the event to `onEvent`.
 *
 * Answers: 200 `{"status":"ok"}` (also for a repeat already handled, with `"duplicate":true`),
 * 401 when the request is not authentic or fresh (no detail), 400 when it is authentic but not
 * an Empathy event, 405, 408, 409 (a repeat still being handled, with Retry-After), 413, and 500
 * when `onEvent` throws (never 2xx).
 *
 * @throws {WebhookConfigError} for a missing, empty, zero-byte or malformed secret, or any
 *   other bad option: the receiver refuses to start rather than accept forgeries.
 * @example
 * const receiver = createReceiver({
 *   secret: process.env.WEBHOOK_SECRET!,
 *   onEvent: async (event) => console.log(event.event_type, event.event_id),
 * });
 * app.post('/webhooks/empathy', receiver.node); // Express, before any body parser
 */
export function createReceiver(options: ReceiverOptions): Receiver {
  const o = resolveOptions(options);

  const verify = (rawBody: RawBody, headers: HeaderSource): ReceivedEvent => {
    const xSignature = headerValue(headers, 'x-signature');
    const standard = ['webhook-id', 'webhook-timestamp', 'webhook-signature'].some(
      (name) => headerValue(headers, name) !== undefined,
    );
    if (xSignature === undefined && !standard) {
      throw new WebhookSignatureError(
        'missing signature: expected X-Signature or webhook-id/webhook-timestamp/webhook-signature headers',
      );
    }
    if (!standard && !o.allowXSignatureOnly) {
      throw new WebhookSignatureError(
        'X-Signature alone is not accepted (no signed timestamp, so it could be a replay): send the Standard Webhooks headers too, or set allowXSignatureOnly',
      );
    }
    if (xSignature !== undefined && !verifyWebhookSignature(rawBody, xSignature, o.secrets)) {
      throw new WebhookSignatureError(
        'X-Signature does not match the body (wrong secret, or the body was changed)',
      );
    }
    let body: unknown;
    if (standard) {
      try {
        body = verifyStandardWebhook(rawBody, headers, o.secrets, { toleranceSeconds: o.toleranceSeconds });
      } catch (error) {
        if (!isWebhookSignatureError(error)) throw error;
        throw new WebhookSignatureError(`Standard Webhooks signature: ${error.message}`, { cause: error });
      }
    } else {
      const text = toText(rawBody);
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return asEvent(body);
  };

  /** Everything after the body is read: verify, de-duplicate, run the handler. */
  const handle = async (
    body: Buffer,
    headers: HeaderSource,
    run: ((event: ReceivedEvent) => unknown) | undefined,
  ): Promise<{ answer: Answer; event?: ReceivedEvent; id?: string }> => {
    let event: ReceivedEvent;
    try {
      event = verify(body, headers);
    } catch (error) {
      if (isWebhookSignatureError(error)) return { answer: ANSWERS.unauthorized };
      if (isWebhookPayloadError(error)) return { answer: ANSWERS.badRequest };
      o.onError(error, undefined);
      return { answer: ANSWERS.failed };
    }
    const id = headerValue(headers, 'webhook-id') ?? event.event_id;
    let state: Awaited<ReturnType<ReplayStore['claim']>>;
    try {
      state = await o.store.claim(id, Date.now() + o.replayWindowMs);
    } catch (error) {
      // Without the store there is no replay protection: fail closed, the sender retries.
      o.onError(error, event);
      return { answer: ANSWERS.failed };
    }
    if (state === 'done') return { answer: ANSWERS.duplicate };
    if (state === 'pending') return { answer: ANSWERS.inProgress };
    if (!run) return { answer: ANSWERS.ok, event, id };
    try {
      await run(event);
    } catch (error) {
      await release(id, event);
      o.onError(error, event);
      return { answer: ANSWERS.failed };
    }
    await complete(id, event);
    return { answer: ANSWERS.ok };
  };

  const release = async (id: string, event: ReceivedEvent) => {
    try {
      await o.store.release(id);
    } catch (error) {
      o.onError(error, event);
    }
  };
  const complete = async (id: string, event: ReceivedEvent) => {
    try {
      await o.store.complete(id, Date.now() + o.replayWindowMs);
    } catch (error) {
      // The event was handled: the sender must hear 200, or it would deliver it again.
      o.onError(error, event);
    }
  };

  const missingHandler = () =>
    new WebhookConfigError(
      `createReceiver: option 'onEvent' is required to answer requests (or pass Express's next to node())`,
    );

  const fetch = async (request: Request): Promise<Response> => {
    try {
      if (!METHODS.has(request.method)) return respond(ANSWERS.method);
      if (!o.onEvent) {
        o.onError(missingHandler(), undefined);
        return respond(ANSWERS.failed);
      }
      const read = await readWebBody(request, { maxBytes: o.maxBodyBytes, timeoutMs: o.readTimeoutMs });
      if (!read.ok) return respond(bodyAnswer(read, o.onError));
      return respond((await handle(read.body, request.headers, o.onEvent)).answer);
    } catch (error) {
      o.onError(error, undefined);
      return respond(ANSWERS.failed);
    }
  };

  const node = async (
    req: IncomingMessage,
    res: ServerResponse,
    next?: (error?: unknown) => void,
  ): Promise<void> => {
    try {
      if (!METHODS.has(req.method ?? '')) {
        req.resume();
        return send(res, ANSWERS.method);
      }
      const passOn = typeof next === 'function' && !o.onEvent;
      if (!o.onEvent && !passOn) {
        req.resume();
        o.onError(missingHandler(), undefined);
        return send(res, ANSWERS.failed);
      }
      const read = await readNodeBody(req, { maxBytes: o.maxBodyBytes, timeoutMs: o.readTimeoutMs });
      if (!read.ok) {
        if (read.status === 500 && typeof next === 'function') {
          return next(new WebhookConfigError(`@empathy/webhooks-receiver: ${read.reason}`));
        }
        return send(res, bodyAnswer(read, o.onError));
      }
      const { answer, event, id } = await handle(read.body, req.headers, o.onEvent);
      if (!passOn || event === undefined || id === undefined) return send(res, answer);
      // Express: the next handler answers; the id is kept once it answered 2xx.
      res.once('close', () => {
        const handled = res.writableFinished && res.statusCode >= 200 && res.statusCode < 300;
        void (handled ? complete(id, event) : release(id, event));
      });
      (req as IncomingMessage & { body?: unknown }).body = event;
      next!();
    } catch (error) {
      o.onError(error, undefined);
      if (!res.headersSent) send(res, ANSWERS.failed);
    }
  };

  return { verify, fetch, node };
}

function toText(body: RawBody): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array)
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return Buffer.from(body).toString('utf8');
}

/** The verified body as an Empathy event, or a {@link WebhookPayloadError} saying what it is instead. */
function asEvent(body: unknown): ReceivedEvent {
  if (body === undefined) throw new WebhookPayloadError('body is empty');
  if (typeof body === 'string') throw new WebhookPayloadError('body is not JSON');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new WebhookPayloadError('body is not a JSON object');
  }
  const event = body as { event_type?: unknown; event_id?: unknown };
  if (typeof event.event_type !== 'string' || event.event_type === '') {
    throw new WebhookPayloadError('body is not an Empathy event: it has no event_type');
  }
  if (typeof event.event_id !== 'string' || event.event_id === '') {
    throw new WebhookPayloadError('body is not an Empathy event: it has no event_id');
  }
  return body as ReceivedEvent;
}

function bodyAnswer(read: Extract<BodyResult, { ok: false }>, onError: Resolved['onError']): Answer {
  switch (read.status) {
    case 413:
      return ANSWERS.tooLarge;
    case 408:
      return ANSWERS.timeout;
    case 400:
      return ANSWERS.badRequest;
    default:
      onError(new WebhookConfigError(`@empathy/webhooks-receiver: ${read.reason}`), undefined);
      return ANSWERS.failed;
  }
}

function respond(answer: Answer): Response {
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: { 'content-type': 'application/json', ...answer.headers },
  });
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.writableEnded) return;
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  res.end(JSON.stringify(answer.body));
}
