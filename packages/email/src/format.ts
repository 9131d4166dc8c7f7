import { createHash } from 'node:crypto';
import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';
import {
  cleanText,
  type EventSummary,
  type IncidentContext,
  oneLine,
  SEVERITY_LABELS,
  summarizeEvent,
  truncateText,
} from '@empathy/webhooks-core/kit';

/**
 * What an `EmailWebhook` sends for an event, and what the `format` option receives and returns:
 * the subject, the plain-text part and the HTML part.
 */
export interface EmailPayload {
  /** One line, e.g. `[Empathy] 🔮 Level 4 Prediction`. */
  subject: string;
  /** The plain-text part. */
  text: string;
  /** The HTML part; every piece of event data in it is HTML-escaped. An empty string sends none. */
  html: string;
}

/**
 * The headers that make an event's mail recognisable, the same on every attempt: what
 * {@link emailHeaders} returns and `EmailWebhook` sends with each payload.
 */
export interface EmailHeaders {
  /**
   * `<event_id.webhook@domain>`, or `<incident-…@domain>` for the mail that opens an incident's
   * thread: the same on every attempt, so receivers can de-duplicate.
   */
  messageId: string;
  /** The Message-ID of the incident's first mail, when this one is a follow-up in its thread. */
  inReplyTo?: string | undefined;
  /** The thread this mail belongs to (the first mail's Message-ID), when it is a follow-up. */
  references?: string | undefined;
  /** `X-Empathy-Event-Id`, `X-Empathy-Event-Type`, `X-Empathy-Severity`, `Auto-Submitted`, … */
  headers: Record<string, string>;
  /**
   * From the event's severity: `high` (X-Priority 1) for high and critical, else `normal` (and
   * always for an incident's resolution).
   */
  priority: 'high' | 'normal';
}

/** Options for {@link formatEmail}. */
export interface FormatEmailOptions {
  /** Put in front of every subject. @default '[Empathy]' */
  subjectPrefix?: string | undefined;
  /**
   * Where the event's incident stands (the attempt's `ctx.incident`): a repeat is a reply in the
   * first mail's thread (`Re: …`) that says how many times the condition fired; a resolved one is
   * titled `Resolved: …` and says when the condition was first seen. @default none
   */
  incident?: IncidentContext | undefined;
}

/** Options for {@link emailHeaders}. */
export interface EmailHeadersOptions {
  /**
   * The webhook's name, part of the Message-ID: two webhooks mailing the same event send two
   * distinct messages. @default 'email'
   */
  webhookName?: string | undefined;
  /** The Message-ID's domain, usually the sender's. @default 'empathy.invalid' */
  messageIdDomain?: string | undefined;
  /**
   * The attempt's `ctx.incident`: the first mail of an incident gets an `<incident-…>`
   * Message-ID (returned as the incident's reference), later ones `In-Reply-To` and
   * `References` pointing at it. @default none
   */
  incident?: IncidentContext | undefined;
}

/**
 * Length limits, in characters. Email itself has no hard limits worth hitting, but a subject
 * should fit an inbox line and an alert should stay readable (and small) however much text an
 * agent attached: longer values end in `…`.
 */
export const EMAIL_LIMITS = {
  /** The subject after its prefix: emoji and title. */
  subject: 150,
  /** The event's main text. */
  text: 5000,
  /** A fact's value, a recommendation. */
  field: 2000,
  /** One list item (a suggestion, a positive). */
  item: 500,
  /** Facts shown, and items shown per list; the rest is counted ("…and 12 more"). */
  items: 25,
  /** The plain-text part of a payload `format` returned. */
  textPart: 100_000,
  /** The HTML part of a payload `format` returned (HTML is not cut: it is refused past this). */
  htmlPart: 500_000,
} as const;

/** The default subject prefix. */
export const DEFAULT_SUBJECT_PREFIX = '[Empathy]';

/**
 * Renders an event as an email from core's reading of it (`summarizeEvent`), so the subject
 * carries the same title as every other integration: `[Empathy] 🐛 Bug detected: …`. The text
 * part and the HTML part show the reading's text, facts, lists, recommendation, links and footer.
 * Pure: the same event gives the same message.
 *
 * @example
 * const { subject, text, html } = formatEmail(event, { subjectPrefix: '[prod]' });
 */
export function formatEmail(event: EmpathyEvent, options: FormatEmailOptions = {}): EmailPayload {
  const { incident } = options;
  const s = summarizeEvent(event, incident);
  if (incident?.status === 'resolved' && s.occurrences === undefined) {
    // Core's `Seen` fact (2 or more) already says since when; otherwise say it here, so a
    // resolved mail outside the thread (its first mail unknown) still dates the condition.
    s.facts.unshift({ name: 'First seen', value: firstSeen(incident) });
  }
  const prefix = oneLine(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const headline = truncateText(`${s.emoji} ${s.title}`, EMAIL_LIMITS.subject);
  let subject = prefix ? `${prefix} ${headline}` : headline;
  // A repeat is a reply in the first mail's thread: mail clients (Gmail among them) keep a
  // thread together when the subject is the first one's with `Re:`.
  if (incident?.status === 'firing' && threadRoot(incident) !== undefined) subject = `Re: ${subject}`;
  const content = contentOf(s, event);
  return { subject, text: renderText(content), html: renderHtml(subject, content) };
}

/**
 * The Message-ID and headers of an event's mail: stable per event and webhook, so a retried
 * attempt is the same message to the receiver. With the attempt's incident, the mail that opens
 * it gets an `<incident-<key hash>-<event time>-<event id>.<webhook>@domain>` Message-ID, and
 * every later one (repeats, the resolution) `In-Reply-To` and `References` set to it.
 */
export function emailHeaders(event: EmpathyEvent, options: EmailHeadersOptions = {}): EmailHeaders {
  const { incident } = options;
  const headers: Record<string, string> = {
    'X-Empathy-Event-Id': headerValue(event.event_id),
    'X-Empathy-Event-Type': headerValue(event.event_type),
  };
  if (event.severity) headers['X-Empathy-Severity'] = headerValue(event.severity);
  if (event.classification) headers['X-Empathy-Classification'] = headerValue(event.classification);
  if (incident) {
    // For mail rules: every mail of one incident carries its key, and whether it cleared.
    headers['X-Empathy-Incident-Key'] = headerValue(incident.key);
    headers['X-Empathy-Incident-Status'] = incident.status;
  }
  // RFC 3834: machine-generated; autoresponders must not answer. Exchange reads the second one.
  headers['Auto-Submitted'] = 'auto-generated';
  headers['X-Auto-Response-Suppress'] = 'All';
  const webhook = options.webhookName ?? 'email';
  const root = incident && threadRoot(incident);
  return {
    messageId:
      incident && root === undefined
        ? incidentMessageId(event, incident.key, webhook, options.messageIdDomain)
        : messageId(event.event_id, webhook, options.messageIdDomain),
    ...(root === undefined ? {} : { inReplyTo: root, references: root }),
    headers,
    // A resolution is news, not an emergency: it is never flagged important.
    priority:
      incident?.status !== 'resolved' && (event.severity === 'critical' || event.severity === 'high')
        ? 'high'
        : 'normal',
  };
}

/**
 * The Message-ID of the incident's first mail, from the reference core kept (`message_id`), or
 * `undefined` when there is none or it is not a Message-ID (a shared store holds what any
 * process wrote: nothing that could bend a header is passed on).
 */
function threadRoot(incident: IncidentContext): string | undefined {
  const id = incident.ref?.message_id;
  return id !== undefined && MESSAGE_ID.test(id) ? id : undefined;
}

/** `<left@right>` of RFC 5322 dot-atom characters, as this module writes them. */
const MESSAGE_ID = /^<[A-Za-z0-9._-]{1,300}@[A-Za-z0-9.-]{1,255}>$/;

/** An event's content, once, before it is rendered as text and as HTML. */
interface Content {
  heading: string;
  text: string | undefined;
  facts: [label: string, value: string][];
  sections: { title: string; items: string[]; more: number; ordered: boolean }[];
  recommendation: { label: string; text: string; code: boolean } | undefined;
  links: { label: string; url: string }[];
  footer: string[];
  accent: string;
}

function contentOf(s: EventSummary, event: EmpathyEvent): Content {
  const facts = s.facts.map((f): [string, string] => [
    clip(oneLine(f.name), 80),
    clip(f.value, EMAIL_LIMITS.field),
  ]);
  const shown = facts.slice(0, EMAIL_LIMITS.items);
  if (facts.length > shown.length) shown.push(['…', moreNote(facts.length - shown.length)]);
  const time = utcMinute(event.timestamp) ?? clip(oneLine(String(event.timestamp)), 40);
  return {
    heading: `${s.emoji} ${clip(s.title, EMAIL_LIMITS.field)}`,
    text: s.text === undefined ? undefined : clip(s.text, EMAIL_LIMITS.text),
    facts: shown,
    sections: s.sections.map((section) => ({
      title: section.heading,
      items: section.items.slice(0, EMAIL_LIMITS.items).map((item) => clip(item, EMAIL_LIMITS.item)),
      more: Math.max(0, section.items.length - EMAIL_LIMITS.items),
      ordered: section.ordered,
    })),
    recommendation: s.recommendation && {
      ...s.recommendation,
      text: clip(s.recommendation.text, EMAIL_LIMITS.field),
    },
    links: s.links.map((link) => ({ label: link.title, url: link.url })),
    footer: [
      clip(oneLine(s.footer), 300),
      [s.severity && `Severity: ${SEVERITY_LABELS[s.severity]}`, `Time: ${time}`].filter(Boolean).join(' · '),
    ],
    accent: s.resolved ? ACCENT.resolved : accentOf(s.severity),
  };
}

function renderText(c: Content): string {
  const out: string[] = [c.heading, ''];
  if (c.text !== undefined) out.push(c.text, '');
  for (const [label, value] of c.facts) {
    if (value.includes('\n')) out.push(`${label}:`, indent(value, '  '));
    else out.push(`${label}: ${value}`);
  }
  for (const section of c.sections) {
    out.push('', section.title);
    section.items.forEach((item, i) => {
      const bullet = section.ordered ? `${i + 1}. ` : '- ';
      out.push(bullet + indent(item, ' '.repeat(bullet.length)).slice(bullet.length));
    });
    if (section.more) out.push(moreNote(section.more));
  }
  if (c.recommendation) {
    const { label, text, code } = c.recommendation;
    out.push('', `${label}:`, indent(text, code ? '    ' : '  '));
  }
  if (c.links.length > 0) out.push('', ...c.links.map((link) => `${link.label}: ${link.url}`));
  out.push('', '-- ', ...c.footer);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}

function renderHtml(subject: string, c: Content): string {
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title>`,
    '</head>',
    '<body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,BlinkMacSystemFont,\'Segoe UI\',Roboto,Helvetica,Arial,sans-serif;color:#1f2328;">',
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:640px;margin:0 auto;background:#ffffff;border-radius:8px;border-top:4px solid ${c.accent};">`,
    '<tr><td style="padding:20px 24px;">',
    `<h1 style="margin:0 0 16px;font-size:20px;">${escapeHtml(c.heading)}</h1>`,
  ];
  if (c.text !== undefined) {
    out.push(
      `<p style="margin:0 0 16px;white-space:pre-wrap;word-break:break-word;">${escapeHtml(c.text)}</p>`,
    );
  }
  if (c.facts.length > 0) {
    out.push(
      '<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;width:100%;">',
    );
    for (const [label, value] of c.facts) {
      out.push(
        `<tr><th align="left" valign="top" style="padding:4px 12px 4px 0;white-space:nowrap;font-weight:600;">${escapeHtml(label)}</th>` +
          `<td style="padding:4px 0;white-space:pre-wrap;word-break:break-word;">${escapeHtml(value)}</td></tr>`,
      );
    }
    out.push('</table>');
  }
  for (const section of c.sections) {
    out.push(`<h2 style="margin:20px 0 8px;font-size:16px;">${escapeHtml(section.title)}</h2>`);
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
  if (c.recommendation) {
    const { label, text, code } = c.recommendation;
    out.push(`<h2 style="margin:20px 0 8px;font-size:16px;">${escapeHtml(label)}</h2>`);
    out.push(
      code
        ? `<pre style="margin:0;padding:12px;background:#f6f8fa;border-radius:6px;white-space:pre-wrap;word-break:break-word;">${escapeHtml(text)}</pre>`
        : `<p style="margin:0;white-space:pre-wrap;word-break:break-word;">${escapeHtml(text)}</p>`,
    );
  }
  if (c.links.length > 0) {
    out.push(
      `<p style="margin:20px 0 0;">${c.links
        .map(
          (link) =>
            `<a href="${escapeHtml(link.url)}" style="display:inline-block;margin:0 8px 8px 0;padding:8px 14px;background:${c.accent};color:#ffffff;text-decoration:none;border-radius:6px;">${escapeHtml(link.label)}</a>`,
        )
        .join('')}</p>`,
    );
  }
  out.push(
    `<p style="margin:24px 0 0;color:#656d76;font-size:12px;line-height:1.5;">${c.footer.map(escapeHtml).join('<br>')}</p>`,
    '</td></tr>',
    '</table>',
    '</body>',
    '</html>',
  );
  return `${out.join('\n')}\n`;
}

/**
 * Escapes text for HTML element content and double- or single-quoted attribute values, after
 * core's text policy has removed control, bidi and zero-width characters.
 */
export function escapeHtml(value: string): string {
  return cleanText(value).replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch]!);
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Core's `truncateText`, without trailing spaces before the ellipsis. */
function clip(value: string, max: number): string {
  const cut = truncateText(value, max);
  return cut === value ? value : `${cut.slice(0, -1).trimEnd()}…`;
}

function indent(value: string, prefix: string): string {
  return value
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

function moreNote(count: number): string {
  return `…and ${count} more`;
}

/** Header values: one line, printable, bounded (nodemailer encodes non-ASCII). */
function headerValue(value: string): string {
  return truncateText(oneLine(String(value)), 200);
}

/** `2026-12-03T14:02:09.120Z` as `2026-12-03 14:02 UTC`; `undefined` for what is not an ISO time. */
function utcMinute(iso: string): string | undefined {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(iso)
    ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
    : undefined;
}

/**
 * When a resolved incident was first seen, as far as this webhook knows: with no firing event on
 * record (its state expired, or lived in the memory of a process that restarted), core's
 * `firstSeenAt` is only the resolution's own time, so the mail says it is not known.
 */
function firstSeen(incident: IncidentContext): string {
  if (incident.occurrences === 0) return 'not on record (no earlier mail of this condition is known)';
  return utcMinute(incident.firstSeenAt) ?? clip(oneLine(incident.firstSeenAt), 40);
}

const atom = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 120);

function messageIdHost(domain = 'empathy.invalid'): string {
  return domain.replace(/[^A-Za-z0-9.-]/g, '').replace(/^[.-]+|[.-]+$/g, '') || 'empathy.invalid';
}

function messageId(eventId: string, webhook: string, domain?: string): string {
  return `<${atom(eventId)}.${atom(webhook)}@${messageIdHost(domain)}>`;
}

/**
 * The Message-ID of the mail that opens an incident's thread: the incident (a hash of its key:
 * keys may hold any character), the event's time and id (a reopened incident gets a new thread;
 * a retried attempt the same id) and the webhook (two webhooks, two threads).
 */
function incidentMessageId(event: EmpathyEvent, key: string, webhook: string, domain?: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
  const ms = Date.parse(event.timestamp);
  const time = Number.isNaN(ms) ? '' : `-${ms}`;
  return `<incident-${hash}${time}-${atom(event.event_id)}.${atom(webhook)}@${messageIdHost(domain)}>`;
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
