import type {
  CircuitState,
  DeadLetter,
  DeadLetterStore,
  DeliveryOutcome,
  WebhookMonitor,
  WebhookPlugin,
} from '@empathy/webhooks-core';
import { describeWebhook, integrationOf, originOf, type WebhookDescription } from '../describe.js';
import type { QueueAccess } from '../queue-source.js';

/**
 * One webhook as the dashboard shows it: its description (as `check` prints it), then figures.
 * `null`: the source cannot tell (shown as '–').
 */
export interface WebhookView extends Omit<WebhookDescription, 'policies'> {
  delivered: number | null;
  failed: number | null;
  retried: number | null;
  /** Events folded into another notification of their incident by the webhook's `group` option. */
  folded: number | null;
  pending: number | null;
  deadLetters: number;
  /** 0..1 */
  successRate: number | null;
  p95Ms: number | null;
  /** Redacted by the integrations: origins only, no secret. */
  lastError: string | null;
  circuit: CircuitState | null;
}

/** One dead letter as the dashboard shows it. */
export interface DeadLetterView {
  id: string;
  webhook: string;
  eventType: string;
  eventId: string;
  severity: string | null;
  attempts: number;
  /** ISO time. */
  failedAt: string;
  status: number | null;
  error: string;
  /** The event, as JSON (at most {@link MAX_EVENT_CHARS} characters). */
  event: string;
}

/** Everything one page shows. */
export interface DashboardState {
  /** `in-process` (live figures and a live feed) or `queue` (read from a durable queue). */
  mode: 'in-process' | 'queue';
  /** What the figures come from: `in-process (memory queue)`, `SqliteQueue ./webhooks.db`, … */
  source: string;
  /** What the queue mode cannot tell, for the page's note. */
  note: string | null;
  webhooks: WebhookView[];
  deadLetters: DeadLetterView[];
  /** Dead letters in all (the page lists at most {@link MAX_LETTERS}). */
  deadLetterTotal: number;
  /** ISO time. */
  generatedAt: string;
}

/** Where a dashboard reads from and acts on. */
export interface DashboardSource {
  state(): Promise<DashboardState>;
  readonly deadLetters: DeadLetterStore;
  /** Delivery outcomes as they happen (in-process only). */
  subscribe?(listener: (outcome: DeliveryOutcome) => void): () => void;
}

/**
 * What `serveDashboard` needs of an application: `EmpathyOS` and core's `Dispatcher` both fit.
 * `circuitState` is optional (without it the page shows '–').
 */
export interface DashboardHost {
  readonly webhooks: readonly WebhookPlugin[];
  readonly monitor: WebhookMonitor;
  readonly deadLetters: DeadLetterStore;
  circuitState?(webhook: string): CircuitState | undefined;
}

/** The most dead letters one page lists. */
export const MAX_LETTERS = 200;
/** The most characters of one event's JSON the page shows. */
export const MAX_EVENT_CHARS = 20_000;

/** A source over an application's own dispatcher: live figures, circuit states and outcomes. */
export function hostSource(host: DashboardHost): DashboardSource {
  return {
    deadLetters: host.deadLetters,
    subscribe: (listener) => host.monitor.on(listener),
    async state() {
      const letters = await host.deadLetters.list();
      const all = host.monitor.getAllStats();
      const names = new Set<string>([...host.webhooks.map((w) => w.name), ...Object.keys(all)]);
      const byName = new Map(host.webhooks.map((w) => [w.name, w]));
      const webhooks = [...names].map((name): WebhookView => {
        const stats = host.monitor.getWebhookStats(name);
        const finished = stats.successCount + stats.failedCount;
        return {
          ...describe(byName.get(name), name),
          delivered: stats.successCount,
          failed: stats.failedCount,
          retried: stats.retriedCount,
          folded: stats.foldedCount,
          pending: stats.pendingCount,
          deadLetters: letters.filter((l) => l.webhook === name).length,
          successRate: finished === 0 ? null : stats.successRate,
          p95Ms: stats.totalSent === 0 ? null : stats.p95ResponseTimeMs,
          lastError: stats.lastError ?? null,
          circuit: host.circuitState?.(name) ?? null,
        };
      });
      return {
        mode: 'in-process',
        source: 'in-process',
        note: null,
        webhooks,
        deadLetters: views(letters),
        deadLetterTotal: letters.length,
        generatedAt: new Date().toISOString(),
      };
    },
  };
}

/**
 * A source over a durable queue read from outside the application (the CLI): pending jobs, dead
 * letters and the delivery records the queue keeps. Attempt figures, latency and circuit states
 * live in each worker process and are shown as unknown.
 */
export function queueSource(queue: QueueAccess, configured: readonly WebhookPlugin[]): DashboardSource {
  return {
    deadLetters: queue.deadLetters,
    async state() {
      const letters = await queue.deadLetters.list();
      const byName = new Map(configured.map((w) => [w.name, w]));
      const names = new Set<string>([...byName.keys(), ...letters.map((l) => l.webhook)]);
      const [pending, delivered] = await Promise.all([queue.pending([...names]), queue.delivered()]);
      for (const name of Object.keys(pending)) names.add(name);
      for (const d of delivered ?? []) names.add(d.webhook);
      const webhooks = [...names].map((name): WebhookView => {
        const mine = letters.filter((l) => l.webhook === name);
        const last = mine.at(-1);
        return {
          ...describe(byName.get(name), name),
          delivered: delivered === undefined ? null : delivered.filter((d) => d.webhook === name).length,
          failed: null,
          retried: null,
          folded: null,
          pending: pending[name] ?? 0,
          deadLetters: mine.length,
          successRate: null,
          p95Ms: null,
          lastError: last ? last.error.message : null,
          circuit: null,
        };
      });
      return {
        mode: 'queue',
        source: queue.label,
        note:
          (delivered === undefined
            ? 'Delivered: this queue keeps no delivery records. '
            : 'Delivered: the delivery records the file keeps (deliveredRetentionMs, one hour by default). ') +
          'Last error: the newest dead letter’s. Failed, retried and folded counts, latency and circuit state live in each worker process’s monitor: serve the dashboard in-process to see them.',
        webhooks,
        deadLetters: views(letters),
        deadLetterTotal: letters.length,
        generatedAt: new Date().toISOString(),
      };
    },
  };
}

type Described = Pick<
  WebhookView,
  'name' | 'integration' | 'events' | 'origin' | 'rateLimit' | 'retryPolicy'
>;

function describe(webhook: WebhookPlugin | undefined, name: string): Described {
  if (!webhook) {
    // Known from the queue only (a webhook no longer in the config).
    return { name, integration: '–', events: [], origin: '-', rateLimit: '–', retryPolicy: '–' };
  }
  let d: WebhookDescription;
  try {
    d = describeWebhook(webhook);
  } catch {
    return {
      name,
      integration: integrationOf(webhook),
      events: [...webhook.events],
      origin: originOf(webhook),
      rateLimit: 'invalid',
      retryPolicy: 'invalid',
    };
  }
  return {
    name,
    integration: d.integration,
    events: d.events,
    origin: d.origin,
    rateLimit: d.rateLimit,
    retryPolicy: d.retryPolicy,
  };
}

function views(letters: DeadLetter[]): DeadLetterView[] {
  // Newest first: the one an operator is looking for.
  return letters
    .slice(-MAX_LETTERS)
    .reverse()
    .map((l) => {
      const json = JSON.stringify(l.event, null, 2) ?? 'null';
      return {
        id: l.id,
        webhook: l.webhook,
        eventType: String(l.event?.event_type ?? '?'),
        eventId: String(l.event?.event_id ?? '?'),
        severity: typeof l.event?.severity === 'string' ? l.event.severity : null,
        attempts: l.attempts,
        failedAt: new Date(l.failedAt).toISOString(),
        status: l.error.status ?? null,
        error: l.error.message,
        event: json.length > MAX_EVENT_CHARS ? `${json.slice(0, MAX_EVENT_CHARS)}\n… (truncated)` : json,
      };
    });
}
