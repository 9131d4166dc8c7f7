/**
 * A tiny document model (paragraphs, bold labels, links, code blocks, lists) and its two
 * renderings: Atlassian Document Format for Jira Cloud (REST v3) and wiki markup for Jira Data
 * Center (REST v2, which has no ADF). Pure functions; no I/O.
 */

/** A run of text inside a paragraph. */
export type Span = { text: string; strong?: boolean; href?: string } | { hardBreak: true };

/** A block of the document. */
export type Block =
  | { kind: 'paragraph'; spans: Span[] }
  | { kind: 'code'; text: string; language?: string }
  | { kind: 'list'; items: string[]; ordered?: boolean | undefined };

/** An ADF node (`doc`, `paragraph`, `text`, …). */
export interface AdfNode {
  type: string;
  version?: 1 | undefined;
  text?: string | undefined;
  attrs?: Record<string, unknown> | undefined;
  marks?: { type: string; attrs?: Record<string, unknown> }[] | undefined;
  content?: AdfNode[] | undefined;
}

/** An ADF document: what Jira Cloud takes as an issue description or a comment body. */
export interface AdfDocument extends AdfNode {
  type: 'doc';
  version: 1;
  content: AdfNode[];
}

/** Renders blocks as an ADF document (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/). */
export function toAdf(blocks: readonly Block[]): AdfDocument {
  const content: AdfNode[] = [];
  for (const block of blocks) {
    if (block.kind === 'paragraph') {
      const inline = block.spans.flatMap(adfInline);
      if (inline.length > 0) content.push({ type: 'paragraph', content: inline });
    } else if (block.kind === 'code') {
      if (block.text === '') continue;
      const node: AdfNode = { type: 'codeBlock', content: [{ type: 'text', text: block.text }] };
      if (block.language) node.attrs = { language: block.language };
      content.push(node);
    } else {
      const items = block.items.filter((item) => item !== '');
      if (items.length === 0) continue;
      content.push({
        type: block.ordered ? 'orderedList' : 'bulletList',
        content: items.map((item) => ({
          type: 'listItem',
          content: [{ type: 'paragraph', content: [{ type: 'text', text: item }] }],
        })),
      });
    }
  }
  return { type: 'doc', version: 1, content };
}

function adfInline(span: Span): AdfNode[] {
  if ('hardBreak' in span) return [{ type: 'hardBreak' }];
  // ADF text nodes must not be empty; a newline inside a paragraph is a hardBreak node.
  const out: AdfNode[] = [];
  span.text.split('\n').forEach((line, i) => {
    if (i > 0) out.push({ type: 'hardBreak' });
    if (line === '') return;
    const node: AdfNode = { type: 'text', text: line };
    const marks: NonNullable<AdfNode['marks']> = [];
    if (span.strong) marks.push({ type: 'strong' });
    if (span.href) marks.push({ type: 'link', attrs: { href: span.href } });
    if (marks.length > 0) node.marks = marks;
    out.push(node);
  });
  return out;
}

/**
 * Renders blocks as Jira wiki markup (https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa).
 * Every character that starts markup is escaped, so event text cannot mention users (`[~name]`),
 * forge links, embed images or open macros.
 */
export function toWiki(blocks: readonly Block[]): string {
  const parts: string[] = [];
  for (const block of blocks) {
    if (block.kind === 'paragraph') {
      const text = block.spans.map(wikiInline).join('');
      if (text.trim() !== '') parts.push(text);
    } else if (block.kind === 'code') {
      if (block.text === '') continue;
      // `{code}` without a language highlights as Java and an unknown language renders an error
      // panel, so other code goes in `{noformat}`. The closing tag inside the text is broken up.
      const macro = block.language && WIKI_LANGUAGES.has(block.language) ? 'code' : 'noformat';
      const body = block.text.replaceAll(`{${macro}`, `{ ${macro}`);
      parts.push(`{${macro}${macro === 'code' ? `:${block.language}` : ''}}\n${body}\n{${macro}}`);
    } else {
      const items = block.items.filter((item) => item !== '');
      const bullet = block.ordered ? '#' : '*';
      if (items.length > 0) parts.push(items.map((item) => `${bullet} ${escapeWiki(item)}`).join('\n'));
    }
  }
  return parts.join('\n\n');
}

// Languages of Jira Data Center's `{code}` macro (a conservative subset).
const WIKI_LANGUAGES = new Set([
  'bash',
  'c',
  'cpp',
  'css',
  'go',
  'html',
  'java',
  'javascript',
  'json',
  'php',
  'python',
  'ruby',
  'scala',
  'sql',
  'swift',
  'xml',
  'yaml',
]);

function wikiInline(span: Span): string {
  if ('hardBreak' in span) return '\n';
  if (span.href) return `[${escapeWiki(span.text)}|${span.href.replace(/[|[\]\s]/g, encodeURIComponent)}]`;
  // A blank line would end the paragraph: keep the text's own line breaks single.
  const text = escapeWiki(span.text)
    .split('\n')
    .filter((line, i) => i === 0 || line.trim() !== '')
    .join('\n');
  if (!span.strong) return text;
  const trimmed = text.trim();
  return trimmed === '' ? text : text.replace(trimmed, `*${trimmed}*`);
}

// Always markup: bold, super/subscript and mentions, macros, links, tables, images, escapes.
const WIKI_ALWAYS = new Set(['\\', '*', '^', '~', '{', '}', '[', ']', '|', '!']);
// Markup only at a word's edge (`-strike-`, `_emphasis_`, `+insert+`): `sql-injection`, `N+1` and
// `developer_123` stay as they are.
const WIKI_AT_EDGE = new Set(['-', '_', '+']);
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** Escapes wiki markup characters with a backslash, so that text renders as the same text. */
export function escapeWiki(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const prev = text[i - 1];
    const next = text[i + 1];
    const markup =
      WIKI_ALWAYS.has(c) ||
      (WIKI_AT_EDGE.has(c) && !(isWordChar(prev) && isWordChar(next))) ||
      (c === '?' && (prev === '?' || next === '?')) || // ??citation??
      (c === '#' && text.slice(text.lastIndexOf('\n', i - 1) + 1, i).trim() === ''); // numbered list
    out += markup ? `\\${c}` : c;
  }
  return out;
}
