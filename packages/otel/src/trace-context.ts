import type { TraceCarrier } from '@empathy/webhooks-core';
import {
  type Context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
} from '@opentelemetry/api';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), written and read here rather than
 * through the global propagator: the carrier's format is fixed (the queues store these strings),
 * and a process that registered another propagator (B3, Jaeger) or none must still continue the
 * trace of a job another process queued.
 */

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** tracestate: at most 32 list members of at most 256 characters each (W3C §3.3.1.1). */
const MAX_TRACESTATE = 32 * 257;

/** The carrier of a span context, or `undefined` if it is invalid (a no-op tracer's span). */
export function toCarrier(context: SpanContext): TraceCarrier | undefined {
  if (!isSpanContextValid(context)) return undefined;
  const traceparent = `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const tracestate = context.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/**
 * A context whose remote parent is the carrier's span, or the root context when the carrier is
 * missing or malformed (the delivery then starts a trace of its own rather than failing).
 */
export function fromCarrier(carrier: TraceCarrier | undefined): Context {
  if (!carrier || typeof carrier.traceparent !== 'string') return ROOT_CONTEXT;
  // The in-memory queue hands the same carrier to every job of an emit and every retry: parse once.
  let parsed = parsedCarriers.get(carrier);
  if (
    parsed === undefined ||
    parsed.traceparent !== carrier.traceparent ||
    parsed.tracestate !== carrier.tracestate
  ) {
    parsed = { traceparent: carrier.traceparent, tracestate: carrier.tracestate, context: parse(carrier) };
    parsedCarriers.set(carrier, parsed);
  }
  return parsed.context;
}

const parsedCarriers = new WeakMap<
  TraceCarrier,
  { traceparent: string; tracestate: string | undefined; context: Context }
>();

function parse(carrier: TraceCarrier): Context {
  const match = TRACEPARENT.exec(carrier.traceparent.trim());
  if (!match) return ROOT_CONTEXT;
  const [, version, traceId, spanId, flags, rest] = match;
  // Version ff is forbidden; version 00 has exactly four fields; later versions may add fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return ROOT_CONTEXT;
  const spanContext: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: Number.parseInt(flags!, 16) & 0x01,
    isRemote: true,
  };
  if (!isSpanContextValid(spanContext)) return ROOT_CONTEXT;
  const state = carrier.tracestate;
  if (typeof state === 'string' && state.length > 0 && state.length <= MAX_TRACESTATE) {
    spanContext.traceState = createTraceState(state);
  }
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

/** The headers a receiver reads to continue the trace: `traceparent` and, if any, `tracestate`. */
export function toHeaders(context: SpanContext): Readonly<Record<string, string>> | undefined {
  const carrier = toCarrier(context);
  if (!carrier) return undefined;
  return carrier.tracestate === undefined
    ? { traceparent: carrier.traceparent }
    : { traceparent: carrier.traceparent, tracestate: carrier.tracestate };
}
