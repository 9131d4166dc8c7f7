import { afterEach, expect, it } from 'vitest';
import { createEvent, Dispatcher, isWebhookTimeoutError, type WebhookPlugin } from '../src/index.js';
import { onAbort } from '../src/kit/index.js';

let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
});

it('aborts at once what a plugin registers with onAbort, or reads as ctx.signal, after its deadline', async () => {
  const seen: { listener?: unknown; signal?: unknown } = {};
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const late: WebhookPlugin = {
    name: 'late',
    events: ['*'],
    retryPolicy: { maxRetries: 0, timeoutSeconds: 0.05 },
    async deliver(_event, ctx) {
      await new Promise((r) => setTimeout(r, 120)); // past the 50 ms deadline
      onAbort(ctx, (reason) => {
        seen.listener = reason;
      });
      seen.signal = ctx.signal.aborted ? ctx.signal.reason : 'not aborted';
      done();
      return { status: 200 };
    },
  };
  dispatcher = new Dispatcher({ webhooks: [late] });
  await dispatcher.dispatch(createEvent('prediction', { prediction: 'p', confidence: 0.5 }, { userId: 'u' }));
  await finished;
  expect(isWebhookTimeoutError(seen.listener)).toBe(true);
  expect(isWebhookTimeoutError(seen.signal)).toBe(true);
});
