import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';

/** An event rendered as an email: what {@link formatEmail} returns and `EmailWebhook` sends. */
export interface EmailMessage {
  /** One line, e.g. `[Empathy] 🔮 Prediction: Auth deployment may conflict with user-service v2.1`. */
  subject: string;
  /** The plain-text part. */
  text: string;
  /** The HTML part; every piece of event data in it is HTML-escaped. */
  html: string;
  /** `<event_id.webhook@domain>`: the same on every attempt, so receivers can de-duplicate. */
  messageId: string;
  /** `X-Empathy-Event-Id`, `X-Empathy-Event-Type`, `X-Empathy-Severity`, `Auto-Submitted`, … */
  headers: Record<string, string>;
  /** From the event's severity: `high` (X-Priority 1) for high and critical, else `normal`. */
  priority: 'high' | 'normal';
}

/** Options for {@link formatEmail}. */
export interface FormatEmailOptions {
  /** Put in front of every subject. @default '[Empathy]' */
  subjectPrefix?: string | undefined;
  /**
   * The webhook's name, part of the Message-ID: two webhooks mailing the same event send two
   * distinct messages. @default 'email'
   */
  webhookName?: string | undefined;
  /** The Message-ID's domain, usually the sender's. @default 'empathy.invalid' */
  messageIdDomain?: string | undefined;
}

/**
 * Length limits, in characters. Email itself has no hard limits worth hitting, but a subject
 * should fit an inbox line and an alert should stay readable (and small) however much text an
 * agent attached: longer values end in `…`.
 */
export const EMAIL_LIMITS = {
  /** The subject after its prefix: icon, label and headline. */
  subject: 150,
  /** A field's value. */
  field: 2000,
  /** One list item (a suggestion, a positive, a context entry). */
  item: 500,
  /** Items shown per list; the rest is counted ("…and 12 more"). */
  items: 25,
} as const;

/** The default subject prefix. */
export const DEFAULT_SUBJECT_PREFIX = '[Empathy]';

type Field = readonly [label: string, value: string | undefined];

interface Section {
  title: string;
  items: string[];
  /** Items left out past {@link EMAIL_LIMITS}.items. */
  more?: number | undefined;
  ordered?: boolean | undefined;
  /** Shown when `items` is empty; without it an empty section is left out. */
  empty?: string | undefined;
}

/** An event's content before it is rendered as text and as HTML. */
interface Content {
  /** Subject after the prefix: `🔮 Prediction: …`. */
  headline: string;
  /** The body's title. */
  heading: string;
  fields: Field[];
  sections: Section[];
  link?: { label: string; url: string } | undefined;
  /** Colour of the HTML card's top border. */
  accent: string;
}

/**
 * Renders an event as an email: subject, plain-text and HTML parts, de-duplication headers.
 * Pure: the same event gives the same message.
 *
 * @example
 * const { subject, text, html } = formatEmail(event, { webhookName: 'ops-email' });
 */
export function formatEmail(event: EmpathyEvent, options: FormatEmailOptions = {}): EmailMessage {
  const content = contentOf(event);
  const prefix = oneLine(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const subject = prefix ? `${prefix} ${content.headline}` : content.headline;
  const footer = footerLines(event);
  const headers: Record<string, string> = {
    'X-Empathy-Event-Id': headerValue(event.event_id),
    'X-Empathy-Event-Type': headerValue(event.event_type),
  };
  if (event.severity) headers['X-Empathy-Severity'] = headerValue(event.severity);
  if (event.classification) headers['X-Empathy-Classification'] = headerValue(event.classification);
  // RFC 3834: machine-generated; autoresponders must not answer. Exchange reads the second one.
  headers['Auto-Submitted'] = 'auto-generated';
  headers['X-Auto-Response-Suppress'] = 'All';
  return {
    subject,
    text: renderText(content, footer),
    html: renderHtml(subject, content, footer),
    messageId: messageId(event.event_id, options.webhookName ?? 'email', options.messageIdDomain),
    headers,
    priority: priorityOf(event.severity),
  };
}

function contentOf(event: EmpathyEvent): Content {
  const accent = accentOf(event.severity);
  const c = (
    icon: string,
    label: string,
    headline: unknown,
    fields: Field[],
    extra: Partial<Content> = {},
  ): Content => ({
    headline: clip(
      `${icon} ${label}${headline === undefined ? '' : `: ${oneLine(text(headline))}`}`,
      EMAIL_LIMITS.subject,
    ),
    heading: `${icon} ${label}`,
    fields,
    sections: [],
    accent,
    ...extra,
  });
  let content: Content;
  switch (event.event_type) {
    case 'prediction': {
      const d = event.data;
      content = c(
        '🔮',
        'Prediction',
        d.prediction,
        [
          ['Prediction', field(d.prediction)],
          ['Confidence', percent(d.confidence)],
          ['Recommendation', field(d.recommendation)],
          ['Timeframe', field(d.timeframe)],
          ['Impact', field(d.impact)],
        ],
        { heading: `🔮 Level ${event.empathy_level} Prediction` },
      );
      break;
    }
    case 'alert': {
      const d = event.data;
      const resolved = d.resolved === true;
      content = c(
        resolved ? '✅' : '🚨',
        resolved ? 'Resolved' : 'Alert',
        d.title ?? d.message,
        [
          ['Alert', field(d.title)],
          ['Message', field(d.message)],
          ['Source', field(d.source)],
          ['Status', resolved ? 'Resolved' : undefined],
        ],
        {
          heading: resolved ? '✅ Alert resolved' : '🚨 Alert',
          sections: [{ title: 'Details', ...entries(d.details) }],
          accent: resolved ? ACCENT.resolved : accent,
        },
      );
      break;
    }
    case 'bug_detected':
    case 'security_vulnerability': {
      const d = event.data;
      const security = event.event_type === 'security_vulnerability';
      const where = location(d.file, d.line);
      content = c(
        security ? '🔒' : '🐛',
        security ? 'Security' : 'Bug',
        where ? `${oneLine(text(d.title))} in ${where}` : d.title,
        [
          [security ? 'Vulnerability' : 'Bug', field(d.title)],
          ['File', where ? clip(where, EMAIL_LIMITS.item) : undefined],
          ['Issue', field(d.description)],
          ['Recommended fix', field(d.fix)],
          ...(event.event_type === 'security_vulnerability'
            ? ([
                ['CWE', field(event.data.cwe)],
                ['CVSS', field(event.data.cvss)],
              ] satisfies Field[])
            : []),
          ['Category', field(d.category)],
          ['Labels', list(d.labels)],
          ['Owner', field(d.owner)],
        ],
        { heading: security ? '🔒 Security vulnerability' : '🐛 Bug detected' },
      );
      break;
    }
    case 'performance_issue': {
      const d = event.data;
      const where = d.endpoint ?? d.service;
      content = c(
        '🐢',
        'Performance',
        where === undefined ? d.title : `${oneLine(text(where))} ${oneLine(text(d.title))}`,
        [
          ['Issue', field(d.title)],
          ['Service', field(d.service)],
          ['Endpoint', field(d.endpoint)],
          ['Metric', metric(d.metric, d.value, d.threshold)],
        ],
        {
          heading: '🐢 Performance issue',
          sections: [{ title: 'Metrics', ...entries(d.metrics) }],
        },
      );
      break;
    }
    case 'code_review_complete': {
      const d = event.data;
      const pr = `${d.repository === undefined ? 'PR ' : oneLine(text(d.repository))}#${text(d.pull_request)}`;
      content = c(
        '🤖',
        'Code review',
        pr,
        [
          ['Repository', field(d.repository)],
          ['Pull request', `#${clip(text(d.pull_request), EMAIL_LIMITS.item)}`],
          ['Summary', field(d.summary)],
          ['Confidence', percent(d.confidence)],
        ],
        {
          heading: '🤖 AI Code Review',
          sections: [
            { title: '✅ Looks Good', ...items(d.positives, text) },
            { title: '⚠️ Suggestions', ...items(d.suggestions, suggestion), ordered: true },
            { title: '🔒 Security', ...items(d.security, text), empty: 'No security issues detected' },
          ],
          ...(isHttpUrl(d.url) ? { link: { label: 'Open pull request', url: d.url } } : {}),
        },
      );
      break;
    }
    case 'test_failure': {
      const d = event.data;
      content = c(
        '❌',
        'Test failed',
        d.test_name,
        [
          ['Test', field(d.test_name)],
          ['Suite', field(d.suite)],
          ['File', field(d.file)],
          ['Message', field(d.message)],
        ],
        {
          heading: '❌ Test failure',
          ...(isHttpUrl(d.run_url) ? { link: { label: 'Open the CI run', url: d.run_url } } : {}),
        },
      );
      break;
    }
    case 'deployment_risk': {
      const d = event.data;
      content = c('⚠️', 'Deployment risk', `${oneLine(text(d.service))} (${oneLine(text(d.environment))})`, [
        ['Service', field(d.service)],
        ['Environment', field(d.environment)],
        ['Version', field(d.version)],
        ['Risk', field(d.risk)],
        ['Recommendation', field(d.recommendation)],
      ]);
      break;
    }
    case 'compliance_violation': {
      const d = event.data;
      content = c(
        '⚖️',
        `${clip(oneLine(text(d.regulation)), 40)} violation`,
        d.description,
        [
          ['Regulation', field(d.regulation)],
          ['Rule', field(d.rule)],
          ['Resource', field(d.resource)],
          ['Violation', field(d.description)],
        ],
        { heading: '⚖️ Compliance violation' },
      );
      break;
    }
    case 'pattern_discovered': {
      const d = event.data;
      content = c(
        '🧩',
        'Pattern',
        d.name,
        [
          ['Pattern', field(d.name)],
          ['Description', field(d.description)],
          ['Pattern ID', field(d.pattern_id)],
          ['Confidence', percent(d.confidence)],
        ],
        { heading: '🧩 Pattern discovered' },
      );
      break;
    }
    case 'completion': {
      const d = event.data;
      content = c(
        '✅',
        'Completed',
        d.content,
        [
          ['Response', field(d.content)],
          ['Level used', field(d.level_used)],
          ['Proactive', d.proactive === undefined ? undefined : d.proactive ? 'Yes' : 'No'],
          ['Duration', typeof d.duration_ms === 'number' ? `${d.duration_ms} ms` : field(d.duration_ms)],
        ],
        { heading: '✅ Completion' },
      );
      break;
    }
    case 'error': {
      const d = event.data;
      content = c('💥', 'Error', `${oneLine(text(d.error_type))}: ${oneLine(text(d.message))}`, [
        ['Error type', field(d.error_type)],
        ['Message', field(d.message)],
      ]);
      break;
    }
    case 'phi_access': {
      const d = event.data;
      content = c(
        '🏥',
        'PHI access',
        d.accessor === undefined
          ? d.resource
          : `${oneLine(text(d.resource))} by ${oneLine(text(d.accessor))}`,
        [
          ['Resource', field(d.resource)],
          ['Accessor', field(d.accessor)],
          ['Purpose', field(d.purpose)],
        ],
      );
      break;
    }
    default: {
      // An application-defined event type: show its scalar fields as they are.
      const data = (event as { data: Record<string, unknown> }).data ?? {};
      const fields: Field[] = Object.entries(data)
        .filter(([key, value]) => !SHARED_KEYS.has(key) && (value === null || typeof value !== 'object'))
        .slice(0, EMAIL_LIMITS.items)
        .map(([key, value]) => [clip(oneLine(key), 80), field(value)]);
      content = c(
        '📣',
        clip(oneLine(text((event as { event_type: unknown }).event_type)), 64),
        undefined,
        fields,
      );
    }
  }
  const data = event.data as { context?: unknown; url?: unknown };
  content.sections.push({ title: 'Context', ...entries(data.context) });
  if (!content.link && isHttpUrl(data.url)) content.link = { label: 'View details', url: data.url };
  return content;
}

const SHARED_KEYS = new Set(['url', 'context', 'severity', 'classification']);

function footerLines(event: EmpathyEvent): string[] {
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(event.timestamp)
    ? `${event.timestamp.slice(0, 10)} ${event.timestamp.slice(11, 16)} UTC`
    : oneLine(text(event.timestamp));
  const facts = [
    event.severity && `Severity: ${event.severity}`,
    event.classification && `Classification: ${event.classification}`,
    `Empathy level: ${event.empathy_level}`,
  ].filter(Boolean);
  return [
    `Detected by: ${clip(oneLine(text(event.user_id)), 200)} | Time: ${time}`,
    facts.join(' | '),
    `Event: ${clip(oneLine(text(event.event_id)), 200)} (${oneLine(text(event.event_type))})`,
  ];
}

function renderText(content: Content, footer: string[]): string {
  const out: string[] = [content.heading, ''];
  for (const [label, value] of content.fields) {
    if (value === undefined) continue;
    if (value.includes('\n')) out.push(`${label}:`, indent(value, '  '));
    else out.push(`${label}: ${value}`);
  }
  for (const section of content.sections) {
    if (section.items.length === 0 && section.empty === undefined) continue;
    out.push('', section.title);
    if (section.items.length === 0) out.push(`- ${section.empty}`);
    section.items.forEach((item, i) => {
      const bullet = section.ordered ? `${i + 1}. ` : '- ';
      out.push(bullet + indent(item, ' '.repeat(bullet.length)).slice(bullet.length));
    });
    if (section.more) out.push(moreNote(section.more));
  }
  if (content.link) out.push('', `${content.link.label}: ${content.link.url}`);
  out.push('', '-- ', ...footer);
  return `${out.join('\n')}\n`;
}

function renderHtml(subject: string, content: Content, footer: string[]): string {
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title>`,
    '</head>',
    '<body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,BlinkMacSystemFont,\'Segoe UI\',Roboto,Helvetica,Arial,sans-serif;color:#1f2328;">',
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:640px;margin:0 auto;background:#ffffff;border-radius:8px;border-top:4px solid ${content.accent};">`,
    '<tr><td style="padding:20px 24px;">',
    `<h1 style="margin:0 0 16px;font-size:20px;">${escapeHtml(content.heading)}</h1>`,
  ];
  const rows = content.fields.filter((f): f is readonly [string, string] => f[1] !== undefined);
  if (rows.length > 0) {
    out.push(
      '<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;width:100%;">',
    );
    for (const [label, value] of rows) {
      out.push(
        `<tr><th align="left" valign="top" style="padding:4px 12px 4px 0;white-space:nowrap;font-weight:600;">${escapeHtml(label)}</th>` +
          `<td style="padding:4px 0;white-space:pre-wrap;word-break:break-word;">${escapeHtml(value)}</td></tr>`,
      );
    }
    out.push('</table>');
  }
  for (const section of content.sections) {
    if (section.items.length === 0 && section.empty === undefined) continue;
    out.push(`<h2 style="margin:20px 0 8px;font-size:16px;">${escapeHtml(section.title)}</h2>`);
    if (section.items.length === 0) {
      out.push(`<p style="margin:0;">${escapeHtml(section.empty ?? '')}</p>`);
      continue;
    }
    const tag = section.ordered ? 'ol' : 'ul';
    out.push(`<${tag} style="margin:0;padding-left:24px;">`);
    for (const item of section.items) {
      out.push(
        `<li style="margin:2px 0;white-space:pre-wrap;word-break:break-word;">${escapeHtml(item)}</li>`,
      );
    }
    out.push(`</${tag}>`);
    if (section.more) out.push(`<p style="margin:4px 0 0;">${escapeHtml(moreNote(section.more))}</p>`);
  }
  if (content.link) {
    out.push(
      `<p style="margin:20px 0 0;"><a href="${escapeHtml(content.link.url)}" style="display:inline-block;padding:8px 14px;background:${content.accent};color:#ffffff;text-decoration:none;border-radius:6px;">${escapeHtml(content.link.label)}</a></p>`,
    );
  }
  out.push(
    `<p style="margin:24px 0 0;color:#656d76;font-size:12px;line-height:1.5;">${footer.map(escapeHtml).join('<br>')}</p>`,
    '</td></tr>',
    '</table>',
    '</body>',
    '</html>',
  );
  return `${out.join('\n')}\n`;
}

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch]!);
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

// C0/C1 control characters (but tab and newline), and the invisible bidi controls that make text
// display in another order than it reads (U+202E turns "exe.txt" into "txt.exe").
const UNSAFE_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** Any value as display text, without control or bidi-override characters. */
function text(value: unknown): string {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (value === undefined || value === null) s = '';
  else if (typeof value === 'object') {
    try {
      s = JSON.stringify(value) ?? '';
    } catch {
      s = String(value);
    }
  } else s = String(value);
  return s.replace(/\r\n?/g, '\n').replace(UNSAFE_CHARS, '');
}

/** Whitespace (newlines too) collapsed to single spaces. */
function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** A field's value, clipped; `undefined` when there is nothing to show. */
function field(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = text(value).trim();
  return s === '' ? undefined : clip(s, EMAIL_LIMITS.field);
}

/** Cuts `value` to at most `max` characters, ending in `…`; never splits a surrogate pair. */
function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  let cut = value.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut.trimEnd()}…`;
}

function indent(value: string, prefix: string): string {
  return value
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

/** The first {@link EMAIL_LIMITS}.items values as display text, and how many were left out. */
function items<T>(
  values: readonly T[] | undefined,
  show: (value: T) => string,
): { items: string[]; more: number } {
  if (!Array.isArray(values)) return { items: [], more: 0 };
  const shown = values
    .slice(0, EMAIL_LIMITS.items)
    .map((v) => clip(show(v).trim(), EMAIL_LIMITS.item))
    .filter((s) => s !== '');
  return { items: shown, more: Math.max(0, values.length - EMAIL_LIMITS.items) };
}

function moreNote(count: number): string {
  return `…and ${count} more`;
}

/** `key: value` lines of an object (context, details, metrics). */
function entries(value: unknown): { items: string[]; more: number } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { items: [], more: 0 };
  return items(Object.entries(value), ([k, v]) => `${oneLine(text(k))}: ${text(v)}`);
}

function list(values: readonly unknown[] | undefined): string | undefined {
  if (!Array.isArray(values) || values.length === 0) return undefined;
  const { items: shown, more } = items(values, (v) => oneLine(text(v)));
  return clip([...shown, ...(more ? [moreNote(more)] : [])].join(', '), EMAIL_LIMITS.field);
}

/** Like the seed's review comment: `Line 45 (app/files.py): Consider using a context manager`. */
function suggestion(s: { file?: string; line?: number; message: string }): string {
  const file =
    s.file === undefined || s.file === '' ? undefined : clip(oneLine(text(s.file)), EMAIL_LIMITS.item);
  const line = s.line === undefined ? undefined : oneLine(text(s.line));
  const where = line === undefined ? file : file === undefined ? `Line ${line}` : `Line ${line} (${file})`;
  return where === undefined ? text(s.message) : `${where}: ${text(s.message)}`;
}

function location(file: unknown, line: unknown): string | undefined {
  if (file === undefined || file === null || file === '')
    return line === undefined ? undefined : `line ${line}`;
  const f = clip(oneLine(text(file)), EMAIL_LIMITS.item);
  return line === undefined || line === null ? f : `${f}:${oneLine(text(line))}`;
}

function percent(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return field(value);
  return `${Math.round(value * 100)}%`;
}

function metric(name: unknown, value: unknown, threshold: unknown): string | undefined {
  if (name === undefined && value === undefined) return undefined;
  const parts = [oneLine(text(name ?? 'value'))];
  if (value !== undefined) parts.push(`= ${text(value)}`);
  if (threshold !== undefined) parts.push(`(threshold ${text(threshold)})`);
  return clip(parts.join(' '), EMAIL_LIMITS.field);
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** Header values: one line, printable, bounded (nodemailer encodes non-ASCII). */
function headerValue(value: string): string {
  return clip(oneLine(text(value)), 200);
}

function messageId(eventId: string, webhook: string, domain = 'empathy.invalid'): string {
  const atom = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 120);
  const host = domain.replace(/[^A-Za-z0-9.-]/g, '').replace(/^[.-]+|[.-]+$/g, '') || 'empathy.invalid';
  return `<${atom(eventId)}.${atom(webhook)}@${host}>`;
}

const ACCENT = {
  critical: '#a40e26',
  high: '#cf222e',
  warning: '#bf8700',
  medium: '#bf8700',
  low: '#0969da',
  info: '#0969da',
  none: '#57606a',
  resolved: '#1a7f37',
} as const;

function accentOf(severity: Severity | undefined): string {
  return severity ? (ACCENT[severity] ?? ACCENT.none) : ACCENT.none;
}

function priorityOf(severity: Severity | undefined): EmailMessage['priority'] {
  return severity === 'critical' || severity === 'high' ? 'high' : 'normal';
}
