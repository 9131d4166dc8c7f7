import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type FakeServer } from '@empathy/webhooks-core/testing';
import { CustomWebhook } from '@empathy/webhooks-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, expect, it } from 'vitest';
import { LATENCY_BUCKETS_SECONDS, openTelemetry } from '../src/index.js';
import { waitFor } from './helpers.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * A strict parser of the Prometheus text exposition format 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats): every line must be a HELP, TYPE or
 * comment line, or a sample whose family was typed before it; label values are unescaped.
 */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  type: string;
  help: string | undefined;
  samples: Sample[];
}
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_VALUE = '"((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"';
const LABEL = new RegExp(`([a-zA-Z_][a-zA-Z0-9_]*)=${LABEL_VALUE}(,|$)`, 'y');
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{(.*)\\})? (NaN|[+-]Inf|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)(?: -?\\d+)?$`,
);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);

function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const help = HELP.exec(line);
    if (help) {
      helps.set(help[1]!, help[2]!);
      continue;
    }
    const type = TYPE.exec(line);
    if (type) {
      if (families.has(type[1]!)) throw new Error(`${type[1]} is typed twice`);
      families.set(type[1]!, { type: type[2]!, help: helps.get(type[1]!), samples: [] });
      continue;
    }
    if (line.startsWith('#')) continue; // a comment (the exporter writes '# UNIT …' lines)
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a valid sample line: ${line}`);
    const [, name, body = '', raw] = sample;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const label = LABEL.exec(body);
      if (!label) throw new Error(`bad labels in: ${line}`);
      if (label[1]! in labels) throw new Error(`label ${label[1]} repeated in: ${line}`);
      labels[label[1]!] = label[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value =
      raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    const family =
      families.get(name!) ??
      [...families].find(
        ([f, t]) => t.type === 'histogram' && new RegExp(`^${f}_(bucket|sum|count)$`).test(name!),
      )?.[1];
    if (!family) throw new Error(`sample ${name} has no # TYPE before it`);
    family.samples.push({ name: name!, labels, value });
  }
  return families;
}

/** The samples of `family` named `name` whose labels include `match`. */
function select(
  families: Map<string, Family>,
  family: string,
  name: string,
  match: Record<string, string> = {},
) {
  const f = families.get(family);
  if (!f) throw new Error(`no metric family ${family}`);
  return f.samples.filter(
    (s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v),
  );
}

it('exposes the four metrics on a /metrics endpoint that Prometheus can scrape', async () => {
  // The exporter as a reader, mounted on our own loopback server (port 0).
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  closers.push(() => meterProvider.shutdown());
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') exporter.getMetricsRequestHandler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(r)));
  const metricsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

  const receiver: FakeServer = await createFakeServer((r) => ({ status: r.path === '/crm' ? 422 : 200 }));
  closers.push(() => receiver.close());
  const hook = (name: string) =>
    new CustomWebhook({
      name,
      url: `${receiver.url}/${name}`,
      allowPrivateNetwork: true,
      circuitBreaker: false,
    });
  const empathy = new EmpathyOS({
    userId: 'developer_123',
    webhooks: [hook('team-feed'), hook('crm')],
    telemetry: openTelemetry({ meterProvider }),
  });
  closers.push(() => empathy.close({ drainMs: 0 }));
  await empathy.emit('alert', { message: 'disk full' });
  await empathy.emit('prediction', { prediction: 'p', confidence: 0.5 });
  await empathy.flush();
  await waitFor(async () => (await empathy.deadLetters.list()).length === 2);

  const response = await fetch(metricsUrl);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await response.text();
  const families = parseExposition(text);

  const D = 'empathy_webhook_deliveries_total';
  expect(families.get(D)?.type).toBe('counter');
  expect(families.get(D)?.help).toMatch(/^Delivery steps by outcome/);
  const count = (labels: Record<string, string>) => select(families, D, D, labels).map((s) => s.value);
  expect(
    count({
      empathy_webhook_name: 'team-feed',
      empathy_event_type: 'alert',
      empathy_delivery_outcome: 'delivered',
    }),
  ).toEqual([1]);
  expect(
    count({
      empathy_webhook_name: 'crm',
      empathy_event_type: 'prediction',
      empathy_delivery_outcome: 'dead',
    }),
  ).toEqual([1]);
  for (const sample of families.get(D)!.samples) {
    expect(Object.keys(sample.labels).sort()).toEqual([
      'empathy_delivery_outcome',
      'empathy_event_type',
      'empathy_webhook_name',
      'otel_scope_name',
    ]);
  }

  // The exporter does not append the unit to the name: the histogram is ..._attempt_duration (seconds).
  const H = 'empathy_webhook_attempt_duration';
  expect(families.get(H)?.type).toBe('histogram');
  const feed = { empathy_webhook_name: 'team-feed', empathy_delivery_outcome: 'delivered' };
  const buckets = select(families, H, `${H}_bucket`, feed);
  expect(buckets.map((b) => b.labels.le)).toEqual([...LATENCY_BUCKETS_SECONDS.map(String), '+Inf']);
  const cumulative = buckets.map((b) => b.value);
  expect(cumulative).toEqual([...cumulative].sort((a, b) => a - b));
  expect(cumulative.at(-1)).toBe(2);
  expect(select(families, H, `${H}_count`, feed).map((s) => s.value)).toEqual([2]);
  expect(select(families, H, `${H}_sum`, feed)[0]!.value).toBeGreaterThan(0);

  const gauge = (family: string) => {
    expect(families.get(family)?.type).toBe('gauge');
    return families
      .get(family)!
      .samples.map((s) => [s.labels.empathy_webhook_name, s.value])
      .sort();
  };
  expect(gauge('empathy_webhook_pending')).toEqual([
    ['crm', 0],
    ['team-feed', 0],
  ]);
  expect(gauge('empathy_webhook_dead_letters')).toEqual([
    ['crm', 2],
    ['team-feed', 0],
  ]);
});

it('the strict parser refuses what Prometheus would refuse', () => {
  expect(() => parseExposition('# TYPE a counter\na 1')).toThrow(/newline/);
  expect(() => parseExposition('a 1\n')).toThrow(/no # TYPE/);
  expect(() => parseExposition('# TYPE a counter\na{x="1} 1\n')).toThrow(/not a valid sample|bad labels/);
  expect(() => parseExposition('# TYPE a counter\na{x="1",x="2"} 1\n')).toThrow(/repeated/);
  expect(() => parseExposition('# TYPE a counter\na one\n')).toThrow(/not a valid sample/);
  expect(parseExposition('# TYPE a counter\na{x="q\\"\\n"} 1.5e3\n').get('a')?.samples).toEqual([
    { name: 'a', labels: { x: 'q"\n' }, value: 1500 },
  ]);
});
