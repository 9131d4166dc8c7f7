import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, tempDb } from './helpers.js';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface Child {
  process: ChildProcess;
  lines: string[];
  stderr: string[];
  /** Resolves with the first line matching `pattern` (rejects if the process exits first). */
  line(pattern: RegExp): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function run(script: string, args: string[], stdin: 'pipe' | 'ignore'): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture(script), ...args], {
    cwd: PACKAGE,
    stdio: [stdin, 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters) wake();
    }),
  );
  return {
    process: child,
    lines,
    stderr,
    exited,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find((l) => pattern.test(l));
          if (found !== undefined) {
            waiters.delete(check);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(
              new Error(
                `${script} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}: ${lines.join(' | ')} ${stderr.join('')}`,
              ),
            );
          }
        };
        waiters.add(check);
        check();
      }),
  };
}

describe('two processes on one file', () => {
  for (const mode of ['dispatcher', 'queue'] as const) {
    it(`the process waiting in ${mode === 'dispatcher' ? 'flush()' : 'idle()'} stays alive while another process holds the job`, {
      timeout: 60_000,
    }, async () => {
      const path = tempDb();
      const worker = run('leasing-worker.ts', [path], 'pipe');
      await worker.line(/^delivering$/);

      const host = run('flushing-host.ts', [path, mode], 'ignore');
      // The job is in the file, leased by the worker.
      expect(await host.line(/^waiting/)).toBe('waiting 1');
      // Before the fix, the host's event loop emptied here (its poller was unref'd) and Node
      // ended it with exit code 13 while flush() was pending. Give it that chance.
      await sleep(500);
      expect(host.process.exitCode, host.stderr.join('')).toBeNull();

      worker.process.stdin!.write('release\n');
      await worker.line(/^delivered$/);
      expect(await worker.exited).toEqual({ code: 0, signal: null });

      await host.line(/^flushed$/);
      expect(await host.exited, host.stderr.join('')).toEqual({ code: 0, signal: null });
      // The host never took the job the worker held.
      expect(host.lines).not.toContain('delivered-here');
    });
  }
});
