import { isWebhookDeliveryError, type WebhookDeliveryError } from '@empathy/webhooks-core';
import { type ErrorScope, httpError, networkError, parseRetryAfter } from '@empathy/webhooks-core/kit';

/** Jira's error body: `{ errorMessages: [...], errors: { field: message } }`. */
interface JiraErrorBody {
  errorMessages?: unknown | undefined;
  errors?: unknown | undefined;
  message?: unknown | undefined;
}

/** The parts of an `AxiosError` read here (duck-typed: works across duplicated installs). */
interface AxiosErrorLike {
  isAxiosError: true;
  config?:
    | { method?: string | undefined; baseURL?: string | undefined; url?: string | undefined }
    | undefined;
  response?: { status: number; headers?: Record<string, unknown> | undefined; data?: unknown } | undefined;
}

/**
 * Maps what jira.js threw to a delivery error, through core's builders:
 * - an answer (jira.js's `HttpException` over an `AxiosError` with a response) → `httpError`
 *   with its status, Jira's `errorMessages` and per-field `errors` as the detail (so a 400 names
 *   the field: `summary: …`), and the wait: `Retry-After`, or on a 429 without it
 *   `X-RateLimit-Reset`. A redirect (never followed: it would carry the credentials) names where
 *   it pointed, by origin.
 * - no answer (timeout, abort, connection refused or reset, a body over its bound, the SSRF
 *   guard) → `networkError`.
 *
 * The error names the request (`POST https://team.atlassian.net/rest/api/3/issue`); the SDK's
 * errors, which carry the request's Authorization header, are never attached.
 */
export function jiraError(scope: ErrorScope, error: unknown): WebhookDeliveryError {
  if (isWebhookDeliveryError(error)) return error;
  const axios = axiosErrorOf(error);
  const where = { ...scope, target: requestTarget(axios, scope.target) };
  const response = axios?.response;
  if (response === undefined || typeof response.status !== 'number') return networkError(where, error);
  const { status } = response;
  const headers = response.headers ?? {};
  if (status >= 300 && status < 400) {
    return httpError(where, {
      status,
      detail: `redirected to ${originOf(header(headers, 'location'))}; redirects are not followed (check option 'url')`,
    });
  }
  const retryAfterMs =
    parseRetryAfter(header(headers, 'retry-after')) ??
    (status === 429 ? parseRetryAfter(header(headers, 'x-ratelimit-reset')) : undefined);
  return httpError(where, { status, detail: describeBody(response.data), retryAfterMs });
}

/** `errorMessages` and `errors` of a Jira error body, as one line: `summary: You must specify a summary`. */
function describeBody(data: unknown): string {
  if (typeof data === 'string') {
    // A proxy's HTML error page says nothing about Jira past its text.
    return data.trim().startsWith('<') ? data.replace(/<[^>]*>/g, ' ') : data;
  }
  if (!data || typeof data !== 'object') return '';
  const body = data as JiraErrorBody;
  const parts: string[] = [];
  if (Array.isArray(body.errorMessages)) parts.push(...body.errorMessages.map(String));
  if (body.errors && typeof body.errors === 'object') {
    for (const [field, text] of Object.entries(body.errors)) parts.push(`${field}: ${String(text)}`);
  }
  if (parts.length === 0 && typeof body.message === 'string') parts.push(body.message);
  return parts.join('; ');
}

/** The `AxiosError` behind a jira.js error: the error itself, or an `HttpException`'s cause. */
function axiosErrorOf(error: unknown): AxiosErrorLike | undefined {
  for (const candidate of [error, (error as { cause?: unknown } | null)?.cause]) {
    if (candidate && typeof candidate === 'object' && (candidate as AxiosErrorLike).isAxiosError === true) {
      return candidate as AxiosErrorLike;
    }
  }
  return undefined;
}

/** `POST https://team.atlassian.net/rest/api/3/issue`: the method and URL, without a query. */
function requestTarget(axios: AxiosErrorLike | undefined, fallback: string): string {
  const config = axios?.config;
  if (!config?.url) return fallback;
  try {
    const base = config.baseURL ? `${config.baseURL.replace(/\/+$/, '')}/` : undefined;
    const url = new URL(config.url.replace(/^\/+/, ''), base);
    let path = url.pathname;
    try {
      path = decodeURIComponent(path);
    } catch {
      // A malformed escape: shown as sent.
    }
    return `${(config.method ?? 'get').toUpperCase()} ${url.origin}${path}`;
  } catch {
    return fallback;
  }
}

function originOf(location: string | undefined): string {
  try {
    return location ? new URL(location).origin : 'another URL';
  } catch {
    return 'another URL';
  }
}

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}
