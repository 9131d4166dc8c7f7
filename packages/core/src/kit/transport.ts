import { lookup as dnsLookup } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { BlockedAddressError, guardedLookup, privateAddressReason } from './ssrf.js';

/** Options of {@link HttpTransport}. */
export interface HttpTransportOptions {
  /**
   * Allow loopback, private, link-local, CGNAT and cloud-metadata addresses.
   * @default false
   */
  allowPrivateNetwork?: boolean | undefined;
  /**
   * The most bytes of a response body read (after decompression). Past it the body fails with a
   * {@link ResponseTooLargeError} and the connection is dropped.
   * @default 1 MiB
   */
  maxResponseBytes?: number | undefined;
  /** Keep-alive connections per origin. @default 8 */
  maxSockets?: number | undefined;
}

/** A response body went past {@link HttpTransportOptions.maxResponseBytes}. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
  readonly code = 'ERESPONSETOOLARGE';
  constructor(readonly maxBytes: number) {
    super(`the response body is larger than ${maxBytes} bytes`);
  }
}

/** The default of {@link HttpTransportOptions.maxResponseBytes}. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

type Body = Buffer | undefined;

/**
 * The one HTTP path of every integration whose SDK lets us give it a `fetch` (ky, octokit, the
 * Slack and Datadog clients) or an agent (axios: jira.js):
 * - the SSRF guard: every resolved address is checked before connecting, and so is an IP literal;
 * - the attempt's `signal` aborts the request at any point, and an aborted connection is
 *   destroyed, never returned to the pool;
 * - response bodies are bounded ({@link HttpTransportOptions.maxResponseBytes});
 * - redirects are never followed (a redirect would carry credentials to wherever it points);
 * - keep-alive connections, released by {@link HttpTransport.close}.
 *
 * `fetch` is a WHATWG-compatible function; only what SDKs send is supported as a body (string,
 * bytes, `URLSearchParams`, `Blob`, a `Request`'s body).
 *
 * @example
 * const http = new HttpTransport({ allowPrivateNetwork: false });
 * const client = ky.create({ fetch: http.fetch, retry: 0, timeout: false, throwHttpErrors: false });
 */
export class HttpTransport {
  /** A `fetch` bound to this transport. */
  readonly fetch: typeof fetch;
  /** The lookup its sockets use: guarded unless `allowPrivateNetwork`. */
  readonly lookup: LookupFunction;
  readonly allowPrivateNetwork: boolean;
  readonly maxResponseBytes: number;
  readonly #maxSockets: number;
  #http: HttpAgent | undefined;
  #https: HttpsAgent | undefined;

  constructor(options: HttpTransportOptions = {}) {
    this.allowPrivateNetwork = options.allowPrivateNetwork ?? false;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#maxSockets = options.maxSockets ?? 8;
    this.lookup = this.allowPrivateNetwork ? (dnsLookup as LookupFunction) : guardedLookup;
    this.fetch = ((input: string | URL | Request, init?: RequestInit) =>
      this.#fetch(input, init)) as typeof fetch;
  }

  /** The keep-alive agent for `http:` (for axios-based SDKs: `httpAgent`). */
  get httpAgent(): HttpAgent {
    this.#http ??= new HttpAgent({ keepAlive: true, maxSockets: this.#maxSockets, lookup: this.lookup });
    return this.#http;
  }

  /** The keep-alive agent for `https:` (for axios-based SDKs: `httpsAgent`). */
  get httpsAgent(): HttpsAgent {
    this.#https ??= new HttpsAgent({ keepAlive: true, maxSockets: this.#maxSockets, lookup: this.lookup });
    return this.#https;
  }

  /**
   * Refuses a host that is an IP literal in a private range (sockets skip the lookup for
   * literals, so the guarded lookup alone would not see it). Throws {@link BlockedAddressError}.
   */
  checkHost(hostname: string): void {
    if (this.allowPrivateNetwork) return;
    const host = hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) === 0) return;
    const reason = privateAddressReason(host);
    if (reason) throw new BlockedAddressError(hostname, host, reason);
  }

  /** Closes every pooled connection. The transport can still be used; it opens new ones. */
  close(): void {
    this.#http?.destroy();
    this.#https?.destroy();
    this.#http = undefined;
    this.#https = undefined;
  }

  async #fetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    let url: string;
    let method = 'GET';
    let headers: Headers;
    let signal: AbortSignal | null | undefined;
    let body: Body;
    if (typeof Request !== 'undefined' && input instanceof Request) {
      url = input.url;
      method = input.method;
      headers = new Headers(input.headers);
      signal = input.signal;
      if (input.body !== null && init.body === undefined) body = Buffer.from(await input.arrayBuffer());
    } else {
      url = String(input);
      headers = new Headers();
    }
    if (init.method !== undefined) method = init.method.toUpperCase();
    if (init.headers !== undefined) headers = new Headers(init.headers);
    if (init.signal !== undefined) signal = init.signal;
    if (init.body !== undefined && init.body !== null) body = await toBuffer(init.body);
    signal?.throwIfAborted();

    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new TypeError(`only http: and https: URLs can be fetched (got ${target.protocol})`);
    }
    this.checkHost(target.hostname);
    const https = target.protocol === 'https:';
    const outgoing: Record<string, string> = {};
    headers.forEach((value, name) => {
      outgoing[name] = value;
    });
    if (body !== undefined) outgoing['content-length'] = String(body.length);
    // Compressed bodies are decoded below, bounded after decompression.
    outgoing['accept-encoding'] ??= 'gzip, deflate, br';

    return new Promise<Response>((resolve, reject) => {
      const request = (https ? httpsRequest : httpRequest)(target, {
        method,
        headers: outgoing,
        agent: https ? this.httpsAgent : this.httpAgent,
        lookup: this.lookup,
      });
      let settled = false;
      let onBodyAbort: ((reason: unknown) => void) | undefined;
      const onAbort = () => {
        const reason = signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
        // destroy(): the socket is closed, not handed back to the pool half-read.
        request.destroy(reason instanceof Error ? reason : new Error(String(reason)));
        onBodyAbort?.(reason);
        if (!settled) {
          settled = true;
          reject(reason);
        }
      };
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error) => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(error);
      });
      request.on('response', (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        const status = res.statusCode ?? 0;
        const responseHeaders = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) {
          try {
            responseHeaders.append(raw[i]!, raw[i + 1]!);
          } catch {
            // A header value fetch would refuse: skip it rather than fail the delivery.
          }
        }
        const noBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
        if (noBody) {
          res.resume();
          res.on('end', cleanup);
          resolve(toResponse(null, status, res.statusMessage, responseHeaders));
          return;
        }
        const stream = this.#boundedBody(res, () => {
          request.destroy();
          cleanup();
        });
        onBodyAbort = stream.abort;
        res.on('end', cleanup);
        resolve(toResponse(stream.body, status, res.statusMessage, responseHeaders));
      });
      request.end(body);
    });
  }

  /** The response body as a web stream that stops at `maxResponseBytes` and on abort. */
  #boundedBody(
    res: IncomingMessage,
    drop: () => void,
  ): { body: ReadableStream<Uint8Array>; abort: (reason: unknown) => void } {
    const max = this.maxResponseBytes;
    const encoding = String(res.headers['content-encoding'] ?? '')
      .trim()
      .toLowerCase();
    const decoder =
      encoding === 'gzip' || encoding === 'x-gzip'
        ? createGunzip()
        : encoding === 'deflate'
          ? createInflate()
          : encoding === 'br'
            ? createBrotliDecompress()
            : undefined;
    const source = decoder ? res.pipe(decoder) : res;
    if (decoder) res.on('error', (error) => decoder.destroy(error));
    let done = false;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const fail = (error: unknown) => {
      if (done) return;
      done = true;
      drop();
      decoder?.destroy();
      try {
        controller.error(error);
      } catch {
        // Already closed by the consumer.
      }
    };
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        let read = 0;
        source.on('data', (chunk: Buffer) => {
          if (done) return;
          read += chunk.length;
          if (read > max) {
            fail(new ResponseTooLargeError(max));
            return;
          }
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        });
        source.on('end', () => {
          if (done) return;
          done = true;
          controller.close();
        });
        source.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('the connection closed before the response ended'));
        });
      },
      cancel() {
        // The consumer read what it needed: drop the rest with the connection.
        if (done) return;
        done = true;
        if (!res.complete) drop();
        else res.resume();
      },
    });
    return { body, abort: fail };
  }
}

function toResponse(
  body: ReadableStream<Uint8Array> | null,
  status: number,
  statusText: string | undefined,
  headers: Headers,
): Response {
  try {
    return new Response(body, { status, statusText: statusText ?? '', headers });
  } catch {
    // A reason phrase fetch refuses, or a status outside 200–599 (answered as 502).
    return new Response(body, { status: status >= 200 && status <= 599 ? status : 502, headers });
  }
}

async function toBuffer(body: NonNullable<RequestInit['body']>): Promise<Buffer> {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), 'utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof Blob !== 'undefined' && body instanceof Blob) return Buffer.from(await body.arrayBuffer());
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) {
    return Buffer.from(await new Response(body).arrayBuffer());
  }
  throw new TypeError('unsupported request body: send a string, bytes, URLSearchParams or a Blob');
}
