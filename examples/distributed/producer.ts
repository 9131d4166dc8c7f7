/**
 * The producer: an EmpathyOS whose queue is Redis. `emit()` resolves once the jobs are in Redis;
 * it never delivers itself (workers do), and `flush()` waits until the workers have finished.
 */
import { EmpathyOS } from '@empathy/os';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { BullMQQueue } from '@empathy/webhooks-queue-bullmq';
import { PREFIX, REDIS_URL, webhooks } from './webhooks.js';

export async function produce(sinkUrl: string, count: number): Promise<string[]> {
  const empathy = new EmpathyOS({
    userId: 'developer_123',
    webhooks: webhooks(sinkUrl),
    queue: new BullMQQueue({ connection: { url: REDIS_URL }, prefix: PREFIX }),
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const event =
      i % 3 === 0
        ? await empathy.emit('prediction', SAMPLE_DATA.prediction, { severity: 'warning' })
        : await empathy.emit(
            'alert',
            { ...SAMPLE_DATA.alert, message: `checkout-api 5xx rate #${i}` },
            { severity: 'high' },
          );
    ids.push(event.event_id);
  }
  console.log(`[producer] ${count} events stored in Redis; waiting for the workers…`);
  await empathy.flush();
  const letters = await empathy.deadLetters.list();
  console.log(`[producer] queue drained; ${letters.length} dead letters`);
  await empathy.close();
  return ids;
}
