import { createHash } from 'node:crypto';
import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';
import {
  cleanText,
  conditionIdentity,
  type EventSummary,
  type IncidentContext,
  oneLine,
  summarizeEvent,
  truncateText,
} from '@empathy/webhooks-core/kit';
import { type AdfDocument, type Block, type Span, toAdf, toWiki } from './document.js';

/** Which Jira: Cloud (REST v3, ADF descriptions) or Data Center / Server (REST v2, wiki markup). */
export type JiraDeployment = 'cloud' | 'datacenter';

/** Severity → Jira priority name. @see DEFAULT_PRIORITY_MAP */
export type PriorityMap = Partial<Record<Severity, string>>;

/** The priority each severity gets unless `priorityMap` says otherwise (Jira's default scheme). */
export const DEFAULT_PRIORITY_MAP = {
  critical: 'Highest',
  high: 'High',
  warning: 'Medium',
  medium: 'Medium',
  low: 'Low',
  info: 'Lowest',
} as const satisfies Required<PriorityMap>;

/** Jira refuses a summary of 255 characters or more. */
export const SUMMARY_MAX_LENGTH = 254;
/** Jira's description and comment fields hold at most 32,767 characters. */
export const TEXT_FIELD_MAX_LENGTH = 32_767;
/** Jira labels are at most 255 characters and contain no whitespace. */
export const LABEL_MAX_LENGTH = 255;
/** Every ticket carries the finding's fingerprint as a label that starts with this. */
export const FINGERPRINT_LABEL_PREFIX = 'empathy-fp-';
/** The issue property (entity property) that records which event created the issue. */
export const ISSUE_PROPERTY_KEY = 'empathy-webhooks';

/** What {@link formatIssue} needs besides the event. */
export interface IssueFormatOptions {
  project: string;
  issueType: string;
  deployment: JiraDeployment;
  /** `false`: send no priority (the project's default applies). */
  priorityMap: PriorityMap | false;
  /** Added to every ticket, after `ai-detected`. */
  labels: readonly string[];
  summaryPrefix: string;
  /** Cloud: an accountId; Data Center: a user name. */
  assignee?: string | undefined;
  /** Extra fields (components, custom fields); the formatted fields win on conflict. */
  fields?: Record<string, unknown> | undefined;
}

/**
 * The fields of `POST /rest/api/{2,3}/issue`: what a {@link JiraWebhook} sends for a new ticket,
 * and what the `format` option receives and returns. `description` is an ADF document on Cloud
 * and wiki markup on Data Center; further fields (components, custom fields) go as they are.
 */
export interface JiraIssueFields {
  project: { key: string };
  issuetype: { name: string };
  summary: string;
  description?: AdfDocument | string | undefined;
  labels: string[];
  priority?: { name: string } | undefined;
  assignee?: { accountId: string } | { name: string } | undefined;
  [field: string]: unknown;
}

/** The body of `POST /rest/api/{2,3}/issue`: the fields, plus the property naming the event. */
export interface JiraIssuePayload {
  fields: JiraIssueFields;
  properties: { key: string; value: { event_id: string; fingerprint: string } }[];
}

/** Why a comment is added to an open issue. */
export type CommentReason = 'seen_again' | 'resolved';

/**
 * The ticket for `event`: fields (summary, ADF or wiki description, priority, labels, …) and
 * properties. The summary is `[AI Detected] ` + the shared reading's title (the same title every
 * integration shows) + ` in <file:line>` for a finding; the description keeps the seed's layout
 * (bold labels, the fix as a code block). With the attempt's `incident`, a ticket that stands for
 * several events (`group` folded them) says so in a `Seen: N times since …` line.
 */
export function formatIssue(
  event: EmpathyEvent,
  options: IssueFormatOptions,
  incident?: IncidentContext,
): JiraIssuePayload {
  const summary = summarizeEvent(event, incident);
  const fingerprint = fingerprintOf(event);
  const fields: JiraIssueFields = {
    ...options.fields,
    project: { key: options.project },
    issuetype: { name: options.issueType },
    summary: summaryOf(options.summaryPrefix, summary),
    description: fitText((cap) => ticketBlocks(event, summary, cap), options.deployment),
    labels: labelsOf(['ai-detected', ...options.labels, ...categoryLabels(event)], fingerprint),
  };
  const priority =
    options.priorityMap === false || event.severity === undefined
      ? undefined
      : options.priorityMap[event.severity];
  if (priority) fields.priority = { name: priority };
  if (options.assignee) {
    fields.assignee =
      options.deployment === 'cloud' ? { accountId: options.assignee } : { name: options.assignee };
  }
  return {
    fields,
    properties: [{ key: ISSUE_PROPERTY_KEY, value: { event_id: event.event_id, fingerprint } }],
  };
}

/**
 * The comment added to the open issue of the same finding: "Seen again at …" (or "Resolved at …").
 * With the attempt's `incident`, its first fact says how often the condition fired
 * (`Seen: 4 times since 2026-12-03 14:02 UTC`).
 */
export function formatComment(
  event: EmpathyEvent,
  deployment: JiraDeployment,
  reason: CommentReason = 'seen_again',
  incident?: IncidentContext,
): AdfDocument | string {
  const summary = summarizeEvent(event, incident);
  return fitText((cap) => commentBlocks(event, summary, reason, cap), deployment);
}

/**
 * The finding's stable fingerprint label: `empathy-fp-` + 16 hex digits of a SHA-256 over the
 * event type and core's identity of the condition (`conditionIdentity`: for a bug the file and
 * title, not the line, which moves), compared case- and whitespace-insensitively. The same
 * finding reported again gets the same label, whatever its event id, time or wording.
 */
export function fingerprintOf(event: EmpathyEvent): string {
  const identity = JSON.stringify([event.event_type, ...conditionIdentity(event).map(normalize)]);
  return FINGERPRINT_LABEL_PREFIX + createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

/** The JQL that finds the open issue carrying `fingerprint` in `project`, oldest first. */
export function duplicateSearchJql(project: string, fingerprint: string): string {
  return `project = "${project}" AND labels = "${fingerprint}" AND statusCategory != Done ORDER BY created ASC`;
}

/**
 * Jira's limits applied to fields the user's `format` returned: a one-line summary under 255
 * characters, labels without whitespace, a description within 32,767 characters (wiki markup is
 * cut; an ADF document that is too long cannot be cut safely and throws), text cleaned by the
 * text policy.
 */
export function fitFields(fields: JiraIssueFields, deployment: JiraDeployment): JiraIssueFields {
  if (fields === null || typeof fields !== 'object') throw new Error('the issue fields must be an object');
  if (typeof fields.project?.key !== 'string' || typeof fields.issuetype?.name !== 'string') {
    throw new Error(`the issue fields need 'project.key' and 'issuetype.name'`);
  }
  if (typeof fields.summary !== 'string') throw new Error(`'summary' must be a string`);
  const summary = truncateText(oneLine(fields.summary), SUMMARY_MAX_LENGTH);
  if (summary === '') throw new Error(`'summary' must not be empty`);
  if (!Array.isArray(fields.labels)) throw new Error(`'labels' must be an array of strings`);
  const out: JiraIssueFields = { ...fields, summary, labels: labelsOf(fields.labels) };
  const description = fields.description;
  if (description === undefined) return out;
  if (deployment === 'datacenter') {
    if (typeof description !== 'string')
      throw new Error(`'description' must be wiki markup (a string) on Data Center`);
    out.description = truncateText(cleanText(description), TEXT_FIELD_MAX_LENGTH);
    return out;
  }
  if (description === null || typeof description !== 'object' || description.type !== 'doc') {
    throw new Error(`'description' must be an ADF document ({ type: 'doc', version: 1, content }) on Cloud`);
  }
  const cleaned = cleanAdf(description) as AdfDocument;
  const size = JSON.stringify(cleaned).length;
  if (size > TEXT_FIELD_MAX_LENGTH) {
    throw new Error(
      `'description' is ${size} characters of ADF; Jira takes at most ${TEXT_FIELD_MAX_LENGTH}`,
    );
  }
  out.description = cleaned;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The reading → blocks, within Jira's limits.

const FINDINGS: readonly string[] = ['bug_detected', 'security_vulnerability'];
/** How the shared reading titles a resolved condition. */
const RESOLVED_PREFIX = 'Resolved: ';

/** Length budgets derived from one cap, so that one number shrinks the whole document. */
function budgets(cap: number) {
  return { long: cap, short: Math.min(cap, 500), item: Math.min(Math.floor(cap / 4), 1000), items: 25 };
}

function ticketBlocks(event: EmpathyEvent, summary: EventSummary, cap: number): Block[] {
  const b = budgets(cap);
  const finding = FINDINGS.includes(event.event_type);
  const blocks: Block[] = [{ kind: 'paragraph', spans: [{ text: clip(intro(event, summary), b.short) }] }];
  // A finding keeps the seed's "File: … / Issue: …"; any other event leads with its text.
  if (!finding && summary.text !== undefined) {
    blocks.push({ kind: 'paragraph', spans: [{ text: clipText(summary.text, b.long) }] });
  }
  blocks.push(factsParagraph(finding ? findingFacts(summary) : summary.facts, cap));
  for (const section of summary.sections) {
    const items = section.items.slice(0, b.items).map((item) => clip(item, b.item));
    if (section.items.length > b.items) items.push(`… and ${section.items.length - b.items} more`);
    blocks.push(
      { kind: 'paragraph', spans: [{ text: `${clip(section.heading, 100)}:`, strong: true }] },
      { kind: 'list', items, ordered: section.ordered },
    );
  }
  const next = summary.recommendation;
  if (next) {
    // The seed's label for a fix; the reading's for other advice.
    const label = next.code ? 'Recommended Fix:' : `${next.label}:`;
    blocks.push({ kind: 'paragraph', spans: [{ text: label, strong: true }] });
    blocks.push(
      next.code
        ? { kind: 'code', text: clipText(next.text, b.long), language: languageOf(event) }
        : { kind: 'paragraph', spans: [{ text: clipText(next.text, b.long) }] },
    );
  }
  for (const link of summary.links) {
    blocks.push({
      kind: 'paragraph',
      spans: [
        { text: `${link.title}: `, strong: true },
        { text: link.url, href: link.url },
      ],
    });
  }
  blocks.push(footer(event, summary, cap));
  return blocks;
}

function commentBlocks(
  event: EmpathyEvent,
  summary: EventSummary,
  reason: CommentReason,
  cap: number,
): Block[] {
  const b = budgets(cap);
  const when = `${reason === 'resolved' ? 'Resolved' : 'Seen again'} at ${displayTime(event.timestamp)}`;
  // The headline already says "Resolved": the reading's "Resolved: " title prefix would repeat it.
  const title =
    summary.resolved && summary.title.startsWith(RESOLVED_PREFIX)
      ? summary.title.slice(RESOLVED_PREFIX.length)
      : summary.title;
  const blocks: Block[] = [
    {
      kind: 'paragraph',
      spans: [{ text: `${when}: `, strong: true }, { text: clip(title, b.short) }],
    },
  ];
  const finding = FINDINGS.includes(event.event_type);
  if (!finding && summary.text !== undefined) {
    blocks.push({ kind: 'paragraph', spans: [{ text: clipText(summary.text, b.long) }] });
  }
  const facts = finding ? findingFacts(summary) : summary.facts;
  // A comment is about the repeat: how often the condition fired comes first.
  const seen = facts.filter((f) => f.name === 'Seen');
  blocks.push(
    factsParagraph([...seen, ...facts.filter((f) => f.name !== 'Seen')], cap),
    footer(event, summary, cap),
  );
  return blocks;
}

/** The ticket's first line: the seed's sentence for a finding, the reading's title otherwise. */
function intro(event: EmpathyEvent, summary: EventSummary): string {
  if (event.event_type === 'security_vulnerability') {
    return `Empathy Framework detected a potential ${oneLine(String(event.data.title))} vulnerability:`;
  }
  if (event.event_type === 'bug_detected') {
    return `Empathy Framework detected a potential bug: ${oneLine(String(event.data.title))}`;
  }
  return `${summary.emoji} ${summary.title}`;
}

/** A finding's facts in the seed's order: File, Issue, then the reading's other facts. */
function findingFacts(summary: EventSummary): { name: string; value: string; long?: boolean }[] {
  const location = summary.facts.find((f) => f.name === 'Location');
  return [
    ...(location ? [{ name: 'File', value: location.value }] : []),
    ...(summary.text === undefined ? [] : [{ name: 'Issue', value: summary.text, long: true }]),
    ...summary.facts.filter((f) => f.name !== 'Location'),
  ];
}

/** `File: auth.py:45` ⏎ `Issue: …`: bold labels, one fact per line, as in the seed's ticket. */
function factsParagraph(
  facts: readonly { name: string; value: string; long?: boolean }[],
  cap: number,
): Block {
  const b = budgets(cap);
  const spans: Span[] = [];
  for (const fact of facts) {
    const text = fact.long ? clipText(fact.value, b.long) : clip(fact.value, b.short);
    if (text === '') continue;
    if (spans.length > 0) spans.push({ hardBreak: true });
    const href = fact.name === 'CWE' ? cweLink(fact.value) : undefined;
    spans.push({ text: `${clip(fact.name, 100)}: `, strong: true }, href ? { text, href } : { text });
  }
  return { kind: 'paragraph', spans };
}

/** `Empathy Framework · <user> · level 4 · INTERNAL · <event id> · 2025-11-25 14:30 UTC · severity high` */
function footer(event: EmpathyEvent, summary: EventSummary, cap: number): Block {
  const parts = [
    clip(summary.footer, budgets(cap).short),
    displayTime(event.timestamp),
    event.severity && `severity ${event.severity}`,
  ];
  return { kind: 'paragraph', spans: [{ text: parts.filter(Boolean).join(' · ') }] };
}

/**
 * Renders with the largest length cap whose result fits Jira's 32,767-character field limit
 * (measured on the serialised ADF, the stricter reading).
 */
function fitText(build: (cap: number) => Block[], deployment: JiraDeployment): AdfDocument | string {
  for (let cap = 8000; ; cap = Math.floor(cap / 2)) {
    const blocks = build(cap);
    const out = deployment === 'cloud' ? toAdf(blocks) : toWiki(blocks);
    const length = typeof out === 'string' ? out.length : JSON.stringify(out).length;
    if (length <= TEXT_FIELD_MAX_LENGTH || cap < 50) return out;
  }
}

/** `[AI Detected] <title>` (+ ` in <file:line>` for a finding), one line, under 255 characters. */
function summaryOf(prefix: string, summary: EventSummary): string {
  const location = summary.facts.find((f) => f.name === 'Location')?.value;
  const head = prefix ? `${clip(prefix, 50)} ` : '';
  return (
    head + clip(`${summary.title}${location ? ` in ${location}` : ''}`, SUMMARY_MAX_LENGTH - head.length)
  );
}

/** A finding's category and own labels; for any other event its type (`deployment-risk`). */
function categoryLabels(event: EmpathyEvent): string[] {
  if (event.event_type === 'bug_detected' || event.event_type === 'security_vulnerability') {
    const d = event.data;
    const fallback = event.event_type === 'security_vulnerability' ? 'security' : 'bug';
    return [d.category ?? fallback, ...(Array.isArray(d.labels) ? d.labels.slice(0, 10).map(String) : [])];
  }
  return [String(event.event_type).replace(/_/g, '-')];
}

/** Labels as Jira takes them: cleaned, no whitespace, at most 255 characters, unique; `last` at the end. */
function labelsOf(candidates: readonly unknown[], last?: string): string[] {
  const labels = candidates
    .filter((l): l is string => typeof l === 'string')
    .map((l) => truncateText(oneLine(l).replace(/\s+/g, '-'), LABEL_MAX_LENGTH))
    .filter((l) => l !== '');
  return [...new Set(last === undefined ? labels : [...labels.filter((l) => l !== last), last])];
}

// ---------------------------------------------------------------------------------------------
// Text helpers: the kit's text policy, cut to Jira's budgets.

/** One line, cleaned, at most `max` characters. */
function clip(text: string, max: number): string {
  return truncateText(oneLine(text), max);
}

/** Multi-line text, cleaned, at most `max` characters. */
function clipText(text: string, max: number): string {
  return truncateText(cleanText(text).trim(), max);
}

/** Every text node of a user's ADF document cleaned by the text policy. */
function cleanAdf(node: unknown, depth = 0): unknown {
  if (depth > 50 || node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((n) => cleanAdf(n, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === 'text' && typeof value === 'string' ? cleanText(value) : cleanAdf(value, depth + 1);
  }
  return out;
}

function normalize(text: string): string {
  return String(text).replace(/\s+/g, ' ').trim().toLowerCase();
}

function cweLink(value: string): string | undefined {
  const id = /^CWE-(\d+)$/i.exec(value)?.[1];
  return id ? `https://cwe.mitre.org/data/definitions/${id}.html` : undefined;
}

/** `2025-11-25 14:30 UTC`, as the seed shows times. */
function displayTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? clip(String(iso), 40)
    : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const LANGUAGES: Record<string, string> = {
  py: 'python',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'javascript',
  ts: 'typescript',
  tsx: 'typescript',
  java: 'java',
  kt: 'kotlin',
  go: 'go',
  rb: 'ruby',
  rs: 'rust',
  cs: 'csharp',
  php: 'php',
  sql: 'sql',
  sh: 'bash',
  c: 'c',
  h: 'c',
  cpp: 'cpp',
  scala: 'scala',
  swift: 'swift',
  yaml: 'yaml',
  yml: 'yaml',
  json: 'json',
  xml: 'xml',
  html: 'html',
  css: 'css',
};

/** The code block language for a finding's file, by extension; ADF and Data Center's `{code}` know these names. */
function languageOf(event: EmpathyEvent): string | undefined {
  const file = (event.data as { file?: unknown }).file;
  const ext = /\.([a-z0-9]+)$/i.exec(typeof file === 'string' ? file : '')?.[1]?.toLowerCase();
  return ext ? LANGUAGES[ext] : undefined;
}
