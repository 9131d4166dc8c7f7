import { isRetryableStatus } from './policies/retry.js';

/**
 * The error tree. Guards compare `name`, so they work across duplicated installs of this package.
 * Messages start with the webhook's name and never contain a secret: URLs show their origin only.
 */

/** Base class of every error this library throws or reports. */
export class WebhookError extends Error {
  override name: string = 'WebhookError';
  /** The webhook the error concerns, when there is one. */
  readonly webhook: string | undefined;

  constructor(message: string, options: { webhook?: string; cause?: unknown } = {}) {
    // No `cause` key at all without one: `util.inspect` would print `[cause]: undefined`.
    super(
      options.webhook ? `[${options.webhook}] ${message}` : message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.webhook = options.webhook;
  }
}

/** Invalid options or an unknown event name, thrown at construction time. */
export class WebhookConfigError extends WebhookError {
  override name = 'WebhookConfigError' as const;
}

/** Options for {@link WebhookDeliveryError}. */
export interface WebhookDeliveryErrorOptions {
  webhook?: string | undefined;
  cause?: unknown | undefined;
  /** HTTP status of the vendor's answer, when there was one. */
  status?: number | undefined;
  /** How long the vendor asked us to wait (Retry-After, `retry_after`, rate-limit reset), in ms. */
  retryAfterMs?: number | undefined;
  /**
   * Whether another attempt may succeed, for failures without a status (network errors,
   * refused addresses, payloads the vendor cannot take). @default true. Ignored when there is a
   * status: the retry policy's status list decides then (see {@link isRetryableStatus}).
   */
  retryable?: boolean | undefined;
  /** A vendor error code (`channel_not_found`, `EENVELOPE`, …), safe to show. */
  code?: string | undefined;
}

/** One attempt to deliver failed. */
export class WebhookDeliveryError extends WebhookError {
  override name: string = 'WebhookDeliveryError';
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly retryable: boolean;
  readonly code: string | undefined;

  constructor(message: string, options: WebhookDeliveryErrorOptions = {}) {
    super(message, options);
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.code = options.code;
    // One retry rule: with a status, the default policy's list (and a vendor's Retry-After) decide.
    this.retryable =
      options.status === undefined
        ? (options.retryable ?? true)
        : isRetryableStatus(options.status) || options.retryAfterMs !== undefined;
  }
}

/** An attempt took longer than the retry policy's `timeoutSeconds`. Always retryable. */
export class WebhookTimeoutError extends WebhookDeliveryError {
  override name = 'WebhookTimeoutError' as const;
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options: { webhook?: string; cause?: unknown } = {}) {
    super(`attempt timed out after ${timeoutMs} ms`, { ...options, retryable: true });
    this.timeoutMs = timeoutMs;
  }
}

/** A signature did not verify (receivers' side). */
export class WebhookSignatureError extends WebhookError {
  override name = 'WebhookSignatureError' as const;
}

/**
 * A request was authentic (its signature verified) but its body is not what the receiver takes:
 * not JSON, or not an Empathy event. Receivers answer 400: no retry will fix it.
 */
export class WebhookPayloadError extends WebhookError {
  override name = 'WebhookPayloadError' as const;
}

function hasName(error: unknown, ...names: string[]): boolean {
  return typeof error === 'object' && error !== null && names.includes((error as Error).name);
}

/** Whether `error` is any error of this library. */
export function isWebhookError(error: unknown): error is WebhookError {
  return hasName(
    error,
    'WebhookError',
    'WebhookConfigError',
    'WebhookDeliveryError',
    'WebhookTimeoutError',
    'WebhookSignatureError',
    'WebhookPayloadError',
  );
}
/** Whether `error` is a {@link WebhookConfigError}. */
export function isWebhookConfigError(error: unknown): error is WebhookConfigError {
  return hasName(error, 'WebhookConfigError');
}
/** Whether `error` is a {@link WebhookDeliveryError} (timeouts included). */
export function isWebhookDeliveryError(error: unknown): error is WebhookDeliveryError {
  return hasName(error, 'WebhookDeliveryError', 'WebhookTimeoutError');
}
/** Whether `error` is a {@link WebhookTimeoutError}. */
export function isWebhookTimeoutError(error: unknown): error is WebhookTimeoutError {
  return hasName(error, 'WebhookTimeoutError');
}
/** Whether `error` is a {@link WebhookSignatureError}. */
export function isWebhookSignatureError(error: unknown): error is WebhookSignatureError {
  return hasName(error, 'WebhookSignatureError');
}

/** Whether `error` is a {@link WebhookPayloadError}. */
export function isWebhookPayloadError(error: unknown): error is WebhookPayloadError {
  return hasName(error, 'WebhookPayloadError');
}

/**
 * The part of a URL that is safe to print: its origin. Webhook URLs carry credentials in their
 * path (Slack, Discord) or query (`sig=` in Teams), so neither is ever shown.
 */
export function safeOrigin(url: string | URL): string {
  try {
    return new URL(url).origin;
  } catch {
    return '<invalid url>';
  }
}

/**
 * Replaces every occurrence of each secret in `text` with `***`. Secrets shorter than 4
 * characters are ignored (they would blank out ordinary words).
 */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    out = out.split(secret).join('***');
  }
  return out;
}

/**
 * Turns anything thrown by a plugin into a {@link WebhookDeliveryError} for `webhook`. Unknown
 * errors count as network failures (retryable); their message is redacted.
 */
export function toDeliveryError(
  webhook: string,
  error: unknown,
  secrets: Iterable<string | undefined> = [],
): WebhookDeliveryError {
  if (isWebhookDeliveryError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return new WebhookDeliveryError(redact(message, secrets), {
    webhook,
    cause: error,
    code: typeof code === 'string' ? code : undefined,
    retryable: !isWebhookConfigError(error),
  });
}
