// Checked by `tsc -p tsconfig.json` (not run): wrong options must not compile.
import { PagerDutyWebhook } from '../src/index.js';

export function typeTests(routingKey: string): void {
  new PagerDutyWebhook({ routingKey, events: ['alert'], filter: (event) => event.severity === 'high' });
  new PagerDutyWebhook({
    routingKey,
    region: 'eu',
    source: 'api',
    component: 'auth',
    componentGroup: 'prod',
  });
  // @ts-expect-error routingKey is required
  new PagerDutyWebhook({ events: ['alert'] });
  // @ts-expect-error region is 'us' or 'eu'
  new PagerDutyWebhook({ routingKey, region: 'asia' });
  // @ts-expect-error a misspelt event type
  new PagerDutyWebhook({ routingKey, events: ['alrt'] });
  // `format` is typed with the Events API event.
  new PagerDutyWebhook({
    routingKey,
    format: (_event, defaults) =>
      defaults.payload ? { ...defaults, payload: { ...defaults.payload, severity: 'critical' } } : defaults,
  });
  new PagerDutyWebhook({
    routingKey,
    // @ts-expect-error PagerDuty's severities are critical, error, warning and info
    format: (_e, d) => ({ ...d, payload: { ...d.payload!, severity: 'high' } }),
  });
  // @ts-expect-error dedupKey computes a string from an event
  new PagerDutyWebhook({ routingKey, dedupKey: 'fixed' });
}
