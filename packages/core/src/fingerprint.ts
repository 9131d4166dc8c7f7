import { createHash } from 'node:crypto';
import type { EmpathyEvent } from './events.js';

/**
 * A stable fingerprint of the condition an event reports: `empathy:<event_type>:<32 hex digits>`,
 * a SHA-256 of the fields that identify it (the file and title of a finding, the service and
 * environment of a deployment risk, …), not of text that changes between occurrences such as
 * measured values. Integrations use it to group repeats: PagerDuty's `dedup_key`, Datadog's
 * `aggregation_key`.
 *
 * @example conditionFingerprint(alert) // 'empathy:alert:3f6c…'
 */
export function conditionFingerprint(event: EmpathyEvent): string {
  const hash = createHash('sha256')
    .update(conditionIdentity(event).join('\u001f'))
    .digest('hex')
    .slice(0, 32);
  return `empathy:${event.event_type}:${hash}`;
}

/** The fields that identify "the same condition" for each event type. */
export function conditionIdentity(event: EmpathyEvent): string[] {
  const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  // App-defined event types (EventDataMap augmentations) land in `default`.
  const other = event as { event_id: string; data: Record<string, unknown> };
  switch (event.event_type) {
    case 'prediction':
      return [event.data.prediction];
    case 'alert':
      return [s(event.data.source), event.data.title ?? event.data.message];
    case 'bug_detected':
      return [s(event.data.file), event.data.title];
    case 'security_vulnerability':
      return [s(event.data.file), s(event.data.cwe), event.data.title];
    case 'performance_issue':
      return [s(event.data.service), s(event.data.endpoint), s(event.data.metric), event.data.title];
    case 'code_review_complete':
      return [s(event.data.repository), s(event.data.pull_request)];
    case 'test_failure':
      return [s(event.data.suite), s(event.data.file), event.data.test_name];
    case 'deployment_risk':
      return [event.data.service, event.data.environment, s(event.data.version)];
    case 'compliance_violation':
      return [event.data.regulation, s(event.data.rule), s(event.data.resource), event.data.description];
    case 'pattern_discovered':
      return [event.data.pattern_id ?? event.data.name];
    case 'error':
      return [event.data.error_type, event.data.message];
    case 'phi_access':
      return [event.data.resource, s(event.data.accessor), s(event.data.purpose)];
    case 'completion':
      // Every completion is its own thing: nothing to merge.
      return [event.event_id];
    default: {
      const d = other.data;
      const named = [d.title, d.name, d.message, d.description].find((v) => typeof v === 'string');
      return named === undefined ? [other.event_id] : [s(d.source), named as string];
    }
  }
}
