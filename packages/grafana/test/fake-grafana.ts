import type { ContractFailure, FakeResponse, RecordedRequest } from '@empathy/webhooks-core/testing';

/** Credentials the fake accepts. */
// Shaped like real ones (random, no words): a word in a fake secret ("Service") would also
// appear in event text and look like a leak.
export const GRAFANA_TOKEN = 'glsa_Xq7Lm2Pz9Wv4Rt8Ks1Nb6Hd3Fj0Gc5Ya_2f9c1e7b';
export const LOKI_USER = '123456';
export const LOKI_PASSWORD = 'glc_eyJvIjoiOTg3NjU0IiwibiI6InB1c2gtNzQxIiwiayI6Ilo4cVQzdlcxIn0=';

export const ANNOTATIONS_PATH = '/api/annotations';
export const LOKI_PATH = '/loki/api/v1/push';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** An annotation as the fake keeps it, after every update. */
export interface StoredAnnotation {
  time: number;
  /** Grafana stores 0 for a point, or the end of a region. */
  timeEnd: number;
  text: string;
  tags: string[];
  dashboardUID?: string | undefined;
  panelId?: number | undefined;
}

/**
 * One fake for both APIs, answering as they do: Grafana's `POST /api/annotations` (200
 * `{ message: 'Annotation added', id }`, errors as `{ message }`), its
 * `PATCH /api/annotations/{id}` (200 `{ message: 'Annotation patched' }`, 404
 * `{ message: 'Annotation not found' }`; `text` replaced when not empty, `tags` when present,
 * `time` and `timeEnd` when above 0, as Grafana's handler does) and Loki's
 * `POST /loki/api/v1/push` (204, errors as plain text). Failures queued with `failNext` get the
 * body of whichever API the next request hits.
 */
export function createGrafanaFake() {
  let nextId = 1;
  const failures: { failure: ContractFailure | { echo: string }; retryAfterSeconds: number }[] = [];
  const annotations = new Map<number, StoredAnnotation>();

  const handler = (request: RecordedRequest): FakeResponse => {
    const queued = failures.shift();
    if (queued) return failure(request.path, queued.failure, queued.retryAfterSeconds);
    if (request.method === 'POST' && request.path === ANNOTATIONS_PATH) return annotate(request);
    const one = request.path.startsWith(`${ANNOTATIONS_PATH}/`)
      ? request.path.slice(ANNOTATIONS_PATH.length + 1)
      : '';
    if (request.method === 'PATCH' && one !== '') return patch(request, one);
    if (request.method === 'POST' && request.path === LOKI_PATH) return push(request);
    return { status: 404, body: { message: 'Not found' } };
  };

  const authorized = (request: RecordedRequest) =>
    request.headers.authorization === `Bearer ${GRAFANA_TOKEN}`;
  const jsonOf = (request: RecordedRequest): any => {
    try {
      return request.json();
    } catch {
      return undefined;
    }
  };
  const validTags = (tags: unknown) =>
    Array.isArray(tags) && tags.every((t: unknown) => typeof t === 'string' && t.length <= 100);
  const badRequest: FakeResponse = { status: 400, body: { message: 'bad request data' } };

  const annotate = (request: RecordedRequest): FakeResponse => {
    if (!authorized(request)) return { status: 401, body: { message: 'invalid API key' } };
    const body = jsonOf(request);
    const ok =
      body !== undefined &&
      typeof body.time === 'number' &&
      (body.timeEnd === undefined || typeof body.timeEnd === 'number') &&
      typeof body.text === 'string' &&
      validTags(body.tags) &&
      (body.dashboardUID === undefined || typeof body.dashboardUID === 'string') &&
      (body.panelId === undefined || Number.isInteger(body.panelId));
    if (!ok) return badRequest;
    const id = nextId++;
    annotations.set(id, {
      time: body.time,
      timeEnd: body.timeEnd ?? 0,
      text: body.text,
      tags: body.tags,
      dashboardUID: body.dashboardUID,
      panelId: body.panelId,
    });
    return { status: 200, body: { message: 'Annotation added', id } };
  };

  const patch = (request: RecordedRequest, idText: string): FakeResponse => {
    if (!authorized(request)) return { status: 401, body: { message: 'invalid API key' } };
    const body = jsonOf(request);
    const ok =
      body !== undefined &&
      (body.time === undefined || typeof body.time === 'number') &&
      (body.timeEnd === undefined || typeof body.timeEnd === 'number') &&
      (body.text === undefined || typeof body.text === 'string') &&
      (body.tags === undefined || validTags(body.tags));
    if (!ok) return badRequest;
    if (!/^\d+$/.test(idText)) return { status: 400, body: { message: 'annotationId is invalid' } };
    const stored = annotations.get(Number(idText));
    if (!stored) return { status: 404, body: { message: 'Annotation not found' } };
    if (body.tags !== undefined) stored.tags = body.tags;
    if (body.text) stored.text = body.text;
    if (body.time > 0) stored.time = body.time;
    if (body.timeEnd > 0) stored.timeEnd = body.timeEnd;
    return { status: 200, body: { message: 'Annotation patched' } };
  };

  const push = (request: RecordedRequest): FakeResponse => {
    const expected = `Basic ${Buffer.from(`${LOKI_USER}:${LOKI_PASSWORD}`).toString('base64')}`;
    if (request.headers.authorization !== expected) return text(401, 'invalid authentication credentials');
    let body: any;
    try {
      body = request.json();
    } catch (error) {
      return text(400, `loghttp.PushRequest: ${(error as Error).message}`);
    }
    if (!Array.isArray(body.streams)) return text(400, 'no streams in push request');
    for (const stream of body.streams) {
      const labels = Object.entries(stream.stream ?? {});
      if (labels.length === 0) return text(400, 'error at least one label pair is required per stream');
      for (const [name, value] of labels) {
        if (!LABEL_NAME.test(name)) return text(400, `invalid label name: ${name}`);
        if (typeof value !== 'string' || value.length > 2048)
          return text(400, `invalid label value for ${name}`);
      }
      for (const entry of stream.values ?? []) {
        if (!Array.isArray(entry) || !/^\d{1,19}$/.test(entry[0]) || typeof entry[1] !== 'string') {
          return text(400, 'loghttp.PushRequest.Streams: invalid entry');
        }
        if (Buffer.byteLength(entry[1]) > 256 * 1024)
          return text(400, 'Max entry size 262144 bytes exceeded');
      }
    }
    return { status: 204 };
  };

  return {
    handler,
    /** The annotations Grafana holds now, by id. */
    annotations,
    failNext(failure: ContractFailure, retryAfterSeconds = 1) {
      failures.push({ failure, retryAfterSeconds });
    },
    /** The next request gets the refusal of whichever API it hits, echoing `text`. */
    echoNext(text: string) {
      failures.push({ failure: { echo: text }, retryAfterSeconds: 0 });
    },
  };
}

function failure(
  path: string,
  kind: ContractFailure | { echo: string },
  retryAfterSeconds: number,
): FakeResponse {
  const loki = path === LOKI_PATH;
  if (typeof kind === 'object') {
    // Grafana names the dashboard or API key it refused; Loki quotes the stream it refused.
    return loki
      ? text(400, `error parsing labels ${kind.echo}`)
      : grafana(401, `invalid API key ${kind.echo}`);
  }
  if (kind === 'hang') return { hang: true };
  if (kind === 'disconnect') return { disconnect: true };
  if (kind === 'endless_body' || kind === 'trickle_body') {
    // A success status, then a body that never ends (Loki's real 204 has none: a 200 here).
    return {
      status: 200,
      headers: { 'content-type': loki ? 'text/plain' : 'application/json' },
      stream: kind === 'endless_body' ? 'endless' : 'trickle',
    };
  }
  const retryAfter = { 'retry-after': String(retryAfterSeconds) };
  switch (kind) {
    case 'server_error':
      return loki
        ? text(500, 'rpc error: code = Unavailable desc = no healthy ingesters')
        : grafana(500, 'Failed to save annotation');
    case 'rate_limited':
      return loki
        ? {
            ...text(
              429,
              "Ingestion rate limit exceeded for user fake (limit: 4194304 bytes/sec) while attempting to ingest '1' lines totaling '612' bytes, reduce log volume or contact your Loki administrator to see if the limit can be increased",
            ),
            headers: { 'content-type': 'text/plain; charset=utf-8', ...retryAfter },
          }
        : { ...grafana(429, 'Too many requests'), headers: retryAfter };
    case 'client_error':
      return loki
        ? text(400, 'entry for stream \'{app="empathy"}\' has timestamp too old: 2025-11-25T14:30:00Z')
        : grafana(
            403,
            "You'll need additional permissions to perform this action. Permissions needed: annotations:create",
          );
  }
}

function text(status: number, body: string): FakeResponse {
  return { status, body, headers: { 'content-type': 'text/plain; charset=utf-8' } };
}

function grafana(status: number, message: string): FakeResponse {
  return { status, body: { message } };
}

/** Log lines in a recorded Loki push (1 if the body is not a push). */
export function linesIn(request: RecordedRequest): number {
  try {
    const body = request.json();
    return body.streams.reduce((n: number, s: { values: unknown[] }) => n + s.values.length, 0) || 1;
  } catch {
    return 1;
  }
}
