export { SCHEMA_VERSION } from './schema.js';
export { type DeliveryRecord, SqliteQueue, type SqliteQueueOptions } from './sqlite-queue.js';
