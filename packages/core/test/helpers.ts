import {
  type DeliveryContext,
  type EmpathyEvent,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '../src/index.js';

/** What a scripted plugin does on each attempt, in order; after the script, it succeeds. */
export type Step =
  | 'ok'
  | { status: number; retryAfterMs?: number }
  | 'network'
  | 'hang'
  | ((ctx: DeliveryContext) => Promise<void>);

/** A plugin that records attempts (the "fake's side") and follows a script. */
export function scripted(name: string, steps: Step[] = [], extra: Partial<WebhookPlugin> = {}) {
  const attempts: { at: number; event: EmpathyEvent; attempt: number }[] = [];
  const script = [...steps];
  const plugin: WebhookPlugin = {
    name,
    events: ['*'],
    retryPolicy: { initialDelaySeconds: 0.02, backoffMultiplier: 2, jitter: false, maxRetries: 3 },
    circuitBreaker: false,
    ...extra,
    async deliver(event, ctx) {
      attempts.push({ at: Date.now(), event, attempt: ctx.attempt });
      const step = script.shift() ?? 'ok';
      if (step === 'ok') return { status: 200 };
      if (step === 'network') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      if (step === 'hang') return new Promise(() => {});
      if (typeof step === 'function') {
        await step(ctx);
        return { status: 200 };
      }
      throw new WebhookDeliveryError(`HTTP ${step.status}`, {
        webhook: name,
        status: step.status,
        retryAfterMs: step.retryAfterMs,
      });
    },
  };
  return { plugin, attempts };
}
