import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, spawnCli } from './helpers.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const WRONG = 'whsec_d3JvbmdzZWNyZXR3cm9uZ3NlY3JldA==';

describe('the built bin, end to end', () => {
  const children: ReturnType<typeof spawnCli>[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  });

  it('is an executable file with a node shebang', () => {
    expect(statSync(BIN).mode & 0o111).not.toBe(0);
    const run = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('trigger → listen: the signature verifies and the event is printed; a wrong secret is a 401 and exit 1', async () => {
    const listen = spawnCli(['listen', '--port', '0', '--secret-env', 'WEBHOOK_SECRET'], {
      WEBHOOK_SECRET: SECRET,
    });
    children.push(listen);
    const [, port] = await listen.waitFor(/Listening on http:\/\/127\.0\.0\.1:(\d+)\//);
    const url = `http://127.0.0.1:${port}/webhooks/empathy`;

    const ok = spawnCli(
      [
        'trigger',
        url,
        '--allow-private-network',
        '--secret-env',
        'WEBHOOK_SECRET',
        '--event',
        'bug_detected',
      ],
      {
        WEBHOOK_SECRET: SECRET,
      },
    );
    children.push(ok);
    expect(await ok.exited).toBe(0);
    const [, eventId] = ok.stdout().match(/delivered\s+bug_detected\s+(evt_\w+)\s+attempt 1\s+HTTP 200/)!;
    await listen.waitFor(new RegExp(`200 {2}bug_detected +${eventId} +developer_123 +medium +sig ok`));
    await listen.waitFor(/🐛 Bug detected: Unclosed file handle — open\(\) without a context manager/);

    const bad = spawnCli([
      'trigger',
      url,
      '--allow-private-network',
      '--secret',
      WRONG,
      '--retry-delay',
      '0.05',
    ]);
    children.push(bad);
    expect(await bad.exited).toBe(1);
    expect(bad.stdout()).toMatch(
      /dead\s+prediction\s+evt_\w+\s+attempt 1\s+HTTP 401 .*X-Signature does not match/,
    );
    expect(bad.stdout()).toMatch(/0\/1 delivered · 1 dead/);
    await listen.waitFor(/401 {2}POST \/webhooks\/empathy {2}signature failed: X-Signature does not match/);
    for (const text of [bad.stdout(), bad.stderr(), listen.stdout()]) {
      expect(text).not.toContain(WRONG);
      expect(text).not.toContain(SECRET);
    }

    listen.child.kill('SIGINT');
    expect(await listen.exited).toBe(0);
    expect(listen.stdout()).toMatch(/Stopped after 2 requests \(1 event accepted\)\./);
  });

  it('exits 2 with a one-line error for a bad flag', async () => {
    const run = spawnCli(['trigger', 'https://example.com', '--retires', '3']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe(
      "empathy-webhooks: unknown option --retires for 'trigger' (see 'empathy-webhooks trigger --help')\n",
    );
  });
});

describe('without @empathy/webhooks-store-sqlite installed', () => {
  it('dead-letters and stats say how to install it (exit 1)', async () => {
    // A copy of the built package whose node_modules holds core and http only.
    const root = mkdtempSync(join(tmpdir(), 'cli-no-sqlite-'));
    try {
      const pkg = join(root, 'node_modules', '@empathy', 'webhooks-cli');
      mkdirSync(join(root, 'node_modules', '@empathy'), { recursive: true });
      cpSync(dirname(BIN), join(pkg, 'dist'), { recursive: true });
      cpSync(fileURLToPath(new URL('../package.json', import.meta.url)), join(pkg, 'package.json'));
      for (const dep of ['webhooks-core', 'webhooks-http', 'webhooks-receiver']) {
        symlinkSync(
          realpathSync(fileURLToPath(new URL(`../node_modules/@empathy/${dep}`, import.meta.url))),
          join(root, 'node_modules', '@empathy', dep),
        );
      }
      for (const argv of [['dead-letters', 'list'], ['stats']]) {
        const run = spawnSync(
          process.execPath,
          [join(pkg, 'dist', 'cli.js'), ...argv, '--db', join(root, 'q.db')],
          { encoding: 'utf8' },
        );
        expect(run.status).toBe(1);
        expect(run.stderr).toMatch(
          /^empathy-webhooks: this command reads SqliteQueue files and needs @empathy\/webhooks-store-sqlite: install it next to the CLI \(npm install -g @empathy\/webhooks-store-sqlite/,
        );
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
