import {
  BaseServerConfiguration,
  type Configuration,
  createConfiguration,
  type HttpLibrary,
  type RequestContext,
  ResponseContext,
} from '@datadog/datadog-api-client/dist/packages/datadog-api-client-common/index.js';
import { readBodyText } from '@empathy/webhooks-core/kit';
import type { DatadogResponse } from './errors.js';

/**
 * The most bytes of an answer the webhook's transport reads: an event as Datadog echoes it (4000
 * characters of text, tags) or a series answer (`{ "errors": [] }`). Past it the attempt fails
 * (`ERESPONSETOOLARGE`): the SDK would misread a cut body.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * The SDK's HTTP layer for one attempt (the SDK's `httpApi` hook) over the kit's guarded
 * `fetch`: the attempt's AbortSignal, no retries, no redirects (the kit's transport never follows
 * one), bounded reads (8 KiB of an error; a success whole, within the transport's
 * {@link MAX_RESPONSE_BYTES}, or not at all), and the answer's status and headers kept, because
 * the SDK's `ApiException` drops the headers (`X-RateLimit-Reset`).
 */
export class Exchange implements HttpLibrary {
  /** Datadog's error answer (non-2xx), once there is one. */
  response: DatadogResponse | undefined;
  /** The status of a 2xx answer. */
  status: number | undefined;
  /** Set when the request got no (complete) answer: network error, abort, a body over its bound. */
  failed = false;
  readonly #fetch: typeof fetch;
  readonly #signal: AbortSignal;

  constructor(fetchFn: typeof fetch, signal: AbortSignal) {
    this.#fetch = fetchFn;
    this.#signal = signal;
  }

  async send(request: RequestContext): Promise<ResponseContext> {
    let response: Response;
    let body: string;
    try {
      response = await this.#fetch(request.getUrl(), {
        method: request.getHttpMethod(),
        headers: request.getHeaders(),
        // Events and series bodies are JSON strings; nothing here sends forms.
        body: request.getBody() as string | undefined,
        signal: this.#signal,
      });
      // A success is read whole or fails (reset, abort, over the bound): a cut body would be
      // misread by the SDK. An error's detail needs its first 8 KiB only.
      body = response.ok ? await response.text() : await readBodyText(response);
    } catch (error) {
      this.failed = true;
      throw error;
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (response.ok) this.status = response.status;
    else this.response = { status: response.status, headers, body };
    return new ResponseContext(response.status, headers, {
      text: async () => body,
      binary: async () => Buffer.from(body),
    });
  }
}

/**
 * An SDK configuration for one attempt: the webhook's base URL and keys, SDK retries off, and
 * `exchange` as the HTTP layer. Keys are always passed explicitly, so the SDK does not pick up
 * `DD_API_KEY` / `DD_APP_KEY` from the environment behind the caller's back.
 */
export function attemptConfiguration(
  baseUrl: string,
  keys: { apiKey: string; appKey: string | undefined },
  exchange: Exchange,
): Configuration {
  return createConfiguration({
    baseServer: new BaseServerConfiguration(baseUrl, {}),
    authMethods: { apiKeyAuth: keys.apiKey, appKeyAuth: keys.appKey },
    httpApi: exchange,
    enableRetry: false,
  });
}
