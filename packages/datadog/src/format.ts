import { createHash } from 'node:crypto';
import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';
import {
  cleanText,
  conditionFingerprint,
  type EventSummary,
  type IncidentContext,
  incidentOf,
  oneLine,
  summarizeEvent,
  truncateText,
} from '@empathy/webhooks-core/kit';

/** Datadog's alert types for events (v1 `alert_type`). */
export type DatadogAlertType = 'error' | 'warning' | 'info' | 'success';

/**
 * A Datadog event as the SDK's `EventCreateRequest` takes it (camelCase; the SDK sends
 * `alert_type`, `aggregation_key` and `date_happened`): what a {@link DatadogWebhook} posts for
 * an event, and what the `format` option receives and returns.
 */
export interface DatadogEvent {
  /** Plain text, one line, at most 100 characters. */
  title: string;
  /** Markdown between `%%% \n` and `\n %%%`, at most 4000 characters in all. */
  text: string;
  alertType: DatadogAlertType;
  tags: string[];
  /**
   * Events with the same key are grouped in the event stream: the incident key. At most 100
   * characters (a longer one is hashed down, see {@link fitAggregationKey}).
   */
  aggregationKey: string;
  /** POSIX seconds; left out for events older than Datadog accepts (18 hours). */
  dateHappened?: number | undefined;
}

/** Settings {@link formatDatadogEvent} takes from the webhook's options. */
export interface FormatOptions {
  /** Tags put first on every event. */
  tags?: readonly string[] | undefined;
  /** Overrides the incident key used as `aggregationKey`. */
  aggregationKey?: ((event: EmpathyEvent) => string) | undefined;
  /** The current time in ms, to decide whether `dateHappened` is still accepted. @default Date.now() */
  now?: number | undefined;
}

// Datadog limits: docs.datadoghq.com/api/latest/events/ (text 4000, aggregation key 100) and the
// v2 event schema (title 100); tags: docs.datadoghq.com/getting_started/tagging/ (200 characters).
/** Event `text` limit, delimiters included. */
export const MAX_TEXT = 4000;
/** Event `title` limit. */
export const MAX_TITLE = 100;
/** `aggregationKey` limit. */
export const MAX_AGGREGATION_KEY = 100;
/** Tag length limit. */
export const MAX_TAG = 200;
/** Datadog refuses a `date_happened` older than this. */
const MAX_EVENT_AGE_MS = 18 * 3600 * 1000;

const MD_OPEN = '%%% \n';
const MD_CLOSE = '\n %%%';
const MAX_FIELD = 500;
const MAX_ITEMS = 20;
const MAX_CODE = 1200;
const ALERT_TYPES: readonly string[] = ['error', 'warning', 'info', 'success'];

/** Empathy severities mapped to Datadog alert types. */
export const ALERT_TYPE_MAP = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  warning: 'warning',
  low: 'info',
  info: 'info',
} as const satisfies Record<Severity, DatadogAlertType>;

/**
 * The Datadog event for an Empathy event, rendered from core's shared reading: its title (the
 * same title every integration shows), a markdown body within 4000 characters (the text, facts,
 * lists, recommendation and links), an alert type from the severity, tags (`event_type`,
 * `severity`, `user`, and `service` / `endpoint` / `environment` when the event names them) and
 * the incident key as aggregation key, the same for repeats of one condition.
 *
 * `incident` is the attempt's `ctx.incident`: a repeat's body starts with how often the condition
 * fired (`Seen: 4 times since …`), a resolved one is titled `Resolved: …` with alert type
 * `success`, and its key groups them all.
 */
export function formatDatadogEvent(
  event: EmpathyEvent,
  options: FormatOptions = {},
  incident?: IncidentContext,
): DatadogEvent {
  const summary = summarizeEvent(event, incident);
  const out: DatadogEvent = {
    title: plain(summary.title, MAX_TITLE),
    text: markdown(sections(summary), footer(event, summary)),
    alertType: summary.resolved ? 'success' : alertType(event),
    tags: eventTags(event, options.tags ?? []),
    aggregationKey: aggregationKey(event, options.aggregationKey, incident),
  };
  const happened = Date.parse(event.timestamp);
  const now = options.now ?? Date.now();
  if (Number.isFinite(happened) && now - happened < MAX_EVENT_AGE_MS && happened - now < 3600_000) {
    out.dateHappened = Math.floor(happened / 1000);
  }
  return out;
}

/**
 * Datadog's limits applied to an event the user's `format` returned: a one-line title of at most
 * 100 characters, text cut to 4000 (inside the markdown delimiters when it has them), tags of at
 * most 200 characters, an aggregation key of at most 100 ({@link fitAggregationKey}), text
 * cleaned by the text policy.
 * Throws what cannot be sent at all (no title, an unknown alert type).
 */
export function fitDatadogEvent(event: DatadogEvent): DatadogEvent {
  if (event === null || typeof event !== 'object') throw new Error('the event must be an object');
  if (typeof event.title !== 'string' || typeof event.text !== 'string') {
    throw new Error(`'title' and 'text' must be strings`);
  }
  const title = plain(event.title, MAX_TITLE);
  if (title === '') throw new Error(`'title' must not be empty`);
  if (!ALERT_TYPES.includes(event.alertType)) {
    throw new Error(`'alertType' must be one of ${ALERT_TYPES.join(', ')}`);
  }
  if (!Array.isArray(event.tags) || !event.tags.every((t) => typeof t === 'string')) {
    throw new Error(`'tags' must be an array of strings`);
  }
  if (typeof event.aggregationKey !== 'string') throw new Error(`'aggregationKey' must be a string`);
  if (event.dateHappened !== undefined && !Number.isInteger(event.dateHappened)) {
    throw new Error(`'dateHappened' must be whole POSIX seconds`);
  }
  const text = cleanText(event.text);
  const wrapped =
    text.startsWith(MD_OPEN) && text.endsWith(MD_CLOSE) && text.length >= MD_OPEN.length + MD_CLOSE.length;
  return {
    ...event,
    title,
    text: wrapped
      ? `${MD_OPEN}${cutMarkdown(text.slice(MD_OPEN.length, -MD_CLOSE.length), MAX_TEXT - MD_OPEN.length - MD_CLOSE.length)}${MD_CLOSE}`
      : truncateText(text, MAX_TEXT),
    tags: [...new Set(event.tags.map((t) => truncateText(oneLine(t), MAX_TAG)).filter((t) => t !== ''))],
    aggregationKey: fitAggregationKey(event.aggregationKey),
  };
}

/**
 * `success` for an event that says its condition cleared (`data.resolved: true`), else the
 * severity's type (`error` / `info` without one).
 */
export function alertType(event: EmpathyEvent): DatadogAlertType {
  if ((event.data as { resolved?: unknown }).resolved === true) return 'success';
  if (event.severity !== undefined) return ALERT_TYPE_MAP[event.severity];
  return event.event_type === 'error' ? 'error' : 'info';
}

/**
 * The aggregation key of an event: `aggregationKey(event)` if given, else `data.aggregation_key`,
 * else its incident key: `incident.key` (the attempt's `ctx.incident`), which is core's
 * `incidentOf` (`data.incident_key`, else the condition's fingerprint
 * `empathy:<event_type>:<32 hex digits>`, a SHA-256 of the fields that identify the condition,
 * not of text that changes between occurrences). An event outside any incident gets the same
 * kind of fingerprint. Always within Datadog's 100 characters ({@link fitAggregationKey}).
 */
export function aggregationKey(
  event: EmpathyEvent,
  custom?: (event: EmpathyEvent) => string,
  incident?: Pick<IncidentContext, 'key'>,
): string {
  const explicit = custom ? custom(event) : (event.data as { aggregation_key?: unknown }).aggregation_key;
  const own = typeof explicit === 'string' ? fitAggregationKey(explicit) : '';
  if (own !== '') return own;
  const key = (incident ?? incidentOf(event))?.key;
  const fitted = key === undefined ? '' : fitAggregationKey(key);
  return fitted !== '' ? fitted : conditionFingerprint(event);
}

/** Room for the readable start of a key that is hashed down: `<start>~<32 hex digits>` is 100. */
const HASHED_PREFIX = MAX_AGGREGATION_KEY - 33;

/**
 * A key as Datadog takes it: one line, cleaned, mentions neutralised (`@` → `＠`). One of more
 * than 100 characters (an `incident_key` may have 200) is hashed down, deterministically:
 * its first 67 characters, `~`, and 32 hex digits of its SHA-256, so two long keys that differ
 * only at the end stay two groups, and every event of one incident gets the same key.
 *
 * @example fitAggregationKey('a'.repeat(150)) // 'aaa…a~4f0c…' (67 + 1 + 32 characters)
 */
export function fitAggregationKey(key: string): string {
  const line = oneLine(String(key)).replace(/@/g, '＠');
  if (line.length <= MAX_AGGREGATION_KEY) return line;
  const hash = createHash('sha256').update(line).digest('hex').slice(0, 32);
  let start = line.slice(0, HASHED_PREFIX);
  // Never half a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(start)) start = start.slice(0, -1);
  return `${start}~${hash}`;
}

/** Tags of an event: the option tags, then `key:value` tags made from the event. */
export function eventTags(event: EmpathyEvent, base: readonly string[] = []): string[] {
  const d = event.data as Record<string, unknown>;
  const context = (d.context ?? {}) as Record<string, unknown>;
  const pick = (key: string) => {
    const value = d[key] ?? context[key];
    return typeof value === 'string' && value.trim() !== '' ? value : undefined;
  };
  const tags = [...base];
  const add = (key: string, value: string | undefined) => {
    if (value !== undefined) tags.push(tag(key, value));
  };
  add('service', pick('service'));
  add('endpoint', pick('endpoint'));
  add('environment', pick('environment'));
  add('severity', event.severity);
  add('event_type', event.event_type);
  add('user', event.user_id);
  return [...new Set(tags)];
}

/**
 * A `key:value` tag as Datadog stores it: lowercase; characters other than letters, digits,
 * `_ - : . /` become `_`; at most 200 characters.
 */
export function tag(key: string, value: string): string {
  const clean = value
    .toLowerCase()
    .replace(/[^a-z0-9_\-:./]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `${key}:${clean || 'none'}`.slice(0, MAX_TAG);
}

// ---------------------------------------------------------------------------------------------
// The reading → Datadog markdown

/** The body's blocks, escaped: text, facts, lists, recommendation, links. */
function sections(summary: EventSummary): string[] {
  const blocks: string[] = [];
  if (summary.text !== undefined) blocks.push(value(summary.text, 1500));
  const facts = summary.facts.slice(0, MAX_ITEMS).map((f) => `**${value(f.name, 100)}:** ${value(f.value)}`);
  if (summary.facts.length > MAX_ITEMS) facts.push(`… ${summary.facts.length - MAX_ITEMS} more`);
  if (facts.length > 0) blocks.push(facts.join('\n'));
  for (const section of summary.sections) {
    const items = section.items
      .slice(0, MAX_ITEMS)
      .map((item, i) => `${section.ordered ? `${i + 1}.` : '-'} ${value(item, 300)}`);
    if (section.items.length > MAX_ITEMS) items.push(`- … ${section.items.length - MAX_ITEMS} more`);
    blocks.push([`**${value(section.heading, 100)}**`, ...items].join('\n'));
  }
  const next = summary.recommendation;
  if (next)
    blocks.push(
      next.code ? code(next.label, next.text) : `**${value(next.label, 100)}:** ${value(next.text)}`,
    );
  for (const link of summary.links) blocks.push(`[${value(link.title, 100)}](${href(link.url)})`);
  return blocks;
}

/** Wraps the sections in Datadog's markdown delimiters, cutting the body to fit 4000 characters. */
function markdown(blocks: string[], foot: string): string {
  const body = blocks.join('\n\n');
  const room = MAX_TEXT - MD_OPEN.length - MD_CLOSE.length - foot.length - 2;
  return `${MD_OPEN}${cutMarkdown(body, room)}\n\n${foot}${MD_CLOSE}`;
}

/** `_Empathy Framework · <user> · level 4 · INTERNAL · <event id> · model … · <time>_` */
function footer(event: EmpathyEvent, summary: EventSummary): string {
  const parts = [value(summary.footer, 300)];
  if (event.metadata?.model !== undefined) parts.push(`model ${value(String(event.metadata.model), 100)}`);
  parts.push(value(event.timestamp, 40));
  return `_${parts.join(' · ')}_`;
}

/** An indented code block: its content is literal markdown-wise, so only delimiters need care. */
function code(title: string, text: string): string {
  const lines = truncateText(cleanText(text), MAX_CODE)
    .split('\n')
    .slice(0, 30)
    .map((line) => `    ${neutralize(line.replace(/\t/g, '  '))}`);
  return [`**${value(title, 100)}:**`, '', ...lines].join('\n');
}

/** An http(s) link target (the reading keeps no other) that cannot close the markdown link. */
function href(url: string): string {
  return url.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/@/g, '%40');
}

/** One line of event text, cleaned, cut, escaped and neutralised: safe anywhere in the body. */
function value(text: string, max = MAX_FIELD): string {
  return neutralize(escapeMarkdown(plainText(text, max)));
}

/** A title or key: one line, cleaned, cut, with mentions neutralised (not markdown). */
function plain(text: string, max: number): string {
  return plainText(text, max).replace(/@/g, '＠');
}

function plainText(text: string, max: number): string {
  return truncateText(oneLine(String(text)), max);
}

/**
 * Datadog's escaping for what it acts on in event text: `@handle` notifies people and channels
 * (`@user`, `@slack-…`, `@pagerduty-…`), so `@` becomes the visible full-width `＠`, which
 * notifies nobody; `%%%` would end the markdown block, so its last `%` is escaped.
 */
function neutralize(text: string): string {
  return text.replace(/@/g, '＠').replace(/%%%/g, '%%\\%');
}

/** Escapes the markdown characters that could make links, HTML, emphasis or table cells. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|~&]/g, '\\$&');
}

/** {@link truncateText} for escaped markdown: never leaves a dangling `\`. */
function cutMarkdown(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = truncateText(text, max).slice(0, -1);
  const trailing = /\\+$/.exec(cut)?.[0].length ?? 0;
  if (trailing % 2 === 1) cut = cut.slice(0, -1);
  return `${cut}…`;
}
