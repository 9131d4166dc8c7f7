import type { EmpathyEvent, EventDataMap, Severity } from '@empathy/webhooks-core';

/**
 * Slack's Block Kit limits this formatter keeps to. Longer text is cut with an ellipsis; nothing
 * is ever rejected. See docs.slack.dev/reference/block-kit/blocks.
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
  /** Characters per context element. */
  contextText: 3000,
  /** Characters in a button's label. */
  buttonText: 75,
  /** Characters in a button's URL. */
  buttonUrl: 3000,
  /** Characters in the plain-text fallback (Slack truncates past 40,000; notifications show far less). */
  fallbackText: 3000,
} as const;

/** A `plain_text` text object. */
export interface PlainText {
  type: 'plain_text';
  text: string;
}

/** A `mrkdwn` text object. Its text is escaped: event data can neither mention nor link. */
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

/** The Block Kit blocks this formatter produces. */
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: MrkdwnText }
  | { type: 'section'; fields: MrkdwnText[] }
  | { type: 'context'; elements: MrkdwnText[] }
  | { type: 'actions'; elements: LinkButton[] };

/** One Slack message: Block Kit blocks plus the plain `text` fallback notifications show. */
export interface SlackMessage {
  /** Fallback for notifications and clients without Block Kit (mrkdwn, escaped). */
  text: string;
  blocks: SlackBlock[];
}

/** What goes over the wire: the message plus who posts it where. */
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
 * the message (`text` fallback and `blocks`). Pure.
 */
export function buildPayload(event: EmpathyEvent, posting: SlackPostingOptions = {}): SlackPayload {
  const payload = {} as SlackPayload;
  if (posting.channel !== undefined) payload.channel = posting.channel;
  if (posting.username !== undefined) payload.username = posting.username;
  if (posting.iconEmoji !== undefined) payload.icon_emoji = posting.iconEmoji;
  return Object.assign(payload, formatMessage(event));
}

/**
 * Formats an event as a Slack message: a header with an emoji that fits the event, sections with
 * its details, link buttons, and a context line (who, when). The `prediction` message is exactly
 * the seed's. Every piece of event data is escaped for mrkdwn and cut to Slack's limits; lists
 * (review suggestions, alert details) end in "…and N more" rather than growing the message, so a
 * message never has more than 8 of Slack's 50 blocks. Pure.
 */
export function formatMessage(event: EmpathyEvent): SlackMessage {
  const card = describe(event);
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncatePlain(oneLine(card.title), SLACK_LIMITS.headerText) },
    },
    ...card.body.filter((block) => block !== undefined),
  ];
  const buttons = (card.links ?? []).map(linkButton).filter((b) => b !== undefined);
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons.slice(0, 5) });
  blocks.push(context(card.footer ?? footer(event)));
  return {
    text: truncateMrkdwn(
      esc(oneLine(card.fallback ?? (card.summary ? `${card.title}: ${card.summary}` : card.title))),
      SLACK_LIMITS.fallbackText,
    ),
    blocks,
  };
}

/** What one event type contributes to its message. */
interface Card {
  /** Header text (plain). */
  title: string;
  /** One-line summary: the fallback `text` is "title: summary" (plain; escaped on the way out). */
  summary: string;
  /** A fallback `text` other than "title: summary" (plain). */
  fallback?: string | undefined;
  body: (SlackBlock | undefined)[];
  links?: { text: string; url: unknown }[] | undefined;
  /** The context line (mrkdwn, already escaped). @default {@link footer} */
  footer?: string | undefined;
}

type Data<K extends keyof EventDataMap> = EventDataMap[K];

function describe(event: EmpathyEvent): Card {
  switch (event.event_type) {
    case 'prediction':
      return prediction(event.data, event);
    case 'alert':
      return alert(event.data, event.severity);
    case 'bug_detected':
      return finding('🐛 Bug', event.data);
    case 'security_vulnerability':
      return security(event.data);
    case 'performance_issue':
      return performance(event.data);
    case 'code_review_complete':
      return codeReview(event.data);
    case 'test_failure':
      return testFailure(event.data);
    case 'deployment_risk':
      return deploymentRisk(event.data);
    case 'compliance_violation':
      return compliance(event.data);
    case 'pattern_discovered':
      return pattern(event.data);
    case 'completion':
      return completion(event.data, event);
    case 'error':
      return error(event.data);
    case 'phi_access':
      return phiAccess(event.data);
    default:
      return custom(event);
  }
}

// The seed's message, byte for byte: header, one section, the "Detected by" context.
function prediction(d: Data<'prediction'>, event: EmpathyEvent): Card {
  return {
    title: `🔮 Level ${event.empathy_level} Prediction`,
    summary: str(d.prediction),
    // The seed's notification line: "🔮 Prediction: Auth deployment may conflict with …"
    fallback: `🔮 Prediction: ${str(d.prediction)}`,
    body: [
      section(
        lines(
          label('Prediction', d.prediction),
          label('Confidence', percent(d.confidence)),
          label('Recommendation', d.recommendation),
          label('Timeframe', d.timeframe),
          label('Impact', d.impact),
        ),
      ),
    ],
    links: [{ text: 'View details', url: d.url }],
    footer: footer(event, { severity: false }),
  };
}

const ALERT_EMOJI: Record<Severity, string> = {
  critical: '🚨',
  high: '🚨',
  warning: '⚠️',
  medium: '⚠️',
  low: 'ℹ️',
  info: 'ℹ️',
};

function alert(d: Data<'alert'>, severity: Severity | undefined): Card {
  const name = str(d.title);
  // Without a title the header is just "🚨 Alert" (not "Alert: Alert"); the message follows.
  const title =
    d.resolved === true
      ? `✅ Resolved: ${name || 'Alert'}`
      : `${ALERT_EMOJI[severity ?? 'warning']} Alert${name ? `: ${name}` : ''}`;
  const details = isRecord(d.details)
    ? Object.entries(d.details).map(([key, value]) => `• ${esc(inline(key, 100))}: ${esc(inline(value))}`)
    : [];
  return {
    title,
    summary: str(d.message),
    body: [
      section(esc(long(d.message))),
      fieldsSection([
        ['Source', d.source],
        ['Status', d.resolved === true ? 'Resolved' : undefined],
      ]),
      details.length > 0
        ? section(`*Details*\n${fitList(details, SLACK_LIMITS.sectionText - 12)}`)
        : undefined,
    ],
    links: [{ text: 'Open', url: d.url }],
  };
}

function finding(prefix: string, d: Data<'bug_detected'>, extra: (string | undefined)[] = []): Card {
  const where = location(d.file, d.line);
  return {
    title: `${prefix}: ${str(d.title)}${where ? ` in ${where}` : ''}`,
    summary: str(d.description),
    body: [
      section(lines(where ? `*File:* ${code(where)}` : undefined, label('Issue', d.description), ...extra)),
      codeSection('Suggested fix', d.fix),
      fieldsSection([
        ['Category', d.category],
        ['Labels', Array.isArray(d.labels) ? d.labels.map(str).join(', ') : undefined],
        ['Owner', d.owner],
      ]),
    ],
    links: [{ text: 'View', url: d.url }],
  };
}

function security(d: Data<'security_vulnerability'>): Card {
  const rating = [d.cwe ? str(d.cwe) : undefined, isNumber(d.cvss) ? `CVSS ${d.cvss}` : undefined]
    .filter(Boolean)
    .join(' | ');
  return finding('🔒 Security', d, [rating ? `*Rating:* ${esc(inline(rating))}` : undefined]);
}

function performance(d: Data<'performance_issue'>): Card {
  const subject = [d.endpoint, d.title].map(str).filter(Boolean).join(' ');
  const measured =
    d.metric !== undefined && isNumber(d.value)
      ? `${str(d.metric)} = ${d.value}${isNumber(d.threshold) ? ` (threshold ${d.threshold})` : ''}`
      : undefined;
  const metrics = isRecord(d.metrics)
    ? Object.entries(d.metrics).map(([name, value]) => `• ${esc(inline(name, 100))}: ${esc(inline(value))}`)
    : [];
  return {
    title: `🐢 Performance: ${subject}`,
    summary: measured ?? (str(d.service) || str(d.title)),
    body: [
      fieldsSection([
        ['Service', d.service],
        ['Endpoint', d.endpoint],
        ['Measured', measured],
      ]),
      metrics.length > 0
        ? section(`*Metrics*\n${fitList(metrics, SLACK_LIMITS.sectionText - 12)}`)
        : undefined,
    ],
    links: [{ text: 'Open dashboard', url: d.url }],
  };
}

function codeReview(d: Data<'code_review_complete'>): Card {
  const pr = `PR #${str(d.pull_request)}`;
  const positives = (Array.isArray(d.positives) ? d.positives : []).map((p) => `• ${esc(inline(p))}`);
  const suggestions = (Array.isArray(d.suggestions) ? d.suggestions : []).map((s, i) => {
    const where = location(s?.file, s?.line);
    return `${i + 1}. ${where ? `*${esc(where)}*: ` : ''}${esc(inline(s?.message))}`;
  });
  const security = (Array.isArray(d.security) ? d.security : []).map((s) => `• ${esc(inline(s))}`);
  const budget = SLACK_LIMITS.sectionText - 30;
  return {
    title: `🤖 AI Code Review: ${pr}`,
    summary: `${d.repository ? `${str(d.repository)}: ` : ''}${str(d.summary) || 'review complete'}`,
    body: [
      section(
        lines(
          label('Repository', d.repository),
          label('Summary', d.summary),
          label('Confidence', percent(d.confidence)),
        ),
      ),
      section(`*✅ Looks good*\n${positives.length > 0 ? fitList(positives, budget) : '• Nothing noted'}`),
      section(`*⚠️ Suggestions*\n${suggestions.length > 0 ? fitList(suggestions, budget) : '• None'}`),
      section(
        `*🔒 Security*\n${security.length > 0 ? fitList(security, budget) : '• No security issues detected'}`,
      ),
    ],
    links: [{ text: 'View pull request', url: d.url }],
  };
}

function testFailure(d: Data<'test_failure'>): Card {
  return {
    title: `❌ Test failed: ${str(d.test_name)}`,
    summary: str(d.message),
    body: [
      section(
        lines(
          `*Test:* ${code(inline(d.test_name))}`,
          label('Suite', d.suite),
          d.file ? `*File:* ${code(str(d.file))}` : undefined,
        ),
      ),
      codeSection('Failure', d.message),
    ],
    links: [
      { text: 'View run', url: d.run_url },
      { text: 'Open', url: d.url },
    ],
  };
}

function deploymentRisk(d: Data<'deployment_risk'>): Card {
  return {
    title: `🚦 Deployment risk: ${str(d.service)} → ${str(d.environment)}`,
    summary: str(d.risk),
    body: [
      section(lines(label('Risk', d.risk), label('Recommendation', d.recommendation))),
      fieldsSection([
        ['Service', d.service],
        ['Environment', d.environment],
        ['Version', d.version],
      ]),
    ],
    links: [{ text: 'Review deployment', url: d.url }],
  };
}

function compliance(d: Data<'compliance_violation'>): Card {
  return {
    title: `⚖️ Compliance: ${str(d.regulation)} violation`,
    summary: str(d.description),
    body: [
      section(
        lines(
          label('Regulation', [d.regulation, d.rule].map(str).filter(Boolean).join(' ')),
          label('Issue', d.description),
          d.resource ? `*Resource:* ${code(inline(d.resource))}` : undefined,
        ),
      ),
    ],
    links: [{ text: 'Open', url: d.url }],
  };
}

function pattern(d: Data<'pattern_discovered'>): Card {
  return {
    title: `💡 Pattern discovered: ${str(d.name)}`,
    summary: str(d.description),
    body: [
      section(esc(long(d.description))),
      fieldsSection([
        ['Confidence', percent(d.confidence)],
        ['Pattern ID', d.pattern_id],
      ]),
    ],
    links: [{ text: 'Open', url: d.url }],
  };
}

function completion(d: Data<'completion'>, event: EmpathyEvent): Card {
  const facts = [
    d.proactive === true ? 'Proactive' : undefined,
    isNumber(d.duration_ms) ? `Duration: ${formatDuration(d.duration_ms)}` : undefined,
  ];
  return {
    title: `✅ Completed at Level ${str(d.level_used)}`,
    summary: str(d.content),
    body: [section(esc(long(d.content)))],
    links: [{ text: 'Open', url: d.url }],
    footer: [...facts.filter(Boolean), footer(event, { by: 'Requested by' })].join(' | '),
  };
}

function error(d: Data<'error'>): Card {
  return {
    title: `🔥 Error: ${str(d.error_type)}`,
    summary: str(d.message),
    body: [section(esc(long(d.message)))],
    links: [{ text: 'Open', url: d.url }],
  };
}

function phiAccess(d: Data<'phi_access'>): Card {
  return {
    title: `🏥 PHI access: ${str(d.resource)}`,
    summary: [
      d.accessor ? `accessed by ${str(d.accessor)}` : 'accessed',
      d.purpose ? `for ${str(d.purpose)}` : '',
    ]
      .filter(Boolean)
      .join(' '),
    body: [
      section(
        lines(
          `*Resource:* ${code(inline(d.resource))}`,
          label('Accessor', d.accessor),
          label('Purpose', d.purpose),
        ),
      ),
    ],
    links: [{ text: 'Audit log', url: d.url }],
  };
}

// App-defined event types: their data as a list of fields.
function custom(event: EmpathyEvent): Card {
  const data = (isRecord(event.data) ? event.data : {}) as Record<string, unknown>;
  const entries = Object.entries(data).filter(
    ([key, value]) => key !== 'url' && key !== 'context' && value !== undefined,
  );
  const rows = entries.map(([key, value]) => `*${esc(inline(key, 100))}:* ${esc(inline(value))}`);
  return {
    title: `📣 ${event.event_type}`,
    summary: entries.length > 0 ? `${entries[0]![0]}: ${str(entries[0]![1])}` : event.event_type,
    body: [rows.length > 0 ? section(fitList(rows, SLACK_LIMITS.sectionText)) : undefined],
    links: [{ text: 'Open', url: data.url }],
  };
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Inline values (a title in a line, a list item) are cut well below the section limit. */
const INLINE_MAX = 1000;

/** `*Label:* value` with the value escaped and cut, or undefined when there is no value. */
function label(name: string, value: unknown): string | undefined {
  const text = str(value);
  return text ? `*${name}:* ${esc(inline(text))}` : undefined;
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

function fieldsSection(pairs: [string, unknown][]): SlackBlock | undefined {
  const fields: MrkdwnText[] = [];
  for (const [name, value] of pairs) {
    const text = str(value);
    if (!text) continue;
    fields.push({ type: 'mrkdwn', text: truncateMrkdwn(`*${name}:*\n${esc(text)}`, SLACK_LIMITS.fieldText) });
  }
  return fields.length > 0
    ? { type: 'section', fields: fields.slice(0, SLACK_LIMITS.sectionFields) }
    : undefined;
}

/** A labelled code block; the code is cut so that the closing fence always survives. */
function codeSection(name: string, value: unknown): SlackBlock | undefined {
  const text = str(value);
  if (!text) return undefined;
  const head = `*${name}:*\n\`\`\``;
  const tail = '```';
  // A ``` inside the code would end the block early: break it with a zero-width space.
  const body = esc(text.replaceAll('```', '`\u200b``'));
  const room = SLACK_LIMITS.sectionText - head.length - tail.length;
  return section(`${head}${truncateMrkdwn(body, room)}${tail}`);
}

function context(mrkdwn: string): SlackBlock {
  return {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncateMrkdwn(mrkdwn, SLACK_LIMITS.contextText) }],
  };
}

function linkButton(link: { text: string; url: unknown }): LinkButton | undefined {
  const url = httpUrl(link.url);
  if (!url) return undefined;
  return {
    type: 'button',
    text: { type: 'plain_text', text: truncatePlain(link.text, SLACK_LIMITS.buttonText) },
    url,
  };
}

/** "Detected by: developer_123 | Time: 2025-11-25 14:30" (UTC), with severity and classification first. */
function footer(event: EmpathyEvent, options: { severity?: boolean; by?: string } = {}): string {
  const parts: string[] = [];
  if (options.severity !== false && event.severity)
    parts.push(`Severity: ${esc(event.severity.toUpperCase())}`);
  if (event.classification === 'SENSITIVE') parts.push('Classification: SENSITIVE');
  parts.push(`${options.by ?? 'Detected by'}: ${esc(inline(event.user_id, 200))}`);
  parts.push(`Time: ${esc(formatTime(event.timestamp))}`);
  return parts.join(' | ');
}

/** Adds list items while they fit in `max` characters, then "…and N more". */
function fitList(items: string[], max: number): string {
  const out: string[] = [];
  let used = 0;
  for (const [i, item] of items.entries()) {
    const rest = items.length - i;
    const more = `\n_…and ${rest} more_`;
    const cost = item.length + (out.length > 0 ? 1 : 0);
    const reserve = rest > 1 ? `\n_…and ${rest - 1} more_`.length : 0;
    if (used + cost + reserve > max) {
      if (out.length === 0) return truncateMrkdwn(item, max);
      out.push(more.slice(1));
      return out.join('\n');
    }
    out.push(item);
    used += cost;
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Text

// C0 controls (but tab and newline), DEL, and bidi overrides that can disguise text.
const UNSAFE_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F\u202A-\u202E\u2066-\u2069]/g;

/** Any value as display text: strings as they are, numbers and booleans printed, objects as JSON. */
function str(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text =
    typeof value === 'string' ? value : typeof value === 'object' ? safeJson(value) : String(value);
  return text.replace(UNSAFE_CHARS, '').trim();
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

/** A value cut for use inside a line. */
function inline(value: unknown, max = INLINE_MAX): string {
  return truncatePlain(str(value), max);
}

/** A value that gets a section of its own. */
function long(value: unknown): string {
  return truncatePlain(str(value), SLACK_LIMITS.sectionText);
}

function oneLine(text: string): string {
  return str(text).replace(/\s+/g, ' ');
}

/**
 * Escapes text for Slack mrkdwn: `&`, `<` and `>` become entities, so `<!channel>`, `<@U123>` and
 * `<https://evil|click>` in event data show as text instead of pinging or linking.
 * See docs.slack.dev/messaging/formatting-message-text#escaping.
 */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function esc(value: unknown): string {
  return escapeMrkdwn(str(value));
}

/** Inline code; a backtick in the value would end it early, so it becomes a quote. */
function code(text: string): string {
  return `\`${esc(text.replaceAll('`', "'"))}\``;
}

/** Cuts plain text to `max` characters (UTF-16 units, never splitting a pair), ending in "…". */
export function truncatePlain(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…`;
}

/** As {@link truncatePlain}, but never leaves half an entity (`&am`) before the ellipsis. */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = truncatePlain(text, max).slice(0, -1);
  return `${cut.replace(/&[a-z]{0,3}$/, '')}…`;
}

function location(file: unknown, line: unknown): string {
  const f = inline(file, 500);
  if (!f) return '';
  return isNumber(line) ? `${f}:${line}` : f;
}

function percent(value: unknown): string | undefined {
  return isNumber(value) ? `${Math.round(value * 100)}%` : undefined;
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "2025-11-25T14:30:00.000Z" → "2025-11-25 14:30" (the seed's format; UTC). */
function formatTime(timestamp: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(timestamp)
    ? `${timestamp.slice(0, 10)} ${timestamp.slice(11, 16)}`
    : inline(timestamp, 40);
}

function httpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > SLACK_LIMITS.buttonUrl) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? value : undefined;
  } catch {
    return undefined;
  }
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
