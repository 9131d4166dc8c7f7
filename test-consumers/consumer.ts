/**
 * An ES module consumer of every library package (the CLI is a command: a workspace dependency on
 * it would make a fresh install warn that its bin's dist/ file is not built yet), type-checked as users' projects are: under
 * `moduleResolution: node16` (tsconfig.node16.json) and `bundler` (tsconfig.bundler.json), with
 * the strictest flags and skipLibCheck off. A package whose types do not resolve, or resolve to
 * `any`, fails here.
 */
import { EmpathyOS } from '@empathy/os';
import {
  type DeliveryQueue,
  type EmpathyEvent,
  isWebhookDeliveryError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { createFakeServer } from '@empathy/webhooks-core/fakes';
import { guardedLookup, userAgent } from '@empathy/webhooks-core/kit';
import type { describeWebhookContract } from '@empathy/webhooks-core/testing';
import type { DatadogWebhook } from '@empathy/webhooks-datadog';
import type { DiscordWebhook } from '@empathy/webhooks-discord';
import type { EmailWebhook } from '@empathy/webhooks-email';
import type { GitHubWebhook } from '@empathy/webhooks-github';
import type { GrafanaWebhook } from '@empathy/webhooks-grafana';
import { CustomWebhook } from '@empathy/webhooks-http';
import type { JiraWebhook } from '@empathy/webhooks-jira';
import type { PagerDutyWebhook } from '@empathy/webhooks-pagerduty';
import { type BullMQQueue, startWorker } from '@empathy/webhooks-queue-bullmq';
import type { SlackWebhook } from '@empathy/webhooks-slack';
import type { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import type { TeamsWebhook } from '@empathy/webhooks-teams';

/** `true` only for `any`: an import that failed to resolve types would be `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false;
type NoAny<T extends readonly unknown[]> = { [K in keyof T]: IsAny<T[K]> extends true ? never : T[K] };

/** Every built-in webhook is a WebhookPlugin, every queue a DeliveryQueue. */
export type Plugins = NoAny<
  [
    CustomWebhook,
    SlackWebhook,
    TeamsWebhook,
    DiscordWebhook,
    EmailWebhook,
    JiraWebhook,
    GitHubWebhook,
    DatadogWebhook,
    GrafanaWebhook,
    PagerDutyWebhook,
  ]
>;
export const plugins: WebhookPlugin[] = [] as Plugins[number][];
export const queues: DeliveryQueue[] = [] as (SqliteQueue | BullMQQueue)[];

export const values: NoAny<
  [
    typeof EmpathyOS,
    typeof isWebhookDeliveryError,
    typeof createFakeServer,
    typeof guardedLookup,
    typeof userAgent,
    typeof describeWebhookContract,
    typeof startWorker,
  ]
> = [EmpathyOS, isWebhookDeliveryError, createFakeServer, guardedLookup, userAgent, null!, startWorker];

export async function quickStart(): Promise<EmpathyEvent<'alert'>> {
  const empathy = new EmpathyOS({
    userId: 'developer_123',
    webhooks: [new CustomWebhook({ url: 'https://ops.example.com/hooks/empathy', events: ['*'] })],
  });
  const event = await empathy.emit('alert', { message: 'Error rate above 5%' }, { severity: 'high' });
  await empathy.close();
  return event;
}
