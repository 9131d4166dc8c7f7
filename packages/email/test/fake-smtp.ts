import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** A self-signed certificate for `localhost` / 127.0.0.1, valid 2020–2120. Test use only. */
export const TEST_TLS = {
  key: readFileSync(new URL('./fixtures/localhost-key.pem', import.meta.url), 'utf8'),
  cert: readFileSync(new URL('./fixtures/localhost-cert.pem', import.meta.url), 'utf8'),
};

/** A message the peer received (DATA completed), accepted or not. */
export interface ReceivedMail {
  /** SMTP envelope: MAIL FROM and every RCPT TO the server accepted. */
  envelope: { from: string; to: string[] };
  /** The message parsed back with mailparser. */
  parsed: ParsedMail;
  raw: string;
  /** Whether the server answered 250 to the DATA. */
  accepted: boolean;
  /** Whether the connection was TLS (implicit or STARTTLS). */
  secure: boolean;
  /** The authenticated user, if any. */
  user: string | undefined;
}

/** One mail transaction (MAIL FROM … end of DATA): when it started and the reply that ended it. */
export interface Transaction {
  at: number;
  /** The final SMTP reply code; 0 when the server never answered (hung, dropped, streamed). */
  reply: number;
  text: string;
  /** Whether the reply to DATA was a hostile stream ({@link PeerFailure} `stream`). */
  streamed?: boolean | undefined;
  /** Epoch ms when the client closed the connection of a streamed reply. */
  closedAt?: number | undefined;
}

/**
 * A scripted answer for the next transaction. `stream` answers DATA with a reply that never
 * ends: `'endless'` writes continuation lines (`250-aaaa…`) as fast as the client reads them,
 * `'trickle'` one byte every 50 ms.
 */
export type PeerFailure =
  | { at: 'mail' | 'rcpt' | 'data'; code: number; message: string }
  | { hang: true }
  | { disconnect: true }
  | { stream: 'endless' | 'trickle' };

/** A real SMTP server (smtp-server) on 127.0.0.1 that records and parses what it receives. */
export interface SmtpPeer {
  readonly port: number;
  readonly mails: ReceivedMail[];
  readonly transactions: Transaction[];
  /** Connections opened so far. */
  readonly connections: number;
  /** Answers the next transactions with these, in order. */
  failNext(...failures: PeerFailure[]): void;
  /** Makes RCPT TO refuse this address with 550 5.1.1. */
  rejectRecipient(address: string): void;
  waitForMails(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** Options for {@link startSmtpPeer}. */
export interface SmtpPeerOptions {
  /** Require AUTH with these credentials (offered only over TLS when `tls` is set). */
  auth?: { user: string; pass: string };
  /** Offer STARTTLS with {@link TEST_TLS}. */
  starttls?: boolean;
}

interface State {
  transaction: Transaction;
  failure: PeerFailure | undefined;
}

/** Starts a real SMTP peer on a free port of 127.0.0.1. */
export async function startSmtpPeer(options: SmtpPeerOptions = {}): Promise<SmtpPeer> {
  const mails: ReceivedMail[] = [];
  const transactions: Transaction[] = [];
  const queued: PeerFailure[] = [];
  const rejected = new Set<string>();
  const states = new Map<string, State>();
  let connections = 0;
  let waiters: { count: number; resolve: () => void }[] = [];
  const disabled = [...(options.starttls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])];

  const socketOf = (session: SMTPServerSession): Socket | undefined => {
    for (const connection of server.connections as Set<any>) {
      if (connection.session?.id === session.id) return connection._socket as Socket;
    }
    return undefined;
  };
  const smtpError = (code: number, message: string) =>
    Object.assign(new Error(message), { responseCode: code });
  const end = (session: SMTPServerSession, code: number, text: string) => {
    const state = states.get(session.id);
    if (state) {
      state.transaction.reply = code;
      state.transaction.text = text;
    }
  };

  const server = new SMTPServer({
    logger: false,
    banner: 'smtp-peer ESMTP ready',
    disabledCommands: disabled,
    authOptional: !options.auth,
    allowInsecureAuth: !options.starttls,
    ...(options.starttls ? TEST_TLS : {}),
    closeTimeout: 100,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (auth.username === options.auth?.user && auth.password === options.auth?.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
      }
    },
    onMailFrom(_address, session, callback) {
      const state: State = { transaction: { at: Date.now(), reply: 0, text: '' }, failure: queued.shift() };
      transactions.push(state.transaction);
      states.set(session.id, state);
      const failure = state.failure;
      if (failure && 'disconnect' in failure) {
        socketOf(session)?.destroy();
        return;
      }
      if (failure && 'at' in failure && failure.at === 'mail') {
        end(session, failure.code, failure.message);
        return callback(smtpError(failure.code, failure.message));
      }
      callback();
    },
    onRcptTo(address, session, callback) {
      const failure = states.get(session.id)?.failure;
      if (failure && 'at' in failure && failure.at === 'rcpt') {
        end(session, failure.code, failure.message);
        return callback(smtpError(failure.code, failure.message));
      }
      if (rejected.has(address.address)) {
        return callback(
          smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`),
        );
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        const failure = states.get(session.id)?.failure;
        const raw = Buffer.concat(chunks).toString('utf8');
        const refuse = failure && 'at' in failure && failure.at === 'data' ? failure : undefined;
        const hang = failure !== undefined && 'hang' in failure;
        const stream = failure !== undefined && 'stream' in failure ? failure.stream : undefined;
        mails.push({
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          parsed: await simpleParser(raw),
          raw,
          accepted: !refuse && !hang && !stream,
          secure: session.secure,
          user: session.user as string | undefined,
        });
        for (const waiter of waiters.filter((w) => mails.length >= w.count)) waiter.resolve();
        waiters = waiters.filter((w) => mails.length < w.count);
        if (hang) return; // never answer: the client's attempt times out
        if (stream) {
          const socket = socketOf(session);
          const transaction = states.get(session.id)!.transaction;
          transaction.streamed = true;
          if (socket) streamReply(socket, stream, transaction);
          return;
        }
        if (refuse) {
          end(session, refuse.code, refuse.message);
          return callback(smtpError(refuse.code, refuse.message));
        }
        end(session, 250, 'OK: queued');
        callback(null, 'OK: queued');
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;

  return {
    port,
    mails,
    transactions,
    get connections() {
      return connections;
    },
    failNext(...failures) {
      queued.push(...failures);
    },
    rejectRecipient(address) {
      rejected.add(address);
    },
    waitForMails(count, timeoutMs = 5000) {
      if (mails.length >= count) return Promise.resolve(mails.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`smtp peer: expected ${count} mails, got ${mails.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(mails.slice());
          },
        });
      });
    },
    close() {
      for (const connection of server.connections as Set<any>) connection._socket?.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const LINE = `250-${'a'.repeat(1000)}\r\n`;

/** Answers DATA with a reply that never ends, until the client closes; records when it did. */
function streamReply(socket: Socket, mode: 'endless' | 'trickle', transaction: Transaction): void {
  let timer: NodeJS.Timeout | undefined;
  socket.once('close', () => {
    transaction.closedAt = Date.now();
    if (timer) clearInterval(timer);
  });
  if (mode === 'trickle') {
    socket.write('250-');
    timer = setInterval(() => {
      if (!socket.destroyed) socket.write('a');
    }, 50);
    return;
  }
  const pump = () => {
    while (!socket.destroyed && socket.write(LINE)) {
      // Keep writing while the socket takes it.
    }
  };
  socket.on('drain', pump);
  pump();
}
