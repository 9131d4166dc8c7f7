import { describeWebhookContract } from '@empathy/webhooks-core/testing';
import { classifySmtpReply } from '../src/errors.js';
import { EmailWebhook } from '../src/index.js';
import { startSmtpPeer } from './smtp-peer.js';

const PASSWORD = 'smtp-contract-password-3f9a7c';

/**
 * The contract suite speaks HTTP statuses; SMTP has reply codes. The peer answers real SMTP
 * replies, and `received()` reports each transaction's reply in the suite's terms: 250 → 200, a
 * transient reply → the status the plugin reports for it (503, or 429 when throttled), a
 * permanent one → 400, no reply (hung, dropped) → 0.
 */
function asHttpStatus(reply: number, text: string): number {
  if (reply === 0) return 0;
  if (reply < 400) return 200;
  return classifySmtpReply(reply, text).status ?? 400;
}

describeWebhookContract('email (SMTP, nodemailer pool)', async () => {
  const peer = await startSmtpPeer({ auth: { user: 'empathy-bot', pass: PASSWORD } });
  return {
    create: (options) =>
      new EmailWebhook({
        ...options,
        host: '127.0.0.1',
        port: peer.port,
        auth: { user: 'empathy-bot', pass: PASSWORD },
        from: 'Empathy Bot <empathy@example.com>',
        to: 'oncall@example.com',
      }),
    failNext(failure, retryAfterSeconds = 1) {
      if (failure === 'hang') peer.failNext({ hang: true });
      else if (failure === 'disconnect') peer.failNext({ disconnect: true });
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
    received: () => peer.transactions.map((t) => ({ at: t.at, status: asHttpStatus(t.reply, t.text) })),
    secrets: [PASSWORD, Buffer.from(`\u0000empathy-bot\u0000${PASSWORD}`).toString('base64')],
    close: () => peer.close(),
  };
});
