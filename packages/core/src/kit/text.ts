/**
 * The one text policy: what every integration does to text from an event before a vendor sees
 * it. Vendor escaping (Slack mrkdwn, Discord markdown, HTML, Jira) stays in each renderer, and
 * runs on text cleaned here.
 */

// What is removed, and why:
// - C0 controls except tab and newline, DEL, and C1 controls: invisible, and some terminals and
//   renderers act on them.
// - Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the implicit marks
//   LRM, RLM, ALM (U+200E, U+200F, U+061C): they make text read differently from what it is
//   ("Trojan Source", CVE-2021-42574).
// - Zero-width characters (U+200B–U+200D, U+2060, U+180E) and the BOM (U+FEFF): they hide inside
//   words, so a name or a link can look like another.
// - Lone surrogates: not text; vendors reject them or print replacement characters.
// The characters JSON.stringify writes as they are (the rest of the set it escapes: C0 controls
// and lone surrogates), so that JSON text can be checked with the same set (see cleanJson).
const UNSAFE_RAW = '\\u007F-\\u009F\\u061C\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060\\u2066-\\u2069\\uFEFF';
const UNSAFE = new RegExp(
  `[\\u0000-\\u0008\\u000B-\\u001F${UNSAFE_RAW}]|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]`,
  'g',
);
// In JSON text: the raw ones, or the escapes JSON.stringify writes for C0 controls (`\u0007`, and
// `\b`, `\f`, `\r`; tab and newline are kept) and for lone surrogates. A literal backslash before
// such letters matches too: that only costs a cleaning pass that changes nothing.
const UNSAFE_IN_JSON = new RegExp(`[${UNSAFE_RAW}]|\\\\(?:[bfr]|u00(?:0[0-8bcef]|1[0-9a-f])|ud[89a-f])`, 'i');

/**
 * Removes control, bidi, zero-width and BOM characters and lone surrogates, and turns CRLF and CR
 * into LF. Tabs and newlines stay.
 *
 * @example cleanText('ok\u202Egnp.exe') // 'okgnp.exe'
 */
export function cleanText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(UNSAFE, '');
}

/**
 * Shortens `text` to at most `max` UTF-16 code units (the unit vendors count in), ending with `…`
 * when cut. It cuts between code points, never inside a surrogate pair.
 *
 * @example truncateText('hello world', 8) // 'hello w…'
 */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let end = max - 1;
  // Do not keep the high half of a pair whose low half falls past the cut.
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/** {@link cleanText}, whitespace runs collapsed to one space, trimmed: for titles and names. */
export function oneLine(text: string): string {
  return cleanText(text).replace(/\s+/g, ' ').trim();
}

/** How far {@link boundedData} keeps data. Every bound is optional. */
export interface DataBounds {
  /** Characters kept of each string. @default no limit */
  string?: number | undefined;
  /** Items kept of each array; a `… N more` item follows the rest. @default no limit */
  items?: number | undefined;
  /** Keys kept of each object; a `…: N more fields` entry follows the rest. @default no limit */
  keys?: number | undefined;
  /** Levels of nesting kept; deeper values become `[nested too deep]`. @default 64 */
  depth?: number | undefined;
  /** Characters kept of each object key. @default 100 */
  key?: number | undefined;
}

/**
 * A copy of JSON-like data (an event's `data`, a vendor's structured fields) fit to send: every
 * string and key cleaned by the one text policy, and strings, arrays, objects and nesting cut to
 * `bounds`. Object keys are cut to 100 characters. It cuts before it cleans, so a long string
 * costs only the part that is kept. Data sent as JSON needs this rather than cleaning the JSON
 * text: there, a control character hides behind an escape.
 *
 * @example boundedData({ msg: 'a\u202Eb', list: [1, 2, 3] }, { items: 2 }) // { msg: 'ab', list: [1, 2, '… 1 more'] }
 */
export function boundedData(value: unknown, bounds: DataBounds = {}): unknown {
  return bound(value, bounds, 0);
}

function bound(value: unknown, bounds: DataBounds, depth: number): unknown {
  if (typeof value === 'string') {
    return cleanText(bounds.string === undefined ? value : truncateText(value, bounds.string));
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= (bounds.depth ?? 64)) return '[nested too deep]';
  if (Array.isArray(value)) {
    const max = bounds.items ?? value.length;
    const items = value.slice(0, max).map((item) => bound(item, bounds, depth + 1));
    if (value.length > max) items.push(`… ${value.length - max} more`);
    return items;
  }
  const entries = Object.entries(value);
  const max = bounds.keys ?? entries.length;
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries.slice(0, max)) {
    out[cleanText(truncateText(key, bounds.key ?? 100))] = bound(item, bounds, depth + 1);
  }
  if (entries.length > max) out['…'] = `${entries.length - max} more fields`;
  return out;
}

/**
 * JSON text with the text policy applied to every string and key in it, nothing cut. Costs one
 * scan when the text holds nothing to clean (it is then returned as is, byte for byte): for
 * payloads sent as the JSON they are, such as `CustomWebhook`'s body.
 */
export function cleanJson(json: string): string {
  if (!UNSAFE_IN_JSON.test(json)) return json;
  return JSON.stringify(
    boundedData(JSON.parse(json), { depth: Number.POSITIVE_INFINITY, key: Number.POSITIVE_INFINITY }),
  );
}
