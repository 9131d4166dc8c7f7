import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dispatcher, type EmpathyEvent, type WebhookStats } from '@empathy/webhooks-core';
import { CustomWebhook, type CustomWebhookOptions } from '@empathy/webhooks-http';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** The URL a listening server answers on. */
export function urlOf(server: Server, path = '/webhooks/empathy'): string {
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}${path}`;
}

/** Closes a server and every connection it holds. */
export function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Real deliveries: a `CustomWebhook` (signed, on loopback) run by core's dispatcher, as an app
 * sends them. Resolves with the webhook's stats and the errors its deliveries ended with.
 */
export async function deliver(
  url: string,
  events: EmpathyEvent[],
  options: Partial<CustomWebhookOptions> = {},
): Promise<{ stats: WebhookStats; failures: Error[] }> {
  const failures: Error[] = [];
  const webhook = new CustomWebhook({
    url,
    name: 'receiver-test',
    signingSecret: SECRET,
    allowPrivateNetwork: true,
    retryPolicy: { maxRetries: 2, initialDelaySeconds: 0.05, jitter: false },
    onFailure: (_webhook, _event, error) => {
      failures.push(error);
    },
    ...options,
  });
  const dispatcher = new Dispatcher({ webhooks: [webhook] });
  try {
    for (const event of events) await dispatcher.dispatch(event);
    await dispatcher.flush();
    return { stats: dispatcher.monitor.getWebhookStats(webhook.name), failures };
  } finally {
    await dispatcher.close({ drainMs: 0 });
  }
}
