import type { EmpathyEvent } from '@empathy/webhooks-core';
import { expectTypeOf, test } from 'vitest';
import {
  type ClientPayload,
  formatDispatch,
  formatReviewComment,
  formatWorkflowInputs,
  type GitHubAction,
  type GitHubPayload,
  GitHubWebhook,
  type WorkflowInputs,
} from '../src/index.js';

const base = { token: 't', repository: 'acme/app' };

test('options are checked at compile time', () => {
  new GitHubWebhook({ ...base, events: ['code_review_complete'], issues: { labels: ['ai'] } });
  new GitHubWebhook({ ...base, dispatch: { eventType: (e) => `empathy.${e.event_type}` } });
  new GitHubWebhook({ ...base, workflow: { workflowId: 'deploy.yml', inputs: (e) => ({ id: e.event_id }) } });
  // @ts-expect-error a misspelled event type
  new GitHubWebhook({ ...base, events: ['code_review_complet'] });
  // @ts-expect-error token is required
  new GitHubWebhook({ repository: 'acme/app' });
  // @ts-expect-error a workflow needs its id
  new GitHubWebhook({ ...base, workflow: { ref: 'main' } });
  // @ts-expect-error workflow inputs are strings, numbers or booleans
  new GitHubWebhook({ ...base, workflow: { workflowId: 1, inputs: () => ({ data: {} }) } });
  expectTypeOf(new GitHubWebhook(base).actionFor('alert')).toEqualTypeOf<GitHubAction | undefined>();
  new GitHubWebhook({ ...base, issues: true, group: { waitSeconds: 30, intervalSeconds: 300 } });
  // @ts-expect-error group takes seconds
  new GitHubWebhook({ ...base, group: { waitSeconds: '30s' } });
});

test('format is typed with the payload union', () => {
  new GitHubWebhook({
    ...base,
    format: (_event, defaults) => {
      expectTypeOf(defaults).toEqualTypeOf<GitHubPayload>();
      return defaults.action === 'comment' ? { ...defaults, body: `${defaults.body}\n\nthanks` } : defaults;
    },
  });
  // @ts-expect-error a comment has a body, not a title
  new GitHubWebhook({ ...base, format: () => ({ action: 'comment', title: 'x' }) });
  // @ts-expect-error no such action
  new GitHubWebhook({ ...base, format: () => ({ action: 'tweet', body: 'x' }) });
  expectTypeOf<GitHubAction>().toEqualTypeOf<'comment' | 'issue' | 'dispatch' | 'workflow'>();
});

test('formatters take the events they format', () => {
  expectTypeOf(formatReviewComment).parameter(0).toEqualTypeOf<EmpathyEvent<'code_review_complete'>>();
  // @ts-expect-error a prediction is no review
  formatReviewComment({} as EmpathyEvent<'prediction'>, 'marker');
  expectTypeOf(formatDispatch).returns.toEqualTypeOf<{ event_type: string; client_payload: ClientPayload }>();
  expectTypeOf(formatWorkflowInputs).returns.toEqualTypeOf<WorkflowInputs>();
});
