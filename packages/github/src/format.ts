import { createHash } from 'node:crypto';
import type { EmpathyEvent, ReviewSuggestion } from '@empathy/webhooks-core';

/** GitHub rejects issue and comment bodies longer than this (characters). */
export const BODY_LIMIT = 65_536;
/** GitHub rejects issue titles longer than this (characters). */
export const TITLE_LIMIT = 256;
/** `repository_dispatch`: `event_type` is at most this long. */
export const DISPATCH_EVENT_TYPE_LIMIT = 100;
/** `repository_dispatch`: `client_payload` has at most this many top-level keys. */
export const CLIENT_PAYLOAD_MAX_KEYS = 10;
/**
 * Byte budget for `client_payload` (GitHub: "must be less than 64KB") and for all
 * `workflow_dispatch` inputs together (65,535 characters); kept below both with room for the
 * rest of the request.
 */
export const PAYLOAD_BYTE_BUDGET = 60_000;

// A review item or a summary longer than this is cut: one runaway item must not push the other
// sections out of the comment.
const ITEM_LIMIT = 1_000;
const SUMMARY_LIMIT = 2_000;
// Each list section of the review gets at most this many characters, so that Security and
// Confidence always make it into the comment: 3 × 18,000 + an escaped summary (≤ 8,000) +
// headings < BODY_LIMIT.
const SECTION_LIMIT = 18_000;

/** The hidden first line that marks a webhook's sticky review comment on a pull request. */
export function reviewMarker(webhook: string): string {
  return `<!-- empathy-webhooks:review name=${webhook} -->`;
}

/** The hidden first line that carries a finding's fingerprint in the issue opened for it. */
export function fingerprintMarker(fingerprint: string): string {
  return `<!-- empathy-webhooks:fingerprint=${fingerprint} -->`;
}

/**
 * The seed's review comment for a `code_review_complete` event, in GitHub Markdown:
 *
 * ```md
 * ## 🤖 AI Code Review
 *
 * ### ✅ Looks Good
 * - Clean code structure
 *
 * ### ⚠️ Suggestions
 * 1. **Line 45**: Consider using context manager for file handling — `app/files.py`
 *
 * ### 🔒 Security
 * - No security issues detected
 *
 * Confidence: 92%
 * ```
 *
 * It starts with `marker` (an HTML comment, invisible) so the webhook finds it again. Text from
 * the event cannot mention people, inject HTML or break the layout, and the body always fits
 * GitHub's 65,536 characters.
 */
export function formatReviewComment(event: EmpathyEvent<'code_review_complete'>, marker: string): string {
  const data = event.data;
  const lines = [marker, '## 🤖 AI Code Review', ''];
  if (isText(data.summary)) lines.push(inline(data.summary, SUMMARY_LIMIT), '');

  const positives = strings(data.positives);
  if (positives.length > 0) {
    lines.push(
      '### ✅ Looks Good',
      ...section(
        positives.map((p) => `- ${inline(p, ITEM_LIMIT)}`),
        () => '-',
      ),
      '',
    );
  }

  const suggestions = Array.isArray(data.suggestions) ? data.suggestions : [];
  lines.push('### ⚠️ Suggestions');
  if (suggestions.length === 0) lines.push('- No suggestions');
  else
    lines.push(
      ...section(
        suggestions.map((s, i) => `${i + 1}. ${suggestion(s)}`),
        (n) => `${n}.`,
      ),
    );
  lines.push('');

  const security = strings(data.security);
  lines.push('### 🔒 Security');
  if (security.length === 0) lines.push('- No security issues detected');
  else
    lines.push(
      ...section(
        security.map((s) => `- ${inline(s, ITEM_LIMIT)}`),
        () => '-',
      ),
    );

  const confidence = percent(data.confidence);
  if (confidence !== undefined) lines.push('', `Confidence: ${confidence}`);
  return truncateBody(lines.join('\n'));
}

function suggestion(s: ReviewSuggestion | string): string {
  if (typeof s === 'string') return inline(s, ITEM_LIMIT);
  const message = inline(String(s?.message ?? ''), ITEM_LIMIT);
  const file = isText(s.file) ? ` — ${code(s.file)}` : '';
  if (isLine(s.line)) return `**Line ${s.line}**: ${message}${file}`;
  return isText(s.file) ? `${code(s.file)}: ${message}` : message;
}

/** Keeps list items while they fit {@link SECTION_LIMIT}, then says how many were left out. */
function section(items: string[], bullet: (position: number) => string): string[] {
  const out: string[] = [];
  let size = 0;
  for (const item of items) {
    if (size + item.length + 1 > SECTION_LIMIT) {
      const rest = items.length - out.length;
      out.push(`${bullet(out.length + 1)} …and ${rest} more (cut to fit GitHub's comment size limit)`);
      break;
    }
    out.push(item);
    size += item.length + 1;
  }
  return out;
}

/** The issue opened for a `bug_detected` or `security_vulnerability` event. */
export interface IssuePayload {
  title: string;
  body: string;
  labels: string[];
}

/**
 * The issue for a finding, after the seed's Jira ticket: title `[AI Detected] SQL injection in
 * auth.py:45`, a body with the file, the issue, the recommended fix as a code block, and the
 * hidden fingerprint marker first; labels are `labels` + the finding's category + its own labels
 * (at most 10, each at most 50 characters, as GitHub allows).
 */
export function formatIssue(
  event: EmpathyEvent<'bug_detected' | 'security_vulnerability'>,
  options: { fingerprint: string; labels: readonly string[] },
): IssuePayload {
  const data = event.data;
  const location = isText(data.file) ? `${data.file}${isLine(data.line) ? `:${data.line}` : ''}` : undefined;
  const title = clip(
    plain(`[AI Detected] ${data.title}${location ? ` in ${location}` : ''}`).replace(/\s+/g, ' '),
    TITLE_LIMIT,
  );
  const security = event.event_type === 'security_vulnerability';
  const lines = [
    fingerprintMarker(options.fingerprint),
    `Empathy Framework detected a potential ${security ? 'security vulnerability' : 'bug'}:`,
    '',
  ];
  if (location) lines.push(`**File:** ${code(location)}  `);
  lines.push(`**Issue:** ${inline(data.description)}  `);
  const facts: string[] = [];
  if (event.severity) facts.push(`**Severity:** ${event.severity}`);
  if (security) {
    const { cwe, cvss } = data as EmpathyEvent<'security_vulnerability'>['data'];
    if (isText(cwe)) facts.push(`**CWE:** ${inline(cwe, 100)}`);
    if (typeof cvss === 'number' && Number.isFinite(cvss)) facts.push(`**CVSS:** ${cvss}`);
  }
  if (facts.length > 0) lines.push(facts.join(' · '));
  if (isText(data.fix)) lines.push('', '**Recommended Fix:**', '', ...fence(data.fix));
  if (isText(data.url)) lines.push('', `[Details](${safeLink(data.url)})`);
  lines.push('', '---', `<sub>Event \`${plain(event.event_id)}\` · ${footer(event)}</sub>`);
  return { title, body: truncateBody(lines.join('\n')), labels: issueLabels(event, options.labels) };
}

function issueLabels(
  event: EmpathyEvent<'bug_detected' | 'security_vulnerability'>,
  configured: readonly string[],
): string[] {
  const candidates = [...configured, event.data.category, ...strings(event.data.labels)];
  const out: string[] = [];
  for (const candidate of candidates) {
    if (!isText(candidate)) continue;
    // Labels become repository labels: keep them short, printable and free of commas (the
    // list-issues filter separates labels with commas).
    const label = clip(
      plain(candidate)
        .replace(/[,\s]+/g, ' ')
        .trim(),
      50,
    );
    if (label && !out.some((l) => l.toLowerCase() === label.toLowerCase())) out.push(label);
    if (out.length === 10) break;
  }
  return out;
}

/**
 * A finding's fingerprint: the same finding in the same repository gives the same value on every
 * detection (the line may move, so it is left out). `data.fingerprint`, when the producer sets
 * one, wins.
 */
export function findingFingerprint(
  event: EmpathyEvent<'bug_detected' | 'security_vulnerability'>,
  repository: string,
): string {
  const own = event.data.fingerprint;
  if (typeof own === 'string' && /^[\w.:-]{1,64}$/.test(own)) return own;
  const key = JSON.stringify([
    repository.toLowerCase(),
    event.event_type,
    String(event.data.title ?? '')
      .trim()
      .toLowerCase(),
    event.data.file ?? '',
  ]);
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** The top-level keys of a `repository_dispatch` `client_payload` (10, GitHub's maximum). */
export interface ClientPayload {
  event_type: string;
  event_id: string;
  timestamp: string;
  user_id: string;
  empathy_level: number;
  severity?: string | undefined;
  classification?: string | undefined;
  /** One line for humans and for `run-name`. */
  summary: string;
  data: unknown;
  metadata: unknown;
}

/**
 * The `repository_dispatch` request for an event: `event_type` (at most 100 characters) and a
 * `client_payload` of 10 top-level keys — the envelope, a one-line `summary`, and `data`, whose
 * long strings are cut if the payload would pass 60,000 bytes.
 */
export function formatDispatch(
  event: EmpathyEvent,
  eventType: string,
): { event_type: string; client_payload: ClientPayload } {
  return { event_type: eventType, client_payload: clientPayload(event) };
}

/** The {@link ClientPayload} of an event, fitted to {@link PAYLOAD_BYTE_BUDGET}. */
export function clientPayload(event: EmpathyEvent, budget = PAYLOAD_BYTE_BUDGET): ClientPayload {
  const payload: ClientPayload = {
    event_type: event.event_type,
    event_id: event.event_id,
    timestamp: event.timestamp,
    user_id: event.user_id,
    empathy_level: event.empathy_level,
    severity: event.severity,
    classification: event.classification,
    summary: summarizeEvent(event),
    data: event.data,
    metadata: event.metadata,
  };
  if (jsonBytes(payload) <= budget) return payload;
  for (const limit of [4_096, 1_024, 256, 64]) {
    const fitted = { ...payload, data: shrink(event.data, limit), metadata: shrink(event.metadata, limit) };
    if (jsonBytes(fitted) <= budget) return fitted;
  }
  return { ...payload, data: { truncated: true }, metadata: { truncated: true } };
}

/** The default `workflow_dispatch` inputs; the workflow declares each as a string input. */
export interface WorkflowInputs {
  event_type: string;
  event_id: string;
  /** Empty when the event has none. */
  severity: string;
  summary: string;
  /** The {@link ClientPayload} as JSON: `fromJSON(inputs.payload).data`. */
  payload: string;
}

/**
 * The default `workflow_dispatch` inputs: `event_type`, `event_id`, `severity`, `summary` and
 * `payload` (the {@link ClientPayload} as JSON), 60,000 bytes at most in all.
 */
export function formatWorkflowInputs(event: EmpathyEvent): WorkflowInputs {
  const head = {
    event_type: event.event_type,
    event_id: event.event_id,
    severity: event.severity ?? '',
    summary: summarizeEvent(event),
  };
  const payload = JSON.stringify(clientPayload(event, PAYLOAD_BYTE_BUDGET - jsonBytes(head) - 64));
  return { ...head, payload };
}

/**
 * One line (at most 256 characters, no control characters) that says what happened, e.g.
 * `Deployment risk: authentication → production: Schema migration locks the users table for ~40s`.
 */
export function summarizeEvent(event: EmpathyEvent): string {
  const text = (value: unknown) => (isText(value) ? value : '');
  const at = (file: unknown, line: unknown) =>
    isText(file) ? ` in ${file}${isLine(line) ? `:${line}` : ''}` : '';
  let summary: string;
  switch (event.event_type) {
    case 'prediction': {
      const d = event.data;
      const confidence = percent(d.confidence);
      summary = `Prediction${confidence ? ` (${confidence})` : ''}: ${text(d.prediction)}`;
      break;
    }
    case 'alert':
      summary = `${event.data.resolved === true ? 'Resolved' : 'Alert'}: ${text(event.data.title) || text(event.data.message)}`;
      break;
    case 'bug_detected':
      summary = `Bug: ${text(event.data.title)}${at(event.data.file, event.data.line)}`;
      break;
    case 'security_vulnerability':
      summary = `Security: ${text(event.data.title)}${at(event.data.file, event.data.line)}`;
      break;
    case 'performance_issue': {
      const d = event.data;
      const where = text(d.endpoint) || text(d.service);
      summary = `Performance: ${where ? `${where} ` : ''}${text(d.title)}`;
      break;
    }
    case 'code_review_complete': {
      const d = event.data;
      summary = `Code review of PR #${d.pull_request}${isText(d.summary) ? `: ${d.summary}` : ''}`;
      break;
    }
    case 'test_failure':
      summary = `Test failed: ${text(event.data.test_name)} — ${text(event.data.message)}`;
      break;
    case 'deployment_risk': {
      const d = event.data;
      summary = `Deployment risk: ${text(d.service)} → ${text(d.environment)}: ${text(d.risk)}`;
      break;
    }
    case 'compliance_violation':
      summary = `${text(event.data.regulation)} violation: ${text(event.data.description)}`;
      break;
    case 'pattern_discovered':
      summary = `Pattern discovered: ${text(event.data.name)}`;
      break;
    case 'completion':
      summary = `Completion (level ${event.data.level_used}): ${text(event.data.content)}`;
      break;
    case 'error':
      summary = `Error (${text(event.data.error_type)}): ${text(event.data.message)}`;
      break;
    case 'phi_access': {
      const d = event.data;
      summary = `PHI access: ${text(d.resource)}${isText(d.accessor) ? ` by ${d.accessor}` : ''}`;
      break;
    }
    default: {
      const d = (event as EmpathyEvent).data as Record<string, unknown>;
      const detail = text(d.title) || text(d.message) || text(d.description);
      summary = `${(event as EmpathyEvent).event_type}${detail ? `: ${detail}` : ''}`;
    }
  }
  return clip(plain(summary).replace(/\s+/g, ' ').trim(), 256);
}

/**
 * Cuts a body longer than `limit` at the last line boundary that leaves room for a note saying
 * so; a code block left open by the cut is closed first.
 */
export function truncateBody(body: string, limit = BODY_LIMIT): string {
  if (body.length <= limit) return body;
  const omitted = (kept: number) =>
    `\n\n> ✂️ Cut to fit GitHub's ${limit.toLocaleString('en-US')}-character limit: ${(body.length - kept).toLocaleString('en-US')} characters omitted.`;
  // Reserve room for the note (its number can't be longer than the body's length) and a fence.
  const reserve = omitted(0).length + 16;
  let cut = body.lastIndexOf('\n', limit - reserve);
  if (cut <= 0) cut = safeIndex(body, limit - reserve);
  let kept = body.slice(0, cut);
  const open = openFence(kept);
  if (open) kept += `\n${open}`;
  return kept + omitted(cut);
}

/** The fence string of a fenced code block still open at the end of `text`, if any. */
function openFence(text: string): string | undefined {
  let open: string | undefined;
  for (const line of text.split('\n')) {
    const match = /^(`{3,}|~{3,})/.exec(line);
    if (!match) continue;
    if (open === undefined) open = match[1];
    else if (match[1]!.startsWith(open) && line.trim() === match[1]) open = undefined;
  }
  return open;
}

/** A fenced code block whose fence is longer than any backtick run inside. */
function fence(text: string): string[] {
  const body = plain(text, true);
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const marker = '`'.repeat(Math.max(3, longest + 1));
  return [marker, body, marker];
}

/** Inline code for a short value (a file name). */
function code(value: string): string {
  const text = clip(plain(value).replace(/\s+/g, ' '), 300);
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

/**
 * Text from the event, safe inside one Markdown line: no control or bidi characters, no line
 * breaks, no HTML (`<` is escaped: no tags, no comments that would hide the rest), no
 * @-mentions (a zero-width space after `@` stops the ping), and nothing at its start that
 * Markdown would read as a heading, quote, list or fence.
 */
function inline(value: string, limit = Number.POSITIVE_INFINITY): string {
  const text = clip(plain(String(value)).replace(/\s+/g, ' ').trim(), limit);
  return text
    .replace(/</g, '&lt;')
    .replace(/@(?=[\w-])/g, '@\u200B')
    .replace(/^([#>`~|=+*-])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

// C0/C1 controls (keeping tab and, when asked, line feed) and the bidi overrides and isolates
// that can make text read differently from what it is ("Trojan Source", CVE-2021-42574).
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

function plain(value: string, keepNewlines = false): string {
  const text = String(value).replace(/\r\n?/g, '\n').replace(CONTROL, '');
  return keepNewlines ? text : text.replace(/\n/g, ' ');
}

function footer(event: EmpathyEvent): string {
  return `detected for ${inline(event.user_id, 100)} · ${plain(event.timestamp)}`;
}

/** A link target that can only be http(s); anything else becomes `#`. */
function safeLink(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return '#';
    return parsed.href.replace(/[()<>\s]/g, (c) => encodeURIComponent(c));
  } catch {
    return '#';
  }
}

function percent(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return `${Math.round(Math.min(1, Math.max(0, value)) * 100)}%`;
}

/** Cuts `text` to at most `limit` characters (ending with `…` if cut), never inside a surrogate pair. */
function clip(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, safeIndex(text, limit - 1))}…`;
}

/** `index`, moved back one if it would split a surrogate pair. */
function safeIndex(text: string, index: number): number {
  const i = Math.max(0, Math.min(index, text.length));
  const code = text.charCodeAt(i - 1);
  return code >= 0xd800 && code <= 0xdbff ? i - 1 : i;
}

/** Strings longer than `limit` cut, arrays longer than 50 items cut: to fit a byte budget. */
function shrink(value: unknown, limit: number, depth = 0): unknown {
  if (typeof value === 'string') return clip(value, limit);
  if (depth > 10 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => shrink(v, limit, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shrink(v, limit, depth + 1)]));
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter(isText) : [];
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

function isLine(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}
