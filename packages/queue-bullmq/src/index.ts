export { BullMQQueue, type BullMQQueueOptions, type BullMQWorkerSettings } from './bullmq-queue.js';
export { RedisDeadLetterStore } from './dead-letters.js';
export { RedisRateLimiter } from './rate-limiter.js';
export { type DeliveryWorker, type StartWorkerOptions, startWorker } from './start-worker.js';
