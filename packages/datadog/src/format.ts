import { conditionFingerprint, type EmpathyEvent, type Severity } from '@empathy/webhooks-core';

/** Datadog's alert types for events (v1 `alert_type`). */
export type DatadogAlertType = 'error' | 'warning' | 'info' | 'success';

/**
 * A Datadog event as the SDK's `EventCreateRequest` takes it (camelCase; the SDK sends
 * `alert_type`, `aggregation_key` and `date_happened`).
 */
export interface DatadogEvent {
  /** Plain text, one line, at most 100 characters. */
  title: string;
  /** Markdown between `%%% \n` and `\n %%%`, at most 4000 characters in all. */
  text: string;
  alertType: DatadogAlertType;
  tags: string[];
  /** Events with the same key are grouped in the event stream. At most 100 characters. */
  aggregationKey: string;
  /** POSIX seconds; left out for events older than Datadog accepts (18 hours). */
  dateHappened?: number | undefined;
}

/** Settings {@link formatDatadogEvent} takes from the webhook's options. */
export interface FormatOptions {
  /** Tags put first on every event. */
  tags?: readonly string[] | undefined;
  /** Overrides the fingerprint used as `aggregationKey`. */
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
 * The Datadog event for an Empathy event: a one-line title, a markdown body within 4000
 * characters, an alert type from the severity, tags (`event_type`, `severity`, `user`, and
 * `service` / `endpoint` / `environment` when the event names them) and an aggregation key that
 * is the same for repeats of one condition.
 */
export function formatDatadogEvent(event: EmpathyEvent, options: FormatOptions = {}): DatadogEvent {
  const { title, sections } = describeEvent(event);
  const out: DatadogEvent = {
    title: truncate(plain(title), MAX_TITLE),
    text: markdown(sections, footer(event)),
    alertType: alertType(event),
    tags: eventTags(event, options.tags ?? []),
    aggregationKey: aggregationKey(event, options.aggregationKey),
  };
  const happened = Date.parse(event.timestamp);
  const now = options.now ?? Date.now();
  if (Number.isFinite(happened) && now - happened < MAX_EVENT_AGE_MS && happened - now < 3600_000) {
    out.dateHappened = Math.floor(happened / 1000);
  }
  return out;
}

/** `success` for an alert that has cleared, else the severity's type (`error` / `info` without one). */
export function alertType(event: EmpathyEvent): DatadogAlertType {
  if (event.event_type === 'alert' && event.data.resolved === true) return 'success';
  if (event.severity !== undefined) return ALERT_TYPE_MAP[event.severity];
  return event.event_type === 'error' ? 'error' : 'info';
}

/**
 * The aggregation key of an event: `aggregationKey(event)` if given, else `data.aggregation_key`,
 * else `empathy:<event_type>:<32 hex digits>`, a SHA-256 of the fields that identify the
 * condition (not of text that changes between occurrences, such as measured values).
 */
export function aggregationKey(event: EmpathyEvent, custom?: (event: EmpathyEvent) => string): string {
  const explicit = custom ? custom(event) : (event.data as { aggregation_key?: unknown }).aggregation_key;
  if (typeof explicit === 'string' && explicit.trim() !== '') {
    return truncate(plain(explicit), MAX_AGGREGATION_KEY);
  }
  return conditionFingerprint(event);
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
// Event text

interface Described {
  title: string;
  /** Markdown blocks, already escaped. */
  sections: string[];
}

function describeEvent(event: EmpathyEvent): Described {
  const other = event as { event_type: string; data: Record<string, unknown> };
  switch (event.event_type) {
    case 'prediction': {
      const d = event.data;
      return {
        title: `Prediction: ${d.prediction}`,
        sections: [
          lead(d.prediction),
          fields([
            ['Confidence', percent(d.confidence)],
            ['Recommendation', d.recommendation],
            ['Timeframe', d.timeframe],
            ['Impact', d.impact],
          ]),
          contextSection(d.context),
          link(d.url),
        ],
      };
    }
    case 'alert': {
      const d = event.data;
      const prefix = d.resolved === true ? 'Resolved' : 'Alert';
      return {
        title: `${prefix}: ${d.title ?? d.message}`,
        sections: [
          lead(d.message),
          fields([
            ['Source', d.source],
            ['Status', d.resolved === true ? 'resolved' : undefined],
          ]),
          table('Details', d.details),
          contextSection(d.context),
          link(d.url),
        ],
      };
    }
    case 'bug_detected':
    case 'security_vulnerability': {
      const d = event.data;
      const security = event.event_type === 'security_vulnerability' ? event.data : undefined;
      const kind = security ? 'Security vulnerability' : 'Bug';
      return {
        title: `${kind}: ${d.title}${where(d.file, d.line)}`,
        sections: [
          lead(d.description),
          fields([
            [
              'File',
              d.file === undefined ? undefined : `${d.file}${d.line === undefined ? '' : `:${d.line}`}`,
            ],
            ['CWE', security?.cwe],
            ['CVSS', security?.cvss],
            ['Category', d.category],
            ['Labels', d.labels?.join(', ')],
            ['Owner', d.owner],
          ]),
          code('Recommended fix', d.fix),
          contextSection(d.context),
          link(d.url),
        ],
      };
    }
    case 'performance_issue': {
      const d = event.data;
      const subject = d.endpoint ?? d.service;
      const measured =
        d.metric !== undefined && d.value !== undefined
          ? `${d.value}${d.threshold === undefined ? '' : ` (threshold ${d.threshold})`}`
          : undefined;
      return {
        title: `Performance: ${subject ? `${subject} ` : ''}${d.title}`,
        sections: [
          fields([
            ['Service', d.service],
            ['Endpoint', d.endpoint],
            [d.metric ?? 'Value', measured],
          ]),
          table('Metrics', d.metrics),
          contextSection(d.context),
          link(d.url),
        ],
      };
    }
    case 'code_review_complete': {
      const d = event.data;
      const pr = `${d.repository ?? ''}#${d.pull_request}`;
      return {
        title: `Code review complete: ${pr}`,
        sections: [
          d.summary === undefined ? '' : lead(d.summary),
          list('Looks good', d.positives),
          list(
            'Suggestions',
            d.suggestions.map((s) => `${s.file ?? ''}${s.line === undefined ? '' : `:${s.line}`}`),
            d.suggestions.map((s) => s.message),
          ),
          list('Security', d.security.length > 0 ? d.security : ['No security issues detected']),
          fields([['Confidence', percent(d.confidence)]]),
          link(d.url),
        ],
      };
    }
    case 'test_failure': {
      const d = event.data;
      return {
        title: `Test failed: ${d.test_name}`,
        sections: [
          lead(d.message),
          fields([
            ['Test', d.test_name],
            ['Suite', d.suite],
            ['File', d.file],
          ]),
          contextSection(d.context),
          link(d.run_url ?? d.url, 'Open the run'),
        ],
      };
    }
    case 'deployment_risk': {
      const d = event.data;
      return {
        title: `Deployment risk: ${d.service}${d.version ? ` ${d.version}` : ''} to ${d.environment}`,
        sections: [
          lead(d.risk),
          fields([
            ['Service', d.service],
            ['Environment', d.environment],
            ['Version', d.version],
            ['Recommendation', d.recommendation],
          ]),
          contextSection(d.context),
          link(d.url),
        ],
      };
    }
    case 'compliance_violation': {
      const d = event.data;
      return {
        title: `${d.regulation} violation: ${d.description}`,
        sections: [
          lead(d.description),
          fields([
            ['Regulation', d.regulation],
            ['Rule', d.rule],
            ['Resource', d.resource],
          ]),
          contextSection(d.context),
          link(d.url),
        ],
      };
    }
    case 'pattern_discovered': {
      const d = event.data;
      return {
        title: `Pattern discovered: ${d.name}`,
        sections: [
          lead(d.description),
          fields([
            ['Pattern', d.pattern_id],
            ['Confidence', d.confidence === undefined ? undefined : percent(d.confidence)],
          ]),
          contextSection(d.context),
          link(d.url),
        ],
      };
    }
    case 'completion': {
      const d = event.data;
      return {
        title: `Completion (level ${d.level_used})${d.proactive ? ', proactive' : ''}`,
        sections: [
          lead(d.content),
          fields([
            ['Level used', d.level_used],
            ['Proactive', d.proactive === undefined ? undefined : d.proactive ? 'yes' : 'no'],
            ['Duration', d.duration_ms === undefined ? undefined : `${d.duration_ms} ms`],
          ]),
          contextSection(d.context),
          link(d.url),
        ],
      };
    }
    case 'error': {
      const d = event.data;
      return {
        title: `Error: ${d.error_type}`,
        sections: [lead(d.message), contextSection(d.context), link(d.url)],
      };
    }
    case 'phi_access': {
      const d = event.data;
      return {
        title: `PHI access: ${d.resource}`,
        sections: [
          fields([
            ['Resource', d.resource],
            ['Accessor', d.accessor],
            ['Purpose', d.purpose],
          ]),
          contextSection(d.context),
          link(d.url),
        ],
      };
    }
    default: {
      // App-defined event types (EventDataMap augmentations): their scalar fields.
      const d = other.data;
      const named = [d.title, d.message, d.name, d.description].find((v) => typeof v === 'string');
      const scalars = Object.entries(d).filter(
        ([k, v]) => k !== 'url' && ['string', 'number', 'boolean'].includes(typeof v),
      );
      return {
        title: `${other.event_type}${named === undefined ? '' : `: ${named}`}`,
        sections: [fields(scalars.slice(0, MAX_ITEMS)), link(d.url)],
      };
    }
  }
}

/** Wraps the sections in Datadog's markdown delimiters, cutting the body to fit 4000 characters. */
function markdown(sections: string[], foot: string): string {
  const body = sections.filter((s) => s !== '').join('\n\n');
  const room = MAX_TEXT - MD_OPEN.length - MD_CLOSE.length - foot.length - 2;
  return `${MD_OPEN}${cutMarkdown(body, room)}\n\n${foot}${MD_CLOSE}`;
}

function footer(event: EmpathyEvent): string {
  const parts = [
    `event ${escapeMarkdown(event.event_id)}`,
    `user ${escapeMarkdown(truncate(event.user_id, 100))}`,
    `level ${event.empathy_level}`,
  ];
  if (event.classification !== undefined) parts.push(event.classification);
  if (event.metadata.model !== undefined)
    parts.push(`model ${escapeMarkdown(truncate(event.metadata.model, 100))}`);
  parts.push(escapeMarkdown(event.timestamp));
  return `_${parts.join(' · ')}_`;
}

function lead(text: string): string {
  return escapeMarkdown(truncate(plain(text), 1500));
}

function fields(entries: [string, unknown][]): string {
  return entries
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([label, v]) => `**${escapeMarkdown(truncate(plain(label), 100))}:** ${value(v)}`)
    .join('\n');
}

function table(title: string, data: Record<string, unknown> | undefined): string {
  if (data === undefined || data === null || typeof data !== 'object') return '';
  const entries = Object.entries(data);
  if (entries.length === 0) return '';
  const rows = entries.slice(0, MAX_ITEMS).map(([k, v]) => `| ${value(k, 100)} | ${value(v, 200)} |`);
  if (entries.length > MAX_ITEMS) rows.push(`| … ${entries.length - MAX_ITEMS} more | |`);
  return [`**${title}**`, '', '| name | value |', '| --- | --- |', ...rows].join('\n');
}

function list(title: string, items: string[], messages?: string[]): string {
  if (items.length === 0) return '';
  const lines = items.slice(0, MAX_ITEMS).map((item, i) => {
    const message = messages?.[i];
    if (message === undefined) return `- ${value(item, 300)}`;
    return item
      ? `${i + 1}. **${value(item, 200)}**: ${value(message, 300)}`
      : `${i + 1}. ${value(message, 300)}`;
  });
  if (items.length > MAX_ITEMS) lines.push(`- … ${items.length - MAX_ITEMS} more`);
  return [`**${title}**`, ...lines].join('\n');
}

/** An indented code block: its content is literal markdown-wise, so only delimiters need care. */
function code(title: string, text: string | undefined): string {
  if (text === undefined || text.trim() === '') return '';
  const lines = truncate(text, MAX_CODE)
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .slice(0, 30)
    .map((line) => `    ${neutralize(line.replace(/\t/g, '  ').replace(UNPRINTABLE, ' '))}`);
  return [`**${title}:**`, '', ...lines].join('\n');
}

function contextSection(context: Record<string, unknown> | undefined): string {
  return table('Context', context);
}

function link(url: unknown, label = 'Open'): string {
  if (typeof url !== 'string') return '';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return '';
  const href = parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29').replace(/@/g, '%40');
  return `[${label}](${href})`;
}

function value(v: unknown, max = MAX_FIELD): string {
  const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return escapeMarkdown(truncate(plain(text ?? ''), max));
}

// ---------------------------------------------------------------------------------------------
// Text safety

// Control characters and bidi overrides can garble or disguise text.
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** One line of plain text: control characters and bidi overrides removed, whitespace collapsed. */
export function plain(text: string): string {
  return neutralize(text.replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim());
}

/**
 * Makes `@handle` inert (Datadog notifies `@user`, `@slack-…`, `@pagerduty-…` named in event
 * text) with a zero-width space after `@`, and breaks `%%%`, which would end the markdown block.
 */
function neutralize(text: string): string {
  return text.replace(/@/g, '@\u200b').replace(/%%%/g, '%\u200b%%');
}

/** Escapes the markdown characters that could make links, HTML, emphasis or table cells. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|~&]/g, '\\$&');
}

/** Cuts `text` to at most `max` UTF-16 units, ending in `…`, without splitting a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** {@link truncate} for escaped markdown: never leaves a dangling `\`. */
function cutMarkdown(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = truncate(text, max).slice(0, -1);
  const trailing = /\\+$/.exec(cut)?.[0].length ?? 0;
  if (trailing % 2 === 1) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function where(file: string | undefined, line: number | undefined): string {
  if (file === undefined) return '';
  return ` in ${file}${line === undefined ? '' : `:${line}`}`;
}

function percent(confidence: number): string {
  return `${Math.round(confidence * 100)}%`;
}
