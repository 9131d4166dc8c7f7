import type { EmpathyEvent } from '@empathy/webhooks-core';
import {
  cleanText,
  type EventSummary,
  type IncidentContext,
  oneLine,
  SEVERITY_LABELS,
  type SummaryLink,
  summarizeEvent,
  truncateText,
} from '@empathy/webhooks-core/kit';

/**
 * Slack's Block Kit limits. Longer text is cut with an ellipsis; nothing is ever rejected.
 * See docs.slack.dev/reference/block-kit/blocks.
 */
export const SLACK_LIMITS = {
  /** Blocks per message. */
  blocks: 50,
  /** Characters in a header block's text. */
  headerText: 150,
  /** Characters in a section block's text. */
  sectionText: 3000,
  /** Fields per section block. */
  sectionFields: 10,
  /** Characters per section field. */
  fieldText: 2000,
  /** Elements per context block. */
  contextElements: 10,
  /** Characters per context element. */
  contextText: 3000,
  /** Buttons per actions block. */
  actionsElements: 25,
  /** Characters in a button's label. */
  buttonText: 75,
  /** Characters in a button's URL. */
  buttonUrl: 3000,
  /** Characters of a message's `text` (Slack truncates past 40,000). */
  text: 40_000,
  /** Characters in the plain-text fallback this formatter writes (notifications show far less). */
  fallbackText: 3000,
} as const;

/** A `plain_text` text object: Slack never parses it for mentions or links. */
export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean | undefined;
}

/** A `mrkdwn` text object. Event data in it is escaped: it can neither mention nor link. */
export interface MrkdwnText {
  type: 'mrkdwn';
  text: string;
}

/** A link button. */
export interface LinkButton {
  type: 'button';
  text: PlainText;
  url: string;
}

/**
 * The Block Kit blocks this formatter writes, and a divider for messages users build in
 * `format`. Other block types may be sent too (cast them): they pass through unchanged.
 */
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: PlainText | MrkdwnText }
  | { type: 'section'; fields: (PlainText | MrkdwnText)[] }
  | { type: 'context'; elements: (PlainText | MrkdwnText)[] }
  | { type: 'actions'; elements: LinkButton[] }
  | { type: 'divider' };

/** One Slack message: Block Kit blocks plus the `text` fallback notifications show. */
export interface SlackMessage {
  /** Fallback for notifications and clients without Block Kit (mrkdwn, escaped). */
  text: string;
  blocks: SlackBlock[];
}

/**
 * What goes over the wire, and what the `format` option receives and returns: the message plus
 * who posts it where.
 */
export interface SlackPayload extends SlackMessage {
  channel?: string | undefined;
  username?: string | undefined;
  icon_emoji?: string | undefined;
}

/** Where and as whom a message is posted. */
export interface SlackPostingOptions {
  channel?: string | undefined;
  username?: string | undefined;
  iconEmoji?: string | undefined;
}

/**
 * The full payload for an event, in the seed's shape: `channel`, `username`, `icon_emoji`, then
 * the message (`text` fallback and `blocks`). `incident` is where the event's incident stands
 * (see {@link formatMessage}). Pure.
 */
export function buildPayload(
  event: EmpathyEvent,
  posting: SlackPostingOptions = {},
  incident?: IncidentContext,
): SlackPayload {
  const payload = {} as SlackPayload;
  if (posting.channel !== undefined) payload.channel = posting.channel;
  if (posting.username !== undefined) payload.username = posting.username;
  if (posting.iconEmoji !== undefined) payload.icon_emoji = posting.iconEmoji;
  return Object.assign(payload, formatMessage(event, incident));
}

/**
 * Formats an event as a Slack message from core's reading of it (`summarizeEvent`), so it has
 * the same title as in every other integration: a header with the reading's emoji and title,
 * the text, the facts as fields, titled lists, the recommendation (code as a code block), link
 * buttons and a context line. The `prediction` message is the seed's layout, exactly. Event data
 * is escaped for mrkdwn and cut to Slack's limits; lists end in "…and N more", so a message never
 * has more than 10 of Slack's 50 blocks. Pure.
 *
 * With `incident` (the attempt's `ctx.incident`), the message shows where the condition stands:
 * a repeated one gets a `Seen: N times since <first seen>` field and "(seen N times)" in the
 * notification text; a resolved one is titled `✅ Resolved: <title>` and says when it was first
 * seen, so a resolved message names the notification it clears even where that one cannot be
 * edited.
 *
 * @example formatMessage(event, { key, status: 'firing', occurrences: 50, folded: 50, firstSeenAt, ref: undefined }).text
 * // '❌ Test failed: test_login (seen 50 times): AssertionError: expected 401, got 200'
 */
export function formatMessage(event: EmpathyEvent, incident?: IncidentContext): SlackMessage {
  const summary = summarizeEvent(event, incident);
  return event.event_type === 'prediction' ? prediction(event, summary) : reading(summary, incident);
}

// The seed's "Prediction Alert": header, one section, the "Detected by" context line.
function prediction(event: EmpathyEvent, s: EventSummary): SlackMessage {
  const fact = (name: string) => s.facts.find((f) => f.name === name)?.value;
  const blocks: SlackBlock[] = [header(`${s.emoji} ${s.title}`)];
  const body = section(
    lines(
      label('Prediction', s.text),
      label('Confidence', fact('Confidence')),
      label(s.recommendation?.label ?? 'Recommendation', s.recommendation?.text),
      label('Timeframe', fact('Timeframe')),
      label('Impact', fact('Impact')),
    ),
  );
  if (body) blocks.push(body);
  const buttons = actions(s.links);
  if (buttons) blocks.push(buttons);
  const who = esc(truncateText(oneLine(event.user_id), 200));
  blocks.push(context(`Detected by: ${who} | Time: ${esc(formatTime(event.timestamp))}`));
  // The seed's notification line: "🔮 Prediction: Auth deployment may conflict with …"
  return { text: fallback(`${s.emoji} Prediction`, s.text), blocks };
}

// Every other event type: the reading, rendered in Block Kit.
function reading(s: EventSummary, incident: IncidentContext | undefined): SlackMessage {
  const blocks: SlackBlock[] = [header(`${s.emoji} ${s.title}`)];
  const text = s.text === undefined ? undefined : section(esc(s.text));
  if (text) blocks.push(text);
  blocks.push(...factSections(incidentFacts(s, incident)));
  for (const list of s.sections) {
    const items = list.items.map((item, i) => `${list.ordered ? `${i + 1}.` : '•'} ${esc(inline(item))}`);
    const heading = `*${esc(list.heading)}*\n`;
    const body = section(`${heading}${fitList(items, SLACK_LIMITS.sectionText - heading.length)}`);
    if (body) blocks.push(body);
  }
  const next = s.recommendation;
  if (next) {
    const body = next.code ? codeSection(next.label, next.text) : section(label(next.label, next.text) ?? '');
    if (body) blocks.push(body);
  }
  const buttons = actions(s.links);
  if (buttons) blocks.push(buttons);
  const severity = s.severity ? `Severity: ${SEVERITY_LABELS[s.severity]} · ` : '';
  blocks.push(context(esc(oneLine(`${severity}${s.footer}`))));
  const seen = s.occurrences === undefined ? '' : ` (seen ${s.occurrences} times)`;
  return { text: fallback(`${s.emoji} ${s.title}${seen}`, s.text), blocks };
}

/**
 * The reading's facts, plus `First seen` on a resolved incident that fired once: the reading's
 * `Seen` fact ("N times since …") names the first-seen time only from the second occurrence on,
 * and a resolved message must name the notification it clears. Not when the webhook never saw
 * the condition fire (its state expired, or the resolution came alone): there is no time to name.
 */
function incidentFacts(s: EventSummary, incident: IncidentContext | undefined): EventSummary['facts'] {
  if (incident?.status !== 'resolved' || s.occurrences !== undefined || incident.occurrences < 1) {
    return s.facts;
  }
  return [{ name: 'First seen', value: `${formatTime(incident.firstSeenAt)} UTC` }, ...s.facts];
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Inline values (a line of a section, a list item) are cut well below the section limit. */
const INLINE_MAX = 1000;
/** Facts shown as fields: two sections of ten; the rest is counted. */
const MAX_FACTS = 2 * SLACK_LIMITS.sectionFields;
/** Link buttons per message. */
const MAX_BUTTONS = 5;

function header(text: string): SlackBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: truncateText(oneLine(text), SLACK_LIMITS.headerText) },
  };
}

/** `*Label:* value` with the value escaped and cut, or undefined when there is no value. */
function label(name: string, value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : `*${esc(name)}:* ${esc(inline(value))}`;
}

function lines(...parts: (string | undefined)[]): string {
  return parts.filter((p) => p !== undefined && p !== '').join('\n');
}

function section(mrkdwn: string): SlackBlock | undefined {
  if (mrkdwn.trim() === '') return undefined;
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateMrkdwn(mrkdwn, SLACK_LIMITS.sectionText) },
  };
}

function factSections(facts: EventSummary['facts']): SlackBlock[] {
  const fields: MrkdwnText[] = facts.slice(0, MAX_FACTS).map((f) => ({
    type: 'mrkdwn',
    text: truncateMrkdwn(`*${esc(inline(f.name, 200))}:*\n${esc(f.value)}`, SLACK_LIMITS.fieldText),
  }));
  if (facts.length > MAX_FACTS) {
    fields[MAX_FACTS - 1] = { type: 'mrkdwn', text: `_…and ${facts.length - MAX_FACTS + 1} more_` };
  }
  const out: SlackBlock[] = [];
  for (let i = 0; i < fields.length; i += SLACK_LIMITS.sectionFields) {
    out.push({ type: 'section', fields: fields.slice(i, i + SLACK_LIMITS.sectionFields) });
  }
  return out;
}

/** A labelled code block; the code is cut so that the closing fence always survives. */
function codeSection(name: string, code: string): SlackBlock | undefined {
  const head = `*${esc(name)}:*\n\`\`\``;
  const tail = '```';
  // A ``` inside the code would end the block early. (A zero-width space would hide it, but
  // zero-width characters are what the text policy removes.)
  const body = esc(code.replaceAll('```', "'''"));
  return section(
    `${head}${truncateMrkdwn(body, SLACK_LIMITS.sectionText - head.length - tail.length)}${tail}`,
  );
}

function context(mrkdwn: string): SlackBlock {
  return {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncateMrkdwn(mrkdwn, SLACK_LIMITS.contextText) }],
  };
}

function actions(links: SummaryLink[]): SlackBlock | undefined {
  const elements: LinkButton[] = links
    .filter((link) => link.url.length <= SLACK_LIMITS.buttonUrl)
    .slice(0, MAX_BUTTONS)
    .map((link) => ({
      type: 'button',
      text: { type: 'plain_text', text: truncateText(oneLine(link.title), SLACK_LIMITS.buttonText) },
      url: link.url,
    }));
  return elements.length > 0 ? { type: 'actions', elements } : undefined;
}

/** The `text` fallback: "title: text" on one line, escaped, cut. */
function fallback(title: string, text: string | undefined): string {
  const line = text === undefined ? title : `${title}: ${text}`;
  return truncateMrkdwn(esc(oneLine(line)), SLACK_LIMITS.fallbackText);
}

/** Adds list items while they fit in `max` characters, then "…and N more". */
function fitList(items: string[], max: number): string {
  const out: string[] = [];
  let used = 0;
  for (const [i, item] of items.entries()) {
    const rest = items.length - i;
    const cost = item.length + (out.length > 0 ? 1 : 0);
    const reserve = rest > 1 ? `\n_…and ${rest - 1} more_`.length : 0;
    if (used + cost + reserve > max) {
      if (out.length === 0) return truncateMrkdwn(item, max);
      out.push(`_…and ${rest} more_`);
      return out.join('\n');
    }
    out.push(item);
    used += cost;
  }
  return out.join('\n');
}

/** A value cut for use inside a line, on one line. */
function inline(value: string, max = INLINE_MAX): string {
  return truncateText(oneLine(value), max);
}

/** "2025-11-25T14:30:00.000Z" → "2025-11-25 14:30" (the seed's format; UTC). */
function formatTime(timestamp: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(timestamp)
    ? `${timestamp.slice(0, 10)} ${timestamp.slice(11, 16)}`
    : inline(String(timestamp), 40);
}

// ---------------------------------------------------------------------------------------------
// Slack's escaping (the text policy itself is core's: cleanText, truncateText)

/**
 * Escapes text for Slack mrkdwn: `&`, `<` and `>` become entities, so `<!channel>`, `<@U123>` and
 * `<https://evil|click>` in event data show as text instead of pinging or linking. The text is
 * cleaned by core's text policy first (control, bidi and zero-width characters removed).
 * See docs.slack.dev/messaging/formatting-message-text#escaping.
 */
export function escapeMrkdwn(text: string): string {
  return cleanText(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const esc = escapeMrkdwn;

/**
 * Core's `truncateText` for escaped mrkdwn: never leaves half an entity (`&am`) before the
 * ellipsis.
 */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = truncateText(text, max).slice(0, -1);
  return `${cut.replace(/&[a-z]{0,3}$/, '')}…`;
}
