import type { IncomingMessage } from 'node:http';

/** Bounds on reading a request body. */
export interface ReadBodyOptions {
  /** The largest body read; a bigger one ends the read with status 413. */
  maxBytes: number;
  /** How long the whole body may take to arrive; a slower one ends the read with status 408. */
  timeoutMs: number;
}

/**
 * A read body, or why there is none: `413` too large, `408` too slow, `400` the client went
 * away, `500` something read the body before us (a body parser), so the signed bytes are gone.
 */
export type BodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; status: 400 | 408 | 413 | 500; reason: string };

const tooLarge = (max: number): BodyResult => ({
  ok: false,
  status: 413,
  reason: `body larger than ${max} bytes`,
});
const tooSlow = (ms: number): BodyResult => ({
  ok: false,
  status: 408,
  reason: `body not received within ${ms} ms`,
});

function declaredLength(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/**
 * Reads the raw body of a node:http request (Express, Connect and Fastify's raw request too),
 * bounded in size and time. A body a parser already read (`express.raw()`, `express.text()`)
 * is taken from `req.body` when it is a Buffer or a string; a parsed object cannot be verified
 * and gives status 500.
 *
 * After a 413 or a 408 the rest of the body is read and dropped until the same deadline, then
 * the connection is destroyed: a client that keeps sending cannot hold it open.
 */
export function readNodeBody(req: IncomingMessage, options: ReadBodyOptions): Promise<BodyResult> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (Buffer.isBuffer(parsed)) {
    return Promise.resolve(
      parsed.length > options.maxBytes ? tooLarge(options.maxBytes) : { ok: true, body: parsed },
    );
  }
  if (typeof parsed === 'string') {
    const body = Buffer.from(parsed, 'utf8');
    return Promise.resolve(body.length > options.maxBytes ? tooLarge(options.maxBytes) : { ok: true, body });
  }
  // A parser that read the stream leaves it ended (Express 4's body-parser also sets `{}` on
  // requests it did not parse, with the stream untouched: those are read normally).
  if (req.readableEnded) {
    return Promise.resolve({
      ok: false,
      status: 500,
      reason:
        'the request body was already read (a body parser such as express.json() ran first): mount the receiver before any body parser, or use express.raw()',
    });
  }
  const declared = declaredLength(req.headers['content-length']);
  if (declared !== undefined && declared > options.maxBytes) {
    drain(req, options.timeoutMs);
    return Promise.resolve(tooLarge(options.maxBytes));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: BodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) {
        finish(tooLarge(options.maxBytes));
        drain(req, options.timeoutMs);
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => finish({ ok: true, body: Buffer.concat(chunks, size) });
    const onGone = () => finish({ ok: false, status: 400, reason: 'the client closed the connection' });
    const timer = setTimeout(() => {
      finish(tooSlow(options.timeoutMs));
      drain(req, options.timeoutMs);
    }, options.timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

/** Reads and drops the rest of a body, destroying the connection if it has not ended by the deadline. */
function drain(req: IncomingMessage, timeoutMs: number): void {
  if (req.readableEnded || req.destroyed) return;
  const timer = setTimeout(() => req.destroy(), timeoutMs);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.once('end', done);
  req.once('close', done);
  req.resume();
}

/**
 * Reads the raw body of a web-standard `Request` (Hono, Next.js App Router, Bun, Deno, Workers),
 * bounded in size and time.
 */
export async function readWebBody(request: Request, options: ReadBodyOptions): Promise<BodyResult> {
  const declared = declaredLength(request.headers.get('content-length'));
  if (declared !== undefined && declared > options.maxBytes) return tooLarge(options.maxBytes);
  if (request.bodyUsed) {
    return {
      ok: false,
      status: 500,
      reason:
        'the request body was already read: pass the receiver the request before anything reads its body',
    };
  }
  if (request.body === null) return { ok: true, body: Buffer.alloc(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), deadline]);
      if (next === 'timeout') {
        void reader.cancel().catch(() => {});
        return tooSlow(options.timeoutMs);
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > options.maxBytes) {
        void reader.cancel().catch(() => {});
        return tooLarge(options.maxBytes);
      }
      chunks.push(next.value);
    }
  } catch {
    return { ok: false, status: 400, reason: 'the request body could not be read' };
  } finally {
    clearTimeout(timer);
  }
  return { ok: true, body: Buffer.concat(chunks, size) };
}
