/**
 * DiscordWebhook against a local fake of Discord's webhook endpoint: no credentials, no network.
 * A rate-limited first message, mentions that cannot ping, and an incident: an alert that fires,
 * repeats twice and clears is one message, posted with `?wait=true` and then edited in place.
 * Run: cd /work/main && npx tsx examples/discord/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest } from '@empathy/webhooks-core/fakes';
import { DiscordWebhook } from '@empathy/webhooks-discord';

// A tiny Discord: `POST /api/v10/webhooks/{id}/{token}?wait=true` answers 200 with the message
// (204 without `wait`); `PATCH …/messages/{id}` edits one and answers 200 with it, or 404
// Unknown Message (10008) for a message it does not hold.
const messages = new Map<string, object>();
const answered = new Map<RecordedRequest, string>(); // which message id each POST was answered with
const discordApi = await createFakeServer((req: RecordedRequest) => {
  const match = /^\/api\/v10\/webhooks\/\d+\/[\w-]+(?:\/messages\/(\d+))?$/.exec(req.path);
  if (!match) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
  const id = match[1];
  if (id !== undefined) {
    if (req.method !== 'PATCH' || !messages.has(id)) {
      return { status: 404, body: { message: 'Unknown Message', code: 10008 } };
    }
    messages.set(id, { ...messages.get(id), ...req.json(), id, edited_timestamp: new Date().toISOString() });
    return { status: 200, body: messages.get(id) };
  }
  if (!req.url.includes('wait=true')) return { status: 204 };
  const created = { id: String(1300000000000000001n + BigInt(messages.size)), ...req.json() };
  messages.set(created.id, created);
  answered.set(req, created.id);
  return { status: 200, body: created };
});

const discord = new DiscordWebhook({
  // process.env.DISCORD_WEBHOOK_URL: https://discord.com/api/webhooks/<id>/<token>
  webhookUrl: `${discordApi.url}/api/webhooks/1187654321098765432/example-token`,
  allowPrivateNetwork: true, // the fake listens on 127.0.0.1 over http; leave it off for discord.com
  username: 'Empathy Bot',
  events: ['deployment_risk', 'alert'],
  retryPolicy: { initialDelaySeconds: 0.2 },
});
const empathy = new EmpathyOS({ userId: 'release_bot', webhooks: [discord] });

// Discord rate-limits the first message: core waits `retry_after` (0.5 s), then sends it again.
discordApi.respondNext({
  status: 429,
  headers: { 'retry-after': '1', 'x-ratelimit-remaining': '0' },
  body: { message: 'You are being rate limited.', retry_after: 0.5, global: false },
});
await empathy.emit(
  'deployment_risk',
  {
    service: 'authentication',
    environment: 'production',
    version: '2.4.0',
    risk: 'Schema migration locks the users table for ~40s',
    recommendation: 'Run the migration in the maintenance window',
  },
  { severity: 'high' },
);
// Event text cannot ping anyone: every message carries allowed_mentions: { parse: [] }.
await empathy.emit('alert', { title: 'Status page updated', message: '@everyone all systems operational' });
await empathy.flush();
const firstPart = discordApi.requests.length;

// An incident: the alert fires, fires twice more, then clears (`resolved: true`).
const latency = { title: 'Gateway p95 above 2s', source: 'api-gateway' };
await empathy.emit('alert', { ...latency, message: 'p95 2.4s' }, { severity: 'high' });
await empathy.emit('alert', { ...latency, message: 'p95 2.9s' }, { severity: 'high' });
await empathy.emit('alert', { ...latency, message: 'p95 3.1s' }, { severity: 'high' });
await empathy.emit('alert', { ...latency, message: 'p95 0.4s', resolved: true });
await empathy.flush();

for (const req of discordApi.requests.slice(0, firstPart)) {
  const body = req.json();
  const [embed] = body.embeds;
  console.log(`HTTP ${req.status}  ${embed.title}`);
  if (req.status !== 200) continue;
  console.log(`  colour #${embed.color.toString(16)}  ${embed.author.name}  as ${body.username}`);
  if (embed.description) console.log(`  ${embed.description.replaceAll('\n', '\n  ')}`);
  for (const field of embed.fields ?? []) console.log(`  ${field.name}: ${field.value}`);
  console.log(`  allowed_mentions: ${JSON.stringify(body.allowed_mentions)}`);
}
console.log('\nthe incident, as Discord received it:');
for (const req of discordApi.requests.slice(firstPart)) {
  const [embed] = req.json().embeds;
  const seen = embed.fields?.find((f: { name: string }) => /seen/i.test(f.name));
  const call =
    req.method === 'POST'
      ? `POST ?wait=true → message ${answered.get(req)}`
      : `PATCH message ${req.path.split('/').at(-1)}`;
  console.log(`  ${call}  "${embed.title}"${seen ? `  ${seen.name}: ${seen.value}` : ''}`);
}
const stats = empathy.monitor.getWebhookStats('discord');
console.log(
  `stats: sent ${stats.totalSent}, delivered ${stats.successCount}, retried ${stats.retriedCount}, failed ${stats.failedCount}`,
);

await empathy.close();
await discordApi.close();
