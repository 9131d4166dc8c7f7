/**
 * EmailWebhook against a local SMTP server: no credentials, no network.
 * Run: cd /work/main && npx tsx examples/email/index.ts
 *
 * The fakes in `@empathy/webhooks-core/fakes` speak HTTP; email needs an SMTP peer, so this
 * example brings a tiny one (./smtp-sink.ts, node:net only). It answers one message with a
 * transient 451 to show core's retry, and refuses an unknown recipient with 550 to show a
 * permanent failure ending in the dead letters. The SQL injection is an incident: found, found
 * again, then fixed (`resolved: true`); the repeat and the resolution reply in the first mail's
 * thread (`In-Reply-To` / `References` its Message-ID).
 */
import { EmpathyOS } from '@empathy/os';
import { EmailWebhook } from '@empathy/webhooks-email';
import { startSmtpSink } from './smtp-sink.js';

const sink = await startSmtpSink({
  unknownRecipients: ['nobody@example.com'],
  // The first DATA is refused with a transient reply; the retry goes through.
  transientFailures: 1,
});

// Use your provider's host, port 587 and auth: { user, pass: process.env.SMTP_PASSWORD } for real.
const email = new EmailWebhook({
  host: '127.0.0.1',
  port: sink.port,
  allowPrivateNetwork: true, // the sink listens on 127.0.0.1; a public SMTP host needs no such option
  from: 'Empathy Bot <empathy@example.com>',
  to: 'oncall@example.com',
  cc: 'Security <security@example.com>',
  events: ['alert', 'security_vulnerability', 'deployment_risk'],
  retryPolicy: { initialDelaySeconds: 0.2 },
});

// A second webhook whose recipient the server does not know: 550 is permanent, not retried.
const lost = new EmailWebhook({
  name: 'email-lost',
  host: '127.0.0.1',
  port: sink.port,
  allowPrivateNetwork: true,
  from: 'empathy@example.com',
  to: 'nobody@example.com',
  events: ['alert'],
  onFailure: (_webhook, event, error) => console.log(`onFailure(${event.event_type}): ${error.message}`),
});

const empathy = new EmpathyOS({ userId: 'developer_123', webhooks: [email, lost] });

const sqlInjection = {
  title: 'SQL injection',
  description: 'User input concatenated directly into SQL query',
  file: 'auth.py',
  line: 45,
  fix: 'cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))',
  cwe: 'CWE-89',
};
await empathy.emit('security_vulnerability', sqlInjection, { severity: 'critical' });
await empathy.emit(
  'alert',
  { title: 'Error rate above 5%', message: '<b>7.2%</b> 5xx on checkout' },
  { severity: 'high' },
);
await empathy.flush();
// The same finding again, then fixed: two more mails in the first one's thread.
await empathy.emit('security_vulnerability', sqlInjection, { severity: 'critical' });
await empathy.emit('security_vulnerability', { ...sqlInjection, resolved: true });
await empathy.flush();

for (const mail of sink.messages) {
  console.log(`\n${mail.reply}  MAIL FROM:<${mail.from}> RCPT TO:${mail.to.map((a) => `<${a}>`).join(',')}`);
  for (const name of ['subject', 'message-id', 'in-reply-to', 'x-empathy-incident-status', 'x-priority']) {
    if (mail.headers[name]) console.log(`  ${name}: ${mail.headers[name]}`);
  }
}
const delivered = sink.messages.filter((m) => m.reply.startsWith('250'));
const last = delivered[delivered.length - 1];
if (last) console.log(`\nText part of the last accepted message:\n\n${last.text}`);

console.log('stats email:', empathy.monitor.getWebhookStats('email'));
console.log('stats email-lost:', empathy.monitor.getWebhookStats('email-lost'));
console.log(
  'dead letters:',
  (await empathy.deadLetters.list()).map((l) => `${l.webhook} ${l.event.event_type}: ${l.error.message}`),
);

await empathy.close();
await sink.close();
