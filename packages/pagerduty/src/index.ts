export {
  ACTION_METADATA,
  type FormatOptions,
  fitPagerDutyEvent,
  formatPagerDutyEvent,
  incidentKey,
  type PagerDutyAction,
  type PagerDutyEventBody,
  type PagerDutyLink,
  type PagerDutyPayload,
  type PagerDutySeverity,
  SEVERITY_MAP,
} from './format.js';
export {
  PAGERDUTY_RATE_LIMIT,
  PAGERDUTY_REGIONS,
  type PagerDutyActionOptions,
  type PagerDutyRegion,
  PagerDutyWebhook,
  type PagerDutyWebhookOptions,
} from './pagerduty-webhook.js';
