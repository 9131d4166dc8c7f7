import { describeWebhookContract } from '@empathy/webhooks-core/testing';
import { classifySmtpReply, type EmailPayload, EmailWebhook } from '../src/index.js';
import { startSmtpPeer } from './fake-smtp.js';

const USER = 'empathy-bot';
// Nothing in it may appear in ordinary text: the suite checks every 6-character piece.
const PASSWORD = 'Sm7p-pA55w0rd-3f9a7c-Qk';

/**
 * The contract suite speaks HTTP statuses; SMTP has reply codes. The peer answers real SMTP
 * replies, and `received()` reports each transaction's reply in the suite's terms: 250 → 200, a
 * transient reply → the status the plugin reports for it (503, or 429 when throttled), a
 * permanent one → 400, no reply (hung, dropped, a reply that never ends) → 0.
 */
function asHttpStatus(reply: number, text: string): number {
  if (reply === 0) return 0;
  if (reply < 400) return 200;
  return classifySmtpReply(reply, text).status ?? 400;
}

describeWebhookContract('email (SMTP, nodemailer pool)', async () => {
  const peer = await startSmtpPeer({ auth: { user: USER, pass: PASSWORD } });
  return {
    create: ({ endpoint, ...options }) => {
      // The SSRF cases point the webhook at other hosts: the endpoint's host (and port, if any).
      const target = endpoint === undefined ? undefined : new URL(endpoint);
      return new EmailWebhook({
        ...options,
        host: target ? target.hostname.replace(/^\[|\]$/g, '') : '127.0.0.1',
        port: target?.port ? Number(target.port) : peer.port,
        auth: { user: USER, pass: PASSWORD },
        from: 'Empathy Bot <empathy@example.com>',
        to: 'oncall@example.com',
      });
    },
    origin: `smtp://127.0.0.1:${peer.port}`,
    failNext(failure, retryAfterSeconds = 1) {
      if (failure === 'hang') peer.failNext({ hang: true });
      else if (failure === 'disconnect') peer.failNext({ disconnect: true });
      else if (failure === 'endless_body') peer.failNext({ stream: 'endless' });
      else if (failure === 'trickle_body') peer.failNext({ stream: 'trickle' });
      else if (failure === 'server_error') {
        peer.failNext({
          at: 'data',
          code: 451,
          message: '4.3.0 Temporary server error, please try again later',
        });
      } else if (failure === 'rate_limited') {
        peer.failNext({
          at: 'mail',
          code: 450,
          message: `4.7.1 Rate limit exceeded, try again in ${retryAfterSeconds} seconds`,
        });
      } else {
        peer.failNext({
          at: 'rcpt',
          code: 550,
          message: '5.1.1 <oncall@example.com>: Recipient address rejected: User unknown',
        });
      }
    },
    // A permanent refusal whose text echoes what it was given, as servers echo a sender or a
    // recipient address back.
    echoNext: (text) => peer.failNext({ at: 'mail', code: 550, message: `5.7.1 Sender rejected: ${text}` }),
    received: () =>
      peer.transactions.map((t) => ({
        at: t.at,
        status: asHttpStatus(t.reply, t.text),
        streamed: t.streamed,
        get closedAt() {
          return t.closedAt;
        },
      })),
    // What a reader sees of each accepted mail: the decoded subject, text part and HTML part.
    payloads: () =>
      peer.mails
        .filter((m) => m.accepted)
        .map((m) => [m.parsed.subject ?? '', m.parsed.text ?? '', m.parsed.html || ''].join('\n')),
    mark: (defaults: EmailPayload, text: string): EmailPayload => ({
      ...defaults,
      text: `${defaults.text}\n${text}\n`,
    }),
    secrets: [
      PASSWORD,
      Buffer.from(PASSWORD).toString('base64'),
      Buffer.from(`\u0000${USER}\u0000${PASSWORD}`).toString('base64'),
    ],
    close: () => peer.close(),
  };
});
