/**
 * JiraWebhook against a local fake of Jira Cloud's REST v3: no credentials, no network.
 * The same SQL injection is found three times: one ticket, then two "Seen again" comments.
 * Run: cd /work/main && npx tsx examples/jira/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest } from '@empathy/webhooks-core/fakes';
import { JiraWebhook } from '@empathy/webhooks-jira';

// A tiny Jira Cloud: create issue, JQL search by label, read an issue's status, add comment.
interface Issue {
  id: string;
  key: string;
  labels: string[];
  comments: number;
}
const issues: Issue[] = [];
const jiraApi = await createFakeServer((req: RecordedRequest) => {
  // A repeat of the incident reads its ticket's status first (is it still open?).
  const read = issues.find((i) => req.method === 'GET' && req.path === `/rest/api/3/issue/${i.key}`);
  if (read) {
    return {
      status: 200,
      body: {
        id: read.id,
        key: read.key,
        fields: { status: { name: 'To Do', statusCategory: { key: 'new' } } },
      },
    };
  }
  const body = req.json();
  if (req.path === '/rest/api/3/search/jql') {
    const label = /labels = "([^"]+)"/.exec(body.jql)?.[1] ?? '';
    const found = issues.filter((issue) => issue.labels.includes(label));
    return {
      status: 200,
      body: { issues: found.map(({ id, key }) => ({ id, key, fields: {} })), isLast: true },
    };
  }
  if (req.path === '/rest/api/3/issue') {
    const issue = {
      id: String(10001 + issues.length),
      key: `EMP-${issues.length + 1}`,
      labels: body.fields.labels,
      comments: 0,
    };
    issues.push(issue);
    return {
      status: 201,
      body: { id: issue.id, key: issue.key, self: `${jiraApi.url}/rest/api/3/issue/${issue.id}` },
    };
  }
  const issue = issues.find((i) => req.path === `/rest/api/3/issue/${i.key}/comment`);
  if (!issue) return { status: 404, body: { errorMessages: ['Issue does not exist'], errors: {} } };
  issue.comments++;
  return { status: 201, body: { id: String(20000 + issue.comments), body: body.body } };
});

const jira = new JiraWebhook({
  url: jiraApi.url, // process.env.JIRA_URL: https://your-team.atlassian.net
  allowPrivateNetwork: true, // the fake listens on 127.0.0.1; omit for your Jira site
  email: 'bot@example.com', // process.env.JIRA_EMAIL
  apiToken: 'example-api-token', // process.env.JIRA_API_TOKEN
  project: 'EMP',
  issueType: 'Bug',
  events: ['bug_detected', 'security_vulnerability'],
  // The seed's "Assignee: file owner": findings may name the owner's Jira accountId.
  assignee: (event) => ('owner' in event.data ? (event.data.owner as string | undefined) : undefined),
});
const empathy = new EmpathyOS({ userId: 'code_reviewer', webhooks: [jira] });

for (let i = 0; i < 3; i++) {
  await empathy.emit(
    'security_vulnerability',
    {
      title: 'SQL injection',
      description: 'User input concatenated directly into SQL query',
      file: 'auth.py',
      line: 45,
      fix: 'Use parameterized queries: cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))',
      category: 'security',
      labels: ['sql-injection'],
      cwe: 'CWE-89',
      owner: '5b10ac8d82e05b22cc7d4ef5',
    },
    { severity: 'high' },
  );
}
// All three are queued at once; deliveries of the same finding run one after the other.
await empathy.flush();

for (const req of jiraApi.requests) {
  console.log(`${req.method} ${req.path} → ${req.status}`);
  if (req.path === '/rest/api/3/issue') {
    const { fields } = req.json();
    console.log(`  summary:  ${fields.summary}`);
    console.log(`  priority: ${fields.priority.name}   assignee: ${fields.assignee.accountId}`);
    console.log(`  labels:   ${fields.labels.join(', ')}`);
    console.log(
      `  description (ADF): ${fields.description.content.map((n: { type: string }) => n.type).join(', ')}`,
    );
  }
}
console.log(issues.map((i) => `${i.key}: ${i.comments} comments`).join('\n'));
const stats = empathy.monitor.getWebhookStats('jira');
console.log(
  `jira: ${stats.successCount} delivered, ${stats.failedCount} failed, ${stats.totalSent} attempts`,
);

await empathy.close();
await jiraApi.close();
