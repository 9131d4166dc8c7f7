import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { DeliveryQueue, WebhookPlugin } from '@empathy/webhooks-core';

/**
 * What `empathy-webhooks.config.ts` exports: the webhooks (and queue) the application uses, so the
 * CLI checks, tests and inspects exactly those. Secrets come from `process.env`.
 */
export interface EmpathyWebhooksConfig {
  /**
   * The webhooks, built as the application builds them (`new SlackWebhook({ … })`, …). Names must
   * be unique.
   * @example [new SlackWebhook({ webhookUrl: process.env.SLACK_WEBHOOK_URL!, events: ['alert'] })]
   */
  webhooks: WebhookPlugin[];
  /**
   * The application's durable queue, if it uses one (`SqliteQueue`, `BullMQQueue`): `stats`,
   * `dead-letters` and `dashboard` read it. The CLI never consumes it: it only reads, replays and
   * deletes. @default none (the in-memory queue lives in the application's process)
   * @example new SqliteQueue({ path: './webhooks.db' })
   */
  queue?: DeliveryQueue | undefined;
  /** The `user_id` of the events `send-example` sends. @default 'developer_123' */
  userId?: string | undefined;
}

/**
 * Declares the config file's default export, typed so that editors complete every option. It
 * returns its argument: the application can import the same file.
 *
 * @example
 * // empathy-webhooks.config.ts
 * import { defineConfig } from '@empathy/webhooks-cli';
 * import { SlackWebhook } from '@empathy/webhooks-slack';
 *
 * export default defineConfig({
 *   webhooks: [new SlackWebhook({ webhookUrl: process.env.SLACK_WEBHOOK_URL!, events: ['alert'] })],
 * });
 */
export function defineConfig<C extends EmpathyWebhooksConfig>(
  // Unknown keys are a type error (a misspelt `queue` would otherwise be ignored); the loader refuses them too.
  config: C & { [K in Exclude<keyof C, keyof EmpathyWebhooksConfig>]: never },
): C {
  return config;
}

/** The file names looked for in the current folder, in this order. */
export const CONFIG_FILES = [
  'empathy-webhooks.config.ts',
  'empathy-webhooks.config.mts',
  'empathy-webhooks.config.mjs',
  'empathy-webhooks.config.js',
] as const;

/** A config that could not be found, loaded or used: printed with the file, exit code 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The config file, relative to the current folder when inside it. */
  readonly file: string | undefined;

  constructor(message: string, file?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.file = file;
  }
}

/** A loaded config and where it came from. */
export interface LoadedConfig {
  config: EmpathyWebhooksConfig;
  /** The file, as the user would type it (relative to the current folder when inside it). */
  file: string;
  /** The file's absolute path. */
  path: string;
}

/**
 * Finds the config file (`--config`, else `empathy-webhooks.config.{ts,mts,mjs,js}` in `cwd`),
 * loads it (TypeScript without a build step, through jiti) and checks its shape. Throws a
 * {@link ConfigError} naming the file; an error thrown by the config itself (a webhook constructor
 * refusing an option, a missing environment variable) is its `cause`.
 */
export async function loadConfig(path: string | undefined, cwd = process.cwd()): Promise<LoadedConfig> {
  const file = path === undefined ? findConfig(cwd) : resolve(cwd, path);
  const shown = display(file, cwd);
  if (!existsSync(file)) throw new ConfigError(`no such config file: ${shown}`, shown);
  let loaded: unknown;
  try {
    // Loaded lazily: an application that imports `defineConfig` from this package does not pay for it.
    const { createJiti } = await import('jiti');
    const jiti = createJiti(import.meta.url, { fsCache: false, moduleCache: false });
    loaded = await jiti.import(file, { default: true });
  } catch (error) {
    throw new ConfigError(`${shown} failed to load: ${messageOf(error)}`, shown, { cause: error });
  }
  return { config: checkShape(loaded, shown), file: shown, path: file };
}

function findConfig(cwd: string): string {
  for (const name of CONFIG_FILES) {
    const file = resolve(cwd, name);
    if (existsSync(file)) return file;
  }
  throw new ConfigError(
    `no config file: create ${CONFIG_FILES[0]} (or .mts, .mjs, .js) in this folder, or pass --config <file>`,
  );
}

function checkShape(value: unknown, file: string): EmpathyWebhooksConfig {
  const fail = (problem: string): never => {
    throw new ConfigError(`${file}: ${problem}`, file);
  };
  if (value === null || typeof value !== 'object') {
    fail('the default export must be defineConfig({ webhooks: [...] })');
  }
  const config = value as Record<string, unknown>;
  if (!Array.isArray(config.webhooks)) fail(`'webhooks' must be an array of webhooks`);
  (config.webhooks as unknown[]).forEach((webhook, i) => {
    if (
      webhook === null ||
      typeof webhook !== 'object' ||
      typeof (webhook as WebhookPlugin).deliver !== 'function'
    ) {
      fail(`'webhooks[${i}]' is not a webhook (an object with a deliver(event, ctx) method)`);
    }
  });
  const queue = config.queue as Partial<DeliveryQueue> | undefined;
  if (
    queue !== undefined &&
    (queue === null ||
      typeof queue !== 'object' ||
      typeof queue.enqueue !== 'function' ||
      typeof queue.deadLetters !== 'object')
  ) {
    fail(`'queue' must be a delivery queue (new SqliteQueue({ path }) or new BullMQQueue({ connection }))`);
  }
  if (config.userId !== undefined && (typeof config.userId !== 'string' || config.userId === '')) {
    fail(`'userId' must be a non-empty string`);
  }
  const known = new Set(['webhooks', 'queue', 'userId']);
  const unknown = Object.keys(config).filter((key) => !known.has(key));
  if (unknown.length > 0) fail(`unknown key '${unknown[0]}': a config has webhooks, queue and userId`);
  return config as unknown as EmpathyWebhooksConfig;
}

function display(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The environment variables a config file reads (`process.env.NAME`, `process.env['NAME']`, or
 * through a `const env = process.env` alias) that are unset or empty: a hint when a webhook refuses an option the config takes from one.
 */
export function missingEnv(file: string, env: Record<string, string | undefined>): string[] {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const names = new Set<string>();
  // `process.env.X`, `process.env['X']`, and the same through an alias named `env`.
  for (const match of source.matchAll(/\benv(?:\.([A-Za-z_]\w*)|\[\s*['"]([A-Za-z_]\w*)['"]\s*\])/g)) {
    names.add((match[1] ?? match[2])!);
  }
  return [...names].filter((name) => env[name] === undefined || env[name] === '');
}
