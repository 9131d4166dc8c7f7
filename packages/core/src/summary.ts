import type { BuiltInEventType, EmpathyEvent, EventDataMap, Severity } from './events.js';
import type { IncidentContext } from './incident.js';
import { cleanText as clean, oneLine, truncateText as truncate } from './kit/text.js';

export { clean, truncate };

/**
 * A vendor-neutral reading of an event: what a chat message about it shows. `format.ts` renders
 * it into the vendor's message. Text here is cleaned (no control or bidi-override characters) but
 * not escaped: escaping is the renderer's job, as it depends on the vendor's markup.
 */
export interface EventSummary {
  emoji: string;
  /** Plain text, one line. */
  title: string;
  /** The main text: the prediction, the alert message, the finding's description, … */
  text: string | undefined;
  facts: Fact[];
  /** Titled lists: a code review's positives, suggestions and security notes. */
  sections: Section[];
  /** The next step: a recommendation or a suggested fix (`code: true` for source code). */
  recommendation: { label: string; text: string; code: boolean } | undefined;
  /** http(s) links; the first is the event's main link. */
  links: Link[];
  /** The event's severity, if it has one. */
  severity: Severity | undefined;
  /** Whether the event clears an earlier one (`data.resolved: true`, or a resolved incident). */
  resolved: boolean;
  /**
   * How many times the event's condition fired, when more than once (the incident's
   * `occurrences`): renderers show it as "seen N times". Also in `facts`, as `Seen`.
   */
  occurrences: number | undefined;
  /** `Empathy Framework · <user> · level <n> · <classification> · <event id>` */
  footer: string;
}

/** One name/value pair. */
export interface Fact {
  name: string;
  value: string;
}

/** A titled list. */
export interface Section {
  heading: string;
  items: string[];
  ordered: boolean;
}

/** A link with a label. */
export interface Link {
  title: string;
  url: string;
}

/** Severity names as people read them. */
export const SEVERITY_LABELS: Record<Severity, string> = {
  info: 'Info',
  low: 'Low',
  medium: 'Medium',
  warning: 'Warning',
  high: 'High',
  critical: 'Critical',
};

type Data = Record<string, unknown>;

/** Collects what a reading of one event type finds. */
interface Reader {
  emoji: string;
  title: string;
  text: string | undefined;
  fact(name: string, value: unknown): void;
  recommend(label: string, value: unknown, code?: boolean): void;
  section(heading: string, items: string[], ordered: boolean): void;
  link(title: string, url: unknown): void;
  entries(value: unknown): void;
}

type Reading<K extends BuiltInEventType> = (event: EmpathyEvent<K>, r: Reader) => void;

/**
 * The one reading of each built-in event type: its emoji, title, text, facts, sections,
 * recommendation and links. Every vendor renders from it, so an event gets the same title in
 * Slack, Teams, Discord, email, Jira, GitHub, Datadog, Grafana and PagerDuty. The mapped type
 * makes a built-in event type without an entry a compile error.
 */
const READINGS: { [K in BuiltInEventType]: Reading<K> } = {
  prediction(event, r) {
    const d = event.data;
    r.emoji = '🔮';
    r.title = `Level ${event.empathy_level} Prediction`;
    r.text = str(d.prediction);
    r.fact('Confidence', percent(d.confidence));
    r.fact('Timeframe', d.timeframe);
    r.fact('Impact', d.impact);
    r.recommend('Recommendation', d.recommendation);
  },
  alert(event, r) {
    const d = event.data;
    r.emoji = '🚨';
    r.title = str(d.title) ?? 'Alert';
    r.text = str(d.message);
    r.fact('Source', d.source);
    r.entries(d.details);
  },
  bug_detected(event, r) {
    readFinding(event, r, false);
  },
  security_vulnerability(event, r) {
    readFinding(event, r, true);
  },
  performance_issue(event, r) {
    const d = event.data;
    r.emoji = '🐢';
    r.title = ['Performance:', str(d.endpoint) ?? str(d.service), str(d.title)].filter(Boolean).join(' ');
    if (d.metric !== undefined && d.value !== undefined) {
      const threshold = d.threshold !== undefined ? ` (threshold ${d.threshold})` : '';
      r.text = str(`${d.metric} is ${d.value}${threshold}`);
    }
    r.fact('Service', d.service);
    r.fact('Endpoint', d.endpoint);
    if (d.metrics && typeof d.metrics === 'object') {
      for (const [name, value] of Object.entries(d.metrics)) r.fact(name, value);
    }
  },
  code_review_complete(event, r) {
    const d = event.data;
    r.emoji = '🤖';
    r.title = `AI Code Review: ${str(d.repository) ?? ''}#${d.pull_request}`;
    r.text = str(d.summary);
    r.fact('Confidence', percent(d.confidence));
    const positives = strings(d.positives);
    r.section('✅ Looks good', positives.length > 0 ? positives : ['None'], false);
    const suggestions = (Array.isArray(d.suggestions) ? d.suggestions : []).map((s) => {
      const where = location(s?.file, s?.line);
      return `${where ? `${where} — ` : ''}${str(s?.message) ?? ''}`;
    });
    r.section('⚠️ Suggestions', suggestions.length > 0 ? suggestions : ['None'], true);
    const security = strings(d.security);
    r.section('🔒 Security', security.length > 0 ? security : ['No security issues detected'], false);
    r.link('View pull request', d.url);
  },
  test_failure(event, r) {
    const d = event.data;
    r.emoji = '❌';
    r.title = `Test failed: ${str(d.test_name) ?? 'unknown test'}`;
    r.text = str(d.message);
    r.fact('Suite', d.suite);
    r.fact('File', d.file);
    r.link('Open CI run', d.run_url);
  },
  deployment_risk(event, r) {
    const d = event.data;
    r.emoji = '⚠️';
    r.title = `Deployment risk: ${[str(d.service), str(d.version)].filter(Boolean).join(' ')} → ${str(d.environment) ?? '?'}`;
    r.text = str(d.risk);
    r.fact('Service', d.service);
    r.fact('Environment', d.environment);
    r.fact('Version', d.version);
    r.recommend('Recommendation', d.recommendation);
  },
  compliance_violation(event, r) {
    const d = event.data;
    r.emoji = '⚖️';
    r.title = `${str(d.regulation) ?? 'Compliance'} violation`;
    r.text = str(d.description);
    r.fact('Regulation', d.regulation);
    r.fact('Rule', d.rule);
    r.fact('Resource', d.resource);
  },
  pattern_discovered(event, r) {
    const d = event.data;
    r.emoji = '💡';
    r.title = `Pattern discovered: ${str(d.name) ?? 'unnamed'}`;
    r.text = str(d.description);
    r.fact('Pattern ID', d.pattern_id);
    r.fact('Confidence', percent(d.confidence));
  },
  completion(event, r) {
    const d = event.data;
    r.emoji = '💬';
    r.title = `Interaction complete (level ${d.level_used})`;
    r.text = str(d.content);
    r.fact('Level used', d.level_used);
    r.fact('Proactive', typeof d.proactive === 'boolean' ? (d.proactive ? 'yes' : 'no') : undefined);
    r.fact('Duration', typeof d.duration_ms === 'number' ? `${d.duration_ms} ms` : undefined);
  },
  error(event, r) {
    const d = event.data;
    r.emoji = '🛑';
    r.title = `Error: ${str(d.error_type) ?? 'unknown'}`;
    r.text = str(d.message);
  },
  phi_access(event, r) {
    const d = event.data;
    r.emoji = '🏥';
    r.title = `PHI access: ${str(d.resource) ?? 'unknown resource'}`;
    r.fact('Resource', d.resource);
    r.fact('Accessor', d.accessor);
    r.fact('Purpose', d.purpose);
  },
};

function readFinding(
  event: EmpathyEvent<'bug_detected'> | EmpathyEvent<'security_vulnerability'>,
  r: Reader,
  security: boolean,
): void {
  const d = event.data;
  r.emoji = security ? '🔒' : '🐛';
  r.title = `${security ? 'Security vulnerability' : 'Bug detected'}: ${str(d.title) ?? 'untitled'}`;
  r.text = str(d.description);
  r.fact('Location', location(d.file, d.line));
  r.fact('Category', d.category);
  if (security) {
    const s = d as EventDataMap['security_vulnerability'];
    r.fact('CWE', s.cwe);
    r.fact('CVSS', s.cvss);
  }
  r.fact('Labels', Array.isArray(d.labels) ? d.labels.map(String).join(', ') : undefined);
  r.fact('Owner', d.owner);
  r.recommend('Suggested fix', d.fix, true);
}

/** An app-defined event type: its scalar fields as facts. */
function readCustom(event: EmpathyEvent, data: Data, r: Reader): void {
  r.title = humanize(String((event as { event_type: unknown }).event_type));
  r.text = str(data.message) ?? str(data.description);
  for (const [key, value] of Object.entries(data)) {
    if (key === 'url' || key === 'context' || key === 'message' || key === 'description') continue;
    if (value === null || typeof value !== 'object') r.fact(humanize(key), value);
  }
}

/**
 * Reads an event into an {@link EventSummary}. Pure; never throws on odd data. With the attempt's
 * `incident` (`ctx.incident`), a resolved condition's title starts with `Resolved: `, a repeated
 * one gets a first fact `Seen` (`50 times since 2026-12-03 14:02 UTC`), and a resolution of a
 * condition that fired once gets `First seen` (`2026-12-03 14:02 UTC`).
 */
export function summarize(event: EmpathyEvent, incident?: IncidentContext): EventSummary {
  const data = (event.data ?? {}) as Data;
  const facts: Fact[] = [];
  const sections: Section[] = [];
  const links: Link[] = [];
  let recommendation: EventSummary['recommendation'];
  const r: Reader = {
    emoji: '📣',
    title: '',
    text: undefined,
    fact(name, value) {
      const text = display(value);
      if (text !== undefined) facts.push({ name: oneLine(name), value: text });
    },
    recommend(label, value, code = false) {
      const t = str(value);
      if (t !== undefined) recommendation = { label, text: t, code };
    },
    section(heading, items, ordered) {
      sections.push({ heading, items, ordered });
    },
    link(title, url) {
      if (typeof url === 'string') pushLink(links, title, url);
    },
    entries(value) {
      addEntries(facts, value);
    },
  };
  const type = event.event_type as BuiltInEventType;
  const reading = Object.hasOwn(READINGS, type) ? (READINGS[type] as Reading<BuiltInEventType>) : undefined;
  if (reading) reading(event as EmpathyEvent<BuiltInEventType>, r);
  else readCustom(event, data, r);

  const resolved = incident ? incident.status === 'resolved' : data.resolved === true;
  const occurrences = incident !== undefined && incident.occurrences > 1 ? incident.occurrences : undefined;
  if (occurrences !== undefined) {
    facts.unshift({ name: 'Seen', value: `${occurrences} times since ${humanTime(incident!.firstSeenAt)}` });
  } else if (incident !== undefined && resolved) {
    // A resolution names when its condition began, also when it fired once.
    facts.unshift({ name: 'First seen', value: humanTime(incident.firstSeenAt) });
  }
  addEntries(facts, data.context);
  if (typeof data.url === 'string' && links.length === 0) pushLink(links, 'Open link', data.url);

  const footer = [
    'Empathy Framework',
    clean(String(event.user_id)),
    `level ${event.empathy_level}`,
    event.classification,
    event.event_id,
  ]
    .filter(Boolean)
    .join(' · ');

  return {
    emoji: resolved ? '✅' : r.emoji,
    title: resolved ? `Resolved: ${oneLine(r.title)}` : oneLine(r.title),
    text: r.text,
    facts,
    sections,
    recommendation,
    links,
    severity: event.severity,
    resolved,
    occurrences,
    footer,
  };
}

/** `2026-12-03T14:02:09.120Z` as `2026-12-03 14:02 UTC`. */
function humanTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A value as display text, or `undefined` when there is nothing to show. */
function display(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return str(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return str(JSON.stringify(value));
  } catch {
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = clean(String(value)).trim();
  return text === '' ? undefined : text;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(str).filter((s): s is string => s !== undefined) : [];
}

function percent(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? `${Math.round(value * 100)}%` : undefined;
}

function location(file: unknown, line: unknown): string | undefined {
  const f = str(file);
  if (f === undefined) return undefined;
  return typeof line === 'number' ? `${f}:${line}` : f;
}

function humanize(key: string): string {
  const text = clean(key).replace(/[_-]+/g, ' ').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function addEntries(facts: Fact[], value: unknown): void {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, entry] of Object.entries(value)) {
    const text = display(entry);
    if (text !== undefined) facts.push({ name: oneLine(humanize(key)), value: text });
  }
}

function pushLink(links: Link[], title: string, url: string): void {
  const safe = safeLink(url);
  if (safe !== undefined) links.push({ title, url: safe });
}

/** An http(s) URL up to 2000 characters, normalised; anything else is dropped. */
export function safeLink(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
    return parsed.href.length <= 2000 ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}
