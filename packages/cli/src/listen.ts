import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import {
  type EmpathyEvent,
  isWebhookSignatureError,
  summarizeEvent,
  truncateText,
  verifyStandardWebhook,
  verifyWebhookSignature,
} from '@empathy/webhooks-core';
import { HELP_FLAG, integerFlag, secretFlag, UsageError, withUsage } from './args.js';
import { LISTEN_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { clock, jsonLine, line, type Palette, pad, palette } from './output.js';

/** The largest body `listen` reads; bigger ones are answered 413. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** How many event ids `listen` remembers to mark repeats. */
const REMEMBERED_IDS = 10_000;

/** What `listen` did with one request (a `--json` line). */
export interface ListenRecord {
  time: string;
  method: string;
  path: string;
  /** The status `listen` answered with. */
  status: number;
  /** `ok`: every signature present verified; `failed`; `unsigned`: no `--secret` given. */
  signature: 'ok' | 'failed' | 'unsigned';
  /** Why the request was refused (401, 400, 404, …). */
  reason?: string | undefined;
  event_type?: string | undefined;
  event_id?: string | undefined;
  user_id?: string | undefined;
  severity?: string | undefined;
  /** Times this event id arrived so far (2 or more: a repeat, as at-least-once delivery allows). */
  deliveries?: number | undefined;
  duplicate?: boolean | undefined;
  summary?: string | undefined;
  event?: unknown | undefined;
}

interface ListenOptions {
  port: number;
  host: string;
  path: string;
  secret: string | undefined;
  toleranceSeconds: number;
  json: boolean;
}

/**
 * `empathy-webhooks listen`: a receiver for local development. Verifies `X-Signature` and
 * Standard Webhooks signatures when a secret is given, prints one line per request, marks
 * repeated event ids, and stops when `io.signal` aborts (Ctrl-C). Resolves with the exit code.
 */
export async function listen(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = withUsage('listen', () =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        ...HELP_FLAG,
        port: { type: 'string' },
        host: { type: 'string' },
        secret: { type: 'string' },
        'secret-env': { type: 'string' },
        path: { type: 'string' },
        tolerance: { type: 'string' },
        json: { type: 'boolean' },
      },
    }),
  );
  if (values.help) {
    io.stdout.write(LISTEN_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw new UsageError(`'listen' takes no arguments (see 'empathy-webhooks listen --help')`);
  const path = values.path ?? '/';
  if (!path.startsWith('/')) throw new UsageError('option --path must start with /');
  const options: ListenOptions = {
    port: integerFlag(values.port, 'port', 8787, 0, 65535),
    host: values.host ?? '127.0.0.1',
    path: path.length > 1 ? path.replace(/\/+$/, '') : path,
    secret: secretFlag(values, io.env),
    toleranceSeconds: integerFlag(values.tolerance, 'tolerance', 300, 0, 86_400),
    json: values.json === true,
  };
  return new Listener(options, io).run();
}

class Listener {
  readonly #o: ListenOptions;
  readonly #io: CliIO;
  readonly #c: Palette;
  readonly #seen = new Map<string, number>();
  #requests = 0;
  #events = 0;

  constructor(options: ListenOptions, io: CliIO) {
    this.#o = options;
    this.#io = io;
    this.#c = palette(io.stdout, io.env);
  }

  async run(): Promise<number> {
    const io = this.#io;
    if (io.signal?.aborted) return EXIT.ok;
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.#answer(res, 500, { error: 'listener failed' });
        line(io.stderr, `listen: ${(error as Error).message}`);
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.#o.port, this.#o.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      line(
        io.stderr,
        code === 'EADDRINUSE'
          ? `listen: port ${this.#o.port} on ${this.#o.host} is in use; pick another with --port`
          : `listen: cannot listen on ${this.#o.host}:${this.#o.port}: ${(error as Error).message}`,
      );
      return EXIT.failure;
    }
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}${this.#o.path}`;
    const checks = this.#o.secret
      ? 'verifying X-Signature and Standard Webhooks signatures'
      : 'signatures not checked (pass --secret-env NAME to verify them)';
    // With --json, stdout carries JSON lines only.
    line(this.#o.json ? io.stderr : io.stdout, `Listening on ${url} — ${checks}. Ctrl-C to stop.`);

    await new Promise<void>((resolve) => {
      if (io.signal?.aborted) return resolve();
      io.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    line(
      this.#o.json ? io.stderr : io.stdout,
      `Stopped after ${this.#requests} request${this.#requests === 1 ? '' : 's'} (${this.#events} event${this.#events === 1 ? '' : 's'} accepted).`,
    );
    return EXIT.ok;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#requests++;
    const path = (req.url ?? '/').split('?')[0]!;
    const record: ListenRecord = {
      time: new Date().toISOString(),
      method: req.method ?? 'GET',
      path,
      status: 200,
      signature: this.#o.secret ? 'failed' : 'unsigned',
    };
    const refuse = (status: number, reason: string, headers: Record<string, string> = {}) => {
      record.status = status;
      record.reason = reason;
      this.#answer(res, status, { error: reason }, headers);
      this.#print(record);
    };

    if (!this.#matches(path)) {
      req.resume();
      return refuse(404, `not listening on ${path} (listening on ${this.#o.path})`);
    }
    if (req.method !== 'POST' && req.method !== 'PUT' && req.method !== 'PATCH') {
      req.resume();
      return refuse(405, `method ${req.method} not allowed: send POST`, { allow: 'POST, PUT, PATCH' });
    }
    const body = await readBody(req);
    if (body === undefined) return refuse(413, `body larger than ${MAX_BODY_BYTES} bytes`);

    if (this.#o.secret) {
      const reason = this.#verify(body, req.headers, this.#o.secret);
      if (reason !== undefined) return refuse(401, reason);
      record.signature = 'ok';
    }
    let event: Partial<EmpathyEvent>;
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse(400, 'body is not JSON');
    }
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      return refuse(400, 'body is not a JSON object');
    }

    const headerId = req.headers['webhook-id'];
    const id =
      typeof event.event_id === 'string'
        ? event.event_id
        : typeof headerId === 'string'
          ? headerId
          : undefined;
    record.event_type = typeof event.event_type === 'string' ? event.event_type : undefined;
    record.event_id = id;
    record.user_id = typeof event.user_id === 'string' ? event.user_id : undefined;
    record.severity = typeof event.severity === 'string' ? event.severity : undefined;
    if (id !== undefined) {
      record.deliveries = this.#remember(id);
      record.duplicate = record.deliveries > 1;
    }
    record.summary = summary(event);
    record.event = event;
    this.#events++;
    // A repeat is acknowledged too: at-least-once delivery means the sender may not know it arrived.
    this.#answer(res, 200, { ok: true, duplicate: record.duplicate === true });
    this.#print(record);
  }

  /** Why the request's signatures do not verify, or `undefined` when they do. */
  #verify(body: Buffer, headers: IncomingMessage['headers'], secret: string): string | undefined {
    const xSignature = headers['x-signature'];
    const standard = headers['webhook-signature'] !== undefined;
    if (xSignature === undefined && !standard) {
      return 'missing signature: expected X-Signature or webhook-id/webhook-timestamp/webhook-signature headers';
    }
    if (xSignature !== undefined && !verifyWebhookSignature(body, String(xSignature), secret)) {
      return 'X-Signature does not match the body (wrong secret, or the body was changed)';
    }
    if (standard) {
      try {
        verifyStandardWebhook(body, headers, secret, { toleranceSeconds: this.#o.toleranceSeconds });
      } catch (error) {
        // The signature verified and only the JSON parse failed: the JSON check reports it.
        if (!isWebhookSignatureError(error)) return undefined;
        return `Standard Webhooks signature: ${(error as Error).message}`;
      }
    }
    return undefined;
  }

  #matches(path: string): boolean {
    const base = this.#o.path;
    return base === '/' || path === base || path.startsWith(`${base}/`);
  }

  #remember(id: string): number {
    const count = (this.#seen.get(id) ?? 0) + 1;
    this.#seen.delete(id);
    this.#seen.set(id, count);
    if (this.#seen.size > REMEMBERED_IDS) this.#seen.delete(this.#seen.keys().next().value!);
    return count;
  }

  #answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  #print(record: ListenRecord): void {
    const out = this.#io.stdout;
    if (this.#o.json) {
      jsonLine(out, record);
      return;
    }
    const c = this.#c;
    const time = c.dim(clock(new Date(record.time)));
    if (record.status !== 200) {
      const sig = record.status === 401 ? `${c.red('signature failed')}: ` : '';
      line(
        out,
        `${time}  ${c.red(String(record.status))}  ${record.method} ${record.path}  ${sig}${record.reason}`,
      );
      return;
    }
    const sig =
      record.signature === 'ok'
        ? c.green('sig ok')
        : record.signature === 'unsigned'
          ? c.dim('unsigned')
          : c.red('sig failed');
    const repeat = record.duplicate ? `  ${c.yellow(`repeat ×${record.deliveries}`)}` : '';
    line(
      out,
      [
        time,
        c.green('200'),
        c.bold(pad(record.event_type ?? '?', 22)),
        pad(record.event_id ?? '-', 32),
        pad(record.user_id ?? '-', 14),
        pad(record.severity ?? '-', 8),
        sig + repeat,
      ].join('  '),
    );
    if (record.summary) line(out, `          ${record.summary}`);
  }
}

/** The body, or `undefined` when it exceeds {@link MAX_BODY_BYTES}. */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** One line about the event: `🔮 Level 4 Prediction — Auth deployment may conflict …`. */
function summary(event: Partial<EmpathyEvent>): string | undefined {
  if (typeof event.event_type !== 'string') return 'not an Empathy event (no event_type)';
  try {
    const s = summarizeEvent({ ...event, data: event.data ?? {} } as EmpathyEvent);
    const text = s.text === undefined ? '' : ` — ${s.text.replace(/\s+/g, ' ')}`;
    return truncateText(`${s.emoji} ${s.title}${text}`, 160);
  } catch {
    return undefined;
  }
}
