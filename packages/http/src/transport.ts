import type { Dispatcher, Pool } from 'undici';

/** What a delivery needs of an answer: its status, Retry-After and, for errors, the start of the body. */
export interface Answer {
  status: number;
  retryAfter: string | undefined;
  /** The first bytes of the body of a non-2xx answer (for the error message); empty for 2xx. */
  body: string;
}

const ERROR_BODY_BYTES = 512;

/**
 * One request through the pool's dispatcher with a minimal handler. `pool.request()` builds a
 * Readable stream per response; a webhook only needs the status, so this skips it (measured in
 * `pnpm bench`). 2xx bodies are discarded as they arrive; error bodies keep their first bytes.
 */
export function send(pool: Pool, options: Dispatcher.DispatchOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let retryAfter: string | undefined;
    let chunks: Buffer[] | undefined;
    let kept = 0;
    pool.dispatch(options, {
      onRequestStart() {},
      onResponseStart(_controller, statusCode, headers) {
        status = statusCode;
        const value = headers['retry-after'];
        retryAfter = Array.isArray(value) ? value[0] : value;
        if (statusCode < 200 || statusCode >= 300) chunks = [];
      },
      onResponseData(_controller, chunk) {
        if (chunks && kept < ERROR_BODY_BYTES) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      },
      onResponseEnd() {
        resolve({
          status,
          retryAfter,
          body: chunks ? Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8') : '',
        });
      },
      onResponseError(_controller, error) {
        reject(error);
      },
    });
  });
}
