import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  DataPointType,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach } from 'vitest';

// What NodeSDK sets up: an AsyncLocalStorage context, so "the active context" follows async calls.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

/** A metric reader the test collects from on demand. */
class TestMetricReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** One data point of a metric, as a test reads it. */
export interface Point {
  attributes: Record<string, unknown>;
  /** Sums and gauges. */
  value?: number;
  /** Histograms. */
  count?: number;
  sum?: number;
  boundaries?: number[];
}

/** An SDK tracer provider with an in-memory exporter and a meter provider with a reader. */
export function otelSdk() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new TestMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    span(name: string, filter: (span: ReadableSpan) => boolean = () => true): ReadableSpan {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name && filter(s));
      if (found.length !== 1) {
        throw new Error(
          `expected one span '${name}', found ${found.length} among ${exporter
            .getFinishedSpans()
            .map((s) => s.name)
            .join(', ')}`,
        );
      }
      return found[0]!;
    },
    /** Every data point of the metric `name`, collected now. */
    async points(name: string): Promise<Point[]> {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      const out: Point[] = [];
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          if (metric.descriptor.name !== name) continue;
          for (const point of metric.dataPoints as DataPoint<number | Histogram>[]) {
            if (metric.dataPointType === DataPointType.HISTOGRAM) {
              const h = point.value as Histogram;
              out.push({
                attributes: point.attributes,
                count: h.count,
                sum: h.sum,
                boundaries: h.buckets.boundaries,
              });
            } else out.push({ attributes: point.attributes, value: point.value as number });
          }
        }
      }
      return out;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** The parent span id of a finished span (SDK 2: `parentSpanContext`). */
export function parentOf(span: ReadableSpan): SpanContext | undefined {
  return span.parentSpanContext;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh SQLite file path, removed after the test. */
export function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'otel-'));
  dirs.push(dir);
  return join(dir, 'queue.db');
}

/** Polls `check` until it holds, for at most `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
