/**
 * The seed's Quick Start, in TypeScript: a WebhookConfig on EmpathyOS; when interact() yields a
 * level-4 prediction, the webhook fires. The "Slack" URL here is a local receiver (no network).
 *
 *   npx tsx examples/quickstart/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer } from '@empathy/webhooks-core/fakes';
import { WebhookConfig } from '@empathy/webhooks-http';

const receiver = await createFakeServer(() => ({ status: 200, body: 'ok' }));

// Configure webhook
const webhook = new WebhookConfig({
  url: `${receiver.url}/services/YOUR/WEBHOOK/URL`, // https://hooks.slack.com/services/… in real life
  events: ['prediction', 'alert', 'completion'],
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  allowPrivateNetwork: true, // the receiver is on 127.0.0.1
});

// Initialize with webhook. The responder is the AI part (injected; here a canned answer).
const empathy = new EmpathyOS({
  userId: 'developer_123',
  targetLevel: 4,
  webhooks: [webhook],
  responder: async () => ({
    content: 'The deploy plan looks fine, with one risk.',
    levelUsed: 4,
    proactive: true,
    predictions: [
      {
        prediction: 'Auth deployment may conflict with user-service v2.1',
        confidence: 0.87,
        recommendation: 'Deploy auth behind feature flag',
      },
    ],
  }),
});

// Webhooks fire automatically on events
const response = await empathy.interact({
  userId: 'developer_123',
  userInput: 'Deploy the authentication service',
  context: { environment: 'production' },
});
await empathy.flush();

console.log(`responder said: ${response.content}`);
for (const request of receiver.requests) {
  const event = request.json();
  const line =
    event.event_type === 'prediction' ? `🔮 Prediction: ${event.data.prediction}` : event.data.content;
  console.log(`webhook received ${event.event_type} (${event.event_id}): ${line}`);
}
await empathy.close();
await receiver.close();
