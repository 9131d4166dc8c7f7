import type { ConnectionOptions } from 'node:tls';
import {
  type CircuitBreakerOptions,
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  parseCommonOptions,
  type RateLimit,
  type RetryPolicy,
  redact,
  WebhookConfigError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { createTransport } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { toEmailDeliveryError } from './errors.js';
import { DEFAULT_SUBJECT_PREFIX, formatEmail } from './format.js';

/** A mailbox: `'Ops <ops@example.com>'`, `'ops@example.com'`, or `{ name, address }`. */
export type EmailAddress = string | { name: string; address: string };

/** SMTP credentials (AUTH PLAIN / LOGIN / CRAM-MD5, whichever the server offers). */
export interface EmailAuth {
  user: string;
  /** A secret: it never appears in errors, stats or dead letters. */
  pass: string;
}

/** Options for {@link EmailWebhook}. */
export interface EmailWebhookOptions extends CommonWebhookOptions {
  /**
   * The SMTP server's host name or IP address (not a URL).
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
   * verified unless you set `rejectUnauthorized: false`.
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
  /** How long to wait for the TCP (and TLS) connection. @default 10 */
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

type Transport = ReturnType<typeof createSmtpPool>;

/**
 * Sends events as email over SMTP with nodemailer: a pool of connections, explicit timeouts, a
 * per-event subject, a plain-text and an HTML part, and `Message-ID` / `X-Empathy-Event-Id`
 * headers that stay the same on every attempt so receivers can de-duplicate. A 4xx reply is
 * retried by core (429 when the server is throttling), a 5xx reply is permanent.
 *
 * @example
 * const email = new EmailWebhook({
 *   host: 'smtp.example.com', port: 587, auth: { user: 'bot', pass: process.env.SMTP_PASSWORD! },
 *   from: 'Empathy Bot <empathy@example.com>', to: 'oncall@example.com',
 *   events: ['alert', 'security_vulnerability'],
 * });
 */
export class EmailWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: CircuitBreakerOptions | false | undefined;
  readonly concurrency: number;
  readonly onFailure: WebhookPlugin['onFailure'];
  readonly #options: ResolvedEmailOptions;
  readonly #secrets: string[];
  #transport: Transport | undefined;

  constructor(options: EmailWebhookOptions) {
    const common = parseCommonOptions(options, {
      name: 'email',
      events: DEFAULT_EMAIL_EVENTS,
      concurrency: 2,
      rateLimit: DEFAULT_EMAIL_RATE_LIMIT,
    });
    this.name = common.name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;
    this.#options = parseEmailOptions(options, this.name);
    this.#secrets = secretsOf(this.#options.auth);
  }

  /** One attempt: hands the formatted message to the pool, aborted with `ctx.signal`. */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const o = this.#options;
    const message = formatEmail(event, {
      subjectPrefix: o.subjectPrefix,
      webhookName: this.name,
      messageIdDomain: o.from[0]!.address.split('@').pop(),
    });
    const info = await this.#pool()
      .sendMail({
        from: o.from[0],
        to: o.to,
        cc: o.cc,
        bcc: o.bcc,
        replyTo: o.replyTo,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        headers: message.headers,
        priority: message.priority,
        signal: ctx.signal,
      })
      .catch((error: unknown) => {
        throw toEmailDeliveryError(this.name, error, {
          server: `${o.host}:${o.port}`,
          secrets: this.#secrets,
        });
      });
    const address = (a: string | { address: string }) => (typeof a === 'string' ? a : a.address);
    return {
      id: message.messageId,
      detail: {
        accepted: info.accepted.map(address),
        rejected: info.rejected.map(address),
        response: redact(String(info.response ?? ''), this.#secrets).slice(0, 300),
      },
    };
  }

  /** Closes the pool's connections (a mail in flight finishes first). */
  async close(): Promise<void> {
    const transport = this.#transport;
    this.#transport = undefined;
    transport?.close();
  }

  // Made on first use: constructing the webhook opens no connection.
  #pool(): Transport {
    this.#transport ??= createSmtpPool(this.#options, this.concurrency);
    return this.#transport;
  }
}

function createSmtpPool(o: ResolvedEmailOptions, maxConnections: number) {
  const transport = createTransport({
    pool: true,
    host: o.host,
    port: o.port,
    secure: o.secure,
    requireTLS: o.requireTLS,
    tls: o.tls,
    ...(o.auth ? { auth: { user: o.auth.user, pass: o.auth.pass } } : {}),
    maxConnections,
    maxMessages: o.maxMessages,
    // The pool would put a message whose connection dropped back in its own queue, up to 5 times:
    // a retry core's policy does not see. Core retries it instead.
    maxRequeues: 0,
    connectionTimeout: o.timeouts.connection,
    greetingTimeout: o.timeouts.greeting,
    socketTimeout: o.timeouts.socket,
    // Event data never names files or URLs to attach; refuse them if it ever tries.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
  // Failures reach each sendMail(); an 'error' event without a listener would crash the process.
  transport.on('error', () => {});
  return transport;
}

function secretsOf(auth: EmailAuth | undefined): string[] {
  if (!auth) return [];
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  // The password as typed, and as AUTH LOGIN / AUTH PLAIN put it on the wire.
  return [auth.pass, b64(auth.pass), b64(`\u0000${auth.user}\u0000${auth.pass}`)];
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
