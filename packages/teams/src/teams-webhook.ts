import {
  type CircuitBreakerOptions,
  type CommonWebhookOptions,
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  parseCommonOptions,
  parseEndpointOption,
  type RateLimit,
  type RetryPolicy,
  safeOrigin,
  WebhookConfigError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import ky, { type KyInstance } from 'ky';
import { type ErrorContext, requestError, responseError } from './errors.js';
import { formatTeamsMessage } from './format.js';

/** Options of {@link TeamsWebhook}. */
export interface TeamsWebhookOptions extends CommonWebhookOptions {
  /**
   * The URL of a Teams Workflows flow that starts with "When a Teams webhook request is
   * received" and posts the card ("Post card in a chat or channel"; the Workflows template
   * "Post to a channel when a webhook request is received" does both). Its `sig` query parameter
   * is a credential: the URL is never shown in errors or stats.
   * @example process.env.TEAMS_WEBHOOK_URL
   */
  webhookUrl: string | URL;
  /**
   * Event types to receive; `'*'` for all.
   * @default ['alert', 'security_vulnerability', 'compliance_violation', 'phi_access', 'deployment_risk', 'error']
   */
  events?: readonly EventSelector[] | undefined;
  /**
   * Over the limit, deliveries wait. Teams throttles bursts of channel posts; one a second
   * stays clear of it.
   * @default { maxRequestsPerMinute: 60 }
   */
  rateLimit?: RateLimit | undefined;
}

/** The events a {@link TeamsWebhook} receives unless `events` says otherwise: alerts and compliance. */
export const DEFAULT_TEAMS_EVENTS = [
  'alert',
  'security_vulnerability',
  'compliance_violation',
  'phi_access',
  'deployment_risk',
  'error',
] as const satisfies readonly EventSelector[];

/** The default rate limit of a {@link TeamsWebhook}. */
export const DEFAULT_TEAMS_RATE_LIMIT = { maxRequestsPerMinute: 60 } as const satisfies RateLimit;

/**
 * Posts each event to a Microsoft Teams chat or channel through a Workflows webhook, as an
 * Adaptive Card 1.4: a header in the severity's colour, the event's fields as a FactSet, the
 * recommendation, and a button for the event's link. One attempt per `deliver`; retries,
 * Retry-After, rate limiting and timeouts are core's.
 *
 * @example
 * const teams = new TeamsWebhook({
 *   webhookUrl: process.env.TEAMS_WEBHOOK_URL!,
 *   events: ['compliance_violation', 'phi_access'],
 *   filter: (event) => event.classification === 'SENSITIVE',
 * });
 * const empathy = new EmpathyOS({ userId: 'compliance', webhooks: [teams] });
 */
export class TeamsWebhook implements WebhookPlugin {
  readonly name: string;
  readonly events: readonly EventSelector[];
  readonly filter: ((event: EmpathyEvent) => boolean) | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly rateLimit: RateLimit | undefined;
  readonly circuitBreaker: CircuitBreakerOptions | false | undefined;
  readonly concurrency: number;
  readonly onFailure: CommonWebhookOptions['onFailure'];
  // Private fields: `util.inspect(webhook)` (an onFailure logging its first argument) shows none of them.
  readonly #url: URL;
  readonly #errors: ErrorContext;
  #client: KyInstance | undefined;

  constructor(options: TeamsWebhookOptions) {
    const common = parseCommonOptions(options, {
      name: 'teams',
      events: DEFAULT_TEAMS_EVENTS,
      rateLimit: DEFAULT_TEAMS_RATE_LIMIT,
    });
    this.name = common.name;
    this.events = common.events;
    this.filter = common.filter;
    this.retryPolicy = common.retryPolicy;
    this.rateLimit = common.rateLimit;
    this.circuitBreaker = common.circuitBreaker;
    this.concurrency = common.concurrency;
    this.onFailure = common.onFailure;
    const { url, secrets } = parseWebhookUrl(options.webhookUrl, this.name);
    this.#url = url;
    this.#errors = { webhook: this.name, origin: safeOrigin(url), secrets };
  }

  /** Posts one Adaptive Card for `event`. One attempt; Workflows answers 202 Accepted. */
  async deliver(event: EmpathyEvent, ctx: DeliveryContext): Promise<DeliveryReceipt> {
    const message = formatTeamsMessage(event);
    let response: Response;
    try {
      response = await this.#http().post(this.#url, { json: message, signal: ctx.signal });
    } catch (error) {
      // A timeout or shutdown aborted the request: core reports it as such.
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw requestError(this.#errors, error);
    }
    if (!response.ok) throw await responseError(this.#errors, response);
    // Drain the (empty) body so that the connection goes back to the pool.
    await response.arrayBuffer().catch(() => undefined);
    const receipt: DeliveryReceipt = { status: response.status };
    const runId = response.headers.get('x-ms-workflow-run-id');
    if (runId) receipt.id = runId;
    return receipt;
  }

  #http(): KyInstance {
    // ky's own retries and timeout are off: core's retry policy is the only one.
    this.#client ??= ky.create({
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      headers: { 'user-agent': '@empathy/webhooks-teams' },
    });
    return this.#client;
  }
}

function parseWebhookUrl(value: unknown, webhook: string): { url: URL; secrets: string[] } {
  const fail = (rule: string): never => {
    // The value is a credential: the message describes it, never quotes it.
    throw new WebhookConfigError(`option 'webhookUrl' ${rule}`, { webhook });
  };
  const url = parseEndpointOption(value, {
    option: 'webhookUrl',
    webhook,
    what: 'the URL of a Teams Workflows "When a Teams webhook request is received" flow',
  });
  if (url.username || url.password) fail('must not carry a user name or password');
  const secrets = [String(value), url.href, `${url.pathname}${url.search}`, url.search];
  if (url.pathname.length > 8) secrets.push(url.pathname);
  const sig = url.searchParams.get('sig');
  if (sig) secrets.push(sig, encodeURIComponent(sig));
  // The flow's id is in the path; Workflows errors name it ("The workflow '…' could not be found").
  const workflow = /\/workflows\/([^/]+)/.exec(url.pathname)?.[1];
  if (workflow) secrets.push(workflow);
  return { url, secrets };
}
