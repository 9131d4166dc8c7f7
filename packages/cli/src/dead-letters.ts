import type { DeadLetter, DeadLetterStore } from '@empathy/webhooks-core';
import { parseCommand, UsageError } from './args.js';
import { DEAD_LETTERS_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { jsonLine, line, pad, palette } from './output.js';
import { openQueue, QUEUE_FLAGS } from './queue-source.js';

/** Actions; `replay-all` and `clear` are the older names of `replay --all` and `delete --all`. */
const ACTIONS = ['list', 'show', 'replay', 'delete', 'replay-all', 'clear'] as const;
type Action = 'list' | 'show' | 'replay' | 'delete';

/**
 * `empathy-webhooks dead-letters list|show <id>|replay <id>|replay --all|delete <id>|delete --all`:
 * the dead letters of the config's queue (SQLite or BullMQ) or of a `SqliteQueue` file given with
 * `--queue`. A replayed letter goes back into the queue as a fresh job (same event id); the
 * application's workers deliver it.
 */
export async function deadLetters(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommand(
    'dead-letters',
    args,
    {
      ...QUEUE_FLAGS,
      all: { type: 'boolean' },
      webhook: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
    },
    DEAD_LETTERS_HELP,
    io,
  );
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  if (positionals.length === 0) {
    throw new UsageError(
      `'dead-letters' needs an action: list, show <id>, replay <id>, replay --all, delete <id> or delete --all (see 'empathy-webhooks dead-letters --help')`,
    );
  }
  const [given, id, ...rest] = positionals as [string, string | undefined, ...string[]];
  if (!(ACTIONS as readonly string[]).includes(given)) {
    throw new UsageError(`unknown dead-letters action '${given}': use list, show, replay or delete`);
  }
  const all = values.all === true || given === 'replay-all' || given === 'clear';
  const action: Action = given === 'replay-all' ? 'replay' : given === 'clear' ? 'delete' : (given as Action);
  const label = all ? `${action} --all` : action;
  if (all && action !== 'replay' && action !== 'delete')
    throw new UsageError(`option --all applies to 'dead-letters replay' and 'dead-letters delete' only`);
  const needsId = (action === 'show' || action === 'replay' || action === 'delete') && !all;
  if (needsId && id === undefined) {
    throw new UsageError(
      `'dead-letters ${action}' needs the dead letter's id${action === 'show' ? '' : ', or --all'} (see 'dead-letters list')`,
    );
  }
  if ((!needsId && id !== undefined) || rest.length > 0) {
    throw new UsageError(`'dead-letters ${label}' takes ${needsId ? 'one id' : 'no id'}`);
  }
  if (needsId && values.webhook !== undefined)
    throw new UsageError(`option --webhook does not apply to 'dead-letters ${action} <id>'`);
  let limit: number | undefined;
  if (values.limit !== undefined) {
    if (action !== 'list') throw new UsageError(`option --limit applies to 'dead-letters list' only`);
    limit = Number(values.limit);
    if (!/^\d+$/.test(values.limit) || limit < 1)
      throw new UsageError('option --limit must be a positive integer');
  }

  const { queue } = await openQueue(values, io.cwd ?? process.cwd());
  try {
    const o = { webhook: values.webhook, limit, json: values.json === true };
    if (all) return await (action === 'replay' ? replayAll : deleteAll)(queue.deadLetters, o, io);
    return await run(action, id, o, queue.deadLetters, io);
  } finally {
    await queue.close();
  }
}

interface RunOptions {
  webhook: string | undefined;
  limit: number | undefined;
  json: boolean;
}

async function run(
  action: Action,
  id: string | undefined,
  o: RunOptions,
  store: DeadLetterStore,
  io: CliIO,
): Promise<number> {
  switch (action) {
    case 'list': {
      const letters = await store.list({
        ...(o.webhook === undefined ? {} : { webhook: o.webhook }),
        ...(o.limit === undefined ? {} : { limit: o.limit }),
      });
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
  }
}

/**
 * Replays every letter (or one webhook's) one by one, so that a TTY shows a progress bar; a letter
 * deleted or replayed by someone else meanwhile is counted as skipped.
 */
async function replayAll(store: DeadLetterStore, o: RunOptions, io: CliIO): Promise<number> {
  const letters = await store.list(o.webhook === undefined ? {} : { webhook: o.webhook });
  const bar = io.stdout.isTTY === true && !o.json ? progressBar(io, letters.length) : undefined;
  let replayed = 0;
  let skipped = 0;
  for (const letter of letters) {
    if (io.signal?.aborted) break;
    if (await store.replay(letter.id)) replayed++;
    else skipped++;
    bar?.update(replayed + skipped);
  }
  bar?.done();
  const interrupted = replayed + skipped < letters.length;
  const scope = o.webhook === undefined ? '' : ` of '${o.webhook}'`;
  if (o.json) {
    jsonLine(io.stdout, {
      action: 'replay',
      all: true,
      ...(o.webhook === undefined ? {} : { webhook: o.webhook }),
      count: replayed,
      skipped,
      interrupted,
    });
  } else {
    line(
      io.stdout,
      `Replayed ${replayed} dead letter${replayed === 1 ? '' : 's'}${scope}` +
        (skipped > 0 ? ` (${skipped} already gone)` : '') +
        (interrupted ? ` before being interrupted (${letters.length - replayed - skipped} left)` : '') +
        `: back in the queue; the application's workers deliver them.`,
    );
  }
  return interrupted ? 130 : EXIT.ok;
}

async function deleteAll(store: DeadLetterStore, o: RunOptions, io: CliIO): Promise<number> {
  const n = await store.clear(o.webhook === undefined ? {} : { webhook: o.webhook });
  if (o.json)
    jsonLine(io.stdout, {
      action: 'delete',
      all: true,
      ...(o.webhook === undefined ? {} : { webhook: o.webhook }),
      count: n,
    });
  else
    line(
      io.stdout,
      `Deleted ${n} dead letter${n === 1 ? '' : 's'}${o.webhook === undefined ? '' : ` of '${o.webhook}'`}.`,
    );
  return EXIT.ok;
}

/** A one-line progress bar, redrawn in place (`\r`) at most every 1 % and on the last one. */
function progressBar(io: CliIO, total: number) {
  const width = 30;
  let shown = -1;
  const draw = (done: number) => {
    const filled = total === 0 ? width : Math.round((done / total) * width);
    io.stdout.write(`\r[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total} replayed`);
  };
  return {
    update(done: number) {
      const step = total === 0 ? 100 : Math.floor((done / total) * 100);
      if (step === shown && done !== total) return;
      shown = step;
      draw(done);
    },
    done() {
      if (shown === -1) draw(0);
      io.stdout.write('\n');
    },
  };
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
