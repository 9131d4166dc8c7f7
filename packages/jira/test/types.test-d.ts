import type { EmpathyEvent } from '@empathy/webhooks-core';
import { expectTypeOf, test } from 'vitest';
import { type JiraIssueFields, JiraWebhook, type JiraWebhookOptions } from '../src/index.js';

// Checked by `tsc -p tsconfig.json` (and `vitest --typecheck`): wrong options do not compile.
test('JiraWebhookOptions', () => {
  const base = { url: 'https://team.atlassian.net', email: 'a@b.c', apiToken: 't', project: 'EMP' };
  expectTypeOf(new JiraWebhook(base)).toMatchTypeOf<{ deployment: 'cloud' | 'datacenter' }>();
  expectTypeOf<JiraWebhookOptions['assignee']>().toEqualTypeOf<
    string | ((event: EmpathyEvent) => string | undefined) | undefined
  >();
  // @ts-expect-error a misspelt event type is a compile error
  new JiraWebhook({ ...base, events: ['bug_detcted'] });
  // @ts-expect-error an unknown severity in priorityMap
  new JiraWebhook({ ...base, priorityMap: { urgent: 'Highest' } });
  // @ts-expect-error deployment is 'cloud' or 'datacenter'
  new JiraWebhook({ ...base, deployment: 'server' });
  // @ts-expect-error project is required
  new JiraWebhook({ url: base.url, token: 't' });
  new JiraWebhook({ ...base, resolveTransition: 'Done', group: { intervalSeconds: 300 } });
  // @ts-expect-error resolveTransition is a transition's name
  new JiraWebhook({ ...base, resolveTransition: 31 });
});

test('format is typed with the issue fields', () => {
  const base = { url: 'https://team.atlassian.net', token: 't', project: 'EMP' };
  new JiraWebhook({
    ...base,
    format: (_event, defaults) => {
      expectTypeOf(defaults).toEqualTypeOf<JiraIssueFields>();
      return { ...defaults, summary: `[sec] ${defaults.summary}`, components: [{ name: 'auth' }] };
    },
  });
  // @ts-expect-error the summary is a string
  new JiraWebhook({ ...base, format: (_e, defaults) => ({ ...defaults, summary: 42 }) });
  // @ts-expect-error labels are strings
  new JiraWebhook({ ...base, format: (_e, defaults) => ({ ...defaults, labels: [1] }) });
});
