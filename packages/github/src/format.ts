import { createHash } from 'node:crypto';
import type { EmpathyEvent, ReviewSuggestion } from '@empathy/webhooks-core';
import {
  cleanText,
  type EventSummary,
  type IncidentContext,
  oneLine,
  SEVERITY_LABELS,
  summarizeEvent,
  truncateText,
} from '@empathy/webhooks-core/kit';

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
/** GitHub labels are at most 50 characters; an issue takes at most 10 here. */
const LABEL_LIMIT = 50;
const MAX_LABELS = 10;

// A review item or a summary longer than this is cut: one runaway item must not push the other
// sections out of the comment.
const ITEM_LIMIT = 1_000;
const SUMMARY_LIMIT = 2_000;
// Each list section of the review gets at most this many characters, so that Security and
// Confidence always make it into the comment: 3 × 18,000 + an escaped summary (≤ 8,000) +
// headings < BODY_LIMIT.
const SECTION_LIMIT = 18_000;

/**
 * What a {@link GitHubWebhook} sends for one event, and what the `format` option receives and
 * returns. `action` says which kind it is, and is fixed by the event type (see `actionFor`):
 * - `comment`: the sticky review comment on the pull request (Markdown `body`);
 * - `issue`: the issue opened for a finding;
 * - `dispatch`: a `repository_dispatch` (`event_type`, `client_payload`);
 * - `workflow`: a `workflow_dispatch` of the configured workflow (`inputs`).
 *
 * @example
 * format: (event, defaults) =>
 *   defaults.action === 'comment' ? { ...defaults, body: `${defaults.body}\n\n_reviewed by the nightly job_` } : defaults
 */
export type GitHubPayload =
  | { action: 'comment'; body: string }
  | { action: 'issue'; title: string; body: string; labels: string[] }
  | { action: 'dispatch'; event_type: string; client_payload: Record<string, unknown> }
  | { action: 'workflow'; inputs: Record<string, string | number | boolean> };

/** The hidden first line that marks a webhook's sticky review comment on a pull request. */
export function reviewMarker(webhook: string): string {
  return `<!-- empathy-webhooks:review name=${webhook} -->`;
}

/** The hidden first line that carries a finding's fingerprint in the issue opened for it. */
export function fingerprintMarker(fingerprint: string): string {
  return `<!-- empathy-webhooks:fingerprint=${fingerprint} -->`;
}

/**
 * The seed's review comment for a `code_review_complete` event, in GitHub Markdown. The heading
 * and summary come from the shared reading of the event (the same title every integration
 * shows); the sections keep the seed's layout:
 *
 * ```md
 * ## 🤖 AI Code Review: Smart-AI-Memory/empathy#123
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
 *
 * A review that belongs to an incident (`data.incident_key`) shows where it stands, from the
 * attempt's `incident`: `## ✅ Resolved: AI Code Review: …` once resolved, and a
 * `**Seen:** 4 times since …` line when it fired more than once.
 */
export function formatReviewComment(
  event: EmpathyEvent<'code_review_complete'>,
  marker: string,
  incident?: IncidentContext,
): string {
  const data = event.data;
  const summary = summarizeEvent(event, incident);
  const lines = [marker, `## ${summary.emoji} ${inline(summary.title, TITLE_LIMIT)}`, ''];
  const seen = fact(summary, 'Seen');
  if (seen !== undefined) lines.push(`**Seen:** ${span(seen, 100)}`, '');
  if (summary.text !== undefined) lines.push(inline(summary.text, SUMMARY_LIMIT), '');

  const bulleted = (item: string) => `- ${inline(item, ITEM_LIMIT)}`;
  const positives = strings(data.positives);
  if (positives.length > 0) lines.push('### ✅ Looks Good', ...section(positives, bulleted, () => '-'), '');
  const suggestions = Array.isArray(data.suggestions) ? data.suggestions : [];
  const numbered = (s: ReviewSuggestion | string, i: number) => `${i + 1}. ${suggestion(s)}`;
  lines.push('### ⚠️ Suggestions', ...section(suggestions, numbered, (n) => `${n}.`, '- No suggestions'), '');
  const security = strings(data.security);
  lines.push('### 🔒 Security', ...section(security, bulleted, () => '-', '- No security issues detected'));

  const confidence = fact(summary, 'Confidence');
  if (confidence !== undefined) lines.push('', `Confidence: ${span(confidence, 20)}`);
  return truncateBody(lines.join('\n'));
}

function suggestion(s: ReviewSuggestion | string): string {
  if (typeof s === 'string') return inline(s, ITEM_LIMIT);
  const message = String(s?.message ?? '');
  const file = isText(s.file) ? ` — ${code(s.file)}` : '';
  if (isLine(s.line)) return `**Line ${s.line}**: ${span(message, ITEM_LIMIT)}${file}`;
  return isText(s.file) ? `${code(s.file)}: ${span(message, ITEM_LIMIT)}` : inline(message, ITEM_LIMIT);
}

/**
 * Renders list items while they fit {@link SECTION_LIMIT}, then says how many were left out
 * (those are not rendered at all). No items: the `empty` line, if any.
 */
function section<T>(
  items: readonly T[],
  render: (item: T, index: number) => string,
  bullet: (position: number) => string,
  empty?: string,
): string[] {
  if (items.length === 0) return empty === undefined ? [] : [empty];
  const out: string[] = [];
  let size = 0;
  for (const [index, item] of items.entries()) {
    const line = render(item, index);
    if (size + line.length + 1 > SECTION_LIMIT) {
      const rest = items.length - out.length;
      out.push(`${bullet(out.length + 1)} …and ${rest} more (cut to fit GitHub's comment size limit)`);
      break;
    }
    out.push(line);
    size += line.length + 1;
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
 * The issue for a finding, after the seed's Jira ticket: title `[AI Detected] <the reading's
 * title> in <file:line>` (`[AI Detected] Security vulnerability: SQL injection in auth.py:45`), a
 * body with the file, the issue, the facts of the reading, the recommended fix as a code block,
 * and the hidden fingerprint marker first; labels are `labels` + the finding's category + its own
 * labels (at most 10, each at most 50 characters, as GitHub allows). With the attempt's
 * `incident`, an issue that stands for several detections (`group` folded them) has a
 * `**Seen:** N times since …` fact.
 */
export function formatIssue(
  event: EmpathyEvent<'bug_detected' | 'security_vulnerability'>,
  options: { fingerprint: string; labels: readonly string[] },
  incident?: IncidentContext,
): IssuePayload {
  const data = event.data;
  const summary = summarizeEvent(event, incident);
  const location = fact(summary, 'Location');
  const title = issueTitle(summary.title, location);
  const security = event.event_type === 'security_vulnerability';
  const lines = [
    fingerprintMarker(options.fingerprint),
    `Empathy Framework detected a potential ${security ? 'security vulnerability' : 'bug'}:`,
    '',
  ];
  if (location) lines.push(`**File:** ${code(location)}  `);
  if (summary.text !== undefined) lines.push(`**Issue:** ${span(summary.text)}  `);
  const facts = [
    ...(summary.severity ? [`**Severity:** ${SEVERITY_LABELS[summary.severity]}`] : []),
    ...summary.facts
      .filter((f) => f.name !== 'Location')
      .map((f) => `**${span(f.name, 100)}:** ${span(f.value, ITEM_LIMIT)}`),
  ];
  if (facts.length > 0) lines.push(facts.join(' · '));
  const fix = summary.recommendation;
  if (fix) {
    lines.push('', `**${fix.code ? 'Recommended Fix' : span(fix.label, 100)}:**`, '');
    lines.push(...(fix.code ? fence(fix.text) : [inline(fix.text)]));
  }
  for (const link of summary.links) lines.push('', `[${span(link.title, 100)}](${markdownUrl(link.url)})`);
  lines.push('', '---', `<sub>${span(summary.footer, 500)} · ${span(event.timestamp, 40)}</sub>`);
  return {
    title,
    body: truncateBody(lines.join('\n')),
    labels: issueLabels([...options.labels, data.category, ...strings(data.labels)]),
  };
}

/**
 * The comment a finding's issue gets when the finding is detected again (`resolved: false`) or
 * cleared (`resolved: true`, before the issue is closed):
 *
 * ```md
 * **🔁 Seen again** at 2025-11-25 14:31 UTC · 4 times since 2025-11-25 14:02 UTC
 *
 * **File:** `auth.py:45`
 * **Issue:** User input concatenated directly into SQL query
 *
 * <sub>Empathy Framework · developer_123 · level 4 · INTERNAL · evt_… · 2025-11-25T14:31:00.000Z</sub>
 * ```
 *
 * Its text follows the issue's rules: no mentions, no HTML, within GitHub's limit.
 */
export function formatIssueComment(
  event: EmpathyEvent<'bug_detected' | 'security_vulnerability'>,
  resolved: boolean,
  incident?: IncidentContext,
): string {
  const summary = summarizeEvent(event, incident);
  const seen = fact(summary, 'Seen');
  const head = resolved ? '**✅ Resolved**' : '**🔁 Seen again**';
  const lines = [
    `${head} at ${span(displayTime(event.timestamp), 40)}${seen ? ` · ${span(seen, 100)}` : ''}`,
    '',
  ];
  const location = fact(summary, 'Location');
  if (location) lines.push(`**File:** ${code(location)}  `);
  if (summary.text !== undefined) lines.push(`**Issue:** ${span(summary.text, SUMMARY_LIMIT)}`);
  if (location || summary.text !== undefined) lines.push('');
  lines.push(`<sub>${span(summary.footer, 500)} · ${span(event.timestamp, 40)}</sub>`);
  return truncateBody(lines.join('\n'));
}

/** `2025-11-25 14:30 UTC`; a timestamp that is no date as it is. */
function displayTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `[AI Detected] <title> in <location>`, one line, at most {@link TITLE_LIMIT}. */
function issueTitle(title: string, location: string | undefined): string {
  return truncateText(oneLine(`[AI Detected] ${title}${location ? ` in ${location}` : ''}`), TITLE_LIMIT);
}

/**
 * Labels as GitHub takes them: short, printable, free of commas (the list-issues filter
 * separates labels with commas), unique regardless of case, at most 10.
 */
export function issueLabels(candidates: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const candidate of candidates) {
    if (!isText(candidate)) continue;
    const label = truncateText(oneLine(candidate.replace(/,/g, ' ')), LABEL_LIMIT);
    if (label && !out.some((l) => l.toLowerCase() === label.toLowerCase())) out.push(label);
    if (out.length === MAX_LABELS) break;
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
  /** The event's title from the shared reading, one line, for humans and for `run-name`. */
  summary: string;
  data: unknown;
  /**
   * The event's metadata; for an event of an incident also `incident`: its key, `status`
   * (`firing` or `resolved`), how many times it fired so far (`occurrences`) and since when
   * (`first_seen_at`, ISO). GitHub takes at most 10 top-level keys, all in use: it lives here.
   */
  metadata: unknown;
}

/** `client_payload.metadata.incident`: where the event's incident stands. */
export interface ClientPayloadIncident {
  key: string;
  status: 'firing' | 'resolved';
  occurrences: number;
  first_seen_at: string;
}

/**
 * The `repository_dispatch` request for an event: `event_type` (at most 100 characters) and a
 * `client_payload` of 10 top-level keys — the envelope, a one-line `summary`, and `data`, whose
 * long strings are cut if the payload would pass 60,000 bytes.
 */
export function formatDispatch(
  event: EmpathyEvent,
  eventType: string,
  incident?: IncidentContext,
): { event_type: string; client_payload: ClientPayload } {
  return { event_type: eventType, client_payload: clientPayload(event, PAYLOAD_BYTE_BUDGET, incident) };
}

/**
 * The {@link ClientPayload} of an event, fitted to {@link PAYLOAD_BYTE_BUDGET}. Every string in
 * it follows the text policy (no control, bidi or zero-width characters): workflows print it.
 * With the attempt's `incident`, `metadata.incident` says where the event's incident stands and
 * `summary` of a resolved one starts with `Resolved: `.
 */
export function clientPayload(
  event: EmpathyEvent,
  budget = PAYLOAD_BYTE_BUDGET,
  incident?: IncidentContext,
): ClientPayload {
  const state: ClientPayloadIncident | undefined = incident && {
    key: cleanText(incident.key),
    status: incident.status,
    occurrences: incident.occurrences,
    first_seen_at: incident.firstSeenAt,
  };
  const payload: ClientPayload = {
    event_type: event.event_type,
    event_id: event.event_id,
    timestamp: event.timestamp,
    user_id: cleanText(String(event.user_id)),
    empathy_level: event.empathy_level,
    severity: event.severity,
    classification: event.classification,
    summary: eventSummary(event, incident),
    data: cleanDeep(event.data),
    metadata: cleanDeep(event.metadata),
  };
  if (state === undefined) return fitPayload(payload, budget);
  // The incident is never cut: the rest is fitted around it.
  const fitted = fitPayload(payload, budget - jsonBytes({ incident: state }));
  return { ...fitted, metadata: { ...(isRecord(fitted.metadata) ? fitted.metadata : {}), incident: state } };
}

/** `payload` with `data` and `metadata` shrunk until it fits `budget` bytes of JSON. */
function fitPayload(payload: ClientPayload, budget: number): ClientPayload {
  if (jsonBytes(payload) <= budget) return payload;
  for (const limit of [4_096, 1_024, 256, 64]) {
    const fitted = {
      ...payload,
      data: shrink(payload.data, limit),
      metadata: shrink(payload.metadata, limit),
    };
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
export function formatWorkflowInputs(event: EmpathyEvent, incident?: IncidentContext): WorkflowInputs {
  const head = {
    event_type: event.event_type,
    event_id: event.event_id,
    severity: event.severity ?? '',
    summary: eventSummary(event, incident),
  };
  const payload = JSON.stringify(clientPayload(event, PAYLOAD_BYTE_BUDGET - jsonBytes(head) - 64, incident));
  return { ...head, payload };
}

/** The event's title from the shared reading (`Resolved: …` once its incident cleared), at most 256 characters. */
function eventSummary(event: EmpathyEvent, incident?: IncidentContext): string {
  return truncateText(summarizeEvent(event, incident).title, 256);
}

/**
 * The vendor's limits applied to a payload the user's `format` returned. Text follows the text
 * policy; what cannot be cut to fit (a dispatch payload over 64 KB) throws.
 */
export function fitPayloadForGitHub(payload: GitHubPayload, marker: string): GitHubPayload {
  switch (payload?.action) {
    case 'comment': {
      const body = cleanText(text(payload.body, 'body'));
      // The marker is how the webhook finds its comment again: keep it first.
      return { action: 'comment', body: truncateBody(body.startsWith(marker) ? body : `${marker}\n${body}`) };
    }
    case 'issue': {
      const title = truncateText(oneLine(text(payload.title, 'title')), TITLE_LIMIT);
      if (title === '') throw new Error(`an issue needs a non-empty 'title'`);
      if (!Array.isArray(payload.labels)) throw new Error(`'labels' must be an array of label names`);
      return {
        action: 'issue',
        title,
        body: truncateBody(cleanText(text(payload.body, 'body'))),
        labels: issueLabels(payload.labels),
      };
    }
    case 'dispatch': {
      const eventType = text(payload.event_type, 'event_type');
      if (eventType.length < 1 || eventType.length > DISPATCH_EVENT_TYPE_LIMIT) {
        throw new Error(
          `'event_type' must be 1-${DISPATCH_EVENT_TYPE_LIMIT} characters (got ${eventType.length})`,
        );
      }
      const clientPayload = cleanDeep(payload.client_payload);
      if (!isRecord(clientPayload)) throw new Error(`'client_payload' must be an object`);
      const keys = Object.keys(clientPayload).length;
      if (keys > CLIENT_PAYLOAD_MAX_KEYS) {
        throw new Error(
          `'client_payload' has ${keys} top-level keys; GitHub takes at most ${CLIENT_PAYLOAD_MAX_KEYS}`,
        );
      }
      if (jsonBytes(clientPayload) > PAYLOAD_BYTE_BUDGET) {
        throw new Error(
          `'client_payload' is over ${PAYLOAD_BYTE_BUDGET} bytes of JSON; GitHub takes less than 64 KB`,
        );
      }
      return { action: 'dispatch', event_type: eventType, client_payload: clientPayload };
    }
    case 'workflow': {
      const inputs = cleanDeep(payload.inputs);
      if (!isRecord(inputs)) throw new Error(`'inputs' must be an object`);
      for (const [name, value] of Object.entries(inputs)) {
        if (!['string', 'number', 'boolean'].includes(typeof value)) {
          throw new Error(`input '${name}' must be a string, number or boolean`);
        }
      }
      if (jsonBytes(inputs) > PAYLOAD_BYTE_BUDGET) {
        throw new Error(
          `'inputs' are over ${PAYLOAD_BYTE_BUDGET} bytes of JSON; GitHub takes 65,535 characters`,
        );
      }
      return { action: 'workflow', inputs: inputs as Record<string, string | number | boolean> };
    }
    default:
      throw new Error(`'action' must be 'comment', 'issue', 'dispatch' or 'workflow'`);
  }
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
  const line = body.lastIndexOf('\n', limit - reserve);
  // One enormous line: cut inside it (the kit's cut never splits a surrogate pair).
  let kept = line > 0 ? body.slice(0, line) : truncateText(body, limit - reserve + 1).slice(0, -1);
  const cut = kept.length;
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
function fence(value: string): string[] {
  const body = cleanText(value);
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const marker = '`'.repeat(Math.max(3, longest + 1));
  return [marker, body, marker];
}

/** Inline code for a short value (a file name). */
function code(value: string): string {
  const body = truncateText(oneLine(value), 300);
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = '`'.repeat(longest + 1);
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${body}${pad}${ticks}`;
}

// GitHub links `@user` and `@org/team` when `@` follows no letter, digit or `_`.
const MENTION = /(?<![A-Za-z0-9_])@([A-Za-z0-9][A-Za-z0-9-]*(?:\/[A-Za-z0-9][\w.-]*)?)/g;

/**
 * Text from the event, safe inside a Markdown line (GitHub's escaping, on text cleaned by the
 * kit's text policy): one line; backslashes and backticks escaped, so event text opens no code
 * span; `<` escaped, so no tags and no comments that would hide the rest; and `@name` put in a
 * code span, where GitHub notifies nobody (visible, unlike an invisible character after the `@`).
 */
function span(value: string, limit = Number.POSITIVE_INFINITY): string {
  return clip(String(value), limit).replace(/[\\`]/g, '\\$&').replace(/</g, '&lt;').replace(MENTION, '`@$1`');
}

/**
 * {@link oneLine}, then cut to `limit`. Of a text far longer than the limit only the head is
 * cleaned: cleaning only removes characters, so the rest could only be cut off (a hostile review
 * has 120 items of 20,000 characters).
 */
function clip(value: string, limit: number): string {
  if (!(limit * 4 < value.length)) return truncateText(oneLine(value), limit);
  return truncateText(`${oneLine(value.slice(0, limit * 4))}…`, limit);
}

/**
 * {@link span} for text that starts a line or a list item: also nothing at its start that
 * Markdown would read as a heading, quote, list or fence.
 */
function inline(value: string, limit = Number.POSITIVE_INFINITY): string {
  return span(value, limit)
    .replace(/^([#>~|=+*-])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

/** An http(s) URL as a Markdown link target (the reading keeps http(s) links only). */
function markdownUrl(url: string): string {
  return url.replace(/[()<>\s]/g, (c) => encodeURIComponent(c));
}

/** The value of the reading's fact `name`, if it has one. */
function fact(summary: EventSummary, name: string): string | undefined {
  return summary.facts.find((f) => f.name === name)?.value;
}

/** Every string (and key) in `value` cleaned by the text policy; other values as they are. */
function cleanDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => cleanDeep(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [cleanText(k), cleanDeep(v, depth + 1)]));
}

/** Strings longer than `limit` cut, arrays longer than 50 items cut: to fit a byte budget. */
function shrink(value: unknown, limit: number, depth = 0): unknown {
  if (typeof value === 'string') return truncateText(value, limit);
  if (depth > 10 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => shrink(v, limit, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shrink(v, limit, depth + 1)]));
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new Error(`'${field}' must be a string`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
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
