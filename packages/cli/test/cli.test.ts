import { describe, expect, it } from 'vitest';
import { runCli, version } from '../src/index.js';
import { captureIO } from './helpers.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('empathy-webhooks', () => {
  it('prints help with --help and usage on stderr (exit 2) without a command', async () => {
    const help = captureIO();
    expect(await runCli(['--help'], help.io)).toBe(0);
    expect(help.stdout()).toMatch(/Usage: empathy-webhooks <command>/);
    for (const command of [
      'check',
      'send-example <webhook>',
      'stats',
      'dead-letters',
      'dashboard',
      'listen',
      'trigger <url>',
    ])
      expect(help.stdout()).toContain(command);

    const none = captureIO();
    expect(await runCli([], none.io)).toBe(2);
    expect(none.stderr()).toMatch(/Usage: empathy-webhooks/);
  });

  it.each([
    ['listen', /Usage: empathy-webhooks listen/],
    ['trigger', /Usage: empathy-webhooks trigger <url>/],
    ['dead-letters', /Usage: empathy-webhooks dead-letters <action>/],
    ['stats', /Usage: empathy-webhooks stats \[options\]/],
    ['check', /Usage: empathy-webhooks check \[--config <file>\]/],
    ['send-example', /Usage: empathy-webhooks send-example <webhook>/],
    ['dashboard', /Usage: empathy-webhooks dashboard \[options\]/],
  ])('%s --help prints the command help', async (command, pattern) => {
    const cap = captureIO();
    expect(await runCli([command, '--help'], cap.io)).toBe(0);
    expect(cap.stdout()).toMatch(pattern);
    expect(cap.stderr()).toBe('');
  });

  it('prints the version of package.json', async () => {
    const cap = captureIO();
    expect(await runCli(['--version'], cap.io)).toBe(0);
    expect(cap.stdout()).toBe(`${version()}\n`);
    expect(version()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    [['listen', '--prot', '80'], /^empathy-webhooks: unknown option --prot for 'listen'/],
    [['trigger', 'https://example.com', '--retries'], /^empathy-webhooks: option --retries needs a value/],
    [['listen', '--json=yes'], /^empathy-webhooks: option --json does not take a value/],
    [['listen', '--port', 'eighty'], /^empathy-webhooks: option --port must be an integer from 0 to 65535/],
    [['trigger', 'https://example.com', '--count', '0'], /option --count must be an integer from 1/],
    [['trigger', 'https://example.com', '--timeout=-1'], /option --timeout must be a number/],
    [
      ['trigger', 'https://example.com', '--timeout', '-1'],
      /option --timeout needs a value; for a value starting/,
    ],
    [
      ['trigger', 'https://example.com', '--severity', 'urgent'],
      /option --severity must be one of info, low/,
    ],
    [
      ['trigger', 'https://example.com', '--header', 'no-colon'],
      /option --header #1 must look like 'Name: value'/,
    ],
    [['trigger', 'https://example.com', '--data', '{oops'], /--data is not valid JSON/],
    [['trigger', 'https://example.com', '--data', '[1]'], /--data must be a JSON object/],
    [['trigger'], /'trigger' needs exactly one URL/],
    [['trigger', 'not a url'], /option 'url' is not a valid URL/],
    [
      ['frobnicate'],
      /unknown command 'frobnicate': use check, send-example, stats, dead-letters, dashboard, listen, trigger/,
    ],
    [['--frobnicate'], /unknown option --frobnicate/],
    [['dead-letters', 'purge', '--db', 'x.db'], /unknown dead-letters action 'purge'/],
    [['dead-letters', 'replay', '--db', 'x.db'], /'dead-letters replay' needs the dead letter's id/],
    [['dead-letters', 'list', '--queue', 'a.db', '--db', 'b.db'], /use either --queue or --db/],
    [
      ['dead-letters', 'show', '--all', '--queue', 'x.db'],
      /option --all applies to 'dead-letters replay' and/,
    ],
    [['send-example'], /'send-example' needs exactly one webhook name/],
    [['dashboard', '--port', '99999'], /option --port must be an integer from 0 to 65535/],
    [
      ['dead-letters', '--db', 'x.db'],
      /'dead-letters' needs an action: list, show <id>, replay <id>, replay --all, delete <id> or delete --all/,
    ],
    [['stats', '--db'], /option --db needs a value/],
    [
      ['listen', '--secret-env', 'NOT_SET_ANYWHERE'],
      /--secret-env: the environment variable NOT_SET_ANYWHERE is not set/,
    ],
  ])('%j is a one-line usage error, exit 2', async (argv, pattern) => {
    const cap = captureIO();
    expect(await runCli(argv, cap.io)).toBe(2);
    expect(cap.stderr()).toMatch(pattern);
    expect(cap.stderr().trimEnd().split('\n')).toHaveLength(1);
    expect(cap.stdout()).toBe('');
  });

  it('names an unknown event type with a "did you mean"', async () => {
    const cap = captureIO();
    expect(await runCli(['trigger', 'https://example.com', '--event', 'predicton'], cap.io)).toBe(2);
    expect(cap.stderr()).toMatch(/unknown event type 'predicton' \(did you mean 'prediction'\?\)/);
  });

  it('never echoes a --secret or --header value, even in its own errors', async () => {
    const runs = [
      ['trigger', 'https://example.com', '--secret', SECRET, '--secret-env', 'X'],
      ['trigger', 'https://example.com', '--secret', SECRET, SECRET],
      ['trigger', `--secret=${SECRET}`, '--bogus'],
      ['listen', '--secret', SECRET, '--port', 'x'],
      ['trigger', 'https://example.com', '--header', `Authorization: Bearer ${SECRET}`, '--header', 'x'],
      [`--${SECRET}`, '--secret', SECRET],
    ];
    for (const argv of runs) {
      const cap = captureIO();
      expect(await runCli(argv, cap.io)).toBe(2);
      expect(cap.stderr()).not.toContain(SECRET);
      expect(cap.stderr()).not.toContain(SECRET.slice(6));
      expect(cap.stderr().length).toBeGreaterThan(10);
    }
  });
});
