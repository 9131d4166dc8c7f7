import { parseArgs } from 'node:util';
import type { DeadLetter } from '@empathy/webhooks-core';
import { HELP_FLAG, UsageError, withUsage } from './args.js';
import { DEAD_LETTERS_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { jsonLine, line, pad, palette } from './output.js';
import { openQueueFile } from './queue-file.js';

const ACTIONS = ['list', 'show', 'replay', 'replay-all', 'delete', 'clear'] as const;
type Action = (typeof ACTIONS)[number];

/**
 * `empathy-webhooks dead-letters list|show <id>|replay <id>|replay-all|delete <id>|clear --db <file>`:
 * inspects and manages the dead letters of a `SqliteQueue` file. A replayed letter goes back into
 * the file's queue as a fresh job (same event id); the application's workers deliver it.
 */
export async function deadLetters(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = withUsage('dead-letters', () =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        ...HELP_FLAG,
        db: { type: 'string' },
        webhook: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
    }),
  );
  if (values.help) {
    io.stdout.write(DEAD_LETTERS_HELP);
    return EXIT.ok;
  }
  if (positionals.length === 0) {
    throw new UsageError(
      `'dead-letters' needs an action: list, show <id>, replay <id>, replay-all, delete <id> or clear (see 'empathy-webhooks dead-letters --help')`,
    );
  }
  const [action, id, ...rest] = positionals as [string, string | undefined, ...string[]];
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`unknown dead-letters action '${action}': use ${ACTIONS.join(', ')}`);
  }
  const needsId = action === 'show' || action === 'replay' || action === 'delete';
  if (needsId && id === undefined)
    throw new UsageError(`'dead-letters ${action}' needs the dead letter's id (see 'dead-letters list')`);
  if ((!needsId && id !== undefined) || rest.length > 0) {
    throw new UsageError(`'dead-letters ${action}' takes ${needsId ? 'one id' : 'no arguments'}`);
  }
  if (needsId && values.webhook !== undefined)
    throw new UsageError(`option --webhook does not apply to 'dead-letters ${action}'`);
  let limit: number | undefined;
  if (values.limit !== undefined) {
    if (action !== 'list') throw new UsageError(`option --limit applies to 'dead-letters list' only`);
    limit = Number(values.limit);
    if (!/^\d+$/.test(values.limit) || limit < 1)
      throw new UsageError('option --limit must be a positive integer');
  }

  const queue = await openQueueFile(values.db);
  try {
    return await run(
      action as Action,
      id,
      { webhook: values.webhook, limit, json: values.json === true },
      queue.deadLetters,
      io,
    );
  } finally {
    await queue.close({ drainMs: 0 });
  }
}

async function run(
  action: Action,
  id: string | undefined,
  o: { webhook: string | undefined; limit: number | undefined; json: boolean },
  store: Awaited<ReturnType<typeof openQueueFile>>['deadLetters'],
  io: CliIO,
): Promise<number> {
  const filter = o.webhook === undefined ? {} : { webhook: o.webhook };
  const scope = o.webhook === undefined ? '' : ` of '${o.webhook}'`;
  switch (action) {
    case 'list': {
      const letters = await store.list({ ...filter, ...(o.limit === undefined ? {} : { limit: o.limit }) });
      if (o.json) jsonLine(io.stdout, letters);
      else printLetters(letters, io);
      return EXIT.ok;
    }
    case 'show': {
      const letter = await store.get(id!);
      if (!letter) {
        line(io.stderr, `dead-letters show: no dead letter with id '${id}' (see 'dead-letters list')`);
        return EXIT.failure;
      }
      // The whole letter, event payload included: what `list` abbreviates.
      if (o.json) jsonLine(io.stdout, letter);
      else io.stdout.write(`${JSON.stringify(letter, null, 2)}\n`);
      return EXIT.ok;
    }
    case 'replay':
    case 'delete': {
      const done = action === 'replay' ? await store.replay(id!) : await store.delete(id!);
      if (o.json) jsonLine(io.stdout, { action, id, ok: done });
      if (!done) {
        line(io.stderr, `dead-letters ${action}: no dead letter with id '${id}' (see 'dead-letters list')`);
        return EXIT.failure;
      }
      if (!o.json) {
        line(
          io.stdout,
          action === 'replay'
            ? `Replayed ${id}: it is back in the queue; the application's workers deliver it.`
            : `Deleted ${id}.`,
        );
      }
      return EXIT.ok;
    }
    case 'replay-all':
    case 'clear': {
      const n = action === 'replay-all' ? await store.replayAll(filter) : await store.clear(filter);
      if (o.json) jsonLine(io.stdout, { action, ...filter, count: n });
      else {
        const letters = `${n} dead letter${n === 1 ? '' : 's'}${scope}`;
        line(
          io.stdout,
          action === 'replay-all'
            ? `Replayed ${letters}: back in the queue; the application's workers deliver them.`
            : `Deleted ${letters}.`,
        );
      }
      return EXIT.ok;
    }
  }
}

function printLetters(letters: DeadLetter[], io: CliIO): void {
  const c = palette(io.stdout, io.env);
  if (letters.length === 0) {
    line(io.stdout, 'No dead letters.');
    return;
  }
  const idWidth = Math.max(2, ...letters.map((l) => l.id.length));
  const hookWidth = Math.max(7, ...letters.map((l) => l.webhook.length));
  line(
    io.stdout,
    c.bold(
      `${pad('ID', idWidth)}  ${pad('WEBHOOK', hookWidth)}  ${pad('EVENT', 22)}  ATTEMPTS  FAILED AT (UTC)      ERROR`,
    ),
  );
  for (const l of letters) {
    const failedAt = new Date(l.failedAt).toISOString().slice(0, 19).replace('T', ' ');
    const error = `${l.error.status !== undefined ? `HTTP ${l.error.status} ` : ''}${l.error.message}`;
    line(
      io.stdout,
      `${pad(l.id, idWidth)}  ${pad(l.webhook, hookWidth)}  ${pad(l.event.event_type, 22)}  ${pad(String(l.attempts), 8)}  ${failedAt}  ${c.red(error)}`,
    );
  }
  line(
    io.stdout,
    c.dim(
      `${letters.length} dead letter${letters.length === 1 ? '' : 's'}. Replay one with 'dead-letters replay <id>'.`,
    ),
  );
}
