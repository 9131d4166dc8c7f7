import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { redact } from '@empathy/webhooks-core/kit';
import { secretsIn, UsageError } from './args.js';
import { check } from './check.js';
import { ConfigError, missingEnv } from './config.js';
import { dashboard } from './dashboard-command.js';
import { deadLetters } from './dead-letters.js';
import { MAIN_HELP } from './help.js';
import { type CliIO, EXIT, type OutputStream, processIO } from './io.js';
import { listen } from './listen.js';
import { line } from './output.js';
import { QueueFileError } from './queue-file.js';
import { sendExample } from './send-example.js';
import { stats } from './stats.js';
import { trigger } from './trigger.js';

/** A command: its arguments after the command name, the IO; resolves with the exit code. */
export type Command = (args: string[], io: CliIO) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  check,
  'send-example': sendExample,
  stats,
  'dead-letters': deadLetters,
  dashboard,
  listen,
  trigger,
};

/** The package's version. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Runs `empathy-webhooks` with `argv` (without `node` and the script) and resolves with the exit
 * code: 0 success, 1 failure, 2 usage error. Nothing it writes contains a `--secret` or
 * `--header` value given in `argv`.
 *
 * @example
 * const code = await runCli(['trigger', 'https://example.com/hook', '--secret-env', 'WEBHOOK_SECRET']);
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const secrets = secretsIn(argv);
  const safe: CliIO = { ...io, stdout: scrubbing(io.stdout, secrets), stderr: scrubbing(io.stderr, secrets) };
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      (command === undefined ? safe.stderr : safe.stdout).write(MAIN_HELP);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    if (command === '--version' || command === '-v') {
      line(safe.stdout, version());
      return EXIT.ok;
    }
    const run = COMMANDS[command];
    if (!run) {
      throw new UsageError(
        command.startsWith('-')
          ? `unknown option ${command.split('=')[0]} (see 'empathy-webhooks --help')`
          : `unknown command '${command}': use ${Object.keys(COMMANDS).join(', ')} (see 'empathy-webhooks --help')`,
      );
    }
    return await run(args, safe);
  } catch (error) {
    if (error instanceof UsageError) {
      line(safe.stderr, `empathy-webhooks: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof QueueFileError) {
      line(safe.stderr, `empathy-webhooks: ${error.message}`);
      return EXIT.failure;
    }
    if (error instanceof ConfigError) {
      line(safe.stderr, `empathy-webhooks: ${error.message}`);
      const unset = error.file ? missingEnv(resolve(io.cwd ?? process.cwd(), error.file), io.env) : [];
      if (unset.length > 0)
        line(
          safe.stderr,
          `hint: the config reads environment variables that are not set: ${unset.join(', ')}`,
        );
      return EXIT.failure;
    }
    line(safe.stderr, `empathy-webhooks: ${(error as Error)?.message ?? String(error)}`);
    return EXIT.failure;
  }
}

/** A stream that blanks out `secrets` in everything written to it. */
function scrubbing(stream: OutputStream, secrets: string[]): OutputStream {
  if (secrets.length === 0) return stream;
  return {
    isTTY: stream.isTTY,
    write: (chunk: string) => stream.write(redact(chunk, secrets)),
  };
}
