/**
 * A CommonJS consumer in TypeScript: with `module: nodenext` (TypeScript >= 5.8), a .cts file may
 * import the ESM-only packages, because Node >= 20.19 can `require()` them (tsconfig.cjs.json).
 * Under `module: node16` it would need `import type … with { 'resolution-mode': 'import' }`.
 */
import { EmpathyOS } from '@empathy/os';
import type { WebhookPlugin } from '@empathy/webhooks-core';
import { CustomWebhook } from '@empathy/webhooks-http';

export function host(): EmpathyOS {
  const hook: WebhookPlugin = new CustomWebhook({
    url: 'https://ops.example.com/hooks/empathy',
    events: ['*'],
  });
  return new EmpathyOS({ userId: 'developer_123', webhooks: [hook] });
}
