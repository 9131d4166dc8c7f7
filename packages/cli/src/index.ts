export { secretsIn, UsageError } from './args.js';
export { deadLetters } from './dead-letters.js';
export { type CliIO, EXIT, type OutputStream, processIO } from './io.js';
export { type ListenRecord, listen } from './listen.js';
export { type Command, runCli, version } from './run.js';
export { type QueueStats, stats } from './stats.js';
export { trigger } from './trigger.js';
