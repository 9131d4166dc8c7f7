import { createServer, type Server } from 'node:http';
import { incidentOf } from '@empathy/webhooks-core';
import { runIncidentSequence } from '@empathy/webhooks-core/testing';
import { CustomWebhook, type CustomWebhookIncident } from '@empathy/webhooks-http';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { createReceiver, type ReceivedEvent, type ReceivedIncident } from '../src/index.js';
import { closeServer, SECRET, urlOf } from './helpers.js';

let server: Server | undefined;
afterEach(async () => {
  await closeServer(server);
  server = undefined;
});

describe('incident events', () => {
  it('declares the incident block exactly as CustomWebhook sends it', () => {
    expectTypeOf<ReceivedIncident>().toEqualTypeOf<CustomWebhookIncident>();
    expectTypeOf<ReceivedEvent['incident']>().toEqualTypeOf<CustomWebhookIncident | undefined>();
  });

  it('hands each verified event of an incident over with its block: one key, counted, resolved last', async () => {
    const received: ReceivedEvent[] = [];
    const receiver = createReceiver({
      secret: SECRET,
      onEvent: (event) => {
        received.push(event);
      },
    });
    server = createServer(receiver.node);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = urlOf(server);
    const { events } = await runIncidentSequence({
      webhook: () => new CustomWebhook({ url, signingSecret: SECRET, allowPrivateNetwork: true }),
    });
    const key = incidentOf(events[0]!)!.key;
    expect(received.map((e) => e.event_id)).toEqual(events.map((e) => e.event_id));
    expect(received.map((e) => [e.incident?.key, e.incident?.status, e.incident?.occurrences])).toEqual([
      [key, 'firing', 1],
      [key, 'firing', 2],
      [key, 'firing', 3],
      [key, 'firing', 4],
      [key, 'resolved', 4],
    ]);
  });
});
