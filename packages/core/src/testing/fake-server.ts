import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** A request the fake received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** Path without the query. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as UTF-8. */
  body: string;
  /** Epoch ms when the request arrived. */
  receivedAt: number;
  /** The status the fake answered with (set once answered; 0 for a dropped connection). */
  status: number;
  /** Epoch ms when the connection of a streamed answer ({@link FakeResponse.stream}) was closed. */
  closedAt?: number | undefined;
  /** Bytes of a streamed answer written before the client went away. */
  streamedBytes?: number | undefined;
  /** The body parsed as JSON. */
  json<T = any>(): T;
  /** The body parsed as application/x-www-form-urlencoded. */
  form(): URLSearchParams;
}

/** How the fake answers one request. */
export interface FakeResponse {
  /** @default 200 */
  status?: number | undefined;
  headers?: Record<string, string> | undefined;
  /** An object is sent as JSON; a string as is. */
  body?: unknown | undefined;
  /** Answer after this many ms. */
  delayMs?: number | undefined;
  /** Never answer (until the server closes): to test timeouts. */
  hang?: boolean | undefined;
  /** Drop the connection without answering: to test network errors. */
  disconnect?: boolean | undefined;
  /**
   * A hostile body after the status and headers, until the client closes the connection:
   * `'endless'` writes 64 KiB chunks as fast as the client reads, `'trickle'` one byte every 50 ms
   * (each resets an idle timer, never ending). `body` is sent first.
   */
  stream?: 'endless' | 'trickle' | undefined;
}

const CHUNK = Buffer.alloc(64 * 1024, 'a');

/** Writes `start`, then a never-ending body, until the client closes; records when it did. */
function streamForever(
  res: ServerResponse,
  mode: 'endless' | 'trickle',
  start: string,
  recorded: RecordedRequest,
): void {
  let timer: NodeJS.Timeout | undefined;
  recorded.streamedBytes = 0;
  const write = (chunk: Buffer | string) => {
    recorded.streamedBytes! += Buffer.byteLength(chunk);
    return res.write(chunk);
  };
  res.on('close', () => {
    recorded.closedAt = Date.now();
    if (timer) clearInterval(timer);
  });
  if (start) write(start);
  if (mode === 'trickle') {
    timer = setInterval(() => {
      if (!res.destroyed) write('a');
    }, 50);
    return;
  }
  const pump = () => {
    while (!res.destroyed && write(CHUNK)) {
      // Keep writing while the socket takes it.
    }
  };
  res.on('drain', pump);
  pump();
}

/** Decides the answer to a request that no queued response claims. */
export type FakeHandler = (request: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

/** A local HTTP(S) server on 127.0.0.1 that records requests and answers as scripted. */
export interface FakeServer {
  /** `http://127.0.0.1:<port>` (or https). */
  readonly url: string;
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Answers the next requests with these, in order, before falling back to the handler. */
  respondNext(...responses: FakeResponse[]): void;
  /** Replaces the fallback handler. */
  setHandler(handler: FakeHandler): void;
  /** Resolves once at least `count` requests have arrived. */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Forgets recorded requests and queued responses. */
  reset(): void;
  close(): Promise<void>;
}

/** Options for {@link createFakeServer}. */
export interface FakeServerOptions {
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string } | undefined;
}

/**
 * Starts a fake vendor API on 127.0.0.1 (a free port). Integrations answer like their vendor in
 * `handler` (status codes, error bodies, rate-limit headers); tests script failures with
 * {@link FakeServer.respondNext}.
 *
 * @example
 * const server = await createFakeServer(() => ({ status: 202, body: { status: 'success' } }));
 * server.respondNext({ status: 429, headers: { 'retry-after': '1' } });
 */
export async function createFakeServer(
  handler: FakeHandler = () => ({ status: 200 }),
  options: FakeServerOptions = {},
): Promise<FakeServer> {
  let fallback = handler;
  const queued: FakeResponse[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let waiters: { count: number; resolve: () => void }[] = [];

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = req.url ?? '/';
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      url,
      path: url.split('?')[0]!,
      headers: req.headers,
      body,
      receivedAt: Date.now(),
      status: 0,
      json: () => JSON.parse(body),
      form: () => new URLSearchParams(body),
    };
    requests.push(recorded);
    for (const waiter of waiters.filter((w) => requests.length >= w.count)) waiter.resolve();
    waiters = waiters.filter((w) => requests.length < w.count);
    let response: FakeResponse;
    try {
      response = queued.shift() ?? (await fallback(recorded));
    } catch (error) {
      response = { status: 500, body: { error: `fake handler threw: ${(error as Error).message}` } };
    }
    if (response.delayMs) await new Promise((r) => setTimeout(r, response.delayMs));
    if (response.hang) {
      hanging.add(res);
      return;
    }
    if (response.disconnect) {
      req.socket.destroy();
      return;
    }
    const status = response.status ?? 200;
    recorded.status = status;
    const headers: Record<string, string> = { ...response.headers };
    let payload = '';
    if (response.body !== undefined) {
      if (typeof response.body === 'string') payload = response.body;
      else {
        payload = JSON.stringify(response.body);
        headers['content-type'] ??= 'application/json; charset=utf-8';
      }
    }
    if (response.stream) {
      delete headers['content-length'];
      res.writeHead(status, headers);
      streamForever(res, response.stream, payload, recorded);
      hanging.add(res);
      return;
    }
    res.writeHead(status, headers);
    res.end(payload);
  };

  const server: Server = options.tls
    ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest)
    : createServer(onRequest);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    respondNext(...responses) {
      queued.push(...responses);
    },
    setHandler(next) {
      fallback = next;
    },
    waitForRequests(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`fake server: expected ${count} requests, got ${requests.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(requests.slice());
          },
        });
      });
    },
    reset() {
      requests.length = 0;
      queued.length = 0;
    },
    close() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
