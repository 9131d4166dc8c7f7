import { createEvent, type EmpathyEvent, EVENT_TYPES } from '@empathy/webhooks-core';
import { hostileEvent, SAMPLE_DATA, sampleEvent, UNSAFE_CHARACTERS } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import { type AdfNode, escapeWiki } from '../src/document.js';
import {
  DEFAULT_PRIORITY_MAP,
  duplicateSearchJql,
  fingerprintOf,
  formatComment,
  formatIssue,
  type IssueFormatOptions,
  SUMMARY_MAX_LENGTH,
  TEXT_FIELD_MAX_LENGTH,
} from '../src/format.js';
import { adfErrors } from '../test/adf.js';

const CLOUD: IssueFormatOptions = {
  project: 'EMP',
  issueType: 'Bug',
  deployment: 'cloud',
  priorityMap: DEFAULT_PRIORITY_MAP,
  labels: [],
  summaryPrefix: '[AI Detected]',
};
const DATACENTER: IssueFormatOptions = { ...CLOUD, deployment: 'datacenter' };

/** Every text node of an ADF tree, with its marks. */
function texts(node: AdfNode): { text: string; marks: string[] }[] {
  if (node.type === 'text') return [{ text: node.text!, marks: (node.marks ?? []).map((m) => m.type) }];
  return (node.content ?? []).flatMap(texts);
}

describe('the seed ticket', () => {
  // The seed's example: a high-severity SQL injection in auth.py:45.
  const event = createEvent('security_vulnerability', SAMPLE_DATA.security_vulnerability, {
    userId: 'developer_123',
    severity: 'high',
    eventId: 'evt_seed',
    timestamp: new Date('2025-11-25T14:30:00Z'),
  });
  const { fields } = formatIssue(event, CLOUD);

  it('has the seed summary, issue type, priority and labels', () => {
    expect(fields.project).toEqual({ key: 'EMP' });
    // The seed's layout around the shared reading's title (the same in every integration).
    expect(fields.summary).toBe('[AI Detected] Security vulnerability: SQL injection in auth.py:45');
    expect(fields.issuetype).toEqual({ name: 'Bug' });
    expect(fields.priority).toEqual({ name: 'High' });
    expect(fields.labels.slice(0, 3)).toEqual(['ai-detected', 'security', 'sql-injection']);
    expect(fields.labels[3]).toMatch(/^empathy-fp-[0-9a-f]{16}$/);
    expect(fields.labels).toHaveLength(4);
  });

  it('has an ADF description with bold File / Issue / Recommended Fix and the fix as a code block', () => {
    const doc = fields.description as AdfNode;
    expect(adfErrors(doc)).toEqual([]);
    const all = texts(doc);
    const after = (label: string) => all[all.findIndex((t) => t.text === label) + 1]?.text;
    expect(all[0]!.text).toBe('Empathy Framework detected a potential SQL injection vulnerability:');
    for (const label of ['File: ', 'Issue: ', 'Recommended Fix:']) {
      expect(all.find((t) => t.text === label)?.marks).toEqual(['strong']);
    }
    expect(after('File: ')).toBe('auth.py:45');
    expect(after('Issue: ')).toBe('User input concatenated directly into SQL query');
    const code = doc.content!.find((n) => n.type === 'codeBlock')!;
    expect(code.attrs).toEqual({ language: 'python' });
    expect(code.content).toEqual([
      {
        type: 'text',
        text: 'Use parameterized queries: cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))',
      },
    ]);
  });
});

describe.each(EVENT_TYPES)('%s', (type) => {
  const event = sampleEvent(type);

  it('Cloud ticket and comment: golden, valid ADF', async () => {
    const issue = formatIssue(event, CLOUD);
    const comment = formatComment(event, 'cloud');
    expect(adfErrors(issue.fields.description)).toEqual([]);
    expect(adfErrors(comment)).toEqual([]);
    await expect(JSON.stringify({ issue, comment }, null, 2) + '\n').toMatchFileSnapshot(
      `./__golden__/cloud/${type}.json`,
    );
  });

  it('Data Center ticket and comment: golden wiki markup', async () => {
    const { fields } = formatIssue(event, DATACENTER);
    const { description, ...rest } = fields;
    expect(typeof description).toBe('string');
    const text = [
      JSON.stringify(rest, null, 2),
      '--- description ---',
      description,
      '--- comment ---',
      formatComment(event, 'datacenter'),
      '',
    ].join('\n');
    await expect(text).toMatchFileSnapshot(`./__golden__/datacenter/${type}.txt`);
  });

  it('stays within Jira limits and valid for long, hostile text', () => {
    const hostile = hostileEvent(type);
    for (const options of [CLOUD, DATACENTER]) {
      const { fields } = formatIssue(hostile, options);
      expect(fields.summary.length).toBeLessThanOrEqual(SUMMARY_MAX_LENGTH);
      expect(fields.summary).not.toMatch(UNSAFE_CHARACTERS);
      expect(fields.summary.startsWith('[AI Detected] ')).toBe(true);
      for (const label of fields.labels) {
        expect(label).not.toMatch(/\s/);
        expect(label.length).toBeLessThanOrEqual(255);
      }
      const comment = formatComment(hostile, options.deployment);
      for (const body of [fields.description, comment]) {
        const size = typeof body === 'string' ? body.length : JSON.stringify(body).length;
        expect(size).toBeLessThanOrEqual(TEXT_FIELD_MAX_LENGTH);
        if (typeof body === 'string') {
          // Escaped: no user mention, link, macro or image can come from event text.
          expect(body).not.toMatch(/(^|[^\\])\[~/);
          expect(body).not.toMatch(/(^|[^\\])\{(color|panel|html)/);
          expect(body).not.toMatch(UNSAFE_CHARACTERS);
        } else {
          expect(adfErrors(body)).toEqual([]);
          for (const { text } of texts(body as AdfNode)) expect(text).not.toMatch(UNSAFE_CHARACTERS);
        }
      }
    }
  });
});

describe('the hostile sample', () => {
  it('golden: cleaned, escaped and within limits (Cloud and Data Center)', async () => {
    const hostile = hostileEvent('security_vulnerability');
    const head = (body: unknown) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return { length: text.length, head: text.slice(0, 1500) };
    };
    const out = Object.fromEntries(
      [CLOUD, DATACENTER].map((options) => {
        const { fields } = formatIssue(hostile, options);
        return [
          options.deployment,
          {
            summary: fields.summary,
            labels: fields.labels,
            description: head(fields.description),
            comment: head(formatComment(hostile, options.deployment)),
          },
        ];
      }),
    );
    await expect(`${JSON.stringify(out, null, 2)}\n`).toMatchFileSnapshot('./__golden__/hostile.json');
  });
});

describe('incident comments', () => {
  const repeat = {
    key: 'k',
    status: 'firing',
    occurrences: 4,
    folded: 1,
    firstSeenAt: '2025-11-25T14:02:09.120Z',
    ref: { issue: 'EMP-1' },
  } as const;
  const cleared = { ...repeat, status: 'resolved' } as const;

  it('golden: a repeat says how often it was seen, first; a resolution says Resolved once (Cloud and Data Center)', async () => {
    const fired = sampleEvent('alert');
    const resolved = sampleEvent('alert', { resolved: true });
    const out = {
      cloud: {
        repeat: formatComment(fired, 'cloud', 'seen_again', repeat),
        resolved: formatComment(resolved, 'cloud', 'resolved', cleared),
      },
      datacenter: {
        repeat: formatComment(fired, 'datacenter', 'seen_again', repeat),
        resolved: formatComment(resolved, 'datacenter', 'resolved', cleared),
      },
    };
    expect(adfErrors(out.cloud.repeat)).toEqual([]);
    expect(adfErrors(out.cloud.resolved)).toEqual([]);
    expect(out.datacenter.repeat).toMatch(
      /^\*Seen again at 2025-11-25 14:30 UTC:\* Error rate above 5% on checkout\n\n.*\n\n\*Seen:\* 4 times since 2025-11-25 14:02 UTC\n/,
    );
    expect(out.datacenter.resolved).toMatch(
      /^\*Resolved at 2025-11-25 14:30 UTC:\* Error rate above 5% on checkout\n/,
    );
    await expect(`${JSON.stringify(out, null, 2)}\n`).toMatchFileSnapshot('./__golden__/incident.json');
  });

  it("a finding's repeat leads with the count, before the seed's File and Issue", () => {
    const comment = formatComment(sampleEvent('bug_detected'), 'datacenter', 'seen_again', repeat) as string;
    const facts = comment.split('\n\n')[1]!;
    expect(facts.split('\n')[0]).toBe('*Seen:* 4 times since 2025-11-25 14:02 UTC');
    expect(facts.split('\n')[1]).toMatch(/^\*File:\* /);
  });

  it('a ticket that stands for folded events says so', () => {
    const { fields } = formatIssue(sampleEvent('alert'), DATACENTER, {
      ...repeat,
      ref: undefined,
      folded: 4,
    });
    expect(fields.description).toContain('*Seen:* 4 times since 2025-11-25 14:02 UTC');
  });
});

describe('fingerprint', () => {
  const base = sampleEvent('security_vulnerability');
  const variant = (data: Partial<typeof base.data>, eventId = 'evt_other') =>
    ({ ...base, event_id: eventId, data: { ...base.data, ...data } }) as EmpathyEvent;

  it('is the same for the same finding: other event id, time, description, title case or spacing', () => {
    const again = {
      ...variant({ description: 'reworded', title: '  sql   INJECTION ' }),
      timestamp: '2026-01-01T00:00:00.000Z',
    } as EmpathyEvent;
    expect(fingerprintOf(again)).toBe(fingerprintOf(base));
    expect(fingerprintOf(base)).toMatch(/^empathy-fp-[0-9a-f]{16}$/);
  });

  it("differs by event type, file and title, not by line (core's identity of a finding)", () => {
    const fp = fingerprintOf(base);
    expect(fingerprintOf(variant({ line: 46 }))).toBe(fp);
    expect(fingerprintOf(variant({ file: 'login.py' }))).not.toBe(fp);
    expect(fingerprintOf(variant({ title: 'XSS' }))).not.toBe(fp);
    expect(fingerprintOf({ ...base, event_type: 'bug_detected' } as EmpathyEvent)).not.toBe(fp);
  });

  it('is a label on the ticket and in the duplicate search', () => {
    const { fields, properties } = formatIssue(base, CLOUD);
    const fp = fingerprintOf(base);
    expect(fields.labels).toContain(fp);
    expect(properties).toEqual([
      { key: 'empathy-webhooks', value: { event_id: base.event_id, fingerprint: fp } },
    ]);
    expect(duplicateSearchJql('EMP', fp)).toBe(
      `project = "EMP" AND labels = "${fp}" AND statusCategory != Done ORDER BY created ASC`,
    );
  });
});

describe('summary', () => {
  it('is cut under 255 characters, with an ellipsis', () => {
    const title = `${'Unbounded recursion in the parser '.repeat(12)}end`;
    const { fields } = formatIssue(sampleEvent('bug_detected', { title }), CLOUD);
    expect(fields.summary).toHaveLength(254);
    expect(fields.summary).toMatch(
      /^\[AI Detected\] Bug detected: Unbounded recursion in the parser Unbounded/,
    );
    expect(fields.summary.endsWith('…')).toBe(true);
  });

  it('never splits a surrogate pair', () => {
    const title = '🐛'.repeat(200);
    const { fields } = formatIssue(sampleEvent('bug_detected', { title, file: undefined }), CLOUD);
    expect(fields.summary.length).toBeLessThanOrEqual(254);
    expect(fields.summary).not.toMatch(/[\uD800-\uDBFF]…$/);
    expect(() => encodeURIComponent(fields.summary)).not.toThrow();
  });

  it('puts everything on one line', () => {
    const { fields } = formatIssue(sampleEvent('bug_detected', { title: 'a\nb\r\n\tc' }), CLOUD);
    expect(fields.summary).toBe('[AI Detected] Bug detected: a b c in storage/export.py:112');
  });
});

describe('fields', () => {
  it('maps severity to priority through priorityMap, or sends none', () => {
    const event = sampleEvent('security_vulnerability');
    expect(formatIssue(event, CLOUD).fields.priority).toEqual({ name: 'Highest' });
    expect(formatIssue(event, { ...CLOUD, priorityMap: { critical: 'P1' } }).fields.priority).toEqual({
      name: 'P1',
    });
    expect(formatIssue(event, { ...CLOUD, priorityMap: false }).fields).not.toHaveProperty('priority');
    const { severity: _, ...noSeverity } = event;
    expect(formatIssue(noSeverity as EmpathyEvent, CLOUD).fields).not.toHaveProperty('priority');
  });

  it('assigns by accountId on Cloud and by user name on Data Center', () => {
    const event = sampleEvent('bug_detected');
    expect(formatIssue(event, { ...CLOUD, assignee: '5b10ac8d82e05b22cc7d4ef5' }).fields.assignee).toEqual({
      accountId: '5b10ac8d82e05b22cc7d4ef5',
    });
    expect(formatIssue(event, { ...DATACENTER, assignee: 'jdoe' }).fields.assignee).toEqual({ name: 'jdoe' });
  });

  it('adds configured labels and extra fields; the formatted fields win', () => {
    const { fields } = formatIssue(sampleEvent('bug_detected'), {
      ...CLOUD,
      labels: ['team-auth'],
      fields: { components: [{ name: 'auth' }], summary: 'overridden?' },
    });
    expect(fields.labels.slice(0, 4)).toEqual(['ai-detected', 'team-auth', 'reliability', 'resource-leak']);
    expect(fields.components).toEqual([{ name: 'auth' }]);
    expect(fields.summary).toBe('[AI Detected] Bug detected: Unclosed file handle in storage/export.py:112');
  });

  it('formats an app-defined event type generically', () => {
    const event = {
      ...sampleEvent('alert'),
      event_type: 'release_published',
      data: { version: '2.0.0', notes: { added: 3 } },
    } as unknown as EmpathyEvent;
    const { fields } = formatIssue(event, CLOUD);
    // The shared reading's title for an app-defined type: its name, humanised.
    expect(fields.summary).toBe('[AI Detected] Release published');
    expect(fields.labels).toContain('release-published');
    expect(adfErrors(fields.description)).toEqual([]);
  });
});

describe('wiki markup escaping', () => {
  it('neutralises mentions, links, macros, images and emphasis but leaves ordinary words alone', () => {
    expect(escapeWiki('[~admin] [x|https://evil] {code} !img.png! *b* -s- _i_ ^s^ ??c?? a|b')).toBe(
      '\\[\\~admin\\] \\[x\\|https://evil\\] \\{code\\} \\!img.png\\! \\*b\\* \\-s\\- \\_i\\_ \\^s\\^ \\?\\?c\\?\\? a\\|b',
    );
    expect(escapeWiki('sql-injection N+1 developer_123 2025-11-25 PR #12')).toBe(
      'sql-injection N+1 developer_123 2025-11-25 PR #12',
    );
    expect(escapeWiki('# not a list\n  #nor this')).toBe('\\# not a list\n  \\#nor this');
  });
});
