import { trace } from '@opentelemetry/api';
import { expect, it } from 'vitest';
import { fromCarrier, toCarrier } from '../src/trace-context.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

it('reads a W3C traceparent and tracestate into a remote parent, and writes them back', () => {
  const carrier = {
    traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
    tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  };
  const span = trace.getSpanContext(fromCarrier(carrier))!;
  expect(span).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
  expect(toCarrier(span)).toEqual(carrier);
  expect(toCarrier({ ...span, traceFlags: 0, traceState: undefined })).toEqual({
    traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`,
  });
});

it('starts a new trace from a missing or malformed carrier instead of failing', () => {
  const bad = [
    undefined,
    { traceparent: '' },
    { traceparent: `00-${TRACE_ID}-${SPAN_ID}` },
    { traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01` },
    { traceparent: `00-${'0'.repeat(32)}-${SPAN_ID}-01` },
    { traceparent: `00-${TRACE_ID}-${'0'.repeat(16)}-01` },
    { traceparent: `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01` },
    { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01-extra` },
    { traceparent: 42 as never },
  ];
  for (const carrier of bad) expect(trace.getSpanContext(fromCarrier(carrier))).toBeUndefined();
  // A later version may add fields; its first four still parse.
  expect(
    trace.getSpanContext(fromCarrier({ traceparent: `01-${TRACE_ID}-${SPAN_ID}-01-extra` }))?.traceId,
  ).toBe(TRACE_ID);
  // An oversized tracestate is dropped; the parent stays.
  const huge = fromCarrier({
    traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`,
    tracestate: `a=${'x'.repeat(10_000)}`,
  });
  expect(trace.getSpanContext(huge)?.traceState).toBeUndefined();
});
