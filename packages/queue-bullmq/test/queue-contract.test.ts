import { describeQueueContract } from '@empathy/webhooks-core/testing';
import { BullMQQueue } from '../src/index.js';
import { deleteKeys, REDIS, uniquePrefix } from './helpers.js';

describeQueueContract('BullMQQueue', () => {
  const prefix = uniquePrefix();
  return {
    durable: true,
    open: () => new BullMQQueue({ connection: REDIS, prefix, consume: true }),
    cleanup: () => deleteKeys(prefix),
  };
});
