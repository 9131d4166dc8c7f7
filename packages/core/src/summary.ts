import type { EmpathyEvent, Severity } from './events.js';

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
  /** Whether the event clears an earlier one (an alert with `resolved: true`). */
  resolved: boolean;
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

/** Reads an event into an {@link EventSummary}. Pure; never throws on odd data. */
export function summarize(event: EmpathyEvent): EventSummary {
  const data = (event.data ?? {}) as Data;
  const facts: Fact[] = [];
  const sections: Section[] = [];
  const links: Link[] = [];
  const fact = (name: string, value: unknown) => {
    const text = display(value);
    if (text !== undefined) facts.push({ name: oneLine(name), value: text });
  };
  let emoji = '📣';
  let title: string;
  let text: string | undefined;
  let recommendation: EventSummary['recommendation'];
  const recommend = (label: string, value: unknown, code = false) => {
    const t = str(value);
    if (t !== undefined) recommendation = { label, text: t, code };
  };

  switch (event.event_type) {
    case 'prediction': {
      const d = event.data;
      emoji = '🔮';
      title = `Level ${event.empathy_level} Prediction`;
      text = str(d.prediction);
      fact('Confidence', percent(d.confidence));
      fact('Timeframe', d.timeframe);
      fact('Impact', d.impact);
      recommend('Recommendation', d.recommendation);
      break;
    }
    case 'alert': {
      const d = event.data;
      emoji = d.resolved === true ? '✅' : '🚨';
      title = `${d.resolved === true ? 'Resolved: ' : ''}${str(d.title) ?? 'Alert'}`;
      text = str(d.message);
      fact('Source', d.source);
      addEntries(facts, d.details);
      break;
    }
    case 'bug_detected':
    case 'security_vulnerability': {
      const d = event.data;
      const security = event.event_type === 'security_vulnerability';
      emoji = security ? '🔒' : '🐛';
      title = `${security ? 'Security vulnerability' : 'Bug detected'}: ${str(d.title) ?? 'untitled'}`;
      text = str(d.description);
      fact('Location', location(d.file, d.line));
      fact('Category', d.category);
      if (event.event_type === 'security_vulnerability') {
        fact('CWE', event.data.cwe);
        fact('CVSS', event.data.cvss);
      }
      fact('Labels', Array.isArray(d.labels) ? d.labels.map(String).join(', ') : undefined);
      fact('Owner', d.owner);
      recommend('Suggested fix', d.fix, true);
      break;
    }
    case 'performance_issue': {
      const d = event.data;
      emoji = '🐢';
      title = ['Performance:', str(d.endpoint) ?? str(d.service), str(d.title)].filter(Boolean).join(' ');
      if (d.metric !== undefined && d.value !== undefined) {
        const threshold = d.threshold !== undefined ? ` (threshold ${d.threshold})` : '';
        text = str(`${d.metric} is ${d.value}${threshold}`);
      }
      fact('Service', d.service);
      fact('Endpoint', d.endpoint);
      if (d.metrics && typeof d.metrics === 'object') {
        for (const [name, value] of Object.entries(d.metrics)) fact(name, value);
      }
      break;
    }
    case 'code_review_complete': {
      const d = event.data;
      emoji = '🤖';
      title = `AI Code Review: ${str(d.repository) ?? ''}#${d.pull_request}`;
      text = str(d.summary);
      fact('Confidence', percent(d.confidence));
      sections.push({ heading: '✅ Looks good', items: strings(d.positives), ordered: false });
      sections.push({
        heading: '⚠️ Suggestions',
        items: (Array.isArray(d.suggestions) ? d.suggestions : []).map((s) => {
          const where = location(s?.file, s?.line);
          return `${where ? `${where} — ` : ''}${str(s?.message) ?? ''}`;
        }),
        ordered: true,
      });
      const security = strings(d.security);
      sections.push({
        heading: '🔒 Security',
        items: security.length > 0 ? security : ['No security issues detected'],
        ordered: false,
      });
      for (const section of sections) if (section.items.length === 0) section.items.push('None');
      if (typeof d.url === 'string') pushLink(links, 'View pull request', d.url);
      break;
    }
    case 'test_failure': {
      const d = event.data;
      emoji = '❌';
      title = `Test failed: ${str(d.test_name) ?? 'unknown test'}`;
      text = str(d.message);
      fact('Suite', d.suite);
      fact('File', d.file);
      if (typeof d.run_url === 'string') pushLink(links, 'Open CI run', d.run_url);
      break;
    }
    case 'deployment_risk': {
      const d = event.data;
      emoji = '⚠️';
      title = `Deployment risk: ${[str(d.service), str(d.version)].filter(Boolean).join(' ')} → ${str(d.environment) ?? '?'}`;
      text = str(d.risk);
      fact('Service', d.service);
      fact('Environment', d.environment);
      fact('Version', d.version);
      recommend('Recommendation', d.recommendation);
      break;
    }
    case 'compliance_violation': {
      const d = event.data;
      emoji = '⚖️';
      title = `${str(d.regulation) ?? 'Compliance'} violation`;
      text = str(d.description);
      fact('Regulation', d.regulation);
      fact('Rule', d.rule);
      fact('Resource', d.resource);
      break;
    }
    case 'pattern_discovered': {
      const d = event.data;
      emoji = '💡';
      title = `Pattern discovered: ${str(d.name) ?? 'unnamed'}`;
      text = str(d.description);
      fact('Pattern ID', d.pattern_id);
      fact('Confidence', percent(d.confidence));
      break;
    }
    case 'completion': {
      const d = event.data;
      emoji = '💬';
      title = `Interaction complete (level ${d.level_used})`;
      text = str(d.content);
      fact('Level used', d.level_used);
      fact('Proactive', typeof d.proactive === 'boolean' ? (d.proactive ? 'yes' : 'no') : undefined);
      fact('Duration', typeof d.duration_ms === 'number' ? `${d.duration_ms} ms` : undefined);
      break;
    }
    case 'error': {
      const d = event.data;
      emoji = '🛑';
      title = `Error: ${str(d.error_type) ?? 'unknown'}`;
      text = str(d.message);
      break;
    }
    case 'phi_access': {
      const d = event.data;
      emoji = '🏥';
      title = `PHI access: ${str(d.resource) ?? 'unknown resource'}`;
      fact('Resource', d.resource);
      fact('Accessor', d.accessor);
      fact('Purpose', d.purpose);
      break;
    }
    default: {
      // An app-defined event type: show its scalar fields.
      title = humanize(String((event as { event_type: unknown }).event_type));
      text = str(data.message) ?? str(data.description);
      for (const [key, value] of Object.entries(data)) {
        if (key === 'url' || key === 'context' || key === 'message' || key === 'description') continue;
        if (value === null || typeof value !== 'object') fact(humanize(key), value);
      }
    }
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
    emoji,
    title: oneLine(title),
    text,
    facts,
    sections,
    recommendation,
    links,
    severity: event.severity,
    resolved: event.event_type === 'alert' && event.data.resolved === true,
    footer,
  };
}

// C0 controls except tab and newline, DEL, and the bidi overrides / isolates that can make text
// read differently from what it is (U+202A–U+202E, U+2066–U+2069).
const UNSAFE_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F\u202A-\u202E\u2066-\u2069]/g;

/** Removes control and bidi-override characters and normalises line endings. */
export function clean(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(UNSAFE_CHARS, '');
}

/**
 * Shortens `text` to at most `max` UTF-16 units, ending with `…` when cut, without splitting a
 * surrogate pair.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
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

function oneLine(text: string): string {
  return clean(text).replace(/\s+/g, ' ').trim();
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
