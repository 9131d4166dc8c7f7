import { createHash } from 'node:crypto';
import type { EmpathyEvent, Severity } from '@empathy/webhooks-core';
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

/** The body of `POST /rest/api/{2,3}/issue`, plus the fingerprint it carries. */
export interface JiraIssuePayload {
  fields: Record<string, unknown> & {
    project: { key: string };
    issuetype: { name: string };
    summary: string;
    description: AdfDocument | string;
    labels: string[];
  };
  properties: { key: string; value: { event_id: string; fingerprint: string } }[];
}

/** Why a comment is added to an open issue. */
export type CommentReason = 'seen_again' | 'resolved';

/** The ticket for `event`: fields (summary, ADF or wiki description, priority, labels, …) and properties. */
export function formatIssue(event: EmpathyEvent, options: IssueFormatOptions): JiraIssuePayload {
  const report = describe(event);
  const fingerprint = fingerprintOf(event);
  const fields: JiraIssuePayload['fields'] = {
    ...options.fields,
    project: { key: options.project },
    issuetype: { name: options.issueType },
    summary: summaryOf(options.summaryPrefix, report.summary),
    description: fit((cap) => ticketBlocks(event, report, cap), options.deployment),
    labels: labelsOf(options.labels, report.labels, fingerprint),
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

/** The comment added to the open issue of the same finding: "Seen again at …" (or "Resolved at …"). */
export function formatComment(
  event: EmpathyEvent,
  deployment: JiraDeployment,
  reason: CommentReason = 'seen_again',
): AdfDocument | string {
  const report = describe(event);
  return fit((cap) => commentBlocks(event, report, reason, cap), deployment);
}

/**
 * The finding's stable fingerprint label: `empathy-fp-` + 16 hex digits of a SHA-256 over the event
 * type and what identifies the finding (for bugs and vulnerabilities: file, line and title, the
 * title compared case- and whitespace-insensitively). The same finding reported again gets the
 * same label, whatever its event id, time or wording of the description.
 */
export function fingerprintOf(event: EmpathyEvent): string {
  const identity = JSON.stringify([event.event_type, ...describe(event).identity]);
  return FINGERPRINT_LABEL_PREFIX + createHash('sha256').update(identity).digest('hex').slice(0, 16);
}

/** The JQL that finds the open issue carrying `fingerprint` in `project`, oldest first. */
export function duplicateSearchJql(project: string, fingerprint: string): string {
  return `project = "${project}" AND labels = "${fingerprint}" AND statusCategory != Done ORDER BY created ASC`;
}

// ---------------------------------------------------------------------------------------------
// Event → report: what each event type says, independent of ADF or wiki markup.

interface Fact {
  label: string;
  value: string | number | undefined;
  href?: string | undefined;
  /** Free text that may run long (descriptions, messages): gets the larger length budget. */
  long?: boolean | undefined;
}

interface Report {
  /** Without the `[AI Detected]` prefix. */
  summary: string;
  intro: string;
  facts: Fact[];
  lists: { label: string; items: string[] }[];
  code?: { label: string; text: string; language?: string | undefined } | undefined;
  /** Category labels (`security`, `sql-injection`, …). */
  labels: (string | undefined)[];
  /** What makes two events the same finding (after the event type). */
  identity: unknown[];
}

function describe(event: EmpathyEvent): Report {
  const report = describeType(event);
  // Any event may carry the agent's context (service, environment, …): one line of it.
  const context = entries(event.data.context);
  if (context.length > 0) report.facts.push({ label: 'Context', value: context.join(', ') });
  return report;
}

function describeType(event: EmpathyEvent): Report {
  switch (event.event_type) {
    case 'bug_detected':
    case 'security_vulnerability': {
      const d = event.data;
      const security = event.event_type === 'security_vulnerability';
      const where = location(d.file, d.line);
      const facts: Fact[] = [
        { label: 'File', value: where },
        { label: 'Issue', value: d.description, long: true },
        { label: 'Category', value: d.category },
      ];
      if (event.event_type === 'security_vulnerability') {
        const cwe = /^CWE-(\d+)$/i.exec(event.data.cwe ?? '');
        facts.push(
          {
            label: 'CWE',
            value: event.data.cwe,
            href: cwe ? `https://cwe.mitre.org/data/definitions/${cwe[1]}.html` : undefined,
          },
          { label: 'CVSS', value: event.data.cvss },
        );
      }
      return {
        summary: where ? `${d.title} in ${where}` : d.title,
        intro: security
          ? `Empathy Framework detected a potential ${d.title} vulnerability:`
          : `Empathy Framework detected a potential bug: ${d.title}`,
        facts,
        lists: [],
        code: d.fix ? { label: 'Recommended Fix:', text: d.fix, language: languageOf(d.file) } : undefined,
        labels: [d.category ?? (security ? 'security' : 'bug'), ...(d.labels ?? []).slice(0, 10)],
        identity: [d.file ?? '', d.line ?? '', normalize(d.title)],
      };
    }
    case 'prediction': {
      const d = event.data;
      return {
        summary: `Prediction: ${d.prediction}`,
        intro: `Empathy Framework made a level ${event.empathy_level} prediction:`,
        facts: [
          { label: 'Prediction', value: d.prediction, long: true },
          { label: 'Confidence', value: percent(d.confidence) },
          { label: 'Timeframe', value: d.timeframe },
          { label: 'Impact', value: d.impact, long: true },
          { label: 'Recommendation', value: d.recommendation, long: true },
        ],
        lists: [],
        labels: ['prediction'],
        identity: [normalize(d.prediction)],
      };
    }
    case 'alert': {
      const d = event.data;
      return {
        summary: `Alert: ${d.title ?? d.message}`,
        intro: d.title
          ? `Empathy Framework raised an alert: ${d.title}`
          : 'Empathy Framework raised an alert:',
        facts: [
          { label: 'Message', value: d.message, long: true },
          { label: 'Source', value: d.source },
        ],
        lists: [{ label: 'Details:', items: entries(d.details) }],
        labels: ['alert'],
        identity: [d.source ?? '', normalize(d.title ?? d.message)],
      };
    }
    case 'performance_issue': {
      const d = event.data;
      const metric =
        d.metric && d.value !== undefined
          ? `${d.metric} = ${d.value}${d.threshold !== undefined ? ` (threshold ${d.threshold})` : ''}`
          : d.metric;
      return {
        summary: `Performance: ${[d.endpoint ?? d.service, d.title].filter(Boolean).join(' ')}`,
        intro: 'Empathy Framework detected a performance issue:',
        facts: [
          { label: 'Issue', value: d.title },
          { label: 'Service', value: d.service },
          { label: 'Endpoint', value: d.endpoint },
          { label: 'Metric', value: metric },
        ],
        lists: [{ label: 'Metrics:', items: entries(d.metrics) }],
        labels: ['performance'],
        identity: [d.service ?? '', d.endpoint ?? '', d.metric ?? '', normalize(d.title)],
      };
    }
    case 'code_review_complete': {
      const d = event.data;
      const pr = `${d.repository ?? ''}#${d.pull_request}`;
      return {
        summary: `Code review of ${pr}`,
        intro: `Empathy Framework finished reviewing pull request ${pr}:`,
        facts: [
          { label: 'Summary', value: d.summary, long: true },
          { label: 'Confidence', value: percent(d.confidence) },
          { label: 'Security', value: d.security.length === 0 ? 'No security issues detected' : undefined },
        ],
        lists: [
          { label: 'Looks Good:', items: d.positives },
          {
            label: 'Suggestions:',
            items: d.suggestions.map((s) => {
              const where = location(s.file, s.line);
              return where ? `${where}: ${s.message}` : s.message;
            }),
          },
          { label: 'Security:', items: d.security },
        ],
        labels: ['code-review'],
        identity: [d.repository ?? '', d.pull_request],
      };
    }
    case 'test_failure': {
      const d = event.data;
      return {
        summary: `Test failure: ${d.test_name}`,
        intro: 'Empathy Framework saw a test fail:',
        facts: [
          { label: 'Test', value: d.test_name },
          { label: 'Suite', value: d.suite },
          { label: 'File', value: d.file },
          { label: 'CI run', value: d.run_url, href: d.run_url },
        ],
        lists: [],
        code: { label: 'Failure:', text: d.message },
        labels: ['test-failure'],
        identity: [d.suite ?? '', d.file ?? '', d.test_name],
      };
    }
    case 'deployment_risk': {
      const d = event.data;
      return {
        summary: `Deployment risk: ${d.service}${d.version ? ` ${d.version}` : ''} in ${d.environment}`,
        intro: 'Empathy Framework flagged a risky deployment:',
        facts: [
          { label: 'Service', value: d.service },
          { label: 'Environment', value: d.environment },
          { label: 'Version', value: d.version },
          { label: 'Risk', value: d.risk, long: true },
          { label: 'Recommendation', value: d.recommendation, long: true },
        ],
        lists: [],
        labels: ['deployment-risk'],
        identity: [d.service, d.environment, d.version ?? '', normalize(d.risk)],
      };
    }
    case 'compliance_violation': {
      const d = event.data;
      return {
        summary: `Compliance: ${d.regulation} violation${d.resource ? ` in ${d.resource}` : `: ${d.description}`}`,
        intro: `Empathy Framework detected a potential ${d.regulation} compliance violation:`,
        facts: [
          { label: 'Regulation', value: d.regulation },
          { label: 'Rule', value: d.rule },
          { label: 'Resource', value: d.resource },
          { label: 'Issue', value: d.description, long: true },
        ],
        lists: [],
        labels: ['compliance', d.regulation.toLowerCase()],
        identity: [d.regulation, d.rule ?? '', d.resource ?? '', normalize(d.description)],
      };
    }
    case 'pattern_discovered': {
      const d = event.data;
      return {
        summary: `Pattern discovered: ${d.name}`,
        intro: 'Empathy Framework learned a new pattern:',
        facts: [
          { label: 'Pattern', value: d.name },
          { label: 'Description', value: d.description, long: true },
          { label: 'Pattern id', value: d.pattern_id },
          { label: 'Confidence', value: d.confidence === undefined ? undefined : percent(d.confidence) },
        ],
        lists: [],
        labels: ['pattern'],
        identity: [d.pattern_id ?? normalize(d.name)],
      };
    }
    case 'completion': {
      const d = event.data;
      return {
        summary: `Completion: ${d.content}`,
        intro: `Empathy Framework completed a level ${d.level_used}${d.proactive ? ' proactive' : ''} interaction:`,
        facts: [
          { label: 'Response', value: d.content, long: true },
          { label: 'Duration', value: d.duration_ms === undefined ? undefined : `${d.duration_ms} ms` },
        ],
        lists: [],
        labels: ['completion'],
        // Every completion is its own record: only retries of the same event meet again.
        identity: [event.event_id],
      };
    }
    case 'error': {
      const d = event.data;
      return {
        summary: `Error: ${d.error_type}: ${d.message}`,
        intro: 'Empathy Framework reported an error:',
        facts: [
          { label: 'Type', value: d.error_type },
          { label: 'Message', value: d.message, long: true },
        ],
        lists: [],
        labels: ['error'],
        identity: [d.error_type, normalize(d.message)],
      };
    }
    case 'phi_access': {
      const d = event.data;
      return {
        summary: `PHI access: ${d.resource}${d.accessor ? ` by ${d.accessor}` : ''}`,
        intro: 'Empathy Framework recorded an access to protected health information:',
        facts: [
          { label: 'Resource', value: d.resource },
          { label: 'Accessor', value: d.accessor },
          { label: 'Purpose', value: d.purpose },
        ],
        lists: [],
        labels: ['phi-access'],
        // An access log: every access is its own record.
        identity: [event.event_id],
      };
    }
    default:
      return describeCustom(event as EmpathyEvent);
  }
}

/** An app-defined event type: its scalar fields as facts, the rest as JSON. */
function describeCustom(event: EmpathyEvent): Report {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const scalars = Object.entries(data).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v));
  const rest = Object.fromEntries(
    Object.entries(data).filter(([k, v]) => v !== undefined && !scalars.some(([s]) => s === k)),
  );
  const first = scalars.find(([, v]) => typeof v === 'string')?.[1] as string | undefined;
  return {
    summary: first ? `${event.event_type}: ${first}` : event.event_type,
    intro: `Empathy Framework emitted a ${event.event_type} event:`,
    facts: scalars.map(([label, value]) => ({ label, value: String(value), long: true })),
    lists: [],
    code:
      Object.keys(rest).length > 0
        ? { label: 'Data:', text: JSON.stringify(rest, null, 2), language: 'json' }
        : undefined,
    labels: [event.event_type.replace(/[^a-z0-9]+/g, '-')],
    identity: [event.event_id],
  };
}

// ---------------------------------------------------------------------------------------------
// Report → blocks, within Jira's limits.

/** Length budgets derived from one cap, so that one number shrinks the whole document. */
function budgets(cap: number) {
  return { long: cap, short: Math.min(cap, 500), item: Math.min(Math.floor(cap / 4), 1000), items: 25 };
}

function ticketBlocks(event: EmpathyEvent, report: Report, cap: number): Block[] {
  const b = budgets(cap);
  const blocks: Block[] = [
    { kind: 'paragraph', spans: [{ text: oneLine(report.intro, b.short) }] },
    factsParagraph(report.facts, cap),
  ];
  for (const list of report.lists) {
    if (list.items.length === 0) continue;
    const items = list.items.slice(0, b.items).map((item) => oneLine(item, b.item));
    if (list.items.length > b.items) items.push(`… and ${list.items.length - b.items} more`);
    blocks.push({ kind: 'paragraph', spans: [{ text: list.label, strong: true }] }, { kind: 'list', items });
  }
  if (report.code) {
    blocks.push(
      { kind: 'paragraph', spans: [{ text: report.code.label, strong: true }] },
      { kind: 'code', text: clean(report.code.text, b.long), language: report.code.language },
    );
  }
  const url = httpUrl(event.data.url);
  if (url)
    blocks.push({
      kind: 'paragraph',
      spans: [
        { text: 'Details: ', strong: true },
        { text: url, href: url },
      ],
    });
  blocks.push(footer(event, cap));
  return blocks;
}

function commentBlocks(event: EmpathyEvent, report: Report, reason: CommentReason, cap: number): Block[] {
  const b = budgets(cap);
  const when = `${reason === 'resolved' ? 'Resolved' : 'Seen again'} at ${displayTime(event.timestamp)}`;
  return [
    {
      kind: 'paragraph',
      spans: [{ text: `${when}: `, strong: true }, { text: oneLine(report.summary, b.short) }],
    },
    factsParagraph(report.facts, cap),
    footer(event, cap),
  ];
}

/** `File: auth.py:45` ⏎ `Issue: …`: bold labels, one fact per line, as in the seed's ticket. */
function factsParagraph(facts: readonly Fact[], cap: number): Block {
  const b = budgets(cap);
  const spans: Span[] = [];
  for (const fact of facts) {
    if (fact.value === undefined || fact.value === '') continue;
    const text = fact.long ? clean(String(fact.value), b.long) : oneLine(String(fact.value), b.short);
    if (text === '') continue;
    if (spans.length > 0) spans.push({ hardBreak: true });
    const href = httpUrl(fact.href);
    spans.push({ text: `${fact.label}: `, strong: true }, href ? { text, href } : { text });
  }
  return { kind: 'paragraph', spans };
}

function footer(event: EmpathyEvent, cap: number): Block {
  const parts = [
    `Detected by ${oneLine(event.user_id, budgets(cap).short)}`,
    displayTime(event.timestamp),
    event.severity && `severity ${event.severity}`,
    event.classification && `classification ${event.classification}`,
    `event ${event.event_id}`,
  ];
  return { kind: 'paragraph', spans: [{ text: parts.filter(Boolean).join(' · ') }] };
}

/**
 * Renders with the largest length cap whose result fits Jira's 32,767-character field limit
 * (measured on the serialised ADF, the stricter reading).
 */
function fit(build: (cap: number) => Block[], deployment: JiraDeployment): AdfDocument | string {
  for (let cap = 8000; ; cap = Math.floor(cap / 2)) {
    const blocks = build(cap);
    const out = deployment === 'cloud' ? toAdf(blocks) : toWiki(blocks);
    const length = typeof out === 'string' ? out.length : JSON.stringify(out).length;
    if (length <= TEXT_FIELD_MAX_LENGTH || cap < 50) return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Text helpers.

// C0/C1 controls (but tab and newline) and bidirectional overrides, which can disguise text.
const UNSAFE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Multi-line text: unsafe characters removed, at most `max` characters. */
function clean(text: string, max: number): string {
  return truncate(String(text).replace(/\r\n?/g, '\n').replace(UNSAFE_CHARS, '').trim(), max);
}

/** One line: whitespace collapsed, unsafe characters removed, at most `max` characters. */
function oneLine(text: string, max: number): string {
  return truncate(String(text).replace(UNSAFE_CHARS, '').replace(/\s+/g, ' ').trim(), max);
}

/** Cuts at a word boundary near `max` when there is one, and ends with `…`; never splits a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - 1;
  if (/[\uDC00-\uDFFF]/.test(text[cut] ?? '')) cut--;
  const space = text.lastIndexOf(' ', cut);
  if (space > cut - 20 && space > 0) cut = space;
  return `${text.slice(0, cut).trimEnd()}…`;
}

function summaryOf(prefix: string, summary: string): string {
  const head = prefix ? `${oneLine(prefix, 50)} ` : '';
  return head + oneLine(summary, SUMMARY_MAX_LENGTH - head.length);
}

/** `ai-detected`, the configured labels, the category labels and the fingerprint; valid and unique. */
function labelsOf(
  configured: readonly string[],
  category: (string | undefined)[],
  fingerprint: string,
): string[] {
  const labels = ['ai-detected', ...configured, ...category]
    .filter((l): l is string => typeof l === 'string')
    .map((l) => l.replace(UNSAFE_CHARS, '').trim().replace(/\s+/g, '-').slice(0, LABEL_MAX_LENGTH))
    .filter((l) => l !== '');
  return [...new Set([...labels, fingerprint])];
}

function location(file: string | undefined, line: number | undefined): string | undefined {
  if (!file) return undefined;
  return line === undefined ? file : `${file}:${line}`;
}

function normalize(text: string): string {
  return String(text).replace(/\s+/g, ' ').trim().toLowerCase();
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

function entries(record: Record<string, unknown> | undefined): string[] {
  if (!record || typeof record !== 'object') return [];
  return Object.entries(record).map(
    ([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`,
  );
}

function httpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** `2025-11-25 14:30 UTC`, as the seed shows times. */
function displayTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? oneLine(iso, 40)
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

/** The code block language for a file, by extension; both ADF and Data Center's `{code}` know these names. */
function languageOf(file: string | undefined): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(file ?? '')?.[1]?.toLowerCase();
  return ext ? LANGUAGES[ext] : undefined;
}
