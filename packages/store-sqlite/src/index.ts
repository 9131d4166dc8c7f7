export type { SqliteQueueOptions } from './options.js';
export type { DeliveryRecord } from './rows.js';
export { SCHEMA_VERSION } from './schema.js';
export { SqliteQueue } from './sqlite-queue.js';
