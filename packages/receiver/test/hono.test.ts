import type { Server } from 'node:http';
import { type EmpathyEvent, isWebhookDeliveryError, PayloadSigner } from '@empathy/webhooks-core';
import { sampleEvent } from '@empathy/webhooks-core/fakes';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createReceiver, type ReceiverOptions } from '../src/index.js';
import { closeServer, deliver, SECRET, urlOf } from './helpers.js';

let server: Server | undefined;
afterEach(async () => {
  await closeServer(server);
  server = undefined;
});

/** A Hono app on @hono/node-server, with the receiver's fetch handler on /webhooks/empathy. */
async function start(options: Partial<ReceiverOptions>) {
  const receiver = createReceiver({ secret: SECRET, ...options });
  const app = new Hono();
  app.post('/webhooks/empathy', (c) => receiver.fetch(c.req.raw));
  server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  return urlOf(server);
}

describe('receiver.fetch on Hono (@hono/node-server), receiving real deliveries from CustomWebhook', () => {
  it('verifies and hands each event to onEvent', async () => {
    const received: EmpathyEvent[] = [];
    const url = await start({ onEvent: (event) => void received.push(event) });
    const events = [
      sampleEvent('phi_access'),
      sampleEvent('compliance_violation'),
      sampleEvent('completion'),
    ];
    const { stats, failures } = await deliver(url, events);
    expect(failures).toEqual([]);
    expect(stats.successCount).toBe(3);
    expect(received.map((e) => e.event_id).sort()).toEqual(events.map((e) => e.event_id).sort());
  });

  it('answers 500 when onEvent throws, so the sender retries, and handles the retry', async () => {
    const errors: unknown[] = [];
    const received: string[] = [];
    let calls = 0;
    const url = await start({
      onEvent: async (event) => {
        calls++;
        if (calls === 1) throw new Error('queue full');
        received.push(event.event_id);
      },
      onError: (error) => errors.push(error),
    });
    const event = sampleEvent('bug_detected');
    const { stats, failures } = await deliver(url, [event]);
    expect(failures).toEqual([]);
    expect(stats).toMatchObject({ successCount: 1, retriedCount: 1, failedCount: 0 });
    expect(calls).toBe(2);
    expect(received).toEqual([event.event_id]);
    expect((errors[0] as Error).message).toBe('queue full');
  });

  it('answers 401 without detail to a wrong secret and 413 to a body over the bound', async () => {
    const received: EmpathyEvent[] = [];
    const url = await start({ onEvent: (event) => void received.push(event), maxBodyBytes: 2048 });
    const { failures } = await deliver(url, [sampleEvent('alert')], {
      signingSecret: 'a-different-secret-entirely',
    });
    expect(isWebhookDeliveryError(failures[0]) && failures[0].status).toBe(401);

    const big = JSON.stringify(sampleEvent('alert', { message: 'x'.repeat(4096) }));
    const res = await fetch(url, {
      method: 'POST',
      body: big,
      headers: { 'content-type': 'application/json', ...new PayloadSigner(SECRET).sign(big, 'evt_big') },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'payload too large' });
    expect(received).toEqual([]);
  });

  it('rejects a replay of a delivered request with 200 "duplicate", without handling it again', async () => {
    const received: string[] = [];
    const url = await start({ onEvent: (event) => void received.push(event.event_id) });
    const event = sampleEvent('alert');
    const body = JSON.stringify(event);
    const headers = {
      'content-type': 'application/json',
      ...new PayloadSigner(SECRET).sign(body, event.event_id),
    };
    const first = await fetch(url, { method: 'POST', body, headers });
    const replay = await fetch(url, { method: 'POST', body, headers });
    expect(await first.json()).toEqual({ status: 'ok' });
    expect(await replay.json()).toEqual({ status: 'ok', duplicate: true });
    expect(received).toEqual([event.event_id]);
  });
});
