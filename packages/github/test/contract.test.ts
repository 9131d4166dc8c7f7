import type { EmpathyEvent, EventType } from '@empathy/webhooks-core';
import { describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { type GitHubPayload, GitHubWebhook, type GitHubWebhookOptions } from '../src/index.js';
import { FakeGitHub } from './fake-github.js';

// No word of the suite's own text in it ('contract' is the webhook's name in every message).
const TOKEN = 'ghp_9fQ2xLr7TzWb1KcN4mVd8YsJ0hAeGu3PoRi6';
const REPOSITORY = 'Smart-AI-Memory/empathy';

/** Puts `text` where GitHub shows each kind of payload. */
function mark(defaults: GitHubPayload, text: string): GitHubPayload {
  switch (defaults.action) {
    case 'comment':
      return { ...defaults, body: `${defaults.body}\n\n${text}` };
    case 'issue':
      return { ...defaults, title: text };
    case 'dispatch':
      return { ...defaults, client_payload: { ...defaults.client_payload, summary: text } };
    case 'workflow':
      return { ...defaults, inputs: { ...defaults.inputs, summary: text } };
  }
}

/** Starts the fake GitHub and builds the harness for one configuration of the webhook. */
function harness(configure: Partial<GitHubWebhookOptions>, events?: EventType[]) {
  return async () => {
    const github = await FakeGitHub.start(TOKEN, REPOSITORY);
    return {
      ...fakeServerHarness(github.server, github.failures()),
      secrets: [TOKEN],
      events,
      mark,
      // A review names the repository it is for: garbage there is refused (repository_mismatch).
      hostile: (event: EmpathyEvent) =>
        event.event_type === 'code_review_complete'
          ? ({ ...event, data: { ...event.data, repository: REPOSITORY } } as EmpathyEvent)
          : event,
      create: ({ endpoint, ...common }: { endpoint?: string | undefined } & Partial<GitHubWebhookOptions>) =>
        new GitHubWebhook({
          ...common,
          token: TOKEN,
          repository: REPOSITORY,
          baseUrl: endpoint ?? github.url,
          ...configure,
          ...(events ? { events } : {}),
        }),
    };
  };
}

// Sticky PR comments: list the PR's comments, then create or update.
describeWebhookContract('github (PR review comments)', harness({}, ['code_review_complete']));

// Every built-in event: review → comment, findings → de-duplicated issues, the rest → repository_dispatch.
describeWebhookContract(
  'github (issues + repository_dispatch)',
  harness({ issues: true, dispatch: true }, [
    'deployment_risk',
    'prediction',
    'alert',
    'bug_detected',
    'security_vulnerability',
    'performance_issue',
    'code_review_complete',
    'test_failure',
    'compliance_violation',
    'pattern_discovered',
    'completion',
    'error',
    'phi_access',
  ]),
);

// workflow_dispatch of a named workflow on the repository's default branch (read once).
describeWebhookContract(
  'github (workflow_dispatch)',
  harness({ workflow: { workflowId: 'empathy.yml' } }, ['test_failure', 'deployment_risk']),
);
