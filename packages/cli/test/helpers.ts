import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CliIO } from '../src/index.js';

/** An in-memory {@link CliIO}: what a command wrote, and a way to wait for a line. */
export function captureIO(env: Record<string, string | undefined> = {}, options: { tty?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  const io: CliIO = {
    stdout: { write: (s: string) => out.push(s), isTTY: options.tty },
    stderr: { write: (s: string) => err.push(s) },
    env,
    signal: controller.signal,
  };
  return {
    io,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    /** Aborts the signal, as Ctrl-C does for the bin. */
    stop: () => controller.abort(),
    /** Resolves with the first match of `pattern` in stdout + stderr. */
    waitFor: (pattern: RegExp, timeoutMs = 10_000) =>
      waitFor(() => out.join('') + err.join(''), pattern, timeoutMs),
  };
}

async function waitFor(read: () => string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = read().match(pattern);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${read()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Where the test configs are: spawned commands run there. */
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Runs the built CLI to its end: exit code and output. */
export async function runBin(
  args: string[],
  env: Record<string, string> = {},
  options: { cwd?: string } = {},
) {
  const run = spawnCli(args, env, options);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** The built bin. Tests that spawn it need `npx tsup` first (turbo's test task builds). */
export const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** A spawned `node dist/cli.js …`, with its output collected. */
export function spawnCli(args: string[], env: Record<string, string> = {}, options: { cwd?: string } = {}) {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run 'npx tsup' in packages/cli first`);
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: options.cwd ?? FIXTURES,
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern: RegExp, timeoutMs = 10_000) => waitFor(() => out + err, pattern, timeoutMs),
  };
}
