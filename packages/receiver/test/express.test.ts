import type { Server } from 'node:http';
import { type EmpathyEvent, isWebhookDeliveryError, PayloadSigner } from '@empathy/webhooks-core';
import { sampleEvent } from '@empathy/webhooks-core/fakes';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createReceiver } from '../src/index.js';
import { closeServer, deliver, SECRET, urlOf } from './helpers.js';

let server: Server | undefined;
afterEach(async () => {
  await closeServer(server);
  server = undefined;
});

async function listen(app: express.Express): Promise<string> {
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return urlOf(server);
}

describe('receiver.node as Express 5 middleware, receiving real deliveries from CustomWebhook', () => {
  it('verifies and hands each event to onEvent', async () => {
    const received: EmpathyEvent[] = [];
    const receiver = createReceiver({ secret: SECRET, onEvent: (event) => void received.push(event) });
    const app = express();
    app.post('/webhooks/empathy', receiver.node);
    const url = await listen(app);
    const events = [sampleEvent('code_review_complete'), sampleEvent('test_failure')];
    const { stats, failures } = await deliver(url, events);
    expect(failures).toEqual([]);
    expect(stats.successCount).toBe(2);
    expect(received.map((e) => e.event_id).sort()).toEqual(events.map((e) => e.event_id).sort());
  });

  it('passes the verified event on as req.body with next(), and remembers the id once the handler answered 2xx', async () => {
    const seen: string[] = [];
    let fail = true;
    const receiver = createReceiver({ secret: SECRET, onError: () => {} });
    const app = express();
    app.post('/webhooks/empathy', receiver.node, (req: Request, res: Response) => {
      const event = req.body as EmpathyEvent;
      seen.push(event.event_id);
      if (fail) {
        fail = false;
        res.status(503).json({ error: 'try later' });
        return;
      }
      res.json({ received: event.event_id });
    });
    const url = await listen(app);
    const event = sampleEvent('alert');
    const { stats } = await deliver(url, [event]);
    // The 503 released the id, so the sender's retry reached the handler; the repeat after the
    // 2xx did not.
    expect(stats).toMatchObject({ successCount: 1, retriedCount: 1 });
    expect(seen).toEqual([event.event_id, event.event_id]);
    const again = await deliver(url, [event]);
    expect(again.stats.successCount).toBe(1);
    expect(seen).toHaveLength(2);
  });

  it('takes the raw body from express.raw() when it ran first', async () => {
    const received: EmpathyEvent[] = [];
    const receiver = createReceiver({ secret: SECRET, onEvent: (event) => void received.push(event) });
    const app = express();
    app.use(express.raw({ type: '*/*' }));
    app.post('/webhooks/empathy', receiver.node);
    const url = await listen(app);
    const event = sampleEvent('prediction');
    expect((await deliver(url, [event])).stats.successCount).toBe(1);
    expect(received).toEqual([event]);
  });

  it('names express.json() ahead of it as the mistake, through next(error); the sender gets a 500', async () => {
    const errors: Error[] = [];
    const receiver = createReceiver({ secret: SECRET, onEvent: () => {} });
    const app = express();
    app.use(express.json());
    app.post('/webhooks/empathy', receiver.node);
    app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(error);
      res.status(500).json({ error: 'internal' });
    });
    const url = await listen(app);
    const { stats, failures } = await deliver(url, [sampleEvent('alert')], {
      retryPolicy: { maxRetries: 0 },
    });
    expect(stats.failedCount).toBe(1);
    expect(isWebhookDeliveryError(failures[0]) && failures[0].status).toBe(500);
    expect(errors[0]!.name).toBe('WebhookConfigError');
    expect(errors[0]!.message).toMatch(/already read \(a body parser such as express\.json\(\) ran first\)/);
  });

  it('answers 401 to a forged request and never calls the next handler', async () => {
    let called = false;
    const receiver = createReceiver({ secret: SECRET });
    const app = express();
    app.post('/webhooks/empathy', receiver.node, (_req: Request, res: Response) => {
      called = true;
      res.json({});
    });
    const url = await listen(app);
    const event = sampleEvent('alert');
    const body = JSON.stringify(event);
    const headers = new PayloadSigner('whsec_Zm9yZ2VkLWtleS1mb3JnZWQta2V5').sign(body, event.event_id);
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: { ...headers, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthorized' });
    expect(called).toBe(false);
  });
});
