/**
 * DiscordWebhook against a local fake of Discord's webhook endpoint: no credentials, no network.
 * Run: cd /work/main && npx tsx examples/discord/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest } from '@empathy/webhooks-core/fakes';
import { DiscordWebhook } from '@empathy/webhooks-discord';

// A tiny Discord: `POST /api/v10/webhooks/{id}/{token}?wait=true` answers 200 with the message.
let messages = 0;
const discordApi = await createFakeServer((req: RecordedRequest) => {
  if (!/^\/api\/v10\/webhooks\/\d+\/[\w-]+$/.test(req.path)) {
    return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
  }
  messages++;
  return {
    status: 200,
    body: { id: String(1300000000000000000n + BigInt(messages)), ...(req.json() as object) },
  };
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

for (const req of discordApi.requests) {
  const body = req.json();
  const [embed] = body.embeds;
  console.log(`HTTP ${req.status}  ${embed.title}`);
  if (req.status !== 200) continue;
  console.log(`  colour #${embed.color.toString(16)}  ${embed.author.name}  as ${body.username}`);
  if (embed.description) console.log(`  ${embed.description.replaceAll('\n', '\n  ')}`);
  for (const field of embed.fields ?? []) console.log(`  ${field.name}: ${field.value}`);
  console.log(`  allowed_mentions: ${JSON.stringify(body.allowed_mentions)}`);
}
const stats = empathy.monitor.getWebhookStats('discord');
console.log(
  `stats: sent ${stats.totalSent}, delivered ${stats.successCount}, retried ${stats.retriedCount}, failed ${stats.failedCount}`,
);

await empathy.close();
await discordApi.close();
