/**
 * GitHubWebhook against a local fake of the GitHub REST API: no credentials, no network.
 * A review comment kept up to date, a dispatch, and a finding as an incident: found (an issue is
 * opened), found again (a "Seen again" comment), fixed with `resolved: true` (a comment, then the
 * issue is closed).
 * Run: cd /work/main && npx tsx examples/github/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest, SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { GitHubWebhook } from '@empathy/webhooks-github';

// A tiny GitHub: PR and issue comments (list / create / update), issues (list / create / get /
// update) and dispatches.
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
  const one = /^(GET|PATCH) \/issues\/(\d+)$/.exec(route);
  const issue = issues.find((i) => i.number === Number(one?.[2]));
  if (one && !issue) return { status: 404, body: { message: 'Not Found' } };
  if (one?.[1] === 'GET') return { body: issue };
  if (one?.[1] === 'PATCH') return { body: Object.assign(issue!, req.json()) };
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
// The same vulnerability found twice, then fixed: one issue, a comment per sighting, closed.
await empathy.emit('security_vulnerability', SAMPLE_DATA.security_vulnerability, { severity: 'critical' });
await empathy.emit('security_vulnerability', { ...SAMPLE_DATA.security_vulnerability, line: 47 });
await empathy.emit('security_vulnerability', { ...SAMPLE_DATA.security_vulnerability, resolved: true });
// A risky deployment: a repository_dispatch a workflow can run on.
await empathy.emit('deployment_risk', SAMPLE_DATA.deployment_risk, { severity: 'high' });
await empathy.flush();

const review = comments.filter((c) => c.issue === 123);
console.log(`PR #123 has ${review.length} comment(s); it reads now:\n`);
console.log(review[0]?.body.split('\n').slice(1).join('\n'));
console.log('\nThe finding, as GitHub received it:');
for (const req of github.requests.filter((r) => /\/issues(\/\d+)?(\/comments)?$/.test(r.path))) {
  if (req.path.endsWith('/123/comments')) continue; // the review's
  const body = req.method === 'GET' ? undefined : req.json();
  const what =
    body === undefined
      ? ''
      : (body.title ??
        body.body?.split('\n')[0] ??
        `state: ${body.state}, state_reason: ${body.state_reason}`);
  console.log(
    `  ${req.method} ${req.path.replace('/repos/Smart-AI-Memory/empathy', '')} → ${req.status}  ${what}`.trimEnd(),
  );
}
for (const i of issues) {
  const labels = i.labels.map((l) => l.name).join(', ');
  console.log(
    `  issue #${i.number} [${labels}] is ${i.state}: ${comments.filter((c) => c.issue === i.number).length} comments`,
  );
}
const dispatch = github.requests.find((r) => r.path.endsWith('/dispatches'))!.json();
console.log(`repository_dispatch: ${dispatch.event_type} — ${dispatch.client_payload.summary}`);
console.log('Stats:', empathy.monitor.getWebhookStats('github'));

await empathy.close();
await github.close();
