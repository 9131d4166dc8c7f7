/**
 * (d) What delivery telemetry costs: signed CustomWebhook deliveries (c=64, monitor on) with no
 *     telemetry; with `openTelemetry()` on the API alone (no SDK registered: what installing the
 *     package costs before an SDK starts); in an application that runs the OpenTelemetry SDK (an
 *     AsyncLocalStorage context manager as NodeSDK sets up, a batch span processor, a metric
 *     reader) without our telemetry, with it, with it sampling 10 % of traces, and with the SDK's
 *     own calls for one delivery and nothing of ours (the floor any telemetry built on the SDK
 *     pays). Against a loopback receiver that answers at once (the client's CPU is the bottleneck)
 *     and against one that answers in 20 ms (the receiver is).
 *
 * The machine's noise (±15 % between identical runs on a shared 2-core VM) is larger than the
 * effects measured, so each comparison is paired: many short rounds, every configuration once per
 * round in a shuffled order, and the median over rounds of each round's ratio.
 *
 * Set BENCH_BASE_OS to the `dist/index.js` of `@empathy/os` in another build (e.g. main's) to add
 * a row comparing this build's "off" with that build: what the seam costs when nothing uses it.
 */
import { EmpathyOS } from '@empathy/os';
import { createEvent, type DeliveryTelemetry, type WebhookPlugin } from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import type { DeliveryJob } from '@empathy/webhooks-core/queue';
import { CustomWebhook } from '@empathy/webhooks-http';
import { LATENCY_BUCKETS_SECONDS, openTelemetry } from '@empathy/webhooks-otel';
import {
  type Context,
  context,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
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
/** Deliveries per run, and rounds (each runs every configuration once, in a shuffled order). */
const N = 4_000;
const ROUNDS = 15;
/** The receiver at a realistic distance: its answer time, and the rounds and deliveries there. */
const SLOW_MS = 20;
const SLOW_ROUNDS = 3;
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

type Host = typeof EmpathyOS;

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
  n = N,
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
  for (let i = 0; i < n; i++) await empathy.emit('prediction', SAMPLE_DATA.prediction);
  await empathy.flush();
  const used = process.cpuUsage(cpu);
  const rate = n / ((performance.now() - started) / 1000);
  if (empathy.monitor.getWebhookStats('bench').successCount !== n)
    throw new Error('bench: not every event was delivered');
  await empathy.close();
  return { rate, cpuUs: (used.user + used.system) / n };
}

/**
 * The OpenTelemetry SDK's own calls for one delivery, and nothing of ours: an emit span, a deliver
 * span (its child) with the same attributes, one histogram record. No trace carrier, headers or
 * context around the attempt. What any telemetry built on the SDK pays at least.
 */
function sdkAlone(tracerProvider: TracerProvider, meterProvider: MeterProvider): DeliveryTelemetry {
  const tracer = tracerProvider.getTracer('bench');
  const duration = meterProvider.getMeter('bench').createHistogram('bench.attempt.duration', {
    unit: 's',
    advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_SECONDS] },
  });
  const parents = new WeakMap<object, Context>();
  return {
    onEmit(event) {
      const span = tracer.startSpan(`emit ${event.event_type}`, {
        kind: SpanKind.PRODUCER,
        attributes: { 'empathy.event.type': event.event_type, 'empathy.event.id': event.event_id },
      });
      span.end();
      parents.set(event, trace.setSpan(ROOT_CONTEXT, span));
      return { end() {} };
    },
    onAttemptStart(job, attempt) {
      const span = tracer.startSpan(
        `deliver ${job.webhook}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'empathy.webhook.name': job.webhook,
            'empathy.event.type': job.event.event_type,
            'empathy.event.id': job.event.event_id,
            'empathy.delivery.attempt': attempt,
          },
        },
        parents.get(job.event),
      );
      return {
        end(result) {
          span.setAttribute('empathy.delivery.outcome', result.outcome);
          if (result.status !== undefined) span.setAttribute('http.response.status_code', result.status);
          span.end();
          duration.record(result.durationMs / 1000, {
            'empathy.webhook.name': job.webhook,
            'empathy.delivery.outcome': result.outcome,
          });
        },
      };
    },
  };
}

/**
 * The telemetry calls of one delivery alone (emit span, attempt span with its headers and
 * context, the outcome's metrics), without I/O: µs of CPU per delivery of each telemetry given,
 * medians of five alternating runs. Steadier than the end-to-end rows on a shared machine.
 */
async function callsAlone(...telemetries: DeliveryTelemetry[]): Promise<number[]> {
  const runs: number[][] = telemetries.map(() => []);
  for (let r = 0; r < 5; r++) {
    for (const [i, telemetry] of telemetries.entries()) runs[i]!.push(await callsOnce(telemetry));
  }
  return runs.map(median);
}

/** One measurement of {@link callsAlone}, after a warm-up. */
async function callsOnce(telemetry: DeliveryTelemetry): Promise<number> {
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
    attempt.run?.(() => undefined);
    attempt.end({ outcome: 'delivered', durationMs: 3.2, status: 200 });
  };
  const M = 50_000;
  for (let i = 0; i < 10_000; i++) once();
  const cpu = process.cpuUsage();
  for (let i = 0; i < M; i++) {
    once();
    // Let the batch span processor export, as it would between deliveries.
    if (i % 512 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / M;
}

/** Runs each configuration once per round, in a shuffled order; every run of each, by name. */
async function rounds(
  rounds: number,
  configs: Record<string, () => Promise<Run>>,
): Promise<Record<string, Run[]>> {
  const names = Object.keys(configs);
  const runs: Record<string, Run[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await configs[name]!(); // warm-up
  for (let r = 0; r < rounds; r++) {
    const order = [...names];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const name of order) runs[name]!.push(await configs[name]!());
  }
  return runs;
}

/** The median over rounds of each round's ratio: noise that moves a whole round cancels out. */
function pairedRatio(runs: Run[], baseline: Run[], of: (run: Run) => number): number {
  return median(runs.map((run, i) => of(run) / of(baseline[i]!)));
}

export default async function run(): Promise<BenchRow[]> {
  const sink = await startSink('ok');
  const slowSink = await startSink('slow', SLOW_MS);
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
    // An application that runs the OpenTelemetry SDK: its context manager is on and its work runs
    // inside a context (as an instrumented request handler's does), which in Node turns on
    // AsyncLocalStorage's promise hooks for every promise of the process, whether or not this
    // library records anything. `telemetry` undefined: the application's cost without ours.
    const inApp = async (telemetry: DeliveryTelemetry | undefined, url = sink.url, n = N) => {
      context.setGlobalContextManager(manager);
      try {
        return await context.with(context.active(), () =>
          deliveries(EmpathyOS, url, telemetry, undefined, n),
        );
      } finally {
        context.disable();
      }
    };
    const recording = () => openTelemetry({ tracerProvider, meterProvider });
    const configs: Record<string, () => Promise<Run>> = {
      off: () => deliveries(EmpathyOS, sink.url, undefined),
      apiOnly: () => deliveries(EmpathyOS, sink.url, openTelemetry()),
      offInApp: () => inApp(undefined),
      sdk: () => inApp(recording()),
      sampled: () => inApp(openTelemetry({ tracerProvider: sampledProvider, meterProvider })),
      sdkAlone: () => inApp(sdkAlone(tracerProvider, meterProvider)),
      metricsOnly: () => inApp(openTelemetry({ tracerProvider: new ProxyTracerProvider(), meterProvider })),
    };
    if (base) {
      configs.base = () =>
        deliveries(
          base.EmpathyOS,
          sink.url,
          undefined,
          baseHttp ? (o) => new baseHttp.CustomWebhook(o) : undefined,
        );
    }
    const runs = await rounds(ROUNDS, configs);
    const slow = await rounds(SLOW_ROUNDS, {
      offInApp: () => inApp(undefined, slowSink.url, N),
      sdk: () => inApp(recording(), slowSink.url, N),
    });
    const [alone, floor] = await callsAlone(recording(), sdkAlone(tracerProvider, meterProvider));
    await tracerProvider.forceFlush();
    const { errors } = await reader.collect();
    if (errors.length > 0) throw errors[0];
    // Every emit and attempt of the recording runs became a span: those rows measured real recording.
    const recorded = (1 + ROUNDS) * 2 * 2 * N + (1 + SLOW_ROUNDS) * 2 * N;
    if (exporter.exported < recorded) {
      throw new Error(`bench: ${exporter.exported} spans exported, expected at least ${recorded}`);
    }
    const cpu = (r: Run) => r.cpuUs;
    const rate = (r: Run) => r.rate;
    const med = (list: Run[], of: (run: Run) => number) => median(list.map(of));
    /** Two rows: deliveries/s and the client's CPU per delivery, each a paired ratio to `against`. */
    const pair = (bench: string, list: Run[], against: Run[], label: string, target?: string): BenchRow[] => [
      {
        bench,
        metric: `deliveries/s ÷ ${label}`,
        value: Math.round(med(list, rate)),
        unit: 'req/s',
        baseline: Math.round(med(against, rate)),
        ratio: pairedRatio(list, against, rate),
      },
      {
        bench,
        metric: `client CPU per delivery ÷ ${label}`,
        value: Math.round(med(list, cpu) * 10) / 10,
        unit: 'µs',
        baseline: Math.round(med(against, cpu) * 10) / 10,
        ratio: pairedRatio(list, against, cpu),
        ...(target && { target }),
      },
    ];
    const rows: BenchRow[] = [
      {
        bench: 'telemetry off (CustomWebhook signed, c=64, loopback)',
        metric: 'deliveries/s',
        value: Math.round(med(runs.off!, rate)),
        unit: 'req/s',
      },
      ...pair('openTelemetry(), API only (no SDK)', runs.apiOnly!, runs.off!, 'off'),
      ...pair('off, in an app running the OTel SDK', runs.offInApp!, runs.off!, 'off'),
      ...pair(
        'openTelemetry() + SDK (spans + metrics), in that app',
        runs.sdk!,
        runs.offInApp!,
        'off in app',
        '<= 1.10x (on costs < 10 %)',
      ),
      ...pair('openTelemetry() + SDK, 10 % of traces sampled', runs.sampled!, runs.offInApp!, 'off in app'),
      ...pair(
        'the SDK alone: its calls for one delivery, none of ours',
        runs.sdkAlone!,
        runs.offInApp!,
        'off in app',
      ),
      ...pair(
        'openTelemetry() + SDK, metrics only (no-op tracer provider)',
        runs.metricsOnly!,
        runs.offInApp!,
        'off in app',
      ),
      ...pair(
        `openTelemetry() + SDK, receiver answering in ${SLOW_MS} ms`,
        slow.sdk!,
        slow.offInApp!,
        'off in app',
      ),
      {
        bench: 'the telemetry calls of one delivery, no I/O',
        metric: 'CPU: openTelemetry() + SDK',
        value: Math.round(alone! * 10) / 10,
        unit: 'µs',
      },
      {
        bench: 'the telemetry calls of one delivery, no I/O',
        metric: 'CPU: the SDK alone',
        value: Math.round(floor! * 10) / 10,
        unit: 'µs',
      },
    ];
    if (base) {
      rows.push(
        ...pair(
          'telemetry off ÷ the base build (BENCH_BASE_OS)',
          runs.off!,
          runs.base!,
          'base',
          'off costs nothing measurable',
        ),
      );
    }
    return rows;
  } finally {
    sink.stop();
    slowSink.stop();
    await tracerProvider.shutdown();
    await sampledProvider.shutdown();
    await meterProvider.shutdown();
  }
}
