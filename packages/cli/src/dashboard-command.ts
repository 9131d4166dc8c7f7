import { noArguments, numberFlag, parseCommand, UsageError } from './args.js';
import { startupLines } from './dashboard/index.js';
import { startDashboardServer } from './dashboard/server.js';
import { queueSource } from './dashboard/state.js';
import { DASHBOARD_HELP } from './help.js';
import { type CliIO, EXIT } from './io.js';
import { line } from './output.js';
import { openQueue, QUEUE_FLAGS } from './queue-source.js';

/**
 * `empathy-webhooks dashboard [--port] [--host]`: serves the dashboard on the config's durable queue
 * (or `--queue file.db`) until Ctrl-C (the IO's signal), then exits 0.
 */
export async function dashboard(args: string[], io: CliIO): Promise<number> {
  const options = { ...QUEUE_FLAGS, port: { type: 'string' }, host: { type: 'string' } } as const;
  const parsed = parseCommand('dashboard', args, options, DASHBOARD_HELP, io);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  noArguments('dashboard', positionals);
  const port = numberFlag(values.port, 'port', 8788, { integer: true, min: 0, max: 65_535 });
  const host = values.host ?? '127.0.0.1';
  if (host === '') throw new UsageError('option --host must not be empty');
  const { queue, webhooks } = await openQueue(values, io.cwd ?? process.cwd());
  let server: Awaited<ReturnType<typeof startDashboardServer>>;
  try {
    server = await startDashboardServer(queueSource(queue, webhooks), { port, host });
  } catch (error) {
    await queue.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      line(
        io.stderr,
        `dashboard: port ${port} is in use on ${host}; pick another with --port (0 picks a free one)`,
      );
      return EXIT.failure;
    }
    throw error;
  }
  const [link, token, ...warnings] = startupLines(server);
  line(io.stdout, `${link}  (${queue.label}; Ctrl-C to stop)`);
  line(io.stdout, token);
  for (const warning of warnings) line(io.stderr, warning);
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  await queue.close();
  line(io.stderr, 'Dashboard stopped.');
  return EXIT.ok;
}
