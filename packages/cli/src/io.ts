/** A stream the CLI writes to: `process.stdout`, or a test's collector. */
export interface OutputStream {
  write(chunk: string): unknown;
  /** Colours are used only on a TTY. */
  isTTY?: boolean | undefined;
}

/** Where a command reads its environment and writes its output. */
export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Environment variables (`--secret-env`, `NO_COLOR`). @default process.env */
  env: Record<string, string | undefined>;
  /** Aborting it stops `listen` and interrupts `trigger` (the bin aborts it on Ctrl-C). */
  signal?: AbortSignal | undefined;
  /** The folder the config file is looked for in, and relative paths start from. @default process.cwd() */
  cwd?: string | undefined;
}

/** The process's own streams and environment. */
export function processIO(signal?: AbortSignal): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, signal };
}

/** Exit codes: 0 success, 1 failure (a delivery failed, a file is missing), 2 usage error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
