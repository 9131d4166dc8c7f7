import type { DeliveryContext } from '@empathy/webhooks-core';
import { ERROR_BODY_BYTES, onAbort } from '@empathy/webhooks-core/kit';
import type { Dispatcher, Pool } from 'undici';

/** What a delivery needs of an answer: its status, Retry-After and, for errors, the start of the body. */
export interface Answer {
  status: number;
  retryAfter: string | undefined;
  /** The first bytes of the body of a non-2xx answer (for the error message); empty for 2xx. */
  body: string;
}

/**
 * How much of a 2xx body is drained so the connection can be reused; past it the connection is
 * dropped (a receiver that streams without end cannot hold a pooled connection).
 */
const SUCCESS_DRAIN_BYTES = 64 * 1024;

/**
 * One request through the pool's dispatcher with a minimal handler. `pool.request()` builds a
 * Readable stream per response; a webhook only needs the status, so this skips it (measured in
 * `pnpm bench`). The attempt's abort (its deadline, the host closing) aborts the request at any
 * point, which destroys the connection. A 2xx body is drained up to 64 KiB, an error body kept to
 * 8 KiB; past either bound the answer is settled and the connection dropped, so a body that
 * never ends or trickles cannot hold a pooled connection or grow memory.
 */
export function send(pool: Pool, options: Dispatcher.DispatchOptions, ctx: DeliveryContext): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let retryAfter: string | undefined;
    let chunks: Buffer[] | undefined;
    let read = 0;
    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    let abortReason: Error | undefined;
    const finish = () => {
      if (settled) return;
      settled = true;
      resolve({
        status,
        retryAfter,
        body: chunks ? Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8') : '',
      });
    };
    onAbort(ctx, (reason) => {
      abortReason = reason;
      controller?.abort(reason);
    });
    pool.dispatch(options, {
      onRequestStart(c) {
        controller = c;
        // Aborted before the request started (a deadline already past, the host closing).
        if (abortReason) c.abort(abortReason);
      },
      onResponseStart(_c, statusCode, headers) {
        status = statusCode;
        const value = headers['retry-after'];
        retryAfter = Array.isArray(value) ? value[0] : value;
        if (statusCode < 200 || statusCode >= 300) chunks = [];
      },
      onResponseData(c, chunk) {
        read += chunk.length;
        if (chunks) {
          if (read - chunk.length < ERROR_BODY_BYTES) chunks.push(chunk);
          if (read >= ERROR_BODY_BYTES) {
            finish();
            c.abort(new Error('error body past its bound'));
          }
        } else if (read > SUCCESS_DRAIN_BYTES) {
          finish();
          c.abort(new Error('success body past its bound'));
        }
      },
      onResponseEnd() {
        finish();
      },
      onResponseError(_c, error) {
        if (settled) return;
        settled = true;
        reject(abortReason ?? error);
      },
    });
  });
}
