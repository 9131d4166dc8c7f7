export {
  ATTRIBUTES,
  DEFERRED_EVENT,
  INSTRUMENTATION_SCOPE,
  LATENCY_BUCKETS_SECONDS,
  METRICS,
} from './names.js';
export { type OpenTelemetryOptions, openTelemetry } from './open-telemetry.js';
