/**
 * (d) What delivery telemetry costs: signed CustomWebhook deliveries (c=64, monitor on) with no
 *     telemetry, with `openTelemetry()` on the API alone (no SDK registered: what installing the
 *     package costs before an SDK starts), and with the OpenTelemetry SDK recording every span and
 *     metric (an AsyncLocalStorage context manager as NodeSDK sets up, a batch span processor, a
 *     metric reader), and with the SDK sampling 10 % of traces (metrics still count everything),
 *     interleaved in one process.
 *
 * Set BENCH_BASE_OS to the `dist/index.js` of `@empathy/os` in another build (e.g. main's) to add
 * a row comparing this build's "off" with that build: what the seam costs when nothing uses it.
 */
import { EmpathyOS } from '@empathy/os';
import { createEvent, type DeliveryTelemetry, type WebhookPlugin } from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import type { DeliveryJob } from '@empathy/webhooks-core/queue';
import { CustomWebhook } from '@empathy/webhooks-http';
import { openTelemetry } from '@empathy/webhooks-otel';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { type BenchRow, median, startSink } from './lib.js';

const CONCURRENCY = 64;
const N = 20_000;
const SECRET = 'whsec_YmVuY2gtc2lnbmluZy1zZWNyZXQtMTIzNDU2Nzg5MA==';

/** Counts and drops spans: the exporter's own cost (network, protobuf) is not ours to measure. */
class DiscardingExporter implements SpanExporter {
  exported = 0;
  export(spans: unknown[], done: Parameters<SpanExporter['export']>[1]): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

/** A reader that collects only when asked (as a Prometheus scrape does). */
class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

type Host = { new (options: object): EmpathyOS };

/** One run: deliveries per second, and this process's CPU time per delivery (µs). */
interface Run {
  rate: number;
  cpuUs: number;
}

async function deliveries(
  OS: Host,
  url: string,
  telemetry: DeliveryTelemetry | undefined,
  makeWebhook: (options: object) => WebhookPlugin = (o) => new CustomWebhook(o as never),
): Promise<Run> {
  const webhook = makeWebhook({
    name: 'bench',
    url: `${url}/hook`,
    signingSecret: SECRET,
    concurrency: CONCURRENCY,
    allowPrivateNetwork: true,
  });
  const empathy = new OS({ userId: 'developer_123', webhooks: [webhook], telemetry });
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < N; i++) await empathy.emit('prediction', SAMPLE_DATA.prediction);
  await empathy.flush();
  const used = process.cpuUsage(cpu);
  const rate = N / ((performance.now() - started) / 1000);
  if (empathy.monitor.getWebhookStats('bench').successCount !== N)
    throw new Error('bench: not every event was delivered');
  await empathy.close();
  return { rate, cpuUs: (used.user + used.system) / N };
}

/**
 * The telemetry calls of one delivery alone (emit span, attempt span with its headers and
 * context, the outcome's metrics), without I/O: µs of CPU per delivery. Steadier than the
 * end-to-end rows on a shared machine, and the floor of what recording costs.
 */
async function callsAlone(telemetry: DeliveryTelemetry): Promise<number> {
  const event = createEvent('prediction', SAMPLE_DATA.prediction, { userId: 'developer_123' });
  const once = () => {
    const emit = telemetry.onEmit!(event, 1)!;
    const job: DeliveryJob = {
      id: `${event.event_id}:bench`,
      webhook: 'bench',
      event,
      attempt: 0,
      availableAt: 0,
      enqueuedAt: 0,
      trace: emit.trace,
    };
    emit.end();
    const attempt = telemetry.onAttemptStart!(job, 1)!;
    attempt.run!(() => undefined);
    attempt.end({ outcome: 'delivered', durationMs: 3.2, status: 200 });
  };
  const M = 200_000;
  for (let i = 0; i < 20_000; i++) once();
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const cpu = process.cpuUsage();
    for (let i = 0; i < M; i++) {
      once();
      // Let the batch span processor export, as it would between deliveries.
      if (i % 512 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const used = process.cpuUsage(cpu);
    runs.push((used.user + used.system) / M);
  }
  return median(runs);
}

export default async function run(): Promise<BenchRow[]> {
  const sink = await startSink('ok');
  const exporter = new DiscardingExporter();
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 8192, maxExportBatchSize: 512 })],
  });
  const sampledProvider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }),
    spanProcessors: [new BatchSpanProcessor(new DiscardingExporter())],
  });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const manager = new AsyncLocalStorageContextManager().enable();
  const base = process.env.BENCH_BASE_OS
    ? ((await import(process.env.BENCH_BASE_OS)) as { EmpathyOS: Host })
    : undefined;
  const baseHttp = process.env.BENCH_BASE_HTTP
    ? ((await import(process.env.BENCH_BASE_HTTP)) as { CustomWebhook: new (o: object) => WebhookPlugin })
    : undefined;
  try {
    const off: Run[] = [];
    const apiOnly: Run[] = [];
    const sdk: Run[] = [];
    const baseOff: Run[] = [];
    const sampled: Run[] = [];
    const offInApp: Run[] = [];
    // An application that runs the OpenTelemetry SDK: its context manager is on and its work runs
    // inside a context (as an instrumented request handler's does), which in Node turns on
    // AsyncLocalStorage's promise hooks for every promise of the process, whether or not this
    // library records anything. `telemetry` undefined: the application's cost without ours.
    const inApp = async (telemetry: DeliveryTelemetry | undefined) => {
      context.setGlobalContextManager(manager);
      try {
        return await context.with(context.active(), () => deliveries(EmpathyOS, sink.url, telemetry));
      } finally {
        context.disable();
      }
    };
    const withSdk = (provider = tracerProvider) =>
      inApp(openTelemetry({ tracerProvider: provider, meterProvider }));
    const inBase = () =>
      deliveries(
        base!.EmpathyOS,
        sink.url,
        undefined,
        baseHttp ? (o) => new baseHttp.CustomWebhook(o) : undefined,
      );
    // Warm-up every path, then five interleaved rounds.
    await deliveries(EmpathyOS, sink.url, undefined);
    await deliveries(EmpathyOS, sink.url, openTelemetry());
    await withSdk();
    await withSdk(sampledProvider);
    await inApp(undefined);
    if (base) await inBase();
    for (let i = 0; i < 5; i++) {
      off.push(await deliveries(EmpathyOS, sink.url, undefined));
      offInApp.push(await inApp(undefined));
      apiOnly.push(await deliveries(EmpathyOS, sink.url, openTelemetry()));
      sdk.push(await withSdk());
      sampled.push(await withSdk(sampledProvider));
      if (base) baseOff.push(await inBase());
    }
    const alone = await callsAlone(openTelemetry({ tracerProvider, meterProvider }));
    await tracerProvider.forceFlush();
    const { errors } = await reader.collect();
    if (errors.length > 0) throw errors[0];
    // Every emit and attempt of the six SDK runs became a span: the row measured real recording.
    const expected = 6 * 2 * N;
    if (exporter.exported < expected) {
      throw new Error(`bench: ${exporter.exported} spans exported, expected at least ${expected}`);
    }
    const rate = (runs: Run[]) => median(runs.map((r) => r.rate));
    const cpu = (runs: Run[]) => median(runs.map((r) => r.cpuUs));
    const o = rate(off);
    const oc = cpu(off);
    // Throughput, and the client's CPU per delivery: on a shared, loaded machine the second
    // moves less with what other processes do.
    const pair = (bench: string, runs: Run[], target?: string, baseRuns = off, label = 'off'): BenchRow[] => [
      {
        bench,
        metric: `deliveries/s ÷ ${label}`,
        value: Math.round(rate(runs)),
        unit: 'req/s',
        baseline: Math.round(rate(baseRuns)),
        ratio: rate(runs) / rate(baseRuns),
        ...(target && { target }),
      },
      {
        bench,
        metric: `client CPU per delivery ÷ ${label}`,
        value: Math.round(cpu(runs) * 10) / 10,
        unit: 'µs',
        baseline: Math.round(cpu(baseRuns) * 10) / 10,
        ratio: cpu(runs) / cpu(baseRuns),
      },
    ];
    const rows: BenchRow[] = [
      {
        bench: 'telemetry off (CustomWebhook signed, c=64)',
        metric: 'deliveries/s',
        value: Math.round(o),
        unit: 'req/s',
      },
      ...pair('openTelemetry(), API only (no SDK)', apiOnly),
      ...pair('openTelemetry() + SDK (spans + metrics)', sdk),
      ...pair('openTelemetry() + SDK, 10 % of traces sampled', sampled),
      ...pair('off, in an app running the OTel SDK (context manager on)', offInApp),
      ...pair(
        'openTelemetry() + SDK, in that app',
        sdk,
        '>= 0.9x (on costs < 10 %)',
        offInApp,
        'off in that app',
      ),
      {
        bench: 'openTelemetry() + SDK: the calls of one delivery, no I/O',
        metric: 'CPU per delivery',
        value: Math.round(alone * 10) / 10,
        unit: 'µs',
      },
    ];
    if (base) {
      rows.push(
        {
          bench: 'telemetry off ÷ the base build (BENCH_BASE_OS)',
          metric: 'deliveries/s ÷ base',
          value: Math.round(o),
          unit: 'req/s',
          baseline: Math.round(rate(baseOff)),
          ratio: o / rate(baseOff),
          target: 'off costs nothing measurable',
        },
        {
          bench: 'telemetry off ÷ the base build (BENCH_BASE_OS)',
          metric: 'client CPU per delivery ÷ base',
          value: Math.round(oc * 10) / 10,
          unit: 'µs',
          baseline: Math.round(cpu(baseOff) * 10) / 10,
          ratio: oc / cpu(baseOff),
        },
      );
    }
    return rows;
  } finally {
    sink.stop();
    await tracerProvider.shutdown();
    await sampledProvider.shutdown();
    await meterProvider.shutdown();
  }
}
