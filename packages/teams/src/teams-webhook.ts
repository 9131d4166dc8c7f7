import {
  type DeliveryContext,
  type DeliveryReceipt,
  type EmpathyEvent,
  type EventSelector,
  type RateLimit,
  WebhookConfigError,
} from '@empathy/webhooks-core';
import {
  type IncidentContext,
  parseEndpointOption,
  summarizeEvent,
  truncateText,
  userAgent,
  WebhookBase,
  type WebhookOptions,
} from '@empathy/webhooks-core/kit';
import pkg from '../package.json' with { type: 'json' };
import { workflowsError } from './errors.js';
import { fitTeamsMessage, formatTeamsMessage, type TeamsMessage } from './format.js';

/** Options of {@link TeamsWebhook}. */
export interface TeamsWebhookOptions extends WebhookOptions<TeamsMessage> {
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

/** The longest original title an incident keeps for its resolved card (the card's own title cap). */
const MAX_KEPT_TITLE = 200;

/** The default rate limit of a {@link TeamsWebhook}. */
export const DEFAULT_TEAMS_RATE_LIMIT = { maxRequestsPerMinute: 60 } as const satisfies RateLimit;

/**
 * Posts each event to a Microsoft Teams chat or channel through a Workflows webhook, as an
 * Adaptive Card 1.4: a header in the severity's colour, the event's fields as a FactSet, the
 * recommendation, and a button for the event's link. A Workflows card cannot be edited: an
 * incident's repeats post a card that says how many times it fired, its resolution a green card
 * that names the first. One attempt per `deliver`; retries, Retry-After, rate limiting and
 * timeouts are core's.
 *
 * @example
 * const teams = new TeamsWebhook({
 *   webhookUrl: process.env.TEAMS_WEBHOOK_URL!,
 *   events: ['compliance_violation', 'phi_access'],
 *   filter: (event) => event.classification === 'SENSITIVE',
 * });
 * const empathy = new EmpathyOS({ userId: 'compliance', webhooks: [teams] });
 */
export class TeamsWebhook extends WebhookBase<TeamsMessage> {
  /** The flow URL's origin: the only part of it that is safe to print. */
  readonly target: string;
  // Private fields: `util.inspect(webhook)` (an onFailure logging its first argument) shows none of them.
  readonly #url: URL;

  constructor(options: TeamsWebhookOptions) {
    super(options, {
      fit: fitTeamsMessage,
      name: 'teams',
      userAgent: userAgent(pkg),
      events: DEFAULT_TEAMS_EVENTS,
      rateLimit: DEFAULT_TEAMS_RATE_LIMIT,
    });
    const url = parseEndpointOption(options.webhookUrl, {
      option: 'webhookUrl',
      webhook: this.name,
      what: 'the URL of a Teams Workflows "When a Teams webhook request is received" flow',
      allowPrivateNetwork: this.allowPrivateNetwork,
    });
    // Registered before any check can fail: every piece of it (the flow id, `sig`) is redacted.
    this.redactor.addUrl(url);
    if (url.username || url.password) {
      // The value is a credential: the message describes it, never quotes it.
      throw new WebhookConfigError(`option 'webhookUrl' must not carry a user name or password`, {
        webhook: this.name,
      });
    }
    this.#url = url;
    this.target = url.origin;
  }

  /**
   * The Adaptive Card message for `event`, showing where its incident stands (seen N times,
   * resolved): what `format` receives as `defaults`.
   */
  protected render(event: EmpathyEvent, incident?: IncidentContext): TeamsMessage {
    return formatTeamsMessage(event, incident);
  }

  /**
   * One POST of the card. Workflows answers 202 Accepted with an empty body and the run's id;
   * a posted card cannot be edited, so an incident's repeats and resolution are new cards. The
   * first card's title is kept as the incident's `ref.title`, for the resolved card to name it.
   */
  protected async send(
    message: TeamsMessage,
    event: EmpathyEvent,
    ctx: DeliveryContext,
  ): Promise<DeliveryReceipt> {
    const response = await this.postJson(this.#url, message, ctx);
    if (!response.ok) throw await workflowsError(this.errors, response);
    // Nothing in the body is needed: drop it rather than read whatever an endpoint sends.
    await response.body?.cancel();
    const receipt: DeliveryReceipt = { status: response.status };
    const runId = response.headers.get('x-ms-workflow-run-id');
    if (runId && /^[\w-]{1,100}$/.test(runId)) receipt.id = runId;
    const incident = ctx.incident;
    if (incident?.status === 'firing' && incident.ref === undefined) {
      receipt.incidentRef = { title: truncateText(summarizeEvent(event).title, MAX_KEPT_TITLE) };
    }
    return receipt;
  }
}
