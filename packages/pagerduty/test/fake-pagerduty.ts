import type { FakeResponse, RecordedRequest, VendorFailures } from '@empathy/webhooks-core/testing';

/** A routing key the fake accepts (PagerDuty's are 32 characters). */
export const ROUTING_KEY = 'R0UT1NGK3Y0123456789abcdefSECRET';

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];

/**
 * Answers like PagerDuty's Events API v2 (developer.pagerduty.com/api-reference, "Send Event"):
 * 202 `{ status: 'success', message, dedup_key }`, or 400 `{ status: 'invalid event', message,
 * errors }` naming what is wrong, checked the way PagerDuty checks it.
 */
export function eventsApi(request: RecordedRequest): FakeResponse {
  if (request.method !== 'POST' || request.path !== '/v2/enqueue') {
    return { status: 404, body: { status: 'not found', message: 'Not Found' } };
  }
  let event: any;
  try {
    event = request.json();
  } catch {
    return invalid('Could not parse the request body as JSON');
  }
  const errors: string[] = [];
  if (Buffer.byteLength(request.body) > 512 * 1024) errors.push('Event is larger than 512 KB');
  if (typeof event.routing_key !== 'string' || event.routing_key.length !== 32) {
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  }
  if (!ACTIONS.includes(event.event_action)) errors.push("'event_action' is invalid");
  if (
    event.dedup_key !== undefined &&
    (typeof event.dedup_key !== 'string' || event.dedup_key.length > 255)
  ) {
    errors.push("'dedup_key' must be a string of at most 255 characters");
  }
  if (event.event_action === 'trigger') {
    const p = event.payload ?? {};
    if (typeof p.summary !== 'string' || p.summary.trim() === '')
      errors.push("'payload.summary' is missing or blank");
    else if (p.summary.length > 1024) errors.push("'payload.summary' is longer than 1024 characters");
    if (typeof p.source !== 'string' || p.source.trim() === '')
      errors.push("'payload.source' is missing or blank");
    if (!SEVERITIES.includes(p.severity)) errors.push("'payload.severity' is invalid");
    if (p.timestamp !== undefined && Number.isNaN(Date.parse(p.timestamp))) {
      errors.push("'payload.timestamp' is not a valid ISO 8601 timestamp");
    }
  } else if (typeof event.dedup_key !== 'string' || event.dedup_key === '') {
    errors.push(`'dedup_key' is required to ${event.event_action} an alert`);
  }
  if (errors.length > 0) return invalid(...errors);
  return {
    status: 202,
    body: { status: 'success', message: 'Event processed', dedup_key: event.dedup_key ?? 'generated0000' },
  };
}

function invalid(...errors: string[]): FakeResponse {
  return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } };
}

/** PagerDuty's answers to each contract failure. */
export const eventsApiFailures = {
  server_error: { status: 500, body: 'Internal Server Error', headers: { 'content-type': 'text/plain' } },
  rate_limited: (retryAfterSeconds: number): FakeResponse => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds) },
    body: {
      status: 'throttle event',
      message: 'Requests for this service are arriving too quickly. Please retry later.',
    },
  }),
  client_error: invalid("'payload.summary' is missing or blank"),
  // PagerDuty lists what it refused, quoting the field's value.
  echo: (text: string): FakeResponse => invalid(`'dedup_key' is invalid: ${text}`),
  success: { status: 202, headers: { 'content-type': 'application/json' } },
} satisfies VendorFailures;
