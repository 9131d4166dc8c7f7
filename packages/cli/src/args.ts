import { type ParseArgsConfig, parseArgs } from 'node:util';
import { redact } from '@empathy/webhooks-core/kit';
import type { CliIO } from './io.js';

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The flags whose values are secrets: never echoed. */
const SECRET_FLAGS = ['--secret', '--header'];

/**
 * Values given to secret-bearing flags anywhere on the command line, so that any message can be
 * scrubbed of them (a misplaced value can turn up in parseArgs' own errors).
 */
export function secretsIn(argv: readonly string[]): string[] {
  const out: string[] = [];
  argv.forEach((arg, i) => {
    for (const flag of SECRET_FLAGS) {
      if (arg === flag && argv[i + 1] !== undefined) out.push(argv[i + 1]!);
      else if (arg.startsWith(`${flag}=`)) out.push(arg.slice(flag.length + 1));
    }
  });
  // A header's value is the secret ('Authorization: Bearer <token>': the token alone too).
  return out.flatMap((v) => {
    const value = v.includes(':') ? v.slice(v.indexOf(':') + 1).trim() : v;
    return [v, value, ...value.split(/\s+/).filter((part) => part.length >= 8)];
  });
}

/** Removes every secret given on the command line from `text`. */
export function scrub(text: string, argv: readonly string[]): string {
  return redact(text, secretsIn(argv));
}

/** The `--help` flag every command takes. */
export const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * Runs `parse` (a strict `parseArgs` call) and turns its errors into one-line {@link UsageError}s
 * that name the flag and never echo a value.
 */
export function withUsage<T>(command: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(usageMessage(command, error as Error & { code?: string }));
  }
}

function usageMessage(command: string, error: Error & { code?: string }): string {
  const flag = /'(-[^' ]*)/.exec(error.message)?.[1];
  const see = `(see 'empathy-webhooks ${command} --help')`;
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag ?? ''} for '${command}' ${see}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(error.message))
        return `option ${flag} does not take a value ${see}`;
      if (/ambiguous/.test(error.message)) {
        return `option ${flag} needs a value; for a value starting with '-', write ${flag}=<value> ${see}`;
      }
      return `option ${flag} needs a value ${see}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `'${command}' takes no such argument ${see}`;
    default:
      return `bad arguments for '${command}' ${see}`;
  }
}

/** What `parseArgs` gives for `options` plus `--help`, strict, with positionals. */
type CommandLine<O extends NonNullable<ParseArgsConfig['options']>> = ReturnType<
  typeof parseArgs<{ args: string[]; strict: true; allowPositionals: true; options: typeof HELP_FLAG & O }>
>;

/**
 * One command's command line: a strict `parseArgs` of `options` plus `--help`, its errors as
 * {@link UsageError}s. `undefined` when `--help` was asked for: `help` is printed, and the command
 * exits 0.
 */
export function parseCommand<const O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: O,
  help: string,
  io: CliIO,
): CommandLine<O> | undefined {
  const parsed = withUsage(command, () =>
    parseArgs({ args, strict: true, allowPositionals: true, options: { ...HELP_FLAG, ...options } }),
  ) as CommandLine<O>;
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout.write(help);
    return undefined;
  }
  return parsed;
}

/** A {@link UsageError} when a command that takes no arguments got some. */
export function noArguments(command: string, positionals: readonly string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`'${command}' takes no arguments (see 'empathy-webhooks ${command} --help')`);
  }
}

/**
 * Where a numeric flag's value may lie: an integer from `min` to `max`, or any number greater
 * than `above` and at most `max` (a duration, where 0 means nothing).
 */
export type FlagRange = { integer: true; min: number; max: number } | { above: number; max: number };

/** A numeric flag within `range` (`fallback` when absent), or a {@link UsageError} naming the flag. */
export function numberFlag(
  value: string | undefined,
  flag: string,
  fallback: number,
  range: FlagRange,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if ('integer' in range) {
    if (/^\d+$/.test(value.trim()) && Number.isInteger(n) && n >= range.min && n <= range.max) return n;
    throw new UsageError(`option --${flag} must be an integer from ${range.min} to ${range.max}`);
  }
  if (value.trim() !== '' && Number.isFinite(n) && n > range.above && n <= range.max) return n;
  throw new UsageError(
    `option --${flag} must be a number greater than ${range.above} and at most ${range.max}`,
  );
}

/**
 * The secret from `--secret` or `--secret-env NAME` (never both). The value is never printed;
 * errors name the flag or the variable only.
 */
export function secretFlag(
  values: { secret?: string; 'secret-env'?: string },
  env: Record<string, string | undefined>,
): string | undefined {
  const { secret } = values;
  const name = values['secret-env'];
  if (secret !== undefined && name !== undefined) {
    throw new UsageError('use either --secret or --secret-env, not both');
  }
  if (secret !== undefined) {
    if (secret === '') throw new UsageError('option --secret must not be empty');
    return secret;
  }
  if (name === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UsageError('option --secret-env must be an environment variable name, like WEBHOOK_SECRET');
  }
  const value = env[name];
  if (value === undefined || value === '') {
    throw new UsageError(`--secret-env: the environment variable ${name} is not set`);
  }
  return value;
}
