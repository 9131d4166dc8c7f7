import { DEFAULT_FRAMEWORK_VERSION, type EmpathyEvent, newEventId } from '@empathy/webhooks-core';
import { MAX_TAG, tag } from './format.js';

/** How Datadog aggregates a metric's points. */
export type MetricType = 'gauge' | 'count' | 'rate';

/** One value of one metric, waiting to be sent. */
export interface MetricPoint {
  metric: string;
  type: MetricType;
  value: number;
  /** POSIX seconds. */
  timestamp: number;
  tags: string[];
  /** Seconds a `count` or `rate` covers. */
  interval?: number | undefined;
  unit?: string | undefined;
}

/** One series of a v2 `POST /api/v2/series` body, as the SDK's `MetricSeries` takes it. */
export interface DatadogSeries {
  metric: string;
  /** The v2 intake type: 1 count, 2 rate, 3 gauge. */
  type: 1 | 2 | 3;
  points: { timestamp: number; value: number }[];
  tags: string[];
  interval?: number | undefined;
  unit?: string | undefined;
}

const INTAKE_TYPE = { count: 1, rate: 2, gauge: 3 } as const satisfies Record<MetricType, 1 | 2 | 3>;

/** Datadog's limit on one `POST /api/v2/series` body, uncompressed. */
export const MAX_SERIES_PAYLOAD_BYTES = 512_000;

/**
 * Groups points into v2 series (one per metric, type, tags, interval and unit), keeping their
 * order, so N values of one metric cost one series rather than N. Counts that share a second are
 * summed: Datadog keeps one value per series and timestamp, so sending both would lose one.
 */
export function toSeries(points: readonly MetricPoint[]): DatadogSeries[] {
  const series = new Map<string, DatadogSeries>();
  const counts = new Map<string, { timestamp: number; value: number }>();
  for (const p of points) {
    const key = JSON.stringify([p.metric, p.type, p.tags, p.interval, p.unit]);
    let s = series.get(key);
    if (!s) {
      s = { metric: p.metric, type: INTAKE_TYPE[p.type], points: [], tags: p.tags };
      if (p.interval !== undefined) s.interval = p.interval;
      if (p.unit !== undefined) s.unit = p.unit;
      series.set(key, s);
    }
    if (p.type === 'count') {
      const same = counts.get(`${key}@${p.timestamp}`);
      if (same) {
        same.value += p.value;
        continue;
      }
    }
    const point = { timestamp: p.timestamp, value: p.value };
    if (p.type === 'count') counts.set(`${key}@${p.timestamp}`, point);
    s.points.push(point);
  }
  return [...series.values()];
}

/**
 * Splits points into request bodies of at most `maxBytes` (JSON, as sent), halving a chunk
 * until it fits. A single point always fits: names and tags are capped at 200 characters.
 */
export function chunkBySize(points: MetricPoint[], maxBytes: number): MetricPoint[][] {
  const size = Buffer.byteLength(JSON.stringify({ series: toSeries(points) }));
  if (size <= maxBytes || points.length <= 1) return [points];
  const half = Math.ceil(points.length / 2);
  return [...chunkBySize(points.slice(0, half), maxBytes), ...chunkBySize(points.slice(half), maxBytes)];
}

/** Datadog metric names: a letter first, then ASCII letters, digits, `_` and `.`; at most 200. */
export const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,199}$/;

/**
 * The metrics an event adds when `eventMetrics` is on:
 * - `empathy.events` (count 1) for every event, tagged with its type and severity;
 * - `empathy.prediction.confidence` (gauge) for a prediction, tagged with user and level;
 * - `empathy.performance.<name>` (gauge) for each entry of a performance issue's `metrics`;
 * - `empathy.interactions.duration_ms` (gauge) for a completion that reports its duration.
 */
export function eventMetricPoints(
  event: EmpathyEvent,
  baseTags: readonly string[],
  timestamp: number,
  interval: number,
): MetricPoint[] {
  const tags = (...extra: string[]) => [...new Set([...baseTags, ...extra])];
  const severity = event.severity === undefined ? [] : [tag('severity', event.severity)];
  const points: MetricPoint[] = [
    {
      metric: 'empathy.events',
      type: 'count',
      value: 1,
      timestamp,
      interval,
      tags: tags(tag('event_type', event.event_type), ...severity),
    },
  ];
  const user = tag('user', event.user_id);
  switch (event.event_type) {
    case 'prediction':
      if (Number.isFinite(event.data.confidence)) {
        points.push({
          metric: 'empathy.prediction.confidence',
          type: 'gauge',
          value: event.data.confidence,
          timestamp,
          tags: tags(user, `level:${event.empathy_level}`),
        });
      }
      break;
    case 'performance_issue': {
      const d = event.data;
      const where = [
        ...(d.service ? [tag('service', d.service)] : []),
        ...(d.endpoint ? [tag('endpoint', d.endpoint)] : []),
      ];
      for (const [name, value] of Object.entries(d.metrics ?? {}).slice(0, 50)) {
        const metric = `empathy.performance.${name.replace(/[^A-Za-z0-9_.]+/g, '_')}`.slice(0, 200);
        if (typeof value === 'number' && Number.isFinite(value) && METRIC_NAME.test(metric)) {
          points.push({ metric, type: 'gauge', value, timestamp, tags: tags(...where) });
        }
      }
      break;
    }
    case 'completion':
      if (typeof event.data.duration_ms === 'number' && Number.isFinite(event.data.duration_ms)) {
        points.push({
          metric: 'empathy.interactions.duration_ms',
          type: 'gauge',
          value: event.data.duration_ms,
          timestamp,
          unit: 'millisecond',
          tags: tags(user),
        });
      }
      break;
  }
  return points;
}

/**
 * The `event_type` of a metric batch's job. A batch travels through the host's queue as an event
 * of this type, addressed to one `DatadogWebhook` (never routed: no filter or `events` list
 * sees it), so durable queues store it, the monitor counts it and the dead letters keep it.
 */
export const METRICS_EVENT_TYPE = 'datadog.metrics';

/** What a metric batch's job carries: the v2 `POST /api/v2/series` body, and its point count. */
export interface MetricBatch {
  series: DatadogSeries[];
  points: number;
}

/** The job event for a batch of points (one request body). */
export function metricsEvent(points: readonly MetricPoint[], webhook: string): EmpathyEvent {
  const batch: MetricBatch = { series: toSeries(points), points: points.length };
  return {
    event_type: METRICS_EVENT_TYPE,
    event_id: newEventId(),
    timestamp: new Date().toISOString(),
    user_id: webhook,
    empathy_level: 1,
    data: batch,
    metadata: { framework_version: DEFAULT_FRAMEWORK_VERSION },
  } as unknown as EmpathyEvent;
}

/** Whether `event` is a metric batch's job. */
export function isMetricsEvent(event: EmpathyEvent): boolean {
  return (event.event_type as string) === METRICS_EVENT_TYPE;
}

/**
 * The batch a metric job carries, checked as Datadog would check it (names, types, finite
 * values, tag lengths, the 512,000-byte body): a job from a dead letter or another process is
 * data, not trusted code. Throws a message naming what is wrong.
 */
export function readMetricBatch(event: EmpathyEvent): MetricBatch {
  const data = event.data as unknown as Partial<MetricBatch> | undefined;
  const series = data?.series;
  if (!Array.isArray(series) || series.length === 0) throw new Error(`the batch has no 'series'`);
  for (const s of series) {
    if (typeof s?.metric !== 'string' || !METRIC_NAME.test(s.metric)) {
      throw new Error(
        `the batch has an invalid metric name ${JSON.stringify(String(s?.metric).slice(0, 210))}`,
      );
    }
    if (![1, 2, 3].includes(s.type)) throw new Error(`the batch has an invalid type for '${s.metric}'`);
    if (
      !Array.isArray(s.points) ||
      s.points.length === 0 ||
      !s.points.every((p) => Number.isInteger(p?.timestamp) && Number.isFinite(p?.value))
    ) {
      throw new Error(`the batch has invalid points for '${s.metric}'`);
    }
    if (!Array.isArray(s.tags) || !s.tags.every((t) => typeof t === 'string' && t.length <= MAX_TAG)) {
      throw new Error(`the batch has invalid tags for '${s.metric}'`);
    }
  }
  if (Buffer.byteLength(JSON.stringify({ series })) > MAX_SERIES_PAYLOAD_BYTES) {
    throw new Error(`the batch is over Datadog's ${MAX_SERIES_PAYLOAD_BYTES} bytes`);
  }
  const points = series.reduce((sum, s) => sum + s.points.length, 0);
  return { series, points };
}
