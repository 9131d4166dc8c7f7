import { isIPv6, connect as netConnect, type Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import {
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  type RateLimit,
  WebhookConfigError,
} from '@empathy/webhooks-core';
import {
  type IncidentContext,
  privateHostReason,
  safeDetail,
  WebhookBase,
  type WebhookOptions,
} from '@empathy/webhooks-core/kit';
import {
  createTransport,
  type SMTPPoolOptions,
  type SMTPPoolSentMessageInfo,
  type Transporter,
} from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { toEmailError } from './errors.js';
import { fitEmail } from './fit.js';
import { DEFAULT_SUBJECT_PREFIX, type EmailPayload, emailHeaders, formatEmail } from './format.js';

/** A mailbox: `'Ops <ops@example.com>'`, `'ops@example.com'`, or `{ name, address }`. */
export type EmailAddress = string | { name: string; address: string };

/** SMTP credentials (AUTH PLAIN / LOGIN / CRAM-MD5, whichever the server offers). */
export interface EmailAuth {
  user: string;
  /** A secret: it never appears in errors, stats or dead letters. */
  pass: string;
}

/** Options for {@link EmailWebhook}. */
export interface EmailWebhookOptions extends WebhookOptions<EmailPayload> {
  /**
   * The SMTP server's host name or IP address (not a URL). A private, loopback or link-local
   * address (or a name resolving to one) is refused unless `allowPrivateNetwork` is set.
   * @example 'smtp.example.com'
   */
  host: string;
  /** @default 465 when `secure`, else 587 */
  port?: number | undefined;
  /**
   * TLS from the first byte (port 465). When false, the connection is upgraded with STARTTLS
   * if the server offers it (require it with `requireTLS`).
   * @default true when `port` is 465, else false
   */
  secure?: boolean | undefined;
  /** Refuse to send unless STARTTLS succeeds (for `secure: false`). @default false */
  requireTLS?: boolean | undefined;
  /**
   * Node TLS options for the connection: a private CA (`ca`), `servername`, … Certificates are
   * verified against `host` unless you set `rejectUnauthorized: false`.
   * @default {}
   */
  tls?: ConnectionOptions | undefined;
  /** Credentials, when the server wants them. @default none */
  auth?: EmailAuth | undefined;
  /**
   * The sender; its domain is also the Message-ID's domain.
   * @example 'Empathy Bot <empathy@example.com>'
   */
  from: EmailAddress;
  /** Recipients: one, several in one string, or a list. @example ['oncall@example.com'] */
  to: EmailAddress | readonly EmailAddress[];
  /** Copy recipients. @default none */
  cc?: EmailAddress | readonly EmailAddress[] | undefined;
  /** Blind-copy recipients (in the SMTP envelope, never in the headers). @default none */
  bcc?: EmailAddress | readonly EmailAddress[] | undefined;
  /** Where replies go. @default the sender */
  replyTo?: EmailAddress | undefined;
  /** Put in front of every subject. @default '[Empathy]' */
  subjectPrefix?: string | undefined;
  /** How long to wait for the TCP (and TLS) connection, the DNS lookup included. @default 10 */
  connectionTimeoutSeconds?: number | undefined;
  /** How long to wait for the server's greeting once connected. @default 10 */
  greetingTimeoutSeconds?: number | undefined;
  /** How long a connection may stay silent. The attempt's own timeout is the retry policy's. @default 30 */
  socketTimeoutSeconds?: number | undefined;
  /** Messages a pooled connection sends before it is replaced. @default 100 */
  maxMessagesPerConnection?: number | undefined;
  /** Receive these event types. @default ['alert', 'security_vulnerability', 'compliance_violation', 'deployment_risk', 'error'] */
  events?: readonly EventSelector[] | undefined;
  /** Mails in flight at once, and so the size of the SMTP connection pool. @default 2 */
  concurrency?: number | undefined;
  /** Over the limit, mails wait and go out later; nothing is dropped. @default { maxRequestsPerMinute: 60 } */
  rateLimit?: RateLimit | undefined;
  /** @default 'email' */
  name?: string | undefined;
}

/** The event types an {@link EmailWebhook} receives unless `events` says otherwise. */
export const DEFAULT_EMAIL_EVENTS = [
  'alert',
  'security_vulnerability',
  'compliance_violation',
  'deployment_risk',
  'error',
] as const satisfies readonly EventSelector[];

/** The default rate limit: enough for alerts, low enough not to flood inboxes or trip a provider's throttle. */
export const DEFAULT_EMAIL_RATE_LIMIT = { maxRequestsPerMinute: 60 } as const satisfies RateLimit;

/**
 * The longest SMTP reply read. Real replies are a few hundred bytes (EHLO's is the longest); a
 * server that keeps extending one is dropped past this, so it cannot fill memory.
 */
const MAX_REPLY_BYTES = 64 * 1024;

type Mailbox = { name: string; address: string };

interface ResolvedEmailOptions {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  tls: ConnectionOptions;
  auth: EmailAuth | undefined;
  from: Mailbox[];
  to: Mailbox[];
  cc: Mailbox[];
  bcc: Mailbox[];
  replyTo: Mailbox[];
  subjectPrefix: string;
  timeouts: { connection: number; greeting: number; socket: number };
  maxMessages: number;
}

type Transport = Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;

/**
 * Sends events as email over SMTP with nodemailer: a pool of connections, explicit timeouts, a
 * subject, a plain-text and an HTML part drawn from core's reading of the event, and
 * `Message-ID` / `X-Empathy-Event-Id` headers that stay the same on every attempt so receivers
 * can de-duplicate. The mails of one incident (a condition that fires, repeats and clears) form
 * one thread: repeats and the resolution reply to the first mail (`In-Reply-To`, `References`).
 * Every connection is opened by this webhook through core's SSRF guard (every
 * resolved address is checked; TLS is verified against `host`), the attempt's signal closes the
 * connection it is using, and a reply that never ends is cut. A 4xx reply is retried by core
 * (as a 429 when the server is throttling), a 5xx reply is permanent.
 *
 * @example
 * const email = new EmailWebhook({
 *   host: 'smtp.example.com', port: 587, auth: { user: 'bot', pass: process.env.SMTP_PASSWORD! },
 *   from: 'Empathy Bot <empathy@example.com>', to: 'oncall@example.com',
 *   events: ['alert', 'security_vulnerability'],
 * });
 */
export class EmailWebhook extends WebhookBase<EmailPayload> {
  /** The SMTP server, safe to print: `host:port`. */
  readonly target: string;
  readonly #options: ResolvedEmailOptions;
  #transport: Transport | undefined;

  constructor(options: EmailWebhookOptions) {
    super(options, {
      fit: fitEmail,
      name: 'email',
      events: DEFAULT_EMAIL_EVENTS,
      concurrency: 2,
      rateLimit: DEFAULT_EMAIL_RATE_LIMIT,
    });
    const o = parseEmailOptions(options, this.name);
    // A literal address or localhost is refused now; a name is checked when it is resolved.
    const reason = this.allowPrivateNetwork ? undefined : privateHostReason(o.host);
    if (reason) {
      throw new WebhookConfigError(
        `option 'host' points at a ${reason} address (${o.host}); set allowPrivateNetwork: true to allow it`,
        { webhook: this.name },
      );
    }
    this.#options = o;
    this.target = `${isIPv6(o.host) ? `[${o.host}]` : o.host}:${o.port}`;
    if (o.auth) {
      const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
      // The password as typed, and as AUTH LOGIN / AUTH PLAIN put it on the wire.
      this.redactor
        .addSecret(o.auth.pass)
        .addSecret(b64(o.auth.pass))
        .addSecret(b64(`\u0000${o.auth.user}\u0000${o.auth.pass}`));
    }
  }

  /** The event as an email: subject, text and HTML parts (a repeat or resolution as such). */
  protected render(event: EmpathyEvent, incident?: IncidentContext): EmailPayload {
    return formatEmail(event, { subjectPrefix: this.#options.subjectPrefix, incident });
  }

  /**
   * One attempt: hands the message to the pool; `ctx.signal` closes the connection sending it.
   * A mail that opens an incident returns its Message-ID as `incidentRef.message_id`; the
   * incident's later mails are sent in its thread (`In-Reply-To`, `References`).
   */
  protected async send(
    payload: EmailPayload,
    event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    const o = this.#options;
    const { messageId, inReplyTo, references, headers, priority } = emailHeaders(event, {
      webhookName: this.name,
      messageIdDomain: o.from[0]!.address.split('@').pop(),
      incident: ctx.incident,
    });
    let info: SMTPPoolSentMessageInfo;
    try {
      info = await this.#pool().sendMail({
        from: o.from[0],
        to: o.to,
        cc: o.cc,
        bcc: o.bcc,
        replyTo: o.replyTo,
        subject: payload.subject,
        text: payload.text,
        ...(payload.html === '' ? {} : { html: payload.html }),
        messageId,
        // nodemailer writes these headers itself (folded, validated) from the options.
        ...(inReplyTo === undefined ? {} : { inReplyTo, references }),
        headers,
        priority,
        signal: ctx.signal,
      });
    } catch (error) {
      throw toEmailError(this.errors, error);
    }
    const address = (a: string | { address: string }) => (typeof a === 'string' ? a : a.address);
    return {
      id: messageId,
      detail: {
        accepted: info.accepted.map(address),
        rejected: info.rejected.map(address),
        response: safeDetail(this.errors, String(info.response ?? ''), 300),
      },
      // A mail outside any thread opens one: the incident's later mails reply to it.
      ...(ctx.incident && inReplyTo === undefined ? { incidentRef: { message_id: messageId } } : {}),
    };
  }

  /** Closes the pool's connections (a mail in flight finishes first). */
  override async close(): Promise<void> {
    const transport = this.#transport;
    this.#transport = undefined;
    transport?.close();
    await super.close();
  }

  // Made on first use: constructing the webhook opens no connection.
  #pool(): Transport {
    if (this.#transport) return this.#transport;
    const o = this.#options;
    const options: SMTPPoolOptions & { pool: true } = {
      pool: true,
      // nodemailer keeps `host` for TLS: the server name and the certificate check. The socket
      // itself is opened by #connect, through the SSRF guard.
      host: o.host,
      port: o.port,
      secure: o.secure,
      requireTLS: o.requireTLS,
      tls: o.tls,
      ...(o.auth ? { auth: { user: o.auth.user, pass: o.auth.pass } } : {}),
      getSocket: (_options, callback) => {
        this.#connect().then(
          (connection) => callback(null, { connection }),
          (error: Error) => callback(error),
        );
      },
      maxConnections: this.concurrency,
      maxMessages: o.maxMessages,
      // The pool would put a message whose connection dropped back in its own queue, up to 5 times:
      // a retry core's policy does not see. Core retries it instead.
      maxRequeues: 0,
      connectionTimeout: o.timeouts.connection,
      greetingTimeout: o.timeouts.greeting,
      socketTimeout: o.timeouts.socket,
      // A reply that never ends is cut here; an aborted attempt's connection is destroyed at once
      // rather than ended politely (a server trickling its reply would hold it open).
      maxResponseSize: MAX_REPLY_BYTES,
      socketCloseTimeout: 0,
      // Event data never names files or URLs to attach; refuse them if it ever tries.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    };
    const transport = createTransport(options);
    // Failures reach each sendMail(); an 'error' event without a listener would crash the process.
    transport.on('error', () => {});
    this.#transport = transport;
    return transport;
  }

  /**
   * Opens a TCP connection to the server through the guard: an IP literal is checked here
   * (sockets skip the lookup for literals), a name by the guarded lookup, which checks every
   * address it resolves to. Bounded by `connectionTimeoutSeconds`.
   */
  #connect(): Promise<Socket> {
    const { host, port, timeouts } = this.#options;
    return new Promise((resolve, reject) => {
      this.http.checkHost(host);
      const socket = netConnect({ host, port, lookup: this.http.lookup, autoSelectFamily: true });
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(Object.assign(new Error(`connecting to ${this.target} timed out`), { code: 'ETIMEDOUT' })),
        timeouts.connection,
      );
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', fail);
        resolve(socket);
      });
    });
  }
}

function parseEmailOptions(options: EmailWebhookOptions, webhook: string): ResolvedEmailOptions {
  const fail = (message: string): never => {
    throw new WebhookConfigError(message, { webhook });
  };
  const { host } = options;
  if (typeof host !== 'string' || host.trim() === '')
    fail(`option 'host' is required: the SMTP server's host name`);
  // The value is not echoed: a URL pasted here may carry credentials (smtp://user:pass@host).
  if (/[\s/@]/.test(host)) fail(`option 'host' must be a host name or IP address, not a URL`);
  const secure = options.secure ?? (options.port === undefined ? false : options.port === 465);
  if (typeof secure !== 'boolean') fail(`option 'secure' must be a boolean`);
  const port = options.port ?? (secure ? 465 : 587);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    fail(`option 'port' must be an integer from 1 to 65535 (got ${JSON.stringify(port)})`);
  }
  const requireTLS = options.requireTLS ?? false;
  if (typeof requireTLS !== 'boolean') fail(`option 'requireTLS' must be a boolean`);
  const tls = options.tls ?? {};
  if (tls === null || typeof tls !== 'object') fail(`option 'tls' must be an object of Node TLS options`);

  let auth: EmailAuth | undefined;
  if (options.auth !== undefined) {
    const a = options.auth as Partial<EmailAuth> | null;
    if (a === null || typeof a !== 'object') fail(`option 'auth' must be { user, pass }`);
    if (typeof a!.user !== 'string' || a!.user === '') fail(`option 'auth.user' must be a non-empty string`);
    if (typeof a!.pass !== 'string' || a!.pass === '') fail(`option 'auth.pass' must be a non-empty string`);
    auth = { user: a!.user!, pass: a!.pass! };
  }

  const from = mailboxes(options.from, 'from', webhook);
  if (from.length !== 1) fail(`option 'from' must be exactly one address`);
  const to = mailboxes(options.to, 'to', webhook);
  if (to.length === 0) fail(`option 'to' must name at least one recipient`);
  const replyTo = options.replyTo === undefined ? [] : mailboxes(options.replyTo, 'replyTo', webhook);

  const subjectPrefix = options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  if (typeof subjectPrefix !== 'string' || subjectPrefix.length > 100 || /[\r\n]/.test(subjectPrefix)) {
    fail(`option 'subjectPrefix' must be a one-line string of at most 100 characters`);
  }
  const seconds = (option: keyof EmailWebhookOptions, fallback: number): number => {
    const value = options[option] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 600) {
      fail(`option '${option}' must be a number of seconds in (0, 600] (got ${JSON.stringify(value)})`);
    }
    return Math.round((value as number) * 1000);
  };
  const maxMessages = options.maxMessagesPerConnection ?? 100;
  if (!Number.isInteger(maxMessages) || maxMessages < 1) {
    fail(`option 'maxMessagesPerConnection' must be a positive integer (got ${JSON.stringify(maxMessages)})`);
  }
  return {
    host: host.trim(),
    port,
    secure,
    requireTLS,
    tls,
    auth,
    from,
    to,
    cc: options.cc === undefined ? [] : mailboxes(options.cc, 'cc', webhook),
    bcc: options.bcc === undefined ? [] : mailboxes(options.bcc, 'bcc', webhook),
    replyTo,
    subjectPrefix,
    timeouts: {
      connection: seconds('connectionTimeoutSeconds', 10),
      greeting: seconds('greetingTimeoutSeconds', 10),
      socket: seconds('socketTimeoutSeconds', 30),
    },
    maxMessages,
  };
}

const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+$/;

/** Parses an address option into mailboxes; throws a {@link WebhookConfigError} naming the option. */
function mailboxes(value: unknown, option: string, webhook: string): Mailbox[] {
  const fail = (why: string): never => {
    throw new WebhookConfigError(`option '${option}' ${why}`, { webhook });
  };
  const list = Array.isArray(value) ? value : [value];
  const out: Mailbox[] = [];
  for (const entry of list) {
    if (typeof entry === 'string') {
      if (/[\r\n]/.test(entry)) fail('must not contain line breaks');
      const parsed = addressparser(entry, { flatten: true });
      if (parsed.length === 0) fail(`holds no address (got ${JSON.stringify(entry)})`);
      for (const mailbox of parsed) {
        if (!ADDRESS.test(mailbox.address)) fail(`holds an invalid address (got ${JSON.stringify(entry)})`);
        out.push({ name: mailbox.name, address: mailbox.address });
      }
    } else if (entry !== null && typeof entry === 'object') {
      const { name = '', address } = entry as Partial<Mailbox>;
      if (typeof address !== 'string' || !ADDRESS.test(address)) {
        fail(`holds an invalid address (got ${JSON.stringify(address)})`);
      }
      if (typeof name !== 'string' || /[\r\n]/.test(name)) fail('holds an invalid name');
      out.push({ name, address: address! });
    } else {
      fail(`must be an address string, { name, address }, or a list of them`);
    }
  }
  return out;
}
