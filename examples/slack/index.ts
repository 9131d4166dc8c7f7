/**
 * SlackWebhook against a local fake of Slack: no credentials, no network.
 * Run: cd /work/main && npx tsx examples/slack/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest } from '@empathy/webhooks-core/fakes';
import { SlackWebhook } from '@empathy/webhooks-slack';

// A tiny Slack: an incoming webhook (answers "ok"), chat.postMessage (answers { ok, channel, ts })
// and chat.update (answers { ok, channel, ts }).
let ts = 0;
const slackApi = await createFakeServer((req: RecordedRequest) => {
  if (req.path === '/services/T000/B000/XXXXXXXX') return { status: 200, body: 'ok' };
  if (req.path === '/api/chat.postMessage') {
    const channel = req.form().get('channel');
    if (channel !== '#ai-alerts' && channel !== 'C0AIALERTS') {
      return { body: { ok: false, error: 'channel_not_found' } };
    }
    return { body: { ok: true, channel: 'C0AIALERTS', ts: `1764081000.00000${++ts}` } };
  }
  if (req.path === '/api/chat.update') {
    const form = req.form();
    return { body: { ok: true, channel: form.get('channel'), ts: form.get('ts') } };
  }
  return { status: 404, body: 'no_service' };
});

// The seed's configuration: an incoming webhook (use process.env.SLACK_WEBHOOK_URL for real).
const slack = new SlackWebhook({
  webhookUrl: `${slackApi.url}/services/T000/B000/XXXXXXXX`,
  allowPrivateNetwork: true, // the fake listens on 127.0.0.1; drop this for hooks.slack.com
  channel: '#ai-alerts',
  username: 'Empathy Bot',
  iconEmoji: ':robot_face:',
  events: ['prediction', 'alert', 'error'],
});

// Bot-token mode keeps one message per incident: the repeat and the resolution update the
// alert's message (chat.update, same ts) and reply in its thread.
const bot = new SlackWebhook({
  name: 'slack-bot',
  token: 'xoxb-example-token', // process.env.SLACK_BOT_TOKEN
  channel: '#ai-alerts',
  baseUrl: slackApi.url, // omit for https://slack.com
  allowPrivateNetwork: true,
  events: ['alert'],
});

// A bot pointed at a channel that does not exist: the failure is permanent, not retried.
const lost = new SlackWebhook({
  name: 'slack-lost',
  token: 'xoxb-example-token',
  channel: '#nowhere',
  baseUrl: slackApi.url,
  allowPrivateNetwork: true,
  events: ['error'],
  onFailure: (_webhook, event, error) => console.log(`onFailure(${event.event_type}): ${error.message}`),
});

const empathy = new EmpathyOS({ userId: 'developer_123', webhooks: [slack, bot, lost] });

await empathy.emit('prediction', {
  prediction: 'Auth deployment may conflict with user-service v2.1',
  confidence: 0.87,
  recommendation: 'Deploy auth behind feature flag',
});
await empathy.emit(
  'alert',
  { title: 'Error rate above 5%', message: '<!channel> 7.2% 5xx', source: 'checkout' },
  { severity: 'high' },
);
await empathy.emit(
  'alert',
  { title: 'Error rate above 5%', message: '8.1% 5xx', source: 'checkout' },
  { severity: 'high' },
);
await empathy.emit('alert', {
  title: 'Error rate above 5%',
  message: 'back to 0.3%',
  source: 'checkout',
  resolved: true,
});
await empathy.emit('error', {
  error_type: 'ResponderTimeout',
  message: 'the model did not answer within 30s',
});
await empathy.flush();

for (const req of slackApi.requests) {
  const body = req.path.startsWith('/api/') ? Object.fromEntries(req.form()) : req.json();
  const blocks = typeof body.blocks === 'string' ? JSON.parse(body.blocks) : body.blocks;
  const method = req.path.startsWith('/api/') ? req.path.slice('/api/'.length) : 'incoming webhook';
  const where = body.thread_ts
    ? ` (reply in thread ${body.thread_ts})`
    : method === 'chat.update'
      ? ` (message ${body.ts})`
      : '';
  console.log(`${method}${where}: ${body.text}`);
  if (req === slackApi.requests[0]) console.log(JSON.stringify({ ...body, blocks }, null, 2));
}
for (const name of ['slack', 'slack-bot', 'slack-lost']) {
  const { successCount, failedCount, totalSent } = empathy.monitor.getWebhookStats(name);
  console.log(`${name}: sent ${totalSent}, delivered ${successCount}, failed ${failedCount}`);
}
console.log(
  'dead letters:',
  (await empathy.deadLetters.list()).map((l) => `${l.webhook} ${l.error.code}`),
);

await empathy.close();
await slackApi.close();
