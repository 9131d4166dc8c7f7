/**
 * A tiny SMTP server on 127.0.0.1 for the example (node:net only): enough RFC 5321 for
 * nodemailer to deliver to it, plus a decoder for the headers and the text part so the example
 * can print what arrived. Tests use the real `smtp-server` package instead.
 */
import { createServer, type Socket } from 'node:net';

/** A message the sink received, and the reply it gave to the DATA. */
export interface SinkMessage {
  from: string;
  to: string[];
  reply: string;
  /** Lower-cased header names, unfolded, encoded-words decoded. */
  headers: Record<string, string>;
  /** The decoded text/plain part. */
  text: string;
}

export interface SinkOptions {
  /** RCPT TO these addresses is refused with 550 5.1.1. */
  unknownRecipients?: string[];
  /** Refuse this many DATA commands with 451 4.3.0 before accepting. */
  transientFailures?: number;
}

export async function startSmtpSink(options: SinkOptions = {}) {
  const messages: SinkMessage[] = [];
  const sockets = new Set<Socket>();
  let failuresLeft = options.transientFailures ?? 0;

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const say = (line: string) => socket.write(`${line}\r\n`);
    let from = '';
    let to: string[] = [];
    let data: string[] | undefined;
    let buffered = '';

    const onLine = (line: string) => {
      if (data) {
        if (line !== '.') return void data.push(line.startsWith('..') ? line.slice(1) : line);
        const raw = data.join('\r\n');
        data = undefined;
        const reply =
          failuresLeft-- > 0 ? '451 4.3.0 Temporary local problem, try again later' : '250 2.0.0 OK: queued';
        messages.push({ from, to, reply, ...decode(raw) });
        return say(reply);
      }
      const [verb = '', ...rest] = line.split(' ');
      const arg = rest.join(' ');
      const address = /<([^>]*)>/.exec(arg)?.[1] ?? '';
      switch (verb.toUpperCase()) {
        case 'EHLO':
          return say('250-smtp-sink greets you\r\n250 8BITMIME');
        case 'HELO':
        case 'NOOP':
          return say('250 OK');
        case 'RSET':
          from = '';
          to = [];
          return say('250 OK');
        case 'MAIL':
          from = address;
          to = [];
          return say('250 2.1.0 OK');
        case 'RCPT':
          if (options.unknownRecipients?.includes(address)) {
            return say(`550 5.1.1 <${address}>: Recipient address rejected: User unknown`);
          }
          to.push(address);
          return say('250 2.1.5 OK');
        case 'DATA':
          if (to.length === 0) return say('554 5.5.1 No valid recipients');
          data = [];
          return say('354 End data with <CR><LF>.<CR><LF>');
        case 'QUIT':
          say('221 2.0.0 Bye');
          return void socket.end();
        default:
          return say('502 5.5.2 Command not implemented');
      }
    };

    say('220 smtp-sink ESMTP ready');
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let end = buffered.indexOf('\r\n');
      while (end !== -1) {
        onLine(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf('\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    messages,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Headers and the text/plain part of a MIME message. */
function decode(raw: string): { headers: Record<string, string>; text: string } {
  const { headers, body } = splitPart(raw);
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  let text = body;
  if (boundary) {
    const parts = body.split(`--${boundary}`).map(splitPart);
    const plain = parts.find((p) => /^text\/plain/i.test(p.headers['content-type'] ?? ''));
    text = plain ? decodeBody(plain.body, plain.headers['content-transfer-encoding']) : '';
  }
  return { headers, text };
}

function splitPart(raw: string): { headers: Record<string, string>; body: string } {
  const part = raw.replace(/^\r\n/, '');
  const cut = part.indexOf('\r\n\r\n');
  const head = cut === -1 ? part : part.slice(0, cut);
  const body = cut === -1 ? '' : part.slice(cut + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** RFC 2047 encoded-words (`=?UTF-8?Q?…?=`), as nodemailer writes non-ASCII subjects. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : qp(text.replace(/_/g, ' ')).toString('utf8'),
    );
}

function decodeBody(body: string, encoding = '7bit'): string {
  if (/base64/i.test(encoding)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (/quoted-printable/i.test(encoding)) return qp(body.replace(/=\r\n/g, '')).toString('utf8');
  return body;
}

function qp(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(bytes);
}
