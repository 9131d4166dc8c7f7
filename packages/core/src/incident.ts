import { WebhookConfigError } from './errors.js';
import type { EmpathyEvent } from './events.js';
import { conditionFingerprint } from './fingerprint.js';

/**
 * The built-in event types that report a condition: something that fires, may repeat, and
 * clears. Events of these types belong to an incident; so does any event (built-in or your own)
 * whose data carries an explicit `incident_key`.
 */
export const INCIDENT_EVENT_TYPES = [
  'alert',
  'bug_detected',
  'security_vulnerability',
  'performance_issue',
  'test_failure',
  'deployment_risk',
  'compliance_violation',
] as const;

const INCIDENT_TYPES: ReadonlySet<string> = new Set(INCIDENT_EVENT_TYPES);

/** The longest `data.incident_key` accepted. */
export const MAX_INCIDENT_KEY_LENGTH = 200;

/** The incident an event belongs to (see {@link incidentOf}). */
export interface EventIncident {
  /** Stable across the occurrences of one condition: `data.incident_key`, else the condition fingerprint. */
  readonly key: string;
  /** `data.resolved === true`: the condition cleared. */
  readonly resolved: boolean;
}

// Events are immutable once emitted; the fingerprint is a SHA-256, so read it once per event.
const cache = new WeakMap<EmpathyEvent, EventIncident | null>();

/**
 * The incident `event` belongs to, or `undefined` when it reports no condition. The key is the
 * event's `data.incident_key` when it has one (1-200 characters; `data.dedup_key`, its older
 * name, is read when it is absent), else core's
 * `conditionFingerprint` (`empathy:<event_type>:<32 hex digits>`), so one condition firing again
 * gets the same key. `data.resolved: true` marks the event that clears it. `data.incident_key:
 * null` puts an event in no incident (a command about one, such as PagerDuty's acknowledge, or an
 * alert that should always be its own notification).
 *
 * @example incidentOf(createEvent('alert', { message: 'CPU 95%', resolved: true })) // { key: 'empathy:alert:…', resolved: true }
 */
export function incidentOf(event: EmpathyEvent): EventIncident | undefined {
  const data = (event.data ?? {}) as { incident_key?: unknown; dedup_key?: unknown; resolved?: unknown };
  // `incident_key: null` opts an event out: a command about an incident, a one-off alert.
  if (data.incident_key === null) return undefined;
  const explicit = data.incident_key ?? data.dedup_key;
  // The common case (a prediction, a completion) costs two reads and a Set lookup.
  if (explicit === undefined && !INCIDENT_TYPES.has(event.event_type)) return undefined;
  const cached = cache.get(event);
  if (cached !== undefined) return cached ?? undefined;
  let incident: EventIncident | null = null;
  if (typeof explicit === 'string' && explicit.length > 0 && explicit.length <= MAX_INCIDENT_KEY_LENGTH) {
    incident = { key: explicit, resolved: data.resolved === true };
  } else if (INCIDENT_TYPES.has(event.event_type)) {
    incident = { key: conditionFingerprint(event), resolved: data.resolved === true };
  }
  cache.set(event, incident);
  return incident ?? undefined;
}

/**
 * Checks `data.incident_key` when an event is created, so a bad key fails at `emit()` with a
 * message that names it instead of being silently ignored.
 * @returns the problem, or `undefined` when the key is absent or valid
 */
export function incidentKeyProblem(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const d = data as { incident_key?: unknown; resolved?: unknown };
  const key = d.incident_key;
  if (
    key !== undefined &&
    key !== null &&
    (typeof key !== 'string' || key.length === 0 || key.length > MAX_INCIDENT_KEY_LENGTH)
  ) {
    return `data.incident_key must be a string of 1-${MAX_INCIDENT_KEY_LENGTH} characters, or null for no incident`;
  }
  if (d.resolved !== undefined && typeof d.resolved !== 'boolean') {
    return `data.resolved must be true or false (got ${typeof d.resolved})`;
  }
  return undefined;
}

/**
 * Where an incident stands for one webhook, handed to `deliver` as `ctx.incident`. Core keeps
 * the count and the vendor's references; the integration decides what to send:
 *
 * - `status: 'firing'` and no `ref`: post a new notification (the first, or a repost: the
 *   incident reopened, its state expired, `group.repeatSeconds` passed, or the vendor returns no
 *   reference). Return the vendor's references as `receipt.incidentRef`.
 * - `status: 'firing'` with `ref`: the condition fired again; update what `ref` points to (edit
 *   the message, reply in its thread, comment on the ticket) or post a follow-up saying so.
 * - `status: 'resolved'`: the condition cleared; update the original when `ref` is there, else
 *   post a resolved notification that names it (title and {@link firstSeenAt}).
 */
export interface IncidentContext {
  /** The incident key (see {@link incidentOf}); PagerDuty's `dedup_key`, Datadog's `aggregation_key`. */
  readonly key: string;
  readonly status: 'firing' | 'resolved';
  /** Firing events of this incident so far, this one and every folded one included. */
  readonly occurrences: number;
  /** How many firing events this notification stands for (more than 1 when `group` folded some). */
  readonly folded: number;
  /** ISO time of the incident's first firing event that this webhook knows of. */
  readonly firstSeenAt: string;
  /** The vendor's references to the incident's notification, as a receipt's `incidentRef` returned them. */
  readonly ref: Readonly<Record<string, string>> | undefined;
}

/**
 * Alertmanager-style noise control for one webhook (`group` option). Events of one incident are
 * folded into one notification that says how many it stands for; a resolved event is always sent.
 */
export interface GroupOptions {
  /**
   * Hold an incident's first notification this long, folding repeats into it (Alertmanager's
   * `group_wait`). @default 0
   */
  waitSeconds?: number | undefined;
  /**
   * After a notification, send at most one more per this many seconds, folding the repeats in
   * between (an edit where the vendor can edit, else a follow-up; `group_interval`). @default 0
   */
  intervalSeconds?: number | undefined;
  /**
   * While an incident keeps firing, post a fresh notification (not an edit or a thread reply) when
   * a repeat comes this long after the last one posted, for when the original has scrolled out
   * of sight (`repeat_interval`). @default never
   */
  repeatSeconds?: number | undefined;
}

/** {@link GroupOptions} in milliseconds, validated. */
export interface ResolvedGroup {
  waitMs: number;
  intervalMs: number;
  repeatMs: number | undefined;
}

/** The longest any `group` time may be: 30 days. */
const MAX_GROUP_SECONDS = 30 * 24 * 3600;

/** Validates a `group` option; throws a {@link WebhookConfigError} naming the field. */
export function normalizeGroup(group: GroupOptions | undefined, webhook: string): ResolvedGroup | undefined {
  if (group === undefined) return undefined;
  if (group === null || typeof group !== 'object' || Array.isArray(group)) {
    throw new WebhookConfigError(
      `option 'group' must be an object { waitSeconds?, intervalSeconds?, repeatSeconds? }`,
      {
        webhook,
      },
    );
  }
  const seconds = (field: keyof GroupOptions, fallback: number | undefined): number | undefined => {
    const value = group[field];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_GROUP_SECONDS) {
      throw new WebhookConfigError(
        `option 'group.${field}' must be a number of seconds from 0 to ${MAX_GROUP_SECONDS} (got ${typeof value === 'number' ? value : typeof value})`,
        { webhook },
      );
    }
    return value * 1000;
  };
  for (const field of Object.keys(group)) {
    if (field !== 'waitSeconds' && field !== 'intervalSeconds' && field !== 'repeatSeconds') {
      throw new WebhookConfigError(
        `option 'group' has an unknown field '${field.slice(0, 40)}' (known: waitSeconds, intervalSeconds, repeatSeconds)`,
        { webhook },
      );
    }
  }
  return {
    waitMs: seconds('waitSeconds', 0)!,
    intervalMs: seconds('intervalSeconds', 0)!,
    repeatMs: seconds('repeatSeconds', undefined),
  };
}

/**
 * What a store keeps per (webhook, incident key): plain JSON. Written only through the functions
 * of this module, so every store holds the same state machine.
 */
export interface IncidentState {
  /** Firing events seen since the incident opened (folded ones included). */
  count: number;
  /** `count` as of the last delivered notification. */
  notified: number;
  /** Epoch ms of the incident's first firing event. */
  openedAt: number;
  /** Epoch ms of the last delivered notification. */
  notifiedAt?: number | undefined;
  /** Epoch ms of the last notification posted anew (not an update of an earlier one). */
  postedAt?: number | undefined;
  /** A grouped notification is queued to run at this epoch ms: repeats until then fold into it. */
  dueAt?: number | undefined;
  /** The resolved notification was delivered: the next firing event opens a new incident. */
  resolved: boolean;
  /** The vendor's references to the incident's notification. */
  ref?: Record<string, string> | undefined;
  /**
   * The latest event folded while a notification was queued or in flight: the queued
   * notification shows it (the condition as it is now), and a follow-up is sent for it (under its
   * own event id, so receivers that de-duplicate by id take it).
   */
  latest?: EmpathyEvent | undefined;
  /**
   * A notification that posts anew (the incident has no reference yet) is being sent, or waits for
   * its retry: the incident's other notifications wait for it, so that they update what it posts
   * instead of posting before it (see {@link IncidentHold}).
   */
  holder?: IncidentHold | undefined;
}

/**
 * The hold of one notification job on its incident, in every process that shares the store. It
 * keeps the incident's notifications in order: a repeat or a resolution that comes while the
 * first notification waits for its retry (or is still being sent, maybe by another worker) waits
 * for it, and then updates the message it posted. Nothing is dropped: the waiting jobs are
 * deferred, not folded.
 */
export interface IncidentHold {
  /** The holding job's id. */
  job: string;
  /** Epoch ms when the hold lapses, should its holder vanish (a crashed process, a lost job). */
  until: number;
  /** Epoch ms of the holder's next attempt, when it waits for a retry, a rate limit or a circuit. */
  resumeAt?: number | undefined;
}

/** How long a hold outlives what its holder is expected to do, should the holder vanish. */
export const HOLD_GRACE_MS = 30_000;
/** How often a notification waiting for another one's hold looks again. */
export const HOLD_POLL_MS = 200;

/** The hold of another job on this incident that is still in force, if any. */
export function heldByOther(
  state: IncidentState | undefined,
  job: string,
  now: number,
): IncidentHold | undefined {
  const holder = state?.holder;
  return holder !== undefined && holder.job !== job && holder.until > now ? holder : undefined;
}

/** When a notification waiting for `hold` should look again. */
export function holdRecheckAt(hold: IncidentHold, now: number): number {
  return Math.min(hold.until, Math.max(now, hold.resumeAt ?? now) + HOLD_POLL_MS);
}

/**
 * The state with `job` holding the incident until `until`, or unchanged when another job holds it
 * (the caller then waits). An incident without state yet gets one that began at `openedAt`. Pure.
 */
export function takeHold(
  state: IncidentState | undefined,
  job: string,
  until: number,
  now: number,
  openedAt: number,
): IncidentState {
  if (state !== undefined && heldByOther(state, job, now)) return state;
  const base = state ?? { count: 0, notified: 0, openedAt, resolved: false };
  return { ...base, holder: { job, until } };
}

/**
 * The state after the holder's attempt did not post: it waits for its next attempt at
 * `resumeAt`, and keeps its hold until a grace period after that. Pure; a state `job` does not
 * hold is returned as it is.
 */
export function extendHold(
  state: IncidentState | undefined,
  job: string,
  resumeAt: number,
): IncidentState | undefined {
  if (state?.holder?.job !== job) return state;
  return { ...state, holder: { job, until: resumeAt + HOLD_GRACE_MS, resumeAt } };
}

/** The state without `job`'s hold (it posted, or failed for good). Pure. */
export function releaseHold(state: IncidentState | undefined, job: string): IncidentState | undefined {
  if (state?.holder?.job !== job) return state;
  const { holder: _, ...rest } = state;
  return rest;
}

/**
 * Where incident state lives: vendor references and counts per (webhook, incident key), so a
 * restart between "fired" and "resolved" still updates the original notification. Memory by
 * default ({@link MemoryIncidentStore}); `SqliteQueue` keeps it in its database file and
 * `BullMQQueue` in Redis, shared by every worker.
 */
export interface IncidentStore {
  /** The state of one incident for one webhook, `undefined` if there is none (or it expired). */
  get(webhook: string, key: string): Promise<IncidentState | undefined>;
  /**
   * Replaces the state with what `change` returns, atomically with respect to other updates of
   * the same (webhook, key), in this process and (for shared stores) in others. `change` may be
   * called more than once (optimistic stores retry it) and must be pure. The entry expires `ttlMs`
   * after this update.
   * @returns the new state
   */
  update(
    webhook: string,
    key: string,
    change: (state: IncidentState | undefined) => IncidentState,
    ttlMs: number,
  ): Promise<IncidentState>;
  /** Releases what the store holds (connections, timers). */
  close?(): Promise<void>;
}

/**
 * Admission of a firing or resolved event for a webhook with `group`, when it is emitted: the
 * new state, and when to queue its notification (`undefined`: folded into one already queued).
 * Pure: the dispatcher runs it inside {@link IncidentStore.update}.
 */
export function admitEvent(
  state: IncidentState | undefined,
  event: EmpathyEvent,
  resolved: boolean,
  group: ResolvedGroup,
  now: number,
): { state: IncidentState; queueAt: number | undefined } {
  if (resolved) {
    // A resolved event is always sent, at once.
    return { state: state ?? { count: 0, notified: 0, openedAt: now, resolved: false }, queueAt: now };
  }
  if (state === undefined || state.resolved) {
    // A new incident (or one that cleared and fires again): hold its first notification.
    const dueAt = now + group.waitMs;
    return { state: { count: 1, notified: 0, openedAt: now, resolved: false, dueAt }, queueAt: dueAt };
  }
  const next: IncidentState = { ...state, count: state.count + 1 };
  if (state.dueAt !== undefined) {
    next.latest = event;
    return { state: next, queueAt: undefined };
  }
  next.dueAt = Math.max(now, (state.notifiedAt ?? now) + group.intervalMs);
  return { state: next, queueAt: next.dueAt };
}

/**
 * What one queued notification should say, decided when its job runs (`now`; `emittedAt` is when
 * its event was emitted, the start of an incident it opens): the {@link IncidentContext}
 * for `deliver`, or `undefined` when there is nothing left to say (a grouped notification whose
 * events a resolved notification already covered).
 */
export function planNotification(
  state: IncidentState | undefined,
  event: EventIncident,
  group: ResolvedGroup | undefined,
  now: number,
  emittedAt: number = now,
): IncidentContext | undefined {
  if (event.resolved) {
    // Also after an earlier resolved notification: updating the original again beats a new post.
    return {
      key: event.key,
      status: 'resolved',
      occurrences: state?.count ?? 0,
      folded: state ? Math.max(0, state.count - state.notified) : 0,
      firstSeenAt: new Date(state?.openedAt ?? emittedAt).toISOString(),
      ref: state?.ref,
    };
  }
  const live = state !== undefined && !state.resolved ? state : undefined;
  let occurrences: number;
  let folded: number;
  if (group === undefined) {
    // Every event is its own notification: count it now.
    occurrences = (live?.count ?? 0) + 1;
    folded = 1;
  } else {
    if (live === undefined) {
      // Admitted, then resolved (and the resolution said so) before this ran: nothing new.
      if (state?.resolved) return undefined;
      occurrences = 1;
      folded = 1;
    } else {
      folded = live.count - live.notified;
      if (folded <= 0) return undefined;
      occurrences = live.count;
    }
  }
  const repost =
    group?.repeatMs !== undefined && live?.postedAt !== undefined && now - live.postedAt >= group.repeatMs;
  return {
    key: event.key,
    status: 'firing',
    occurrences,
    folded,
    // A new incident began when its event was emitted, not when a (retried) attempt ran.
    firstSeenAt: new Date(live?.openedAt ?? emittedAt).toISOString(),
    ref: repost ? undefined : live?.ref,
  };
}

/**
 * The state after a notification was delivered, and the event of a follow-up notification when
 * events were folded in the meantime (queue it at the new state's `dueAt`). Pure.
 */
export function afterNotification(
  state: IncidentState | undefined,
  sent: IncidentContext,
  ref: Readonly<Record<string, string>> | undefined,
  group: ResolvedGroup | undefined,
  now: number,
): { state: IncidentState; followUp: EmpathyEvent | undefined } {
  const live = state !== undefined && !state.resolved ? state : undefined;
  const posted = sent.ref === undefined;
  // The time the notification said the incident began: the next one must say the same.
  const opened = Date.parse(sent.firstSeenAt);
  // A new post's references replace the old ones; an update's are merged into them.
  const mergedRef = posted ? ref && { ...ref } : { ...sent.ref, ...ref };
  if (sent.status === 'resolved') {
    return {
      state: {
        count: state?.count ?? 0,
        notified: state?.count ?? 0,
        openedAt: state?.openedAt ?? opened,
        notifiedAt: now,
        postedAt: posted ? now : state?.postedAt,
        resolved: true,
        ref: mergedRef,
      },
      followUp: undefined,
    };
  }
  const count =
    group === undefined ? Math.max(live?.count ?? 0, sent.occurrences) : (live?.count ?? sent.occurrences);
  const next: IncidentState = {
    count,
    notified: group === undefined ? count : Math.max(live?.notified ?? 0, sent.occurrences),
    openedAt: live?.openedAt ?? opened,
    notifiedAt: now,
    postedAt: posted ? now : live?.postedAt,
    resolved: false,
    ref: mergedRef,
  };
  const followUp = live?.latest;
  if (group === undefined || next.count <= next.notified || followUp === undefined) {
    return { state: next, followUp: undefined };
  }
  // Repeats folded while this notification was in flight: one more, an interval from now.
  next.dueAt = now + group.intervalMs;
  return { state: next, followUp };
}

/**
 * The state after a grouped notification failed for good: nothing is queued for the incident any
 * more, so the next repeat queues a new notification (which counts the events this one stood for).
 */
export function afterDeadNotification(state: IncidentState | undefined): IncidentState | undefined {
  if (state === undefined || state.dueAt === undefined) return state;
  const { dueAt: _, ...rest } = state;
  return rest;
}

/** The most references a receipt's `incidentRef` may hold, and their longest key and value. */
const REF_LIMITS = { entries: 16, key: 64, value: 1024 };

/**
 * A receipt's `incidentRef` as it is kept: string values only, at most 16 entries of bounded
 * length, or `undefined` when there is nothing usable (integrations return what the vendor said,
 * which is not trusted further than that).
 */
export function cleanIncidentRef(ref: unknown): Record<string, string> | undefined {
  if (ref === null || typeof ref !== 'object' || Array.isArray(ref)) return undefined;
  const out: Record<string, string> = {};
  let n = 0;
  for (const [key, value] of Object.entries(ref)) {
    if (typeof value !== 'string' || key.length > REF_LIMITS.key || value.length > REF_LIMITS.value) continue;
    out[key] = value;
    if (++n === REF_LIMITS.entries) break;
  }
  return n === 0 ? undefined : out;
}

/** Incident state is kept this long after its last update unless the host says otherwise: 7 days. */
export const DEFAULT_INCIDENT_TTL_SECONDS = 7 * 24 * 3600;

/**
 * The default {@link IncidentStore}: in this process's memory, lost on restart. Entries expire
 * after their TTL; at most `maxEntries` are kept (the oldest updated go first).
 */
export class MemoryIncidentStore implements IncidentStore {
  readonly #entries = new Map<string, { state: IncidentState; expiresAt: number }>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isInteger(max) || max < 1) {
      throw new WebhookConfigError(`option 'maxEntries' must be a positive integer (got ${max})`);
    }
    this.#maxEntries = max;
  }

  get(webhook: string, key: string): Promise<IncidentState | undefined> {
    return Promise.resolve(this.#read(`${webhook}\u0000${key}`, Date.now()));
  }

  update(
    webhook: string,
    key: string,
    change: (state: IncidentState | undefined) => IncidentState,
    ttlMs: number,
  ): Promise<IncidentState> {
    const id = `${webhook}\u0000${key}`;
    const now = Date.now();
    const state = change(this.#read(id, now));
    // Re-inserted last, so the Map's order is the order of updates: eviction takes the oldest.
    this.#entries.delete(id);
    this.#entries.set(id, { state, expiresAt: now + ttlMs });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return Promise.resolve(state);
  }

  #read(id: string, now: number): IncidentState | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.state;
  }
}
