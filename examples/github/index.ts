/**
 * GitHubWebhook against a local fake of the GitHub REST API: no credentials, no network.
 * Run: cd /work/main && npx tsx examples/github/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest, SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { GitHubWebhook } from '@empathy/webhooks-github';

// A tiny GitHub: PR comments (list / create / update), issues (list / create) and dispatches.
const comments: { id: number; issue: number; body: string; user: { login: string } }[] = [];
const issues: { number: number; title: string; body: string; labels: { name: string }[]; state: string }[] =
  [];
const github = await createFakeServer((req: RecordedRequest) => {
  const route = `${req.method} ${req.path.replace('/repos/Smart-AI-Memory/empathy', '')}`;
  const pr = /^(GET|POST) \/issues\/(\d+)\/comments$/.exec(route);
  const edit = /^PATCH \/issues\/comments\/(\d+)$/.exec(route);
  if (pr?.[1] === 'GET') return { body: comments.filter((c) => c.issue === Number(pr[2])) };
  if (pr?.[1] === 'POST') {
    const comment = {
      id: 100 + comments.length,
      issue: Number(pr[2]),
      body: req.json().body,
      user: { login: 'empathy-bot' },
    };
    comments.push(comment);
    return { status: 201, body: comment };
  }
  if (edit) {
    const comment = comments.find((c) => c.id === Number(edit[1]))!;
    comment.body = req.json().body;
    return { body: comment };
  }
  if (route === 'GET /issues') return { body: issues.filter((i) => i.state === 'open') };
  if (route === 'POST /issues') {
    const { title, body, labels } = req.json();
    const issue = {
      number: issues.length + 1,
      title,
      body,
      labels: labels.map((name: string) => ({ name })),
      state: 'open',
    };
    issues.push(issue);
    return { status: 201, body: issue };
  }
  if (route === 'POST /dispatches') return { status: 204 };
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
});

// The seed's configuration, plus issues for findings and repository_dispatch for CI/CD.
const reviews = new GitHubWebhook({
  token: 'ghp_exampleToken', // process.env.GITHUB_TOKEN
  repository: 'Smart-AI-Memory/empathy',
  baseUrl: github.url, // omit for https://api.github.com
  allowPrivateNetwork: true, // the fake listens on 127.0.0.1; omit for GitHub itself
  events: ['code_review_complete', 'security_vulnerability', 'deployment_risk'],
  issues: true,
  dispatch: true,
});

const empathy = new EmpathyOS({ userId: 'code_reviewer', webhooks: [reviews] });

// A review, then a second pass on the same PR: one comment, updated in place.
await empathy.emit('code_review_complete', SAMPLE_DATA.code_review_complete);
await empathy.emit('code_review_complete', {
  ...SAMPLE_DATA.code_review_complete,
  summary: 'Second pass: both suggestions addressed',
  suggestions: [],
  confidence: 0.97,
});
// The same vulnerability found twice: one issue.
await empathy.emit('security_vulnerability', SAMPLE_DATA.security_vulnerability, { severity: 'critical' });
await empathy.emit('security_vulnerability', { ...SAMPLE_DATA.security_vulnerability, line: 47 });
// A risky deployment: a repository_dispatch a workflow can run on.
await empathy.emit('deployment_risk', SAMPLE_DATA.deployment_risk, { severity: 'high' });
await empathy.flush();

console.log(`PR #123 has ${comments.length} comment(s); it reads now:\n`);
console.log(comments[0]?.body.split('\n').slice(1).join('\n'));
console.log(
  `\nIssues opened: ${issues.map((i) => `#${i.number} ${i.title} [${i.labels.map((l) => l.name).join(', ')}]`).join('; ')}`,
);
const dispatch = github.requests.find((r) => r.path.endsWith('/dispatches'))!.json();
console.log(`repository_dispatch: ${dispatch.event_type} — ${dispatch.client_payload.summary}`);
console.log(
  '\nRequests:',
  github.requests.map((r) => `${r.method} ${r.path} → ${r.status}`),
);
console.log('Stats:', empathy.monitor.getWebhookStats('github'));

await empathy.close();
await github.close();
