/**
 * CustomWebhook with the seed's options: bearer auth, retry policy, rate limit, HMAC signature
 * and an onFailure callback; the receiver verifies the signature exactly as the seed's Python
 * receiver does. Runs against a local receiver. A bug found twice, then fixed (`resolved: true`),
 * is an incident: each request carries an `incident` block (key, status, occurrences,
 * first_seen_at) the receiver can group by.
 *
 *   npx tsx examples/custom/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { verifyWebhookSignature } from '@empathy/webhooks-core';
import { createFakeServer } from '@empathy/webhooks-core/fakes';
import { CustomWebhook } from '@empathy/webhooks-http';

const WEBHOOK_SECRET = 'demo-signing-secret';
const received: { event_type: string; incident?: Record<string, unknown> }[] = [];
let calls = 0;
const receiver = await createFakeServer((request) => {
  calls++;
  if (calls === 1) return { status: 503 }; // the service is briefly down: retried
  if (!verifyWebhookSignature(request.body, request.headers['x-signature'] as string, WEBHOOK_SECRET)) {
    return { status: 401, body: { detail: 'Invalid signature' } };
  }
  received.push(request.json());
  return { status: 200, body: { status: 'ok' } };
});

const custom = new CustomWebhook({
  url: `${receiver.url}/webhooks/empathy`,
  method: 'POST',
  headers: { Authorization: 'Bearer example-api-token', 'Content-Type': 'application/json' },
  events: ['*'], // All events
  retryPolicy: {
    maxRetries: 5,
    backoffMultiplier: 2,
    initialDelaySeconds: 0.2,
    timeoutSeconds: 30,
    retryOnStatus: [500, 502, 503, 504],
  },
  rateLimit: { maxRequestsPerMinute: 60, maxRequestsPerHour: 1000, strategy: 'sliding_window' },
  signingSecret: WEBHOOK_SECRET,
  signPayload: true, // Adds X-Signature header
  onFailure: (webhook, event, error) =>
    console.error(`Webhook failed: ${webhook.name} ${event.event_type}: ${error.message}`),
  allowPrivateNetwork: true, // the receiver is on 127.0.0.1
});

const empathy = new EmpathyOS({ userId: 'custom_integration', webhooks: [custom] });
const bug = {
  title: 'SQL injection',
  description: 'User input concatenated into SQL',
  file: 'auth.py',
  line: 45,
};
await empathy.emit('bug_detected', bug, { severity: 'high' });
await empathy.emit('test_failure', { test_name: 'test_login', message: 'expected 401, got 200' });
await empathy.flush(); // the first request meets a 503 and is retried
await empathy.emit('bug_detected', bug, { severity: 'high' }); // found again
await empathy.emit('bug_detected', { ...bug, resolved: true }); // fixed
await empathy.flush();

const stats = empathy.monitor.getWebhookStats(custom.name);
console.log('received and verified:');
for (const { event_type, incident } of received)
  console.log(`  ${event_type}  incident: ${JSON.stringify(incident)}`);
console.log(`Total sent: ${stats.totalSent}`);
console.log(`Success rate: ${Math.round(stats.successRate * 100)}%`);
console.log(`Avg response time: ${stats.avgResponseTimeMs}ms`);
console.log(`Failed deliveries: ${stats.failedCount}`);
await empathy.close();
await receiver.close();
