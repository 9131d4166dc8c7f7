/**
 * The webhooks of this deployment. Producers and workers build the same list (same names, same
 * events): producers use it to route events to lanes, workers to deliver them.
 */
import type { WebhookPlugin } from '@empathy/webhooks-core';
import { CustomWebhook } from '@empathy/webhooks-http';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const PREFIX = process.env.QUEUE_PREFIX ?? 'empathy-example-distributed';

export function webhooks(sinkUrl: string, workerId = 'producer'): WebhookPlugin[] {
  return [
    new CustomWebhook({
      name: 'alerts',
      url: `${sinkUrl}/alerts`,
      events: ['alert', 'prediction', 'security_vulnerability'],
      headers: { 'x-worker': workerId },
      signingSecret: 'whsec_ZXhhbXBsZS1kaXN0cmlidXRlZC1zZWNyZXQ=',
      retryPolicy: { initialDelaySeconds: 0.2, maxRetries: 3 },
      // Shared through Redis: both workers together send at most 600 a minute.
      rateLimit: { maxRequestsPerMinute: 600 },
      concurrency: 8,
      allowPrivateNetwork: true, // the sink is on 127.0.0.1
    }),
  ];
}
