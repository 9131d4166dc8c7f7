import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import {
  type EmpathyEvent,
  isWebhookDeliveryError,
  PayloadSigner,
  signPayload,
} from '@empathy/webhooks-core';
import { sampleEvent } from '@empathy/webhooks-core/fakes';
import { afterEach, describe, expect, it } from 'vitest';
import { createReceiver, type ReceiverOptions } from '../src/index.js';
import { closeServer, deliver, SECRET, urlOf } from './helpers.js';

let server: Server | undefined;
afterEach(async () => {
  await closeServer(server);
  server = undefined;
});

/** A node:http server running `receiver.node`, recording the headers of each request. */
async function start(options: Partial<ReceiverOptions> = {}) {
  const received: EmpathyEvent[] = [];
  const errors: unknown[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const receiver = createReceiver({
    secret: SECRET,
    onEvent: (event) => {
      received.push(event);
    },
    onError: (error) => errors.push(error),
    ...options,
  });
  server = createServer((req, res) => {
    headers.push(req.headers);
    void receiver.node(req, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: urlOf(server), received, errors, headers };
}

/** Sends raw bytes on a socket and resolves with everything the server sent back before closing. */
function rawRequest(url: string, chunks: (string | Buffer)[], options: { endAfter?: boolean } = {}) {
  const { port } = new URL(url);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.endAfter) socket.end();
    });
  });
}

describe('receiver.node on a node:http server, receiving real deliveries from CustomWebhook', () => {
  it('hands every signed event to onEvent once and answers 200', async () => {
    const s = await start();
    const events = [sampleEvent('prediction'), sampleEvent('alert'), sampleEvent('security_vulnerability')];
    const { stats, failures } = await deliver(s.url, events);
    expect(failures).toEqual([]);
    expect(stats).toMatchObject({ successCount: 3, failedCount: 0, retriedCount: 0 });
    expect(s.received.map((e) => e.event_id).sort()).toEqual(events.map((e) => e.event_id).sort());
    expect(s.received.find((e) => e.event_id === events[0]!.event_id)).toEqual(events[0]);
    expect(s.errors).toEqual([]);
  });

  it('answers 401 without detail to a sender with the wrong secret; nothing reaches onEvent', async () => {
    const s = await start();
    const { stats, failures } = await deliver(s.url, [sampleEvent('alert')], {
      signingSecret: 'whsec_b3RoZXJzZWNyZXRvdGhlcnNlY3JldA==',
    });
    expect(stats).toMatchObject({ successCount: 0, failedCount: 1 });
    expect(isWebhookDeliveryError(failures[0]) && failures[0].status).toBe(401);
    expect(failures[0]!.message).toMatch(/HTTP 401 .*unauthorized/);
    expect(s.received).toEqual([]);

    const event = sampleEvent('alert');
    const body = JSON.stringify(event);
    const tampered = await fetch(s.url, {
      method: 'POST',
      body: body.replace('Error rate', 'Errors rate'),
      headers: {
        'content-type': 'application/json',
        ...new PayloadSigner(SECRET).sign(body, event.event_id),
      },
    });
    expect(tampered.status).toBe(401);
    expect(await tampered.text()).toBe('{"error":"unauthorized"}');
  });

  it('handles a replayed or re-delivered webhook id once: 200 "duplicate", onEvent not called again', async () => {
    const s = await start();
    const event = sampleEvent('deployment_risk');
    await deliver(s.url, [event]);
    expect(s.received).toHaveLength(1);
    const captured = s.headers[0]!;
    const replay = {
      'x-signature': captured['x-signature'] as string,
      'webhook-id': captured['webhook-id'] as string,
      'webhook-timestamp': captured['webhook-timestamp'] as string,
      'webhook-signature': captured['webhook-signature'] as string,
      'content-type': 'application/json',
    };
    // The exact request again (a replay), then the same id signed afresh (a sender's retry). The
    // body is the one received: a deployment risk's carries its incident block besides the event.
    const body = JSON.stringify(s.received[0]);
    expect(body).toContain('"incident":{');
    const again = await fetch(s.url, { method: 'POST', body, headers: replay });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'ok', duplicate: true });
    const { stats } = await deliver(s.url, [event]);
    expect(stats.successCount).toBe(1);
    expect(s.received).toHaveLength(1);
  });

  it('answers 500 (never 2xx) while onEvent throws; each retry is handled again; onError hears it', async () => {
    let calls = 0;
    const s = await start({
      onEvent: () => {
        calls++;
        throw new Error('database unavailable');
      },
    });
    const { stats, failures } = await deliver(s.url, [sampleEvent('alert')]);
    expect(calls).toBe(3); // the first attempt and two retries
    expect(stats).toMatchObject({ successCount: 0, failedCount: 1, retriedCount: 2 });
    expect(isWebhookDeliveryError(failures[0]) && failures[0].status).toBe(500);
    expect(failures[0]!.message).not.toContain('database unavailable');
    expect(s.errors.map((e) => (e as Error).message)).toEqual(Array(3).fill('database unavailable'));
  });

  it('answers 409 with Retry-After to a repeat that arrives while the first is being handled', async () => {
    let open!: () => void;
    let entered!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const handled: string[] = [];
    const s = await start({
      onEvent: async (event) => {
        entered();
        await gate;
        handled.push(event.event_id);
      },
    });
    const event = sampleEvent('alert');
    const body = JSON.stringify(event);
    const post = () =>
      fetch(s.url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          ...new PayloadSigner(SECRET).sign(body, event.event_id),
        },
      });
    const first = post();
    await inside; // the first request holds the id
    const second = await post();
    expect(second.status).toBe(409);
    expect(second.headers.get('retry-after')).toBe('1');
    open();
    expect((await first).status).toBe(200);
    const third = await post();
    expect(await third.json()).toEqual({ status: 'ok', duplicate: true });
    expect(handled).toEqual([event.event_id]);
  });

  it('refuses X-Signature alone by default (401) and takes it with allowXSignatureOnly', async () => {
    const event = sampleEvent('alert');
    const body = JSON.stringify(event);
    const headers = { 'content-type': 'application/json', 'x-signature': signPayload(body, SECRET) };
    const strict = await start();
    expect((await fetch(strict.url, { method: 'POST', body, headers })).status).toBe(401);
    await closeServer(server);
    const lenient = await start({ allowXSignatureOnly: true });
    expect((await fetch(lenient.url, { method: 'POST', body, headers })).status).toBe(200);
    expect(lenient.received).toEqual([event]);
  });

  it('answers 400 to an authentic body that is not an Empathy event, and 405 to a GET', async () => {
    const s = await start();
    const body = '{"hello":"world"}';
    const res = await fetch(s.url, {
      method: 'POST',
      body,
      headers: new PayloadSigner(SECRET).sign(body, 'evt_not_an_event'),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'bad request' });
    const get = await fetch(s.url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, PUT, PATCH');
    expect(s.received).toEqual([]);
  });

  it('answers 413 to a body over maxBodyBytes, declared or streamed, without handing it on', async () => {
    const s = await start({ maxBodyBytes: 1024 });
    const big = JSON.stringify(sampleEvent('alert', { message: 'x'.repeat(2000) }));
    const declared = await fetch(s.url, {
      method: 'POST',
      body: big,
      headers: { 'content-type': 'application/json', ...new PayloadSigner(SECRET).sign(big, 'evt_big') },
    });
    expect(declared.status).toBe(413);
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const streamed = await rawRequest(s.url, [
      'POST /webhooks/empathy HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n',
      chunk('y'.repeat(800)),
      chunk('y'.repeat(800)),
      '0\r\n\r\n',
    ]);
    expect(streamed).toMatch(/^HTTP\/1\.1 413 /);
    expect(streamed).toContain('{"error":"payload too large"}');
    expect(s.received).toEqual([]);
  });

  it('answers 408 and closes the connection when the body does not arrive within readTimeoutSeconds', async () => {
    const s = await start({ readTimeoutSeconds: 0.3 });
    const answer = await rawRequest(s.url, [
      'POST /webhooks/empathy HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n',
      '{"event_ty',
    ]);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('{"error":"request timeout"}');
  });

  it('answers 500 and reports the misconfiguration when onEvent is missing', async () => {
    const s = await start({ onEvent: undefined });
    const event = sampleEvent('alert');
    const body = JSON.stringify(event);
    const res = await fetch(s.url, {
      method: 'POST',
      body,
      headers: new PayloadSigner(SECRET).sign(body, event.event_id),
    });
    expect(res.status).toBe(500);
    expect((s.errors[0] as Error).message).toMatch(/option 'onEvent' is required/);
  });
});
