import type { FakeResponse, RecordedRequest, VendorFailures } from '@empathy/webhooks-core/testing';

/** An API key the fake accepts (Datadog's are 32 hex characters). */
export const API_KEY = 'ddapi0123456789abcdef0123456SECRET';
/** An application key (not needed by the endpoints used; it must never leak either). */
export const APP_KEY = 'ddapp0123456789abcdef0123456789abcdefSECRET';

const ALERT_TYPES = ['error', 'warning', 'info', 'success', 'user_update', 'recommendation', 'snapshot'];
const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,199}$/;

let nextId = 7_300_000_000_000_000_000n;

/**
 * Answers like Datadog's API (docs.datadoghq.com/api/latest/events, …/metrics): `DD-API-KEY`
 * checked (403 `{"errors":["Forbidden"]}`), `POST /api/v1/events` → 202 `{ status: 'ok', event }`
 * and `POST /api/v2/series` → 202 `{ errors: [] }`, or 400 `{ errors: [...] }` naming what is
 * wrong, checked against Datadog's documented limits.
 */
export function datadogApi(request: RecordedRequest): FakeResponse {
  if (request.headers['dd-api-key'] !== API_KEY) return { status: 403, body: { errors: ['Forbidden'] } };
  if (request.method === 'POST' && request.path === '/api/v1/events') return createEvent(request);
  if (request.method === 'POST' && request.path === '/api/v2/series') return submitSeries(request);
  return { status: 404, body: { errors: ['Not found'] } };
}

function createEvent(request: RecordedRequest): FakeResponse {
  let event: any;
  try {
    event = request.json();
  } catch {
    return invalid('Invalid JSON');
  }
  const errors = eventErrors(event);
  if (errors.length > 0) return invalid(...errors);
  const id = nextId++;
  return {
    status: 202,
    body: {
      status: 'ok',
      event: {
        id: Number(id),
        id_str: String(id),
        title: event.title,
        text: event.text,
        date_happened: event.date_happened ?? Math.floor(Date.now() / 1000),
        handle: null,
        priority: null,
        related_event_id: null,
        tags: event.tags ?? null,
        url: `https://app.datadoghq.com/event/event?id=${id}`,
      },
    },
  };
}

/** What Datadog would refuse in an event body (wire format, snake_case). */
export function eventErrors(event: any): string[] {
  const errors: string[] = [];
  if (typeof event?.title !== 'string' || event.title.trim() === '') errors.push("Event 'title' is required");
  else if (event.title.length > 100) errors.push("Event 'title' is longer than 100 characters");
  if (typeof event?.text !== 'string') errors.push("Event 'text' is required");
  else if (event.text.length > 4000) errors.push("Event 'text' is longer than 4000 characters");
  if (event?.alert_type !== undefined && !ALERT_TYPES.includes(event.alert_type)) {
    errors.push("Invalid 'alert_type'");
  }
  if (
    event?.aggregation_key !== undefined &&
    (typeof event.aggregation_key !== 'string' || event.aggregation_key.length > 100)
  ) {
    errors.push("'aggregation_key' must be a string of at most 100 characters");
  }
  if (event?.tags !== undefined) {
    if (
      !Array.isArray(event.tags) ||
      !event.tags.every((t: unknown) => typeof t === 'string' && t.length <= 200)
    ) {
      errors.push("'tags' must be strings of at most 200 characters");
    }
  }
  if (event?.date_happened !== undefined) {
    if (!Number.isInteger(event.date_happened)) errors.push("'date_happened' must be an integer");
    else if (Date.now() / 1000 - event.date_happened > 18 * 3600) {
      errors.push("'date_happened' is older than 18 hours");
    }
  }
  for (const key of Object.keys(event ?? {})) {
    if (!/^[a-z_]+$/.test(key)) errors.push(`Unknown field '${key}'`);
  }
  return errors;
}

function submitSeries(request: RecordedRequest): FakeResponse {
  if (Buffer.byteLength(request.body) > 512_000) {
    return { status: 413, body: { errors: ['Payload too large'] } };
  }
  let payload: any;
  try {
    payload = request.json();
  } catch {
    return invalid('Invalid JSON');
  }
  const errors = seriesErrors(payload);
  return errors.length > 0 ? invalid(...errors) : { status: 202, body: { errors: [] } };
}

/** What Datadog would refuse in a series body. */
export function seriesErrors(payload: any, now = Date.now() / 1000): string[] {
  const errors: string[] = [];
  if (!Array.isArray(payload?.series) || payload.series.length === 0)
    return ["'series' must be a non-empty array"];
  for (const s of payload.series) {
    if (typeof s.metric !== 'string' || !METRIC_NAME.test(s.metric))
      errors.push(`Invalid metric name '${s.metric}'`);
    if (s.type !== undefined && ![0, 1, 2, 3].includes(s.type)) errors.push(`Invalid type for '${s.metric}'`);
    if (!Array.isArray(s.points) || s.points.length === 0) errors.push(`No points for '${s.metric}'`);
    for (const p of s.points ?? []) {
      if (!Number.isInteger(p.timestamp) || p.timestamp < now - 3600 || p.timestamp > now + 600) {
        errors.push(`Point timestamp out of range for '${s.metric}'`);
      }
      if (typeof p.value !== 'number' || !Number.isFinite(p.value))
        errors.push(`Invalid value for '${s.metric}'`);
    }
    if (s.tags !== undefined && !s.tags.every((t: unknown) => typeof t === 'string' && t.length <= 200)) {
      errors.push(`Invalid tags for '${s.metric}'`);
    }
  }
  return errors;
}

function invalid(...errors: string[]): FakeResponse {
  return { status: 400, body: { errors } };
}

/** A Datadog 429: `X-RateLimit-*` headers, `X-RateLimit-Reset` in seconds. */
export function rateLimited(resetSeconds: number): FakeResponse {
  return {
    status: 429,
    headers: {
      'x-ratelimit-limit': '1000',
      'x-ratelimit-period': '60',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(resetSeconds),
      'x-ratelimit-name': 'events_post',
    },
    body: { errors: ['Rate limit exceeded'] },
  };
}

/** Datadog's answers to each contract failure. */
export const datadogFailures = {
  server_error: {
    status: 503,
    headers: { 'content-type': 'text/html' },
    body: '<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>',
  },
  rate_limited: rateLimited,
  client_error: invalid("Event 'title' is required"),
  // Datadog names what it refused: a 400 quotes the value it could not take.
  echo: (text: string) => invalid(`Invalid tag: ${text}`),
} satisfies VendorFailures;
