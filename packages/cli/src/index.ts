export { secretsIn, UsageError } from './args.js';
export { type ConfigProblem, check } from './check.js';
export {
  CONFIG_FILES,
  ConfigError,
  defineConfig,
  type EmpathyWebhooksConfig,
  type LoadedConfig,
  loadConfig,
} from './config.js';
export { dashboard } from './dashboard-command.js';
export { deadLetters } from './dead-letters.js';
export { describeWebhook, type WebhookDescription } from './describe.js';
export { type CliIO, EXIT, type OutputStream, processIO } from './io.js';
export { type ListenRecord, listen } from './listen.js';
export { type Command, runCli, version } from './run.js';
export { sendExample } from './send-example.js';
export { type QueueStats, stats } from './stats.js';
export { trigger } from './trigger.js';
