import { EmpathyOS } from '@empathy/os';
import type { WebhookPlugin } from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';

const stuck = (name: string): WebhookPlugin => ({
  name,
  events: ['*'],
  retryPolicy: { timeoutSeconds: 600 },
  deliver: () => new Promise(() => {}),
});
const M = 200_000;
const empathy = new EmpathyOS({ userId: 'developer_123', webhooks: [stuck('a'), stuck('b'), stuck('c')] });
const data = SAMPLE_DATA.alert;
for (let i = 0; i < 10_000; i++) await empathy.emit('alert', data);
for (let r = 0; r < 3; r++) {
  const started = performance.now();
  for (let i = 0; i < M; i++) await empathy.emit('alert', data);
  console.log(Math.round(M / ((performance.now() - started) / 1000)));
}
await empathy.close({ drainMs: 0 });
