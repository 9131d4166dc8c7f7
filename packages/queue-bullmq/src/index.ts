export { BullMQQueue, type BullMQQueueOptions, type BullMQWorkerSettings } from './bullmq-queue.js';
export type { RedisDeadLetterStore } from './dead-letters.js';
export type { RedisIncidentStore } from './incidents.js';
export type { RedisRateLimiter } from './rate-limiter.js';
export { type DeliveryWorker, type StartWorkerOptions, startWorker } from './start-worker.js';
