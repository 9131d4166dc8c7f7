import {
  BaseServerConfiguration,
  type Configuration,
  createConfiguration,
  type HttpLibrary,
  type RequestContext,
  ResponseContext,
} from '@datadog/datadog-api-client/dist/packages/datadog-api-client-common/index.js';
import type { DatadogResponse } from './errors.js';

/**
 * The SDK's HTTP layer for one attempt (the SDK's `httpApi` hook): one `fetch` bounded by the
 * attempt's AbortSignal, no retries, no redirects, no logging, and the answer's status and
 * headers kept, because the SDK's `ApiException` drops the headers (`X-RateLimit-Reset`).
 */
export class Exchange implements HttpLibrary {
  /** Datadog's answer, once there is one. */
  response: DatadogResponse | undefined;
  /** Set when the request got no answer (network error, abort). */
  failed = false;
  readonly #signal: AbortSignal;

  constructor(signal: AbortSignal) {
    this.#signal = signal;
  }

  async send(request: RequestContext): Promise<ResponseContext> {
    let response: Response;
    let body: string;
    try {
      response = await fetch(request.getUrl(), {
        method: request.getHttpMethod(),
        headers: request.getHeaders(),
        // Events and series bodies are JSON strings; nothing here sends forms.
        body: request.getBody() as string | undefined,
        signal: this.#signal,
        // A redirect would carry the DD-API-KEY header to wherever it points.
        redirect: 'manual',
      });
      body = await response.text();
    } catch (error) {
      this.failed = true;
      throw error;
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    this.response = { status: response.status, headers, body };
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
