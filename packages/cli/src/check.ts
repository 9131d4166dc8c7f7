import { resolve } from 'node:path';
import { Dispatcher, isWebhookConfigError, type WebhookPlugin } from '@empathy/webhooks-core';
import { noArguments, parseCommand } from './args.js';
import { ConfigError, loadConfig, missingEnv } from './config.js';
import { describeWebhook, integrationOf, type WebhookDescription } from './describe.js';
import { CHECK_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { jsonLine, line, pad, palette } from './output.js';
import { queueLabel } from './queue-source.js';

/** A problem `check` found: the webhook and option it concerns, when known. */
export interface ConfigProblem {
  webhook?: string | undefined;
  option?: string | undefined;
  message: string;
}

/**
 * `empathy-webhooks check [--config file]`: loads the config and validates every webhook the way
 * the dispatcher will (unique names, known event types, retry policy, rate limit); prints one row
 * per webhook (name, integration, events, target origin, rate limit, retry policy). Exit code 1
 * names the webhook and the option of every problem; a config that throws while loading (a
 * constructor refusing an option, often a missing environment variable) is reported with its file.
 */
export async function check(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(
    'check',
    args,
    { config: { type: 'string' }, json: { type: 'boolean' } },
    CHECK_HELP,
    io,
  );
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  noArguments('check', positionals);
  const json = values.json === true;
  const cwd = io.cwd ?? process.cwd();

  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  try {
    loaded = await loadConfig(values.config, cwd);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problem = problemOf(error.cause ?? error);
    const unset = error.file ? missingEnv(resolve(cwd, error.file), io.env) : [];
    const hint =
      unset.length === 0
        ? undefined
        : unset.length === 1
          ? `the config reads an environment variable that is not set: ${unset[0]}`
          : `the config reads environment variables that are not set: ${unset.join(', ')}`;
    if (json) {
      jsonLine(io.stdout, {
        ok: false,
        file: error.file,
        problems: [{ ...problem, message: error.message }],
        unsetEnv: unset,
      });
    } else {
      line(io.stderr, `check: ${error.message}`);
      if (hint) line(io.stderr, `hint: ${hint}`);
    }
    return EXIT.failure;
  }

  const { config, file } = loaded;
  const problems: ConfigProblem[] = [];
  const rows: WebhookDescription[] = [];
  // Registering in a dispatcher runs exactly the checks the application's EmpathyOS runs.
  const dispatcher = new Dispatcher({ onError: () => {} });
  try {
    for (const webhook of config.webhooks as WebhookPlugin[]) {
      try {
        dispatcher.register(webhook);
        rows.push(describeWebhook(webhook));
      } catch (error) {
        if (!isWebhookConfigError(error)) throw error;
        const problem = problemOf(error);
        problems.push({
          webhook: problem.webhook ?? nameOf(webhook),
          option: problem.option,
          message: error.message,
        });
      }
    }
  } finally {
    await dispatcher.close({ drainMs: 0 });
  }
  if (config.webhooks.length === 0) problems.push({ message: `${file}: 'webhooks' is empty` });
  const queue = config.queue ? queueLabel(config.queue) : 'in memory (no durable queue in the config)';

  if (json) {
    jsonLine(io.stdout, {
      ok: problems.length === 0,
      file,
      webhooks: rows.map(({ policies, ...row }) => ({ ...row, ...policies })),
      queue,
      problems,
    });
    return problems.length === 0 ? EXIT.ok : EXIT.failure;
  }
  const c = palette(io.stdout, io.env);
  line(
    io.stdout,
    `Config ${file}: ${config.webhooks.length} webhook${config.webhooks.length === 1 ? '' : 's'}, queue ${queue}`,
  );
  if (rows.length > 0) printTable(rows, io, c);
  for (const problem of problems) line(io.stderr, `${c.red('✗')} ${problem.message}`);
  if (problems.length > 0) {
    line(io.stderr, c.red(`${problems.length} problem${problems.length === 1 ? '' : 's'}.`));
    return EXIT.failure;
  }
  line(io.stdout, c.green(`✓ ${rows.length} webhook${rows.length === 1 ? '' : 's'} OK.`));
  return EXIT.ok;
}

function printTable(rows: WebhookDescription[], io: CliIO, c: ReturnType<typeof palette>): void {
  const cells = rows.map((r) => [
    r.name,
    r.integration,
    r.events.join(','),
    r.origin,
    r.rateLimit,
    r.retryPolicy,
  ]);
  const header = ['NAME', 'INTEGRATION', 'EVENTS', 'TARGET', 'RATE LIMIT', 'RETRY POLICY'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const format = (row: string[]) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, widths[i]!))).join('  ');
  line(io.stdout, c.bold(format(header)));
  for (const row of cells) line(io.stdout, format(row));
}

/** The webhook and option an error names (`[slack] option 'webhookUrl' …`). */
function problemOf(error: unknown): ConfigProblem {
  const message = error instanceof Error ? error.message : String(error);
  const webhook =
    (error as { webhook?: unknown })?.webhook !== undefined
      ? String((error as { webhook: unknown }).webhook)
      : /^\[([^\]]+)\]/.exec(message)?.[1];
  const option = /option '([^']+)'/.exec(message)?.[1];
  return { webhook, option, message };
}

function nameOf(webhook: WebhookPlugin): string {
  return typeof webhook?.name === 'string' ? webhook.name : integrationOf(webhook);
}
