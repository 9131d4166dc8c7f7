import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type EmpathyEvent,
  isWebhookConfigError,
  isWebhookPayloadError,
  isWebhookSignatureError,
} from '@empathy/webhooks-core';
import { summarizeEvent, truncateText } from '@empathy/webhooks-core/kit';
import { createReceiver, type Receiver, readNodeBody } from '@empathy/webhooks-receiver';
import { noArguments, numberFlag, parseCommand, secretFlag, UsageError } from './args.js';
import { LISTEN_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { clock, jsonLine, line, type Palette, pad, palette } from './output.js';

/** The largest body `listen` reads; bigger ones are answered 413. */
const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** How long a request body may take to arrive; slower ones are answered 408. */
const READ_TIMEOUT_MS = 30_000;
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
  /** Verifies requests when a secret was given. */
  receiver: Receiver | undefined;
  json: boolean;
}

/**
 * `empathy-webhooks listen`: a receiver for local development. Verifies `X-Signature` and
 * Standard Webhooks signatures when a secret is given, prints one line per request, marks
 * repeated event ids, and stops when `io.signal` aborts (Ctrl-C). Resolves with the exit code.
 */
export async function listen(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(
    'listen',
    args,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      secret: { type: 'string' },
      'secret-env': { type: 'string' },
      path: { type: 'string' },
      tolerance: { type: 'string' },
      json: { type: 'boolean' },
    },
    LISTEN_HELP,
    io,
  );
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  noArguments('listen', positionals);
  const path = values.path ?? '/';
  if (!path.startsWith('/')) throw new UsageError('option --path must start with /');
  const port = numberFlag(values.port, 'port', 8787, { integer: true, min: 0, max: 65_535 });
  const toleranceSeconds = numberFlag(values.tolerance, 'tolerance', 300, {
    integer: true,
    min: 0,
    max: 86_400,
  });
  const secret = secretFlag(values, io.env);
  const options: ListenOptions = {
    port,
    host: values.host ?? '127.0.0.1',
    path: path.length > 1 ? path.replace(/\/+$/, '') : path,
    receiver: secret === undefined ? undefined : receiverFor(secret, toleranceSeconds, values['secret-env']),
    json: values.json === true,
  };
  return new Listener(options, io).run();
}

/**
 * The receiver package's verifier for `secret`. A secret it cannot use (`whsec_!!!!`, `whsec_`,
 * one whose key is only zero bytes) stops `listen` before it starts: verifying with it would
 * accept forgeries or reject everything. The error names the flag, never the value.
 */
function receiverFor(secret: string, toleranceSeconds: number, envName: string | undefined): Receiver {
  try {
    return createReceiver({
      secret,
      toleranceSeconds,
      // A development receiver takes what the seed's Python sender sends: X-Signature alone.
      allowXSignatureOnly: true,
      maxBodyBytes: MAX_BODY_BYTES,
      readTimeoutSeconds: READ_TIMEOUT_MS / 1000,
    });
  } catch (error) {
    if (!isWebhookConfigError(error)) throw error;
    const source = envName === undefined ? 'option --secret' : `the secret in ${envName} (--secret-env)`;
    const reason = error.message.replace(/^createReceiver: option 'secret': /, '');
    throw new UsageError(`${source} cannot be used to verify signatures: ${reason}`);
  }
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
    const checks = this.#o.receiver
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
      signature: this.#o.receiver ? 'failed' : 'unsigned',
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
    const read = await readNodeBody(req, { maxBytes: MAX_BODY_BYTES, timeoutMs: READ_TIMEOUT_MS });
    if (!read.ok) return refuse(read.status, read.reason);

    let event: Partial<EmpathyEvent>;
    if (this.#o.receiver) {
      try {
        event = this.#o.receiver.verify(read.body, req.headers);
      } catch (error) {
        // Only a verified request gets past here: any other error is a 500, never a pass.
        if (isWebhookSignatureError(error)) return refuse(401, error.message);
        if (isWebhookPayloadError(error)) {
          record.signature = 'ok';
          return refuse(400, error.message);
        }
        throw error;
      }
      record.signature = 'ok';
    } else {
      try {
        event = JSON.parse(read.body.toString('utf8'));
      } catch {
        return refuse(400, 'body is not JSON');
      }
      if (event === null || typeof event !== 'object' || Array.isArray(event)) {
        return refuse(400, 'body is not a JSON object');
      }
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
