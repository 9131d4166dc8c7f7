import type { TraceCarrier } from '@empathy/webhooks-core';
import {
  type Context,
  createTraceState,
  INVALID_SPANID,
  INVALID_TRACEID,
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
/**
 * The parent context of a carrier made in this process, kept on the carrier itself: the in-memory
 * queue hands the same object to every attempt, which then need not parse it. A symbol key is
 * invisible to JSON and to the durable queues, which store the two strings only.
 */
const PARENT = Symbol('empathy.trace.parent');

type OwnCarrier = TraceCarrier & { [PARENT]?: Context };

/** Whether a span context has real ids (a no-op tracer's span has the invalid ones). */
export function isValid(context: SpanContext): boolean {
  return context.traceId !== INVALID_TRACEID && context.spanId !== INVALID_SPANID;
}

function traceparentOf(context: SpanContext): string {
  const flags = context.traceFlags & 0xff;
  return `00-${context.traceId}-${context.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

/** The carrier of a span context, or `undefined` if it is invalid (a no-op tracer's span). */
export function toCarrier(context: SpanContext): TraceCarrier | undefined {
  if (!isValid(context)) return undefined;
  const traceparent = traceparentOf(context);
  const tracestate = context.traceState?.serialize();
  const carrier: OwnCarrier = tracestate ? { traceparent, tracestate } : { traceparent };
  Object.defineProperty(carrier, PARENT, {
    value: trace.setSpanContext(ROOT_CONTEXT, context),
    enumerable: false,
  });
  return carrier;
}

/**
 * A context whose remote parent is the carrier's span, or the root context when the carrier is
 * missing or malformed (the delivery then starts a trace of its own rather than failing).
 */
export function fromCarrier(carrier: TraceCarrier | undefined): Context {
  if (!carrier || typeof carrier.traceparent !== 'string') return ROOT_CONTEXT;
  return (carrier as OwnCarrier)[PARENT] ?? parse(carrier);
}

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
  if (!isValid(spanContext)) return ROOT_CONTEXT;
  const state = carrier.tracestate;
  if (typeof state === 'string' && state.length > 0 && state.length <= MAX_TRACESTATE) {
    spanContext.traceState = createTraceState(state);
  }
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

/** The headers a receiver reads to continue the trace: `traceparent` and, if any, `tracestate`. */
export function toHeaders(context: SpanContext): Readonly<Record<string, string>> | undefined {
  if (!isValid(context)) return undefined;
  const traceparent = traceparentOf(context);
  const tracestate = context.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}
