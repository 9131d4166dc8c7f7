import { randomBytes } from 'node:crypto';
import { WebhookConfigError } from './errors.js';
import { incidentKeyProblem } from './incident.js';

/** Severity of an event, used by filters and by integrations to pick colours and priorities. */
export const SEVERITIES = ['info', 'low', 'medium', 'warning', 'high', 'critical'] as const;
/** Severity of an event. */
export type Severity = (typeof SEVERITIES)[number];

/** Data classification of an event, used by filters (e.g. route `SENSITIVE` events to compliance only). */
export const CLASSIFICATIONS = ['PUBLIC', 'INTERNAL', 'SENSITIVE'] as const;
/** Data classification of an event. */
export type Classification = (typeof CLASSIFICATIONS)[number];

/** Empathy level of the interaction that produced an event (level 4 = anticipatory). */
export type EmpathyLevel = 1 | 2 | 3 | 4 | 5;

/** Fields every event's `data` may carry besides its own. */
export interface CommonEventData {
  /** A link to more detail (a dashboard, a PR, a run); integrations render it as a button or link. */
  url?: string | undefined;
  /** Free-form context the agent attached (service, environment, …). */
  context?: Record<string, unknown> | undefined;
  /**
   * The incident this event belongs to (1-200 characters): events with one key are one
   * condition, so a repeat updates the first notification and a resolved event clears it
   * (see `incidentOf`). Without it, a condition event's key is its `conditionFingerprint`;
   * `null` puts the event in no incident (it is sent as it is, never folded or updated).
   */
  incident_key?: string | null | undefined;
  /** `true`: the condition this event reports has cleared (its incident is resolved). */
  resolved?: boolean | undefined;
  /** The older name of {@link incident_key}, still read when `incident_key` is absent. */
  dedup_key?: string | undefined;
  [key: string]: unknown;
}

/** One suggestion in a code review. */
export interface ReviewSuggestion {
  file?: string | undefined;
  line?: number | undefined;
  message: string;
}

/**
 * The `data` of each event type, on the wire (snake_case). An interface, so that applications
 * can add their own event types:
 *
 * @example
 * declare module '@empathy/webhooks-core' {
 *   interface EventDataMap { release_published: { version: string } }
 * }
 * registerEventType('release_published');
 */
export interface EventDataMap {
  prediction: CommonEventData & {
    prediction: string;
    /** 0..1 */
    confidence: number;
    recommendation?: string | undefined;
    timeframe?: string | undefined;
    impact?: string | undefined;
  };
  alert: CommonEventData & {
    message: string;
    title?: string | undefined;
    source?: string | undefined;
    details?: Record<string, unknown> | undefined;
    /** `true` marks the condition as cleared: incident integrations resolve it. */
    resolved?: boolean | undefined;
  };
  bug_detected: CommonEventData & FindingData;
  security_vulnerability: CommonEventData & FindingData & { cwe?: string; cvss?: number };
  performance_issue: CommonEventData & {
    title: string;
    service?: string | undefined;
    endpoint?: string | undefined;
    metric?: string | undefined;
    value?: number | undefined;
    threshold?: number | undefined;
    metrics?: Record<string, number> | undefined;
  };
  code_review_complete: CommonEventData & {
    repository?: string | undefined;
    pull_request: number;
    summary?: string | undefined;
    positives: string[];
    suggestions: ReviewSuggestion[];
    security: string[];
    /** 0..1 */
    confidence: number;
  };
  test_failure: CommonEventData & {
    test_name: string;
    message: string;
    file?: string | undefined;
    suite?: string | undefined;
    run_url?: string | undefined;
  };
  deployment_risk: CommonEventData & {
    service: string;
    environment: string;
    risk: string;
    recommendation?: string | undefined;
    version?: string | undefined;
  };
  compliance_violation: CommonEventData & {
    /** HIPAA, GDPR, SOC2, … */
    regulation: string;
    description: string;
    rule?: string | undefined;
    resource?: string | undefined;
  };
  pattern_discovered: CommonEventData & {
    name: string;
    description: string;
    pattern_id?: string | undefined;
    confidence?: number | undefined;
  };
  completion: CommonEventData & {
    content: string;
    level_used: EmpathyLevel;
    proactive?: boolean | undefined;
    duration_ms?: number | undefined;
  };
  error: CommonEventData & { error_type: string; message: string };
  phi_access: CommonEventData & { resource: string; accessor?: string; purpose?: string };
}

/** What `bug_detected` and `security_vulnerability` carry. */
export interface FindingData {
  title: string;
  description: string;
  file?: string | undefined;
  line?: number | undefined;
  fix?: string | undefined;
  /** e.g. `security`; integrations turn it into a label. */
  category?: string | undefined;
  labels?: string[] | undefined;
  /** Who owns the file (an account id or handle); Jira can assign to it. */
  owner?: string | undefined;
}

/** Every event type name: the built-in ones plus those an application adds to {@link EventDataMap}. */
export type EventType = keyof EventDataMap & string;

/** The built-in event types, in the seed's order, plus `completion`, `error` and `phi_access`. */
export const EVENT_TYPES = [
  'prediction',
  'alert',
  'bug_detected',
  'security_vulnerability',
  'performance_issue',
  'code_review_complete',
  'test_failure',
  'deployment_risk',
  'compliance_violation',
  'pattern_discovered',
  'completion',
  'error',
  'phi_access',
] as const satisfies readonly EventType[];

/** A built-in event type. */
export type BuiltInEventType = (typeof EVENT_TYPES)[number];

/** What a webhook subscribes to: event type names, or `'*'` for all of them. */
export type EventSelector = EventType | '*';

/** Envelope metadata. */
export interface EventMetadata {
  framework_version: string;
  model?: string | undefined;
  [key: string]: unknown;
}

/**
 * An event as it goes over the wire: the seed's "Webhook Payload". `switch (event.event_type)`
 * narrows `data`.
 */
export type EmpathyEvent<T extends EventType = EventType> = {
  [K in T]: {
    event_type: K;
    /** `evt_…`; stays the same on every attempt: receivers de-duplicate on it. */
    event_id: string;
    /** ISO-8601 UTC, ending in `Z`. */
    timestamp: string;
    user_id: string;
    empathy_level: EmpathyLevel;
    severity?: Severity | undefined;
    classification?: Classification | undefined;
    data: EventDataMap[K];
    metadata: EventMetadata;
  };
}[T];

/** Options for {@link createEvent}. */
export interface CreateEventOptions {
  userId: string;
  empathyLevel?: EmpathyLevel | undefined;
  severity?: Severity | undefined;
  classification?: Classification | undefined;
  frameworkVersion?: string | undefined;
  model?: string | undefined;
  /** Extra metadata fields. */
  metadata?: Record<string, unknown> | undefined;
  /** Override the generated id (tests, replays from another system). */
  eventId?: string | undefined;
  /** Override the timestamp. */
  timestamp?: Date | undefined;
}

/** The framework version written into `metadata.framework_version` unless one is given. */
export const DEFAULT_FRAMEWORK_VERSION = '1.8.0';

// Event ids: a random 64-bit prefix per process plus a counter. Unique across processes without
// a random draw per event (a UUID per emit cost ~10% of emit()).
let idPrefix = randomBytes(8).toString('hex');
let idCounter = 0;

/** A new event id: `evt_` + 28 hex characters, unique across processes. */
export function newEventId(): string {
  if (idCounter >= 0xffffffffffff) {
    idPrefix = randomBytes(8).toString('hex');
    idCounter = 0;
  }
  return `evt_${idPrefix}${(idCounter++).toString(16).padStart(12, '0')}`;
}

// `toISOString()` is the costliest step of building an event (~1-2 µs); events created in the
// same millisecond share one string.
let isoMs = Number.NaN;
let isoString = '';

function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoString = new Date(ms).toISOString();
  }
  return isoString;
}

/**
 * Builds the wire envelope for an event. Throws a {@link WebhookConfigError} for an unknown type
 * name or for `data` that is not an object (`null`, a string, an array).
 */
export function createEvent<T extends EventType>(
  type: T,
  data: EventDataMap[T],
  options: CreateEventOptions,
): EmpathyEvent<T> {
  assertEventType(type, 'emit');
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new WebhookConfigError(
      `[emit] the data of a '${type}' event must be an object, such as { message: '…' } (got ${
        data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data
      })`,
    );
  }
  const problem = incidentKeyProblem(data);
  if (problem !== undefined) throw new WebhookConfigError(`[emit] the '${type}' event's ${problem}`);
  const metadata: EventMetadata =
    options.metadata === undefined
      ? { framework_version: options.frameworkVersion ?? DEFAULT_FRAMEWORK_VERSION }
      : { framework_version: options.frameworkVersion ?? DEFAULT_FRAMEWORK_VERSION, ...options.metadata };
  if (options.model !== undefined) metadata.model = options.model;
  const event = {
    event_type: type,
    event_id: options.eventId ?? newEventId(),
    timestamp: options.timestamp === undefined ? isoNow() : options.timestamp.toISOString(),
    user_id: options.userId,
    empathy_level: options.empathyLevel ?? 4,
    data,
    metadata,
  } as EmpathyEvent<T> & { severity?: Severity; classification?: Classification };
  const severity = options.severity ?? (data as { severity?: Severity }).severity;
  const classification =
    options.classification ?? (data as { classification?: Classification }).classification;
  if (severity !== undefined) event.severity = severity;
  if (classification !== undefined) event.classification = classification;
  return event;
}

// App-defined event types registered at runtime. Module state on purpose: the catalogue is global
// to the process, like the EventDataMap interface it mirrors.
const customEventTypes = new Set<string>();
const builtIn = new Set<string>(EVENT_TYPES);

/**
 * Registers app-defined event types so that webhooks may subscribe to them and `emit` accepts
 * them. Pair it with a `declare module` augmentation of {@link EventDataMap} for the types.
 */
export function registerEventType(...names: string[]): void {
  for (const name of names) {
    if (!/^[a-z][a-z0-9_.:-]{0,63}$/.test(name)) {
      throw new WebhookConfigError(
        `event type name '${name}' is invalid: use 1-64 lowercase letters, digits, '_', '.', ':' or '-', starting with a letter`,
      );
    }
    customEventTypes.add(name);
  }
}

/** Whether `name` is a built-in or registered event type. */
export function isEventType(name: string): name is EventType {
  return builtIn.has(name) || customEventTypes.has(name);
}

/** All known event types: built-in first, then registered ones. */
export function knownEventTypes(): string[] {
  return [...EVENT_TYPES, ...customEventTypes];
}

/**
 * Why `name` is not an event type, naming the closest known one; `undefined` when it is one.
 * Not exported from the package: {@link assertEventType} is the public form.
 */
export function unknownEventType(name: string): string | undefined {
  if (typeof name !== 'string') {
    return `an event type must be a string such as 'alert' (got ${name === null ? 'null' : typeof name})`;
  }
  if (isEventType(name)) return undefined;
  const hint = closest(name, knownEventTypes());
  return (
    `unknown event type '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; ` +
    `known types: ${knownEventTypes().join(', ')}. Register your own with registerEventType().`
  );
}

/**
 * Throws a {@link WebhookConfigError} naming the unknown type and the closest known one.
 * @param where what the message is prefixed with, in brackets (e.g. `emit`).
 */
export function assertEventType(name: string, where: string): asserts name is EventType {
  const problem = unknownEventType(name);
  if (problem !== undefined) throw new WebhookConfigError(`[${where}] ${problem}`);
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = levenshtein(name.toLowerCase(), candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  // Suggest only when the name is plausibly a typo of the candidate.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
