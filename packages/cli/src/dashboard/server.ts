import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CSS, SCRIPT, TOKEN_HEADER } from './assets.js';
import { type FeedEntry, renderMain, renderOutcome, renderPage } from './render.js';
import type { DashboardSource } from './state.js';

/** Options of a dashboard server. */
export interface DashboardServerOptions {
  /** Port; 0 picks a free one. @default 8788 */
  port?: number | undefined;
  /**
   * Address to listen on. Another than loopback makes the page (dead letters, event payloads)
   * readable by anyone who reaches it; actions still need the token.
   * @default '127.0.0.1'
   */
  host?: string | undefined;
  /**
   * The action token (at least 16 characters). @default 32 random bytes, base64url
   */
  token?: string | undefined;
}

/** A running dashboard. */
export interface DashboardServer {
  /** `http://127.0.0.1:8788/` */
  readonly url: string;
  /** The start-up link: `url` with the token in its `#fragment` (never sent to a server). */
  readonly link: string;
  /** The token actions need, sent in the `X-Dashboard-Token` header. */
  readonly token: string;
  readonly port: number;
  readonly host: string;
  /** Whether `host` is a loopback address (if not, warn the user). */
  readonly loopback: boolean;
  /** Stops the server and ends the live feeds. */
  close(): Promise<void>;
}

/** The most live-feed subscribers at once; more get 503. */
const MAX_STREAMS = 32;
/** Outcomes a new page starts with. */
const FEED_SIZE = 50;

/** Whether `host` is a loopback address or name. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Serves `source` over HTTP: the page, its fragments, `/api/state` (JSON), `/api/events` (the live
 * feed, server-sent events) and the two actions, `POST /api/dead-letters/<id>/replay|delete`,
 * which need the token in the `X-Dashboard-Token` header.
 */
export async function startDashboardServer(
  source: DashboardSource,
  options: DashboardServerOptions = {},
): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8788;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new RangeError(`dashboard: option 'port' must be an integer from 0 to 65535 (got ${port})`);
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 16))
    throw new RangeError(`dashboard: option 'token' must be a string of at least 16 characters`);
  const token = options.token ?? randomBytes(32).toString('base64url');
  const tokenDigest = digest(token);
  const loopback = isLoopback(host);

  const feed: FeedEntry[] = [];
  const streams = new Set<ServerResponse>();
  const unsubscribe = source.subscribe?.((outcome) => {
    const entry = { at: Date.now(), outcome };
    feed.push(entry);
    if (feed.length > FEED_SIZE) feed.shift();
    if (streams.size === 0) return;
    const data = `event: outcome\ndata: ${JSON.stringify({ html: renderOutcome(outcome, entry.at), outcome })}\n\n`;
    for (const stream of streams) stream.write(data);
  });

  let allowedHosts: Set<string> = new Set();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => {
      if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: error.message }));
      else res.destroy();
    });
  });
  // Bounded waits: a client that sends nothing is dropped.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page on another site whose name now points at 127.0.0.1 sends its own Host.
    if (loopback && !allowedHosts.has(String(req.headers.host ?? '').toLowerCase())) {
      return send(res, 421, 'text/plain', 'misdirected request: use the address the dashboard printed\n');
    }
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (req.method === 'POST') {
      const action = /^\/api\/dead-letters\/([^/]+)\/(replay|delete)$/.exec(path);
      if (!action) return send(res, 404, 'application/json', '{"error":"not found"}');
      return act(req, res, decodeURIComponent(action[1]!), action[2] as 'replay' | 'delete');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD, POST');
      return send(res, 405, 'application/json', '{"error":"method not allowed"}');
    }
    switch (path) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', renderPage(await source.state(), feed));
      case '/partials/main':
        return send(res, 200, 'text/html; charset=utf-8', renderMain(await source.state()));
      case '/api/state':
        return send(res, 200, 'application/json', JSON.stringify(await source.state()));
      case '/assets/dashboard.css':
        return send(res, 200, 'text/css; charset=utf-8', CSS);
      case '/assets/dashboard.js':
        return send(res, 200, 'text/javascript; charset=utf-8', SCRIPT);
      case '/api/events':
        return events(req, res);
      default:
        return send(res, 404, 'text/plain', 'not found\n');
    }
  }

  async function act(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    action: 'replay' | 'delete',
  ): Promise<void> {
    req.resume(); // no body is read: actions carry none
    const given = req.headers[TOKEN_HEADER];
    if (typeof given !== 'string' || given === '') {
      return send(res, 401, 'application/json', JSON.stringify({ error: `missing ${TOKEN_HEADER} header` }));
    }
    // A page on another origin cannot set the header without a preflight; refuse one that says it is cross-site anyway.
    const site = req.headers['sec-fetch-site'];
    if (!timingSafeEqual(digest(given), tokenDigest) || site === 'cross-site') {
      return send(res, 403, 'application/json', JSON.stringify({ error: 'wrong token' }));
    }
    const done =
      action === 'replay' ? await source.deadLetters.replay(id) : await source.deadLetters.delete(id);
    if (!done)
      return send(
        res,
        404,
        'application/json',
        JSON.stringify({ ok: false, id, error: 'no such dead letter' }),
      );
    return send(res, 200, 'application/json', JSON.stringify({ ok: true, id, action }));
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    if (!source.subscribe) {
      send(res, 404, 'text/plain', 'no live feed: this dashboard reads a queue\n');
      return;
    }
    if (streams.size >= MAX_STREAMS) {
      send(res, 503, 'text/plain', 'too many live feeds open\n');
      return;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(': live feed of delivery outcomes\n\n');
    streams.add(res);
    // A comment now and then keeps proxies and idle timers from closing the stream.
    const beat = setInterval(() => res.write(': beat\n\n'), 15_000);
    beat.unref();
    req.socket.setTimeout(0);
    const end = () => {
      clearInterval(beat);
      streams.delete(res);
    };
    req.on('close', end);
    res.on('error', end);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  allowedHosts = new Set(
    [shownHost, 'localhost', '127.0.0.1', '[::1]'].map((h) => `${h}:${bound}`.toLowerCase()),
  );
  const url = `http://${shownHost}:${bound}/`;
  return {
    url,
    link: `${url}#token=${token}`,
    token,
    port: bound,
    host,
    loopback,
    async close() {
      unsubscribe?.();
      for (const stream of streams) stream.end();
      streams.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Headers on every answer: no framing, no sniffing, no referrer, only our own script and style. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
