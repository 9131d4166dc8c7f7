import type { DeliveryContext } from '../plugin.js';

/** The dispatcher's attempt contexts answer to this key (shared across duplicate installs). */
export const ON_ABORT: unique symbol = Symbol.for('@empathy/webhooks-core/onAbort') as never;

/**
 * Calls `listener` once when the attempt is aborted (its timeout, or the host closing). On the
 * dispatcher's contexts this costs one array push, where reading `ctx.signal` creates an
 * AbortController: transports on the hot path use this; others may use `ctx.signal`.
 */
export function onAbort(ctx: DeliveryContext, listener: (reason: Error) => void): void {
  const hook = (ctx as unknown as { [ON_ABORT]?: (listener: (reason: Error) => void) => void })[ON_ABORT];
  if (typeof hook === 'function') {
    hook.call(ctx, listener);
    return;
  }
  const signal = ctx.signal;
  const fire = () =>
    listener(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
  if (signal.aborted) fire();
  else signal.addEventListener('abort', fire, { once: true });
}
