import { type DashboardServer, type DashboardServerOptions, startDashboardServer } from './server.js';
import { type DashboardHost, hostSource } from './state.js';

export { TOKEN_HEADER } from './assets.js';
export { type DashboardServer, type DashboardServerOptions, isLoopback } from './server.js';
export type { DashboardHost, DashboardState, DeadLetterView, WebhookView } from './state.js';

/** Options of {@link serveDashboard}. */
export interface ServeDashboardOptions extends DashboardServerOptions {
  /**
   * Where the start-up lines go (the link with the token, and a warning for a non-loopback host);
   * `false` prints nothing (read `url` and `token` from the result).
   * @default a line per message on stderr
   */
  log?: ((message: string) => void) | false | undefined;
}

/**
 * Serves the dashboard of an application's own `EmpathyOS` (or `Dispatcher`), in its process: live
 * figures per webhook (delivered, failed, retried, folded, pending, dead letters, success rate, p95
 * latency, last error, circuit state), a live feed of delivery outcomes, and the dead letters with
 * replay and delete. Works on every queue; it is the only way to see an in-memory queue. Actions
 * need the printed token, sent by the page in the `X-Dashboard-Token` header.
 *
 * @example
 * import { serveDashboard } from '@empathy/webhooks-cli/dashboard';
 *
 * const dashboard = await serveDashboard(empathy, { port: 8788 });
 * // Dashboard: http://127.0.0.1:8788/#token=… (stderr)
 * process.on('SIGTERM', () => void dashboard.close());
 */
export async function serveDashboard(
  empathy: DashboardHost,
  options: ServeDashboardOptions = {},
): Promise<DashboardServer> {
  const server = await startDashboardServer(hostSource(empathy), options);
  const log = options.log === undefined ? (m: string) => process.stderr.write(`${m}\n`) : options.log;
  if (log) for (const message of startupLines(server)) log(message);
  return server;
}

/** What a dashboard prints when it starts: the link (with the token) and, off loopback, a warning. */
export function startupLines(server: DashboardServer): string[] {
  const lines = [`Dashboard: ${server.link}`, `Action token (replay, delete): ${server.token}`];
  if (!server.loopback) {
    lines.push(
      `warning: listening on ${server.host}, not loopback: anyone who reaches this address can read the dashboard ` +
        `(webhook figures, dead letters and their event payloads). Actions still need the token. ` +
        `Prefer --host 127.0.0.1 behind an SSH tunnel.`,
    );
  }
  return lines;
}
