import type { EventType } from '@empathy/webhooks-core';
import { describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { GitHubWebhook } from '../src/index.js';
import { FakeGitHub } from './fake-github.js';

const TOKEN = 'ghp_contractSecretToken0123456789abcdef';
const REPOSITORY = 'Smart-AI-Memory/empathy';

/** Starts the fake GitHub and builds the harness for one configuration of the webhook. */
function harness(configure: Partial<ConstructorParameters<typeof GitHubWebhook>[0]>, events?: EventType[]) {
  return async () => {
    const github = await FakeGitHub.start(TOKEN, REPOSITORY);
    return {
      ...fakeServerHarness(github.server, github.failures()),
      secrets: [TOKEN],
      events,
      create: (options: ConstructorParameters<typeof GitHubWebhook>[0] | object) =>
        new GitHubWebhook({
          ...(options as object),
          token: TOKEN,
          repository: REPOSITORY,
          baseUrl: github.url,
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
