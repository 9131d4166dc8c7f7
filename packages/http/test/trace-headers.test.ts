import { type DeliveryTelemetry, Dispatcher, verifyWebhookSignature } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, sampleEvent } from '@empathy/webhooks-core/testing';
import { Webhook } from 'standardwebhooks';
import { afterEach, expect, it } from 'vitest';
import { CustomWebhook } from '../src/index.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let server: FakeServer | undefined;
let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
  await server?.close();
  dispatcher = server = undefined;
});

async function deliverWith(telemetry: DeliveryTelemetry | undefined) {
  server = await createFakeServer();
  const webhook = new CustomWebhook({
    url: `${server.url}/hook`,
    signingSecret: SECRET,
    allowPrivateNetwork: true,
  });
  dispatcher = new Dispatcher({ webhooks: [webhook], telemetry });
  await dispatcher.dispatch(sampleEvent('alert'));
  await dispatcher.flush();
  expect(dispatcher.monitor.getWebhookStats(webhook.name).successCount).toBe(1);
  return server.requests[0]!;
}

it("sends the attempt's trace headers, and the signatures still verify the unchanged body", async () => {
  const request = await deliverWith({
    onAttemptStart: () => ({
      headers: { traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7' },
      end() {},
    }),
  });
  const h = request.headers as Record<string, string>;
  expect(h.traceparent).toBe(TRACEPARENT);
  expect(h.tracestate).toBe('rojo=00f067aa0ba902b7');
  expect(verifyWebhookSignature(request.body, h['x-signature']!, SECRET)).toBe(true);
  expect(new Webhook(SECRET).verify(request.body, h)).toMatchObject({ event_id: 'evt_sample_alert' });
});

it('sends no trace header without a telemetry', async () => {
  const request = await deliverWith(undefined);
  expect(request.headers.traceparent).toBeUndefined();
  expect(request.headers.tracestate).toBeUndefined();
});
