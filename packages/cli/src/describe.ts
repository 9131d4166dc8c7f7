import { type RateLimit, type RetryPolicy, safeOrigin, type WebhookPlugin } from '@empathy/webhooks-core';
import { normalizeRateLimit, normalizeRetryPolicy } from '@empathy/webhooks-core/queue';

/**
 * What the CLI and the dashboard show about a webhook. Built only from public, secret-free fields:
 * `name`, `events`, `rateLimit`, `retryPolicy`, the class name, and `origin` where an integration
 * exposes one (never a whole URL: webhook URLs carry credentials in their path or query).
 */
export interface WebhookDescription {
  name: string;
  /** The integration's class name: `SlackWebhook`, `CustomWebhook`, … */
  integration: string;
  events: string[];
  /** The target's origin (`https://hooks.slack.com`), or `'-'` when the integration does not tell. */
  origin: string;
  /** `'30/min'`, `'30/min, 1000/h (token bucket)'`, or `'none'`. */
  rateLimit: string;
  /** `'3 retries, 1 s ×2 (max 300 s), 30 s timeout'`. */
  retryPolicy: string;
  /** The raw policies, validated, for `--json`. */
  policies: { rateLimit: RateLimit | undefined; retryPolicy: Required<RetryPolicy> };
}

/** Describes one webhook; throws the webhook's own `WebhookConfigError` for an invalid policy. */
export function describeWebhook(webhook: WebhookPlugin): WebhookDescription {
  const name = String(webhook.name);
  const retry = normalizeRetryPolicy(webhook.retryPolicy, name);
  const rate = webhook.rateLimit === undefined ? undefined : normalizeRateLimit(webhook.rateLimit, name);
  return {
    name,
    integration: integrationOf(webhook),
    events: [...webhook.events].map(String),
    origin: originOf(webhook),
    rateLimit:
      rate === undefined
        ? 'none'
        : rate.windows.map((w) => `${w.limit}/${w.windowMs === 60_000 ? 'min' : 'h'}`).join(', ') +
          (rate.strategy === 'sliding_window' ? '' : ` (${rate.strategy.replace('_', ' ')})`),
    retryPolicy:
      `${retry.maxRetries} retr${retry.maxRetries === 1 ? 'y' : 'ies'}, ` +
      `${retry.initialDelaySeconds} s ×${retry.backoffMultiplier} (max ${retry.maxDelaySeconds} s), ` +
      `${retry.timeoutSeconds} s timeout`,
    policies: { rateLimit: webhook.rateLimit, retryPolicy: { ...retry } },
  };
}

/** The integration's class name (`SlackWebhook`); `'webhook'` for a plain object. */
export function integrationOf(webhook: WebhookPlugin): string {
  const name = (webhook as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : 'webhook';
}

/**
 * Where the webhook sends, safe to print: the plugin kit's public `target` (an origin, or a vendor
 * API's name such as `Slack chat.postMessage`), else a public `origin`. A URL is reduced to its
 * origin again (an integration that put a whole URL there must not leak its path).
 */
export function originOf(webhook: WebhookPlugin): string {
  const target = (webhook as { target?: unknown }).target;
  const origin =
    typeof target === 'string' && target !== '' ? target : (webhook as { origin?: unknown }).origin;
  if (typeof origin === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(origin)) {
    // A name, not a URL: shown as the kit promises it is, on one line and short.
    return origin.replace(/\s+/g, ' ').slice(0, 80) || '-';
  }
  if (typeof origin !== 'string' || origin === '') return '-';
  const safe = safeOrigin(origin);
  if (safe !== 'null') return safe === '<invalid url>' ? '-' : safe;
  // Schemes without a web origin (smtp://host:587): scheme and host only, never user or path.
  const url = new URL(origin);
  return url.host === '' ? '-' : `${url.protocol}//${url.host}`;
}
