/**
 * `pnpm demo`: EmpathyOS delivering a realistic stream of events to a local receiver that
 * verifies every signature. One endpoint is flaky (503s and a 429 with Retry-After), one only
 * takes high-severity alerts, one is rate-limited, one refuses everything until we "fix" it and
 * replay its dead letters. Then an incident: a disk alert fires six times in a second (folded into
 * one notification that says so) and clears (a resolved notification with the same incident key).
 * No credentials, no network: everything runs on 127.0.0.1.
 *
 * `--metrics-port 9464` also serves the OpenTelemetry delivery metrics for Prometheus on
 * http://127.0.0.1:9464/metrics while the demo runs, and prints them at the end.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmpathyOS } from '@empathy/os';
import {
  type DeliveryOutcome,
  type EventType,
  verifyStandardWebhook,
  verifyWebhookSignature,
} from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { CustomWebhook } from '@empathy/webhooks-http';
import { openTelemetry } from '@empathy/webhooks-otel';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

const SECRET = 'whsec_ZGVtby1zaWduaW5nLXNlY3JldC0xMjM0NTY3ODkw';

/** `--metrics-port <n>`: serve Prometheus metrics on that port of 127.0.0.1. */
function metricsPort(): number | undefined {
  const i = process.argv.indexOf('--metrics-port');
  if (i === -1) return undefined;
  const port = Number(process.argv[i + 1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('--metrics-port needs a port number from 1 to 65535, e.g. --metrics-port 9464');
    process.exit(2);
  }
  return port;
}
const port = metricsPort();
const prometheus =
  port === undefined ? undefined : new PrometheusExporter({ host: '127.0.0.1', port, endpoint: '/metrics' });
const meterProvider = prometheus ? new MeterProvider({ readers: [prometheus] }) : undefined;
const color = (code: number) => (text: string) =>
  process.stdout.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text;
const green = color(32);
const yellow = color(33);
const red = color(31);
const cyan = color(36);
const dim = color(2);
const bold = color(1);

// ── The receiver: verifies both signatures on every request, then answers per endpoint ─────────
let flakyRequests = 0;
let crmFixed = false;
const received = { verified: 0, rejected: 0 };

async function receive(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const okX = verifyWebhookSignature(body, req.headers['x-signature'] as string, SECRET);
  let okStandard = true;
  try {
    verifyStandardWebhook(body, req.headers, SECRET);
  } catch {
    okStandard = false;
  }
  if (!okX || !okStandard) {
    received.rejected++;
    res.writeHead(401).end('invalid signature');
    return;
  }
  received.verified++;
  if (req.url === '/oncall') showIncident(JSON.parse(body.toString('utf8')));
  if (req.url === '/flaky') {
    flakyRequests++;
    if (flakyRequests === 3) {
      res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      return;
    }
    if (flakyRequests % 4 === 1) {
      res.writeHead(503).end('upstream unavailable');
      return;
    }
  }
  if (req.url === '/crm' && !crmFixed) {
    res
      .writeHead(422, { 'content-type': 'application/json' })
      .end('{"error":"unknown field: empathy_level"}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
}

/** What the on-call endpoint received: the incident block every condition event carries. */
function showIncident(body: {
  data: { title?: string; message?: string };
  incident?: { key: string; status: string; occurrences: number; first_seen_at: string };
}) {
  const incident = body.incident;
  if (!incident) return;
  const status = incident.status === 'resolved' ? green('RESOLVED') : red('FIRING  ');
  console.log(
    `${t()} ${bold('oncall receiver ←')} ${status} ${body.data.title}: ${body.data.message}`,
    dim(`(seen ${incident.occurrences}×, key …${incident.key.slice(-8)})`),
  );
}

const server = createServer((req, res) => void receive(req, res));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
console.log(
  bold('Empathy webhooks demo'),
  dim(`receiver on ${base}, verifying X-Signature and Standard Webhooks signatures\n`),
);

// ── The webhooks ─────────────────────────────────────────────────────────────────────────────
const common = { signingSecret: SECRET, allowPrivateNetwork: true } as const; // local receiver
const webhooks = [
  new CustomWebhook({
    ...common,
    name: 'team-feed',
    url: `${base}/feed`,
    events: ['*'],
  }),
  new CustomWebhook({
    ...common,
    name: 'audit-log',
    url: `${base}/audit`,
    events: ['*'],
    rateLimit: { maxRequestsPerMinute: 10, strategy: 'sliding_window' }, // 12 events: 2 wait for the window
  }),
  new CustomWebhook({
    ...common,
    name: 'flaky-endpoint',
    url: `${base}/flaky`,
    events: ['prediction', 'alert', 'deployment_risk'],
    retryPolicy: { maxRetries: 5, initialDelaySeconds: 0.2, backoffMultiplier: 2 },
  }),
  new CustomWebhook({
    ...common,
    name: 'pager',
    url: `${base}/pager`,
    events: ['alert', 'security_vulnerability'],
    filter: (event) => event.severity === 'high' || event.severity === 'critical',
  }),
  new CustomWebhook({
    ...common,
    name: 'legacy-crm',
    url: `${base}/crm`,
    events: ['bug_detected', 'compliance_violation'],
    onFailure: (webhook, event, error) =>
      console.log(
        red(`  onFailure(${webhook.name}, ${event.event_type}) → stored for manual retry: ${error.message}`),
      ),
  }),
];

const empathy = new EmpathyOS({
  userId: 'developer_123',
  targetLevel: 4,
  webhooks,
  model: 'claude-sonnet-4.5',
  telemetry: meterProvider ? openTelemetry({ meterProvider }) : undefined,
});
if (port !== undefined) console.log(dim(`Prometheus metrics on http://127.0.0.1:${port}/metrics\n`));

// ── Print every outcome as it happens ────────────────────────────────────────────────────────
const started = Date.now();
const t = () => dim(`+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(7));
const label = (o: DeliveryOutcome) =>
  `${o.webhook.padEnd(14)} ${o.eventType.padEnd(22)} ${dim(`…${o.eventId.slice(-6)}`)}`;
empathy.monitor.on((o) => {
  const wait = o.nextAttemptAt ? `${((o.nextAttemptAt - Date.now()) / 1000).toFixed(1)}s` : '';
  if (o.kind === 'delivered')
    console.log(
      `${t()} ${green('✓ delivered   ')} ${label(o)} attempt ${o.attempt}, ${o.durationMs?.toFixed(1)} ms`,
    );
  else if (o.kind === 'retry' && o.status === 429)
    console.log(
      `${t()} ${cyan('⏸ rate-limited')} ${label(o)} the endpoint said 429, Retry-After → again in ${wait}`,
    );
  else if (o.kind === 'retry')
    console.log(`${t()} ${yellow('↻ retry       ')} ${label(o)} ${o.error} → again in ${wait}`);
  else if (o.kind === 'deferred')
    console.log(
      `${t()} ${cyan('⏸ rate-limited')} ${label(o)} ${o.reason === 'rate_limit' ? 'over the limit' : 'circuit open'} → waits ${wait}`,
    );
  else console.log(`${t()} ${red('✗ dead letter ')} ${label(o)} ${o.error}`);
});

// ── A realistic stream of events ─────────────────────────────────────────────────────────────
const stream: [EventType, 'info' | 'low' | 'medium' | 'warning' | 'high' | 'critical'][] = [
  ['prediction', 'warning'],
  ['alert', 'high'],
  ['bug_detected', 'medium'],
  ['security_vulnerability', 'critical'],
  ['performance_issue', 'warning'],
  ['code_review_complete', 'info'],
  ['test_failure', 'medium'],
  ['deployment_risk', 'high'],
  ['compliance_violation', 'high'],
  ['pattern_discovered', 'info'],
  ['alert', 'low'],
  ['prediction', 'high'],
];
console.log(bold(`Emitting ${stream.length} events…\n`));
for (const [type, severity] of stream) {
  await empathy.emit(type, SAMPLE_DATA[type as keyof typeof SAMPLE_DATA] as never, { severity });
  await new Promise((r) => setTimeout(r, 100)); // a stream, not a single burst
}

// ── Fix the CRM endpoint and replay its dead letters ─────────────────────────────────────────
await new Promise((r) => setTimeout(r, 1500)); // let the flaky endpoint's retries land
const letters = await empathy.deadLetters.list();
console.log(bold(`\n${letters.length} dead letters kept. The CRM team deploys a fix; replaying them…\n`));
crmFixed = true;
await empathy.deadLetters.replayAll();
const waiting = empathy.monitor.getWebhookStats('audit-log').pendingCount;
if (waiting > 0) {
  console.log(
    bold(
      `\n${waiting} audit-log events wait for its 10/minute window (about a minute): nothing is dropped…\n`,
    ),
  );
}
await empathy.flush();

// ── An incident: fires, repeats, clears ───────────────────────────────────────────────────────
// The SRE team's host has one webhook with noise control: repeats of one incident inside a second
// are folded into one notification that says how many it stands for; the resolution is sent at once.
const sre = new EmpathyOS({
  userId: 'sre-bot',
  webhooks: [
    new CustomWebhook({
      ...common,
      name: 'oncall',
      url: `${base}/oncall`,
      events: ['alert'],
      group: { waitSeconds: 1 },
    }),
  ],
});
console.log(bold('\nAn incident: "Disk almost full" fires 6 times within a second, then clears…\n'));
for (let used = 91; used <= 96; used++) {
  await sre.emit(
    'alert',
    { title: 'Disk almost full on db-1', message: `${used}% used`, source: 'db-1' },
    { severity: 'high' },
  );
  await new Promise((r) => setTimeout(r, 100));
}
await sre.flush();
await sre.emit('alert', {
  title: 'Disk almost full on db-1',
  message: '61% used',
  source: 'db-1',
  resolved: true,
});
await sre.flush();
const oncall = sre.monitor.getWebhookStats('oncall');
console.log(dim(`  oncall: ${oncall.successCount} notifications for 7 events, ${oncall.foldedCount} folded`));
await sre.close();

// ── The monitor's table ──────────────────────────────────────────────────────────────────────
console.log(bold('\nWebhook monitor\n'));
const rows = Object.entries(empathy.monitor.getAllStats()).map(([name, s]) => ({
  webhook: name,
  sent: s.totalSent,
  ok: s.successCount,
  failed: s.failedCount,
  retried: s.retriedCount,
  deferred: s.deferredCount,
  pending: s.pendingCount,
  'success %': Math.round(s.successRate * 100),
  'avg ms': s.avgResponseTimeMs,
  'p95 ms': s.p95ResponseTimeMs,
}));
console.table(rows);
console.log(`receiver: ${received.verified} requests with valid signatures, ${received.rejected} rejected`);
if (port !== undefined) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  console.log(bold('\nWhat Prometheus scrapes (deliveries by outcome)\n'));
  for (const line of text.split('\n')) {
    if (line.startsWith('empathy_webhook_deliveries_total'))
      console.log(`  ${line.replace(/,?otel_scope_name="[^"]*"/, '')}`);
  }
}
await empathy.close();
await meterProvider?.shutdown();
server.close();
