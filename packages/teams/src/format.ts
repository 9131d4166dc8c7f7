import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';
import {
  cleanText,
  type EventSummary,
  type IncidentContext,
  oneLine,
  SEVERITY_LABELS,
  summarizeEvent as summarize,
  truncateText as truncate,
} from '@empathy/webhooks-core/kit';

/** An Adaptive Card text colour. */
export type CardColor = 'Default' | 'Accent' | 'Good' | 'Warning' | 'Attention';
/** An Adaptive Card container style. */
export type ContainerStyle = 'emphasis' | 'accent' | 'good' | 'warning' | 'attention';

/** One run of plain text: Adaptive Cards never read markdown in a `TextRun`. */
export interface TextRun {
  type: 'TextRun';
  text: string;
  size?: 'Small' | 'Large' | undefined;
  weight?: 'Bolder' | undefined;
  color?: CardColor | undefined;
  isSubtle?: true | undefined;
  fontType?: 'Monospace' | undefined;
}

/** The card elements this package uses. */
export type CardElement =
  | { type: 'RichTextBlock'; inlines: TextRun[]; spacing?: 'None' | 'Medium'; separator?: true }
  | { type: 'FactSet'; facts: { title: string; value: string }[] }
  | { type: 'Container'; style: ContainerStyle; bleed?: true; items: CardElement[] };

/** A button that opens a link. */
export interface OpenUrlAction {
  type: 'Action.OpenUrl';
  title: string;
  url: string;
}

/** An Adaptive Card 1.4, as Teams renders it. */
export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: '1.4';
  /** Shown where the card cannot be (notifications, old clients). */
  fallbackText: string;
  /** Teams-only: use the full width of the channel. */
  msteams: { width: 'Full' };
  body: CardElement[];
  actions?: OpenUrlAction[] | undefined;
}

/**
 * The body a Teams Workflows webhook ("When a Teams webhook request is received") takes: what
 * the `format` option receives as `defaults` and returns.
 */
export interface TeamsMessage {
  type: 'message';
  attachments: [
    {
      contentType: 'application/vnd.microsoft.card.adaptive';
      contentUrl: null;
      content: AdaptiveCard;
    },
  ];
}

/** Header colours by severity; a resolved alert or incident is green. */
export const SEVERITY_TONES: Record<
  Severity | 'none' | 'resolved',
  { style: ContainerStyle; color: CardColor }
> = {
  critical: { style: 'attention', color: 'Attention' },
  high: { style: 'attention', color: 'Attention' },
  warning: { style: 'warning', color: 'Warning' },
  medium: { style: 'warning', color: 'Warning' },
  low: { style: 'good', color: 'Good' },
  info: { style: 'accent', color: 'Accent' },
  none: { style: 'emphasis', color: 'Default' },
  resolved: { style: 'good', color: 'Good' },
};

/**
 * The most a formatted message may weigh, in UTF-8 bytes. Teams refuses messages over about
 * 28 KB ("Request Entity Too Large" in the flow run); this leaves room for what the flow adds.
 */
export const MAX_MESSAGE_BYTES = 24_000;

/** Per-part caps at full size; halved until the message fits {@link MAX_MESSAGE_BYTES}. */
const LIMITS = {
  title: 200,
  text: 3000,
  facts: 20,
  factName: 80,
  factValue: 500,
  items: 10,
  item: 300,
  next: 2000,
};
const SCALES = [1, 0.5, 0.25, 0.1, 0.05];

/**
 * Formats an event as a Teams Workflows message holding one Adaptive Card 1.4: a header in the
 * severity's colour, the main text, a FactSet of the event's fields, lists, the recommendation,
 * a footer, and an `Action.OpenUrl` per link. Event text goes into `TextRun`s, which Teams shows
 * as typed (no markdown); FactSet values do read markdown, so links in them are defused. Long
 * text is cut so that the message stays under {@link MAX_MESSAGE_BYTES}. Pure.
 *
 * With `incident` (the attempt's `ctx.incident`) the card shows where the incident stands: a
 * repeat's FactSet starts with `Seen: N times since <first seen>`; a resolved card is green and
 * names the original: `Resolved: <its title>` (the title kept in `incident.ref.title` when the
 * first card was posted, else this event's) and when it was first seen.
 */
export function formatTeamsMessage(event: EmpathyEvent, incident?: IncidentContext): TeamsMessage {
  const summary = summarize(event, incident);
  if (incident?.status === 'resolved') nameOriginal(summary, incident);
  let message: TeamsMessage | undefined;
  for (const scale of SCALES) {
    message = wrap(formatCard(event, summary, scale));
    if (Buffer.byteLength(JSON.stringify(message)) <= MAX_MESSAGE_BYTES) break;
  }
  return message!;
}

/**
 * A Workflows card cannot be edited, so the resolved card is a new one that must say which card
 * it closes: the original's title, and its first-seen time (core's `Seen` fact gives it only past
 * one occurrence, as "N times since …").
 */
function nameOriginal(summary: EventSummary, incident: IncidentContext): void {
  const original = incident.ref?.title;
  if (typeof original === 'string' && oneLine(original) !== '')
    summary.title = `Resolved: ${oneLine(original)}`;
  if (summary.occurrences === undefined && incident.occurrences > 0) {
    summary.facts.unshift({ name: 'First seen', value: displayTime(incident.firstSeenAt) });
  }
}

function wrap(card: AdaptiveCard): TeamsMessage {
  return {
    type: 'message',
    attachments: [
      { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card },
    ],
  };
}

function formatCard(event: EmpathyEvent, summary: EventSummary, scale: number): AdaptiveCard {
  const limit = (key: keyof typeof LIMITS) => Math.max(1, Math.floor(LIMITS[key] * scale));
  const tone = SEVERITY_TONES[summary.resolved ? 'resolved' : (summary.severity ?? 'none')];
  const title = truncate(`${summary.emoji} ${summary.title}`, limit('title'));
  const kind = [summary.severity && SEVERITY_LABELS[summary.severity], String(event.event_type)]
    .filter(Boolean)
    .join(' · ');

  const body: CardElement[] = [
    {
      type: 'Container',
      style: tone.style,
      bleed: true,
      items: [
        rich([run(title, { size: 'Large', weight: 'Bolder', color: tone.color })]),
        { ...rich([run(kind, { size: 'Small', isSubtle: true })]), spacing: 'None' },
      ],
    },
  ];
  if (summary.text !== undefined) body.push(rich([run(truncate(summary.text, limit('text')))]));
  if (summary.facts.length > 0) {
    body.push({
      type: 'FactSet',
      facts: summary.facts.slice(0, limit('facts')).map((fact) => ({
        title: defuseMarkdown(truncate(fact.name, limit('factName'))),
        value: defuseMarkdown(truncate(fact.value, limit('factValue'))),
      })),
    });
  }
  for (const section of summary.sections) {
    body.push({ ...rich([run(section.heading, { weight: 'Bolder' })]), spacing: 'Medium' });
    const shown = section.items.slice(0, limit('items'));
    shown.forEach((item, i) => {
      const bullet = section.ordered ? `${i + 1}.` : '•';
      body.push({ ...rich([run(`${bullet} ${truncate(item, limit('item'))}`)]), spacing: 'None' });
    });
    const hidden = section.items.length - shown.length;
    if (hidden > 0) {
      body.push({ ...rich([run(`…and ${hidden} more`, { isSubtle: true })]), spacing: 'None' });
    }
  }
  const next = summary.recommendation;
  if (next) {
    body.push({
      type: 'Container',
      style: 'emphasis',
      items: [
        rich([run(next.label, { weight: 'Bolder' })]),
        {
          ...rich([run(truncate(next.text, limit('next')), next.code ? { fontType: 'Monospace' } : {})]),
          spacing: 'None',
        },
      ],
    });
  }
  body.push({
    ...rich([run(`${summary.footer} · ${displayTime(event.timestamp)}`, { size: 'Small', isSubtle: true })]),
    spacing: 'Medium',
    separator: true,
  });

  const card: AdaptiveCard = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    fallbackText: title,
    msteams: { width: 'Full' },
    body,
  };
  if (summary.links.length > 0) {
    card.actions = summary.links.map((link) => ({
      type: 'Action.OpenUrl',
      title: link.title,
      url: link.url,
    }));
  }
  return card;
}

/**
 * Teams reads markdown in FactSet titles and values. A backslash before the `(` that follows a
 * `]` stops event text from forming a link whose label hides where it goes; markdown shows the
 * parenthesis without the backslash.
 */
export function defuseMarkdown(text: string): string {
  return text.replace(/\](\s*)\(/g, ']$1\\(');
}

/** Texts that may be cut to make a message fit, by property name. */
const CUTTABLE = new Set(['text', 'value', 'title', 'fallbackText']);
/** Successive caps on those texts, until the message fits. */
const CUTS = [4000, 2000, 1000, 500, 200, 100, 50, 20];
/** Deeper than any card: a cycle, or not a card. */
const MAX_DEPTH = 64;

/**
 * Applies Teams' limits to any message, such as one the `format` option returned: every string
 * cleaned by the one text policy and, while the message is over {@link MAX_MESSAGE_BYTES}, its
 * longest texts (`text`, `value`, `title`, `fallbackText`) cut shorter. Pure; throws when the
 * message has no attachment (the flow's "Post card" step needs the card) or cannot be made to fit.
 */
export function fitTeamsMessage(message: TeamsMessage): TeamsMessage {
  if (
    message === null ||
    typeof message !== 'object' ||
    !Array.isArray(message.attachments) ||
    (message.attachments as unknown[]).length === 0
  ) {
    throw new Error(`a Teams Workflows message needs 'attachments' holding the Adaptive Card`);
  }
  let size = 0;
  for (const cap of [Number.POSITIVE_INFINITY, ...CUTS]) {
    const fitted = fitStrings(message, cap, undefined, 0) as TeamsMessage;
    size = Buffer.byteLength(JSON.stringify(fitted));
    if (size <= MAX_MESSAGE_BYTES) return fitted;
  }
  throw new Error(
    `the message is ${size} bytes with its texts cut to 20 characters; Teams takes at most about 28 KB`,
  );
}

function fitStrings(value: unknown, cap: number, key: string | undefined, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new Error(`the message is nested more than ${MAX_DEPTH} levels deep`);
  if (typeof value === 'string') {
    const text = cleanText(value);
    return key !== undefined && CUTTABLE.has(key) ? truncate(text, cap) : text;
  }
  if (Array.isArray(value)) return value.map((item) => fitStrings(item, cap, undefined, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fitStrings(v, cap, k, depth + 1);
    return out;
  }
  return value;
}

function rich(inlines: TextRun[]): { type: 'RichTextBlock'; inlines: TextRun[] } {
  return { type: 'RichTextBlock', inlines };
}

function run(text: string, style: Omit<TextRun, 'type' | 'text'> = {}): TextRun {
  return { type: 'TextRun', text, ...style };
}

/** `2025-11-25 14:30 UTC` from an ISO timestamp. */
function displayTime(timestamp: string): string {
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime())
    ? timestamp
    : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
