import type { DeliveryContext, DeliveryTelemetry, WebhookPlugin } from '@empathy/webhooks-core';
import { expect, it } from 'vitest';
import { EmpathyOS } from '../src/index.js';

it('hands its telemetry to the dispatcher: emit, attempt and trace headers', async () => {
  const calls: string[] = [];
  const contexts: DeliveryContext[] = [];
  const telemetry: DeliveryTelemetry = {
    onEmit: (event, jobs) => {
      calls.push(`emit ${event.event_type} → ${jobs}`);
      return { trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, end() {} };
    },
    onAttemptStart: (job, attempt) => {
      calls.push(`attempt ${job.webhook} #${attempt} in ${job.trace?.traceparent.slice(3, 35)}`);
      return { headers: { traceparent: 'x' }, end: (r) => void calls.push(`end ${r.outcome}`) };
    },
  };
  const plugin: WebhookPlugin = {
    name: 'feed',
    events: ['*'],
    async deliver(_event, ctx) {
      contexts.push(ctx);
      return { status: 200 };
    },
  };
  const empathy = new EmpathyOS({ userId: 'u', webhooks: [plugin], telemetry });
  await empathy.emit('alert', { message: 'disk full' });
  await empathy.flush();
  await empathy.close();
  expect(calls).toEqual([
    'emit alert → 1',
    'attempt feed #1 in 0af7651916cd43dd8448eb211c80319c',
    'end delivered',
  ]);
  expect(contexts[0]!.traceHeaders).toEqual({ traceparent: 'x' });
});
