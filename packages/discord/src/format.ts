import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';
import {
  cleanText as clean,
  type EventSummary,
  type IncidentContext,
  SEVERITY_LABELS,
  type SummarySection as Section,
  summarizeEvent as summarize,
  truncateText as truncate,
} from '@empathy/webhooks-core/kit';

/**
 * Discord's message limits, in characters:
 * discord.com/developers/docs/resources/message#embed-object-embed-limits
 */
export const DISCORD_LIMITS = {
  content: 2000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  author: 256,
  /** title + description + field names and values + footer + author, across all embeds. */
  total: 6000,
} as const;

/** Embed colours by severity (Discord's palette). */
export const SEVERITY_COLORS: Record<Severity, number> = {
  info: 0x3498db,
  low: 0x2ecc71,
  medium: 0xf1c40f,
  warning: 0xe67e22,
  high: 0xe74c3c,
  critical: 0x992d22,
};
/** The colour of an event without a severity. */
export const DEFAULT_COLOR = 0x95a5a6;
/** The colour of a resolved alert or incident. */
export const RESOLVED_COLOR = 0x2ecc71;

/** One field of an embed. */
export interface DiscordEmbedField {
  name: string;
  value: string;
  inline?: boolean | undefined;
}

/** The embed object, as far as this package uses it (every embed it formats has a title and footer). */
export interface DiscordEmbed {
  author?: { name: string } | undefined;
  title?: string | undefined;
  url?: string | undefined;
  description?: string | undefined;
  color?: number | undefined;
  fields?: DiscordEmbedField[] | undefined;
  footer?: { text: string } | undefined;
  /** ISO-8601. */
  timestamp?: string | undefined;
}

/**
 * Who a message may ping: discord.com/developers/docs/resources/message#allowed-mentions-object
 */
export interface DiscordAllowedMentions {
  parse?: ('roles' | 'users' | 'everyone')[] | undefined;
  roles?: string[] | undefined;
  users?: string[] | undefined;
}

/**
 * The body of `POST /webhooks/{id}/{token}` (Discord's execute-webhook body, as far as this
 * package uses it): what the `format` option receives as `defaults` and returns. An update of an
 * incident's message sends the same message as an edit (see {@link toMessageEdit}).
 */
export interface DiscordMessage {
  content?: string | undefined;
  username?: string | undefined;
  avatar_url?: string | undefined;
  embeds: DiscordEmbed[];
  /**
   * `{ parse: [] }` in every message this package formats: nothing in it can ping anyone. A
   * message from `format` without it gets the same; set it there to ping on purpose.
   */
  allowed_mentions: DiscordAllowedMentions;
}

/** Message-level options of {@link formatDiscordMessage}. */
export interface DiscordMessageOptions {
  /** Text above the embed (not escaped: it is yours, not the event's). */
  content?: string | undefined;
  username?: string | undefined;
  avatarUrl?: string | undefined;
  /**
   * Where the event's incident stands (the attempt's `ctx.incident`): a repeat's embed says how
   * many times the condition fired, a resolved one is green, titled `Resolved: …`, and says when
   * the condition was first seen.
   */
  incident?: IncidentContext | undefined;
}

/**
 * The body of `PATCH /webhooks/{id}/{token}/messages/{message_id}` (edit webhook message) that
 * turns an incident's message into `message`. An edit keeps the message's author, so `username`
 * and `avatar_url` are not part of it; `content: null` clears text the first post had.
 */
export interface DiscordMessageEdit {
  content: string | null;
  embeds: DiscordEmbed[];
  allowed_mentions: DiscordAllowedMentions;
}

/** Embeds in one message. */
const MAX_EMBEDS = 10;
const MAX_LIST_ITEMS = 10;
const MAX_ITEM = 300;
/** Facts are short; a long one is cut so that the others still fit. */
const MAX_FACT = 300;
/** Room kept for fields when the description is long. */
const FIELD_RESERVE = 2000;
/** Below this much room a cut text says too little to be worth sending. */
const MIN_PIECE = 16;

/**
 * Formats an event as a Discord webhook message: one embed (title, description, colour by
 * severity, fields, timestamp, footer) within Discord's limits, and `allowed_mentions` that
 * stop anything in it from pinging anyone. Pure.
 */
export function formatDiscordMessage(
  event: EmpathyEvent,
  options: DiscordMessageOptions = {},
): DiscordMessage {
  const message: DiscordMessage = {} as DiscordMessage;
  if (options.content !== undefined) {
    const content = truncate(clean(options.content), DISCORD_LIMITS.content);
    if (content.trim() !== '') message.content = content;
  }
  if (options.username !== undefined) message.username = options.username;
  if (options.avatarUrl !== undefined) message.avatar_url = options.avatarUrl;
  message.embeds = [formatDiscordEmbed(event, options.incident)];
  message.allowed_mentions = { parse: [] };
  return message;
}

/**
 * Formats an event as one Discord embed within {@link DISCORD_LIMITS}. With `incident` (see
 * {@link DiscordMessageOptions.incident}) it shows where the incident stands. Pure.
 */
export function formatDiscordEmbed(event: EmpathyEvent, incident?: IncidentContext): DiscordEmbed {
  const summary = summarize(event, incident);
  const severity = summary.severity ? `${SEVERITY_LABELS[summary.severity]} · ` : '';
  const author = truncate(`${severity}${clean(String(event.event_type))}`, DISCORD_LIMITS.author);
  const title = truncate(escapeMarkdown(`${summary.emoji} ${summary.title}`), DISCORD_LIMITS.title);
  const footer = truncate(summary.footer, DISCORD_LIMITS.footer);
  const fixed = author.length + title.length + footer.length;

  const candidates = summary.facts.slice(0, DISCORD_LIMITS.fields).map((fact) => ({
    name: truncate(escapeMarkdown(fact.name), DISCORD_LIMITS.fieldName),
    value: truncate(escapeMarkdown(fact.value), Math.min(MAX_FACT, DISCORD_LIMITS.fieldValue)),
  }));
  const fieldsCost = candidates.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const descriptionMax = Math.min(
    DISCORD_LIMITS.description,
    DISCORD_LIMITS.total - fixed - Math.min(fieldsCost, FIELD_RESERVE),
  );
  const description = assemble(descriptionPieces(summary), descriptionMax);

  let room = DISCORD_LIMITS.total - fixed - description.length;
  const fields: DiscordEmbedField[] = [];
  for (const { name, value } of candidates) {
    const fitted = name.length + value.length <= room ? value : cut(value, room - name.length);
    if (fitted === undefined) break;
    fields.push({ name, value: fitted, inline: name.length <= 24 && fitted.length <= 48 });
    room -= name.length + fitted.length;
  }

  const embed: DiscordEmbed = { author: { name: author }, title } as DiscordEmbed;
  const link = summary.links[0];
  if (link) embed.url = link.url;
  if (description !== '') embed.description = description;
  embed.color = summary.resolved
    ? RESOLVED_COLOR
    : summary.severity
      ? SEVERITY_COLORS[summary.severity]
      : DEFAULT_COLOR;
  if (fields.length > 0) embed.fields = fields;
  embed.footer = { text: footer };
  embed.timestamp = event.timestamp;
  return embed;
}

/**
 * Applies Discord's limits to any message, such as one the `format` option returned: text
 * cleaned by the one text policy and cut to each limit, at most 10 embeds of at most 25 fields,
 * 6000 characters of embed text in all (past it, the fields and then the embeds that do not fit
 * are left out), empty fields left out (Discord refuses them), and `allowed_mentions: { parse: [] }`
 * unless the message sets its own. Pure; throws when nothing is left to send.
 */
export function fitDiscordMessage(message: DiscordMessage): DiscordMessage {
  const out: DiscordMessage = { ...message };
  delete out.content;
  if (message.content !== undefined && message.content !== null) {
    const content = truncate(clean(String(message.content)), DISCORD_LIMITS.content);
    if (content.trim() !== '') out.content = content;
  }
  let room = DISCORD_LIMITS.total;
  const take = (value: unknown, max: number): string | undefined => {
    if (value === undefined || value === null) return undefined;
    const text = truncate(clean(String(value)), Math.min(max, room));
    room -= text.length;
    return text === '' ? undefined : text;
  };
  const embeds: DiscordEmbed[] = [];
  const given = Array.isArray(message.embeds) ? message.embeds : [];
  for (const embed of given.slice(0, MAX_EMBEDS)) {
    if (embed === null || typeof embed !== 'object' || room <= 0) continue;
    // In this order: what comes first takes the room first.
    const author = take(embed.author?.name, DISCORD_LIMITS.author);
    const title = take(embed.title, DISCORD_LIMITS.title);
    const footer = take(embed.footer?.text, DISCORD_LIMITS.footer);
    const description = take(embed.description, DISCORD_LIMITS.description);
    const fields: DiscordEmbedField[] = [];
    for (const field of Array.isArray(embed.fields) ? embed.fields.slice(0, DISCORD_LIMITS.fields) : []) {
      const name = truncate(clean(String(field?.name ?? '')), DISCORD_LIMITS.fieldName);
      const value = truncate(clean(String(field?.value ?? '')), DISCORD_LIMITS.fieldValue);
      if (name.trim() === '' || value.trim() === '') continue;
      if (name.length + value.length > room) break;
      room -= name.length + value.length;
      fields.push({ ...field, name, value });
    }
    // What is left empty is left out (`undefined` is not sent): Discord refuses empty parts.
    embeds.push({
      ...embed,
      author: author === undefined ? undefined : { ...embed.author, name: author },
      title,
      footer: footer === undefined ? undefined : { ...embed.footer, text: footer },
      description,
      fields: fields.length > 0 ? fields : undefined,
    });
  }
  out.embeds = embeds;
  if (out.content === undefined && embeds.length === 0) {
    throw new Error('Discord refuses an empty message: give it content or at least one embed');
  }
  out.allowed_mentions = message.allowed_mentions ?? { parse: [] };
  return out;
}

/**
 * The edit that turns an incident's message into `message` (any message: `format`'s too, after
 * {@link fitDiscordMessage}): its text, embeds and mentions; author fields are not editable.
 */
export function toMessageEdit(message: DiscordMessage): DiscordMessageEdit {
  return {
    content: message.content ?? null,
    embeds: message.embeds,
    allowed_mentions: message.allowed_mentions,
  };
}

/**
 * Escapes Discord markdown so that event text shows as typed: no forged links, mentions,
 * headings, quotes or formatting. Discord renders a backslash before punctuation as the
 * punctuation alone.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\*_~`|[\]<>]/g, '\\$&')
    .replace(/^(\s*)([#+-])(?=[\s#]|$)/gm, '$1\\$2')
    .replace(/^(\s*\d+)\.(?=\s|$)/gm, '$1\\.');
}

/** Builds a piece of text for the room left; `undefined` if it does not fit. */
type Piece = (room: number) => string | undefined;

function descriptionPieces(summary: EventSummary): Piece[] {
  const pieces: Piece[] = [];
  const text = summary.text;
  if (text !== undefined) pieces.push((room) => cut(escapeMarkdown(text), room));
  for (const section of summary.sections) pieces.push((room) => renderSection(section, room));
  const rec = summary.recommendation;
  if (rec?.code) {
    // Nothing can be escaped inside a code block: break any fence in the code itself. A hair
    // space (visible, unlike a zero-width one, which the text policy strips) splits each run.
    const code = rec.text.replace(/`{3,}/g, (run) => [...run].join('\u200a'));
    const head = `**${rec.label}**\n\`\`\`\n`;
    const tail = '\n```';
    pieces.push((room) => {
      const inner = cut(code, room - head.length - tail.length);
      return inner === undefined ? undefined : `${head}${inner}${tail}`;
    });
  } else if (rec) {
    const head = `**${rec.label}:** `;
    pieces.push((room) => {
      const body = cut(escapeMarkdown(rec.text), room - head.length);
      return body === undefined ? undefined : head + body;
    });
  }
  for (const link of summary.links.slice(1)) {
    // The URL went through `new URL()`; encoding parentheses keeps the markdown link whole.
    const url = link.url.replaceAll('(', '%28').replaceAll(')', '%29');
    pieces.push(() => `[${link.title}](${url})`);
  }
  return pieces;
}

function renderSection(section: Section, room: number): string | undefined {
  const { items } = section;
  const lines = [`**${section.heading}**`];
  let used = lines[0]!.length;
  for (const [i, item] of items.slice(0, MAX_LIST_ITEMS).entries()) {
    const line = `${section.ordered ? `${i + 1}.` : '•'} ${truncate(escapeMarkdown(item), MAX_ITEM)}`;
    // Keep room for the "…and N more" line that follows unless this is the last item.
    const hidden = items.length - i - 1;
    const left = room - used - 1 - (hidden > 0 ? moreLine(hidden).length + 1 : 0);
    const fitted = cut(line, left);
    if (fitted === undefined) break;
    lines.push(fitted);
    used += fitted.length + 1;
    if (fitted !== line) break;
  }
  const shown = lines.length - 1;
  if (shown === 0) return undefined;
  if (items.length > shown) lines.push(moreLine(items.length - shown));
  return lines.join('\n');
}

const moreLine = (hidden: number) => `…and ${hidden} more`;

/**
 * Joins pieces with blank lines within `max`. When they do not all fit, the room is shared
 * fairly: short pieces get all they need and the long ones split the rest evenly, so a long text
 * cannot push the recommendation out.
 */
function assemble(pieces: Piece[], max: number): string {
  const separator = '\n\n';
  const needs = pieces.map((piece) => piece(Number.POSITIVE_INFINITY)?.length ?? 0);
  const room = max - separator.length * Math.max(0, needs.filter((n) => n > 0).length - 1);
  const shares = fairShares(needs, Math.max(0, room));
  const parts: string[] = [];
  pieces.forEach((piece, i) => {
    const text = shares[i]! > 0 ? piece(shares[i]!) : undefined;
    if (text !== undefined && text !== '' && text.length <= shares[i]!) parts.push(text);
  });
  return parts.join(separator);
}

/** Max-min fair split of `total` between `needs`. */
function fairShares(needs: number[], total: number): number[] {
  const shares = needs.map(() => 0);
  let left = total;
  let open = needs.map((_, i) => i).filter((i) => needs[i]! > 0);
  while (open.length > 0) {
    const even = Math.floor(left / open.length);
    const met = open.filter((i) => needs[i]! <= even);
    if (met.length === 0) {
      for (const i of open) shares[i] = even;
      break;
    }
    for (const i of met) {
      shares[i] = needs[i]!;
      left -= needs[i]!;
    }
    open = open.filter((i) => needs[i]! > even);
  }
  return shares;
}

/** `text` cut to `room`, or `undefined` when the room is too small to say anything. */
function cut(text: string, room: number): string | undefined {
  if (text.length <= room) return text;
  return room >= MIN_PIECE ? truncate(text, room) : undefined;
}
