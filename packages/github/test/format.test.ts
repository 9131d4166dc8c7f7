import { EVENT_TYPES } from '@empathy/webhooks-core';
import { summarizeEvent } from '@empathy/webhooks-core/kit';
import { hostileEvent, sampleEvent, UNSAFE_CHARACTERS } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import {
  BODY_LIMIT,
  CLIENT_PAYLOAD_MAX_KEYS,
  clientPayload,
  findingFingerprint,
  fingerprintMarker,
  formatDispatch,
  formatIssue,
  formatIssueComment,
  formatReviewComment,
  formatWorkflowInputs,
  PAYLOAD_BYTE_BUDGET,
  reviewMarker,
  TITLE_LIMIT,
  truncateBody,
} from '../src/index.js';

const REPOSITORY = 'Smart-AI-Memory/empathy';
const MARKER = reviewMarker('github');
const LABELS = ['ai-detected'];

/** The Markdown outside code blocks and code spans, where GitHub renders no HTML and no mentions. */
function outsideCode(markdown: string): string {
  const out: string[] = [];
  // An escaped backslash or backtick is text: it opens no code span.
  markdown = markdown.replace(/\\[\\`]/g, '');
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const match = /^(`{3,})/.exec(line);
    if (fence === undefined && match) fence = match[1];
    else if (fence !== undefined && line.trim() === fence) fence = undefined;
    else if (fence === undefined) out.push(line.replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, ''));
  }
  return out.join('\n');
}

/** What must never get through from event text into GitHub Markdown. */
function expectSafeMarkdown(body: string) {
  // The only raw `<` is our own hidden marker on the first line and the footer's <sub>.
  const rest = outsideCode(body.split('\n').slice(1).join('\n')).replace(/<\/?sub>/g, '');
  expect(rest).not.toContain('<');
  expect(rest, 'no @-mention can ping').not.toMatch(/@[\w-]/);
  expect(body, 'no character the text policy strips').not.toMatch(UNSAFE_CHARACTERS);
  expect(body.length).toBeLessThanOrEqual(BODY_LIMIT);
}

/** A reviewable projection of a very long body for a golden file. */
function projection(body: string) {
  return { length: body.length, head: body.slice(0, 1200), tail: body.slice(-700) };
}

describe('review comment (code_review_complete)', () => {
  it("matches the seed's comment", async () => {
    const body = formatReviewComment(sampleEvent('code_review_complete'), MARKER);
    await expect(body).toMatchFileSnapshot('./__golden__/comment.code_review_complete.md');
    // The seed's lines, verbatim.
    for (const line of [
      // The shared reading's title, after the seed's emoji.
      '## 🤖 AI Code Review: Smart-AI-Memory/empathy#123',
      '### ✅ Looks Good',
      '- Clean code structure',
      '- Comprehensive test coverage',
      '### ⚠️ Suggestions',
      '### 🔒 Security',
      '- No security issues detected',
      'Confidence: 92%',
    ]) {
      expect(body.split('\n')).toContain(line);
    }
    expect(body).toContain('1. **Line 45**: Consider using context manager for file handling');
    expect(body).toContain('2. **Line 78**: N+1 query detected, use select_related()');
    expect(body.startsWith(`${MARKER}\n`)).toBe(true);
  });

  it('lists security findings, and suggestions without a line', () => {
    const body = formatReviewComment(
      sampleEvent('code_review_complete', {
        positives: [],
        suggestions: [{ file: 'a.py', message: 'Split this function' }, { message: 'Add a changelog entry' }],
        security: ['Token logged at debug level'],
        confidence: 0.5,
      }),
      MARKER,
    );
    expect(body).not.toContain('Looks Good');
    expect(body).toContain('1. `a.py`: Split this function\n2. Add a changelog entry');
    expect(body).toContain('### 🔒 Security\n- Token logged at debug level');
    expect(body).not.toContain('No security issues detected');
    expect(body).toContain('Confidence: 50%');
  });

  it('keeps hostile, oversized review text harmless and within the limit, sections intact', async () => {
    const body = formatReviewComment(hostileEvent('code_review_complete'), MARKER);
    expectSafeMarkdown(body);
    // Every section survives: long lists are cut with a count, not the comment.
    expect(body).toContain('### ⚠️ Suggestions');
    expect(body).toContain('### 🔒 Security');
    expect(body).toMatch(/…and \d+ more \(cut to fit GitHub's comment size limit\)/);
    expect(body.endsWith('Confidence: 92%')).toBe(true);
    await expect(JSON.stringify(projection(body), null, 2)).toMatchFileSnapshot(
      './__golden__/comment.hostile.json',
    );
  });

  it('neutralises markup that would start a block, open a comment or mention someone', () => {
    const body = formatReviewComment(
      sampleEvent('code_review_complete', {
        summary: '# Heading <!-- hide the rest',
        positives: ['> quote', '1. not a list', '@octocat and @org/team look here'],
        suggestions: [],
        security: ['```', 'line\nbreak'],
      }),
      MARKER,
    );
    expect(body).toContain('\\# Heading &lt;!-- hide the rest');
    expect(body).toContain('- \\> quote');
    expect(body).toContain('- 1\\. not a list');
    // Mentions go in code spans, where GitHub notifies nobody; event text opens no code span.
    expect(body).toContain('- `@octocat` and `@org/team` look here');
    expect(body).toContain('- \\`\\`\\`');
    expect(body).toContain('- line break');
    expect(body).toContain('### ⚠️ Suggestions\n- No suggestions');
  });
});

describe('issue (bug_detected, security_vulnerability)', () => {
  for (const type of ['bug_detected', 'security_vulnerability'] as const) {
    it(`formats ${type} like the seed's ticket`, async () => {
      const event = sampleEvent(type);
      const fingerprint = findingFingerprint(event, REPOSITORY);
      const issue = formatIssue(event, { fingerprint, labels: LABELS });
      const { body, ...fields } = issue;
      await expect(JSON.stringify(fields, null, 2)).toMatchFileSnapshot(`./__golden__/issue.${type}.json`);
      await expect(body).toMatchFileSnapshot(`./__golden__/issue.${type}.md`);
      expect(issue.body.startsWith(fingerprintMarker(fingerprint))).toBe(true);
      expectSafeMarkdown(issue.body);
    });
  }

  it("gives the seed's title and labels for the SQL injection", () => {
    const issue = formatIssue(sampleEvent('security_vulnerability'), { fingerprint: 'f', labels: LABELS });
    // The seed's layout around the shared reading's title (the same in every integration).
    expect(issue.title).toBe('[AI Detected] Security vulnerability: SQL injection in auth.py:45');
    expect(issue.labels).toEqual(['ai-detected', 'security', 'sql-injection']);
    expect(issue.body).toContain(
      '**Severity:** Critical · **Category:** security · **CWE:** CWE-89 · **CVSS:** 9.1 · **Labels:** sql-injection',
    );
  });

  it('keeps a hostile finding within GitHub limits', async () => {
    const issue = formatIssue(hostileEvent('security_vulnerability'), { fingerprint: 'f', labels: LABELS });
    expect(issue.title.length).toBeLessThanOrEqual(TITLE_LIMIT);
    expect(issue.labels.length).toBeLessThanOrEqual(10);
    for (const label of issue.labels) {
      expect(label.length).toBeLessThanOrEqual(50);
      expect(label).not.toContain(',');
    }
    expectSafeMarkdown(issue.body);
    await expect(
      JSON.stringify({ title: issue.title, labels: issue.labels, body: projection(issue.body) }, null, 2),
    ).toMatchFileSnapshot('./__golden__/issue.hostile.json');
  });

  it('puts the fix in a fence longer than any backticks inside it', () => {
    const issue = formatIssue(sampleEvent('bug_detected', { fix: 'a ```` b' }), {
      fingerprint: 'f',
      labels: LABELS,
    });
    expect(issue.body).toContain('`````\na ```` b\n`````');
  });

  it('fingerprints the finding, not the line it is on', () => {
    const a = findingFingerprint(sampleEvent('bug_detected'), REPOSITORY);
    expect(findingFingerprint(sampleEvent('bug_detected', { line: 999 }), REPOSITORY)).toBe(a);
    expect(
      findingFingerprint(sampleEvent('bug_detected', { title: 'UNCLOSED file handle ' }), REPOSITORY),
    ).toBe(a);
    expect(findingFingerprint(sampleEvent('bug_detected', { file: 'other.py' }), REPOSITORY)).not.toBe(a);
    expect(findingFingerprint(sampleEvent('bug_detected'), 'acme/other')).not.toBe(a);
    expect(
      findingFingerprint(
        sampleEvent('security_vulnerability', { title: 'Unclosed file handle', file: 'storage/export.py' }),
        REPOSITORY,
      ),
    ).not.toBe(a);
    expect(findingFingerprint(sampleEvent('bug_detected', { fingerprint: 'sonar:AX-12' }), REPOSITORY)).toBe(
      'sonar:AX-12',
    );
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('repository_dispatch payload', () => {
  for (const type of EVENT_TYPES) {
    it(`formats ${type}`, async () => {
      const payload = formatDispatch(sampleEvent(type), `empathy.${type}`);
      await expect(JSON.stringify(payload, null, 2)).toMatchFileSnapshot(
        `./__golden__/dispatch.${type}.json`,
      );
      expect(Object.keys(payload.client_payload).length).toBeLessThanOrEqual(CLIENT_PAYLOAD_MAX_KEYS);
      // Nothing is lost from an ordinary event.
      expect(payload.client_payload.data).toEqual(sampleEvent(type).data);
    });
  }

  it('cuts long strings of a hostile event to fit under 64 KB, keeping the envelope', async () => {
    for (const type of EVENT_TYPES) {
      const payload = clientPayload(hostileEvent(type));
      expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(PAYLOAD_BYTE_BUDGET);
      expect(payload.event_id).toBe(`evt_hostile_${type}`);
      expect(payload.summary.length).toBeLessThanOrEqual(256);
      expect(payload.summary).not.toMatch(UNSAFE_CHARACTERS);
    }
    const payload = clientPayload(hostileEvent('deployment_risk'));
    await expect(
      JSON.stringify(
        {
          bytes: Buffer.byteLength(JSON.stringify(payload)),
          keys: Object.keys(payload),
          summary: payload.summary,
          service: (payload.data as { service: string }).service.slice(-80),
        },
        null,
        2,
      ),
    ).toMatchFileSnapshot('./__golden__/dispatch.hostile.json');
  });

  it("says what happened in one line: the shared reading's title", () => {
    for (const type of EVENT_TYPES) {
      expect(clientPayload(sampleEvent(type)).summary).toBe(summarizeEvent(sampleEvent(type)).title);
    }
    expect(clientPayload(sampleEvent('performance_issue')).summary).toBe(
      'Performance: /api/users response time degraded',
    );
    expect(clientPayload(sampleEvent('alert', { resolved: true })).summary).toBe(
      'Resolved: Error rate above 5% on checkout',
    );
  });

  it('sends no character the text policy strips, in data or metadata', () => {
    const strings = (value: unknown): string[] =>
      typeof value === 'string'
        ? [value]
        : value && typeof value === 'object'
          ? Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)])
          : [];
    for (const type of EVENT_TYPES) {
      for (const text of strings(clientPayload(hostileEvent(type))))
        expect(text).not.toMatch(UNSAFE_CHARACTERS);
    }
  });
});

describe('workflow_dispatch inputs', () => {
  it('formats the default inputs', async () => {
    const inputs = Object.fromEntries(
      (['deployment_risk', 'test_failure'] as const).map((type) => [
        type,
        formatWorkflowInputs(sampleEvent(type)),
      ]),
    );
    await expect(JSON.stringify(inputs, null, 2)).toMatchFileSnapshot('./__golden__/workflow-inputs.json');
    for (const value of Object.values(inputs)) {
      expect(Object.keys(value)).toEqual(['event_type', 'event_id', 'severity', 'summary', 'payload']);
      expect(JSON.parse(value.payload).event_id).toBe(value.event_id);
    }
  });

  it('keeps a hostile event under 65,535 characters in all', () => {
    const inputs = formatWorkflowInputs(hostileEvent('test_failure'));
    expect(Buffer.byteLength(JSON.stringify(inputs))).toBeLessThanOrEqual(PAYLOAD_BYTE_BUDGET);
    expect(() => JSON.parse(inputs.payload)).not.toThrow();
  });
});

describe('incidents', () => {
  const firing = {
    key: 'empathy:bug_detected:0123456789abcdef0123456789abcdef',
    status: 'firing',
    occurrences: 4,
    folded: 1,
    firstSeenAt: '2025-11-25T14:02:09.120Z',
    ref: { issue: '1' },
  } as const;
  const resolved = { ...firing, status: 'resolved' } as const;

  it("golden: the comments a finding's issue gets when it is seen again and when it clears", async () => {
    const repeat = formatIssueComment(sampleEvent('bug_detected'), false, firing);
    const cleared = formatIssueComment(sampleEvent('bug_detected', { resolved: true }), true, resolved);
    expect(repeat.split('\n')[0]).toBe(
      '**🔁 Seen again** at 2025-11-25 14:30 UTC · 4 times since 2025-11-25 14:02 UTC',
    );
    expect(cleared.split('\n')[0]).toBe(
      '**✅ Resolved** at 2025-11-25 14:30 UTC · 4 times since 2025-11-25 14:02 UTC',
    );
    await expect(`${repeat}\n\n${'='.repeat(20)}\n\n${cleared}\n`).toMatchFileSnapshot(
      './__golden__/issue-comments.bug_detected.md',
    );
  });

  it('an issue comment keeps hostile text harmless and within the limit', () => {
    const body = formatIssueComment(hostileEvent('security_vulnerability'), false, firing);
    // No hidden marker on the first line here: every line is checked.
    expectSafeMarkdown(`\n${body}`);
  });

  it('golden: the resolved review comment shows the resolved state and the count', async () => {
    const review = sampleEvent('code_review_complete', {
      incident_key: 'review:empathy#123',
      resolved: true,
    });
    const body = formatReviewComment(review, MARKER, resolved);
    expect(body.split('\n').slice(0, 4)).toEqual([
      MARKER,
      '## ✅ Resolved: AI Code Review: Smart-AI-Memory/empathy#123',
      '',
      '**Seen:** 4 times since 2025-11-25 14:02 UTC',
    ]);
    await expect(body).toMatchFileSnapshot('./__golden__/comment.code_review_complete.resolved.md');
  });

  it('golden: a dispatch carries the incident in metadata, within 10 top-level keys', async () => {
    const payload = formatDispatch(sampleEvent('alert', { resolved: true }), 'empathy.alert', resolved);
    expect(payload.client_payload.summary).toBe('Resolved: Error rate above 5% on checkout');
    expect(payload.client_payload.metadata).toEqual({
      ...sampleEvent('alert').metadata,
      incident: {
        key: resolved.key,
        status: 'resolved',
        occurrences: 4,
        first_seen_at: '2025-11-25T14:02:09.120Z',
      },
    });
    expect(Object.keys(payload.client_payload).length).toBeLessThanOrEqual(CLIENT_PAYLOAD_MAX_KEYS);
    await expect(JSON.stringify(payload, null, 2)).toMatchFileSnapshot(
      './__golden__/dispatch.alert.resolved.json',
    );
  });

  it('never cuts the incident to fit a hostile payload', () => {
    const payload = clientPayload(hostileEvent('alert'), PAYLOAD_BYTE_BUDGET, firing);
    expect((payload.metadata as { incident: unknown }).incident).toMatchObject({ key: firing.key });
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(PAYLOAD_BYTE_BUDGET);
  });

  it('workflow inputs: the resolved title as summary, the incident in the payload', () => {
    const inputs = formatWorkflowInputs(sampleEvent('alert', { resolved: true }), resolved);
    expect(inputs.summary).toBe('Resolved: Error rate above 5% on checkout');
    expect(JSON.parse(inputs.payload).metadata.incident).toMatchObject({
      status: 'resolved',
      occurrences: 4,
    });
  });
});

describe('truncateBody', () => {
  it('leaves a body within the limit alone', () => {
    expect(truncateBody('a\nb', 10)).toBe('a\nb');
  });

  it('cuts at a line boundary and says so', () => {
    const body = Array.from({ length: 2_000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\n');
    const cut = truncateBody(body);
    expect(cut.length).toBeLessThanOrEqual(BODY_LIMIT);
    const [kept, note] = cut.split('\n\n> ✂️ ');
    expect(body.startsWith(`${kept}\n`)).toBe(true);
    expect(note).toMatch(/^Cut to fit GitHub's 65,536-character limit: [\d,]+ characters omitted\.$/);
    expect(Number(note!.match(/([\d,]+) characters omitted/)![1]!.replaceAll(',', ''))).toBe(
      body.length - kept!.length,
    );
  });

  it('closes a code block left open by the cut', () => {
    const fix = Array.from({ length: 5_000 }, (_, i) => `query_${i} = db.execute(sql)`).join('\n');
    const issue = formatIssue(sampleEvent('bug_detected', { fix }), { fingerprint: 'f', labels: LABELS });
    expect(issue.body.length).toBeLessThanOrEqual(BODY_LIMIT);
    expect(issue.body).toMatch(/query_\d+ = db\.execute\(sql\)\n```\n\n> ✂️ Cut to fit/);
    expect(issue.body.startsWith(fingerprintMarker('f'))).toBe(true);
  });

  it('cuts one enormous line without splitting a character', () => {
    const cut = truncateBody('😀'.repeat(40_000), 1_000);
    expect(cut.length).toBeLessThanOrEqual(1_000);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
