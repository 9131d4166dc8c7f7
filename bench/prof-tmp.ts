import { EmpathyOS } from '@empathy/os';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { CustomWebhook } from '@empathy/webhooks-http';
import { startSink } from './lib.js';
const sink = await startSink('ok');
const webhook = new CustomWebhook({ name: 'bench', url: `${sink.url}/hook`, concurrency: 64, allowPrivateNetwork: true });
const empathy = new EmpathyOS({ userId: 'developer_123', webhooks: [webhook] });
for (let round = 0; round < 3; round++) {
  const started = performance.now();
  for (let i = 0; i < 20000; i++) await empathy.emit('prediction', SAMPLE_DATA.prediction);
  await empathy.flush();
  console.log(Math.round(20000 / ((performance.now() - started) / 1000)), 'req/s');
}
await empathy.close();
await sink.stop();
process.exit(0);
