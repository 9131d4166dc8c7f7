import { EmpathyOS } from '@empathy/os';
import { CustomWebhook } from '@empathy/webhooks-http';
import { SlackWebhook } from '@empathy/webhooks-slack';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { expectTypeOf, test } from 'vitest';
import { defineConfig, type EmpathyWebhooksConfig } from '../src/index.js';

test('defineConfig keeps the config as written and the application can use it', () => {
  const config = defineConfig({
    webhooks: [
      new SlackWebhook({ webhookUrl: 'https://hooks.slack.com/services/T/B/x', events: ['alert'] }),
      new CustomWebhook({ url: 'https://ops.example.com/hook', events: ['*'] }),
    ],
    queue: new SqliteQueue({ path: './webhooks.db' }),
    userId: 'ops_team',
  });
  expectTypeOf(config).toExtend<EmpathyWebhooksConfig>();
  expectTypeOf(config.queue).toEqualTypeOf<SqliteQueue>();
  // The README's example: the same file feeds the application.
  new EmpathyOS({ userId: 'ops_team', webhooks: config.webhooks, queue: config.queue });
});

test('defineConfig refuses what is not a config', () => {
  // @ts-expect-error webhooks are required
  defineConfig({ queue: new SqliteQueue({ path: 'x.db' }) });
  // @ts-expect-error a webhook is an object with deliver()
  defineConfig({ webhooks: [{ name: 'x', events: ['alert'] }] });
  // @ts-expect-error userId is a string
  defineConfig({ webhooks: [], userId: 42 });
  // @ts-expect-error unknown keys are refused (at run time too)
  defineConfig({ webhooks: [], queues: [] });
});
