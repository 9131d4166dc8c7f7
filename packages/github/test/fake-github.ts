import type { VendorFailures } from '@empathy/webhooks-core/testing';
import {
  createFakeServer,
  type FakeResponse,
  type FakeServer,
  type RecordedRequest,
} from '@empathy/webhooks-core/testing';

/** A comment or issue as the fake stores it. */
interface Stored {
  id: number;
  number: number;
  body: string;
  title?: string;
  labels?: string[];
  state?: 'open' | 'closed';
  state_reason?: 'completed' | 'not_planned' | 'reopened' | null;
  issue_number?: number;
  login: string;
  pull_request?: boolean;
}

export const BOT_LOGIN = 'empathy-bot';
export const DOCS = 'https://docs.github.com/rest';

/**
 * A fake of the parts of the GitHub REST API the webhook uses, answering like GitHub: JSON error
 * bodies `{ message, documentation_url, errors? }`, 401 for a bad token, 404 for an unknown
 * repository, 422 validation errors (body too long, too many `client_payload` keys, …) and the
 * `x-ratelimit-*` and `x-github-request-id` headers on every answer.
 */
export class FakeGitHub {
  /** Comments on issues and PRs. */
  readonly comments: Stored[] = [];
  /** Issues (and PRs, which the issues list includes). */
  readonly issues: Stored[] = [];
  /** Every repository_dispatch received. */
  readonly dispatches: { event_type: string; client_payload: Record<string, unknown> }[] = [];
  /** Every workflow_dispatch received. */
  readonly workflowRuns: { workflow: string; ref: string; inputs: Record<string, unknown> }[] = [];
  remaining = 4999;
  #nextId = 1000;
  #requestId = 0;

  private constructor(
    readonly server: FakeServer,
    readonly token: string,
    readonly repository: string,
  ) {}

  static async start(token: string, repository: string): Promise<FakeGitHub> {
    let fake: FakeGitHub | undefined;
    const server = await createFakeServer((request) => fake!.handle(request));
    fake = new FakeGitHub(server, token, repository);
    return fake;
  }

  get url(): string {
    return this.server.url;
  }

  /** Adds a comment by someone (the marker-planting tests). */
  addComment(issueNumber: number, body: string, login: string): Stored {
    const comment = { id: this.#nextId++, number: 0, body, issue_number: issueNumber, login };
    this.comments.push(comment);
    return comment;
  }

  /** Adds an issue by someone. */
  addIssue(fields: { title: string; body: string; labels: string[]; state?: 'open' | 'closed' }): Stored {
    const issue: Stored = {
      id: this.#nextId++,
      number: this.issues.length + 1,
      login: 'someone',
      state: 'open',
      ...fields,
    };
    this.issues.push(issue);
    return issue;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(this.remaining),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-used': String(5000 - this.remaining),
      'x-ratelimit-resource': 'core',
      'x-github-request-id': `FAKE:${++this.#requestId}`,
      ...extra,
    };
  }

  error(status: number, message: string, extra: Record<string, unknown> = {}, headers = {}): FakeResponse {
    return {
      status,
      headers: this.headers(headers),
      body: { message, documentation_url: DOCS, status: String(status), ...extra },
    };
  }

  validation(resource: string, field: string, message: string): FakeResponse {
    return this.error(422, 'Validation Failed', { errors: [{ resource, code: 'custom', field, message }] });
  }

  /** 403 with `x-ratelimit-remaining: 0`: the primary (hourly) limit, reset at `resetEpochSeconds`. */
  primaryRateLimit(resetEpochSeconds: number, status = 403): FakeResponse {
    return {
      status,
      headers: {
        ...this.headers(),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(resetEpochSeconds),
        date: new Date().toUTCString(),
      },
      body: {
        message: 'API rate limit exceeded for user ID 1.',
        documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
        status: String(status),
      },
    };
  }

  /** A secondary rate limit: 403 (or 429) with GitHub's message and, optionally, Retry-After. */
  secondaryRateLimit(retryAfterSeconds?: number, status = 403): FakeResponse {
    return this.error(
      status,
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID FAKE:1.',
      {},
      retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
    );
  }

  /** How GitHub answers the contract suite's failures. */
  failures(): VendorFailures {
    return {
      server_error: { status: 502, headers: this.headers(), body: { message: 'Server Error' } },
      rate_limited: (seconds) => this.secondaryRateLimit(seconds, 429),
      client_error: this.validation('Issue', 'title', 'title is too long (maximum is 256 characters)'),
      // GitHub echoes what it could not take in `message` (a 401's "Bad credentials" names no
      // token, but a 422 quotes the field's value).
      echo: (text) => this.error(422, text),
    };
  }

  handle(request: RecordedRequest): FakeResponse {
    const auth = request.headers.authorization ?? '';
    if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`) {
      return this.error(401, 'Bad credentials');
    }
    const url = new URL(request.url, 'http://fake');
    const prefix = `/repos/${this.repository}`;
    if (!url.pathname.startsWith(`${prefix}`)) return this.error(404, 'Not Found');
    const path = url.pathname.slice(prefix.length);
    const route = `${request.method} ${path}`;
    const issueComments = /^(GET|POST) \/issues\/(\d+)\/comments$/.exec(route);
    const commentUpdate = /^PATCH \/issues\/comments\/(\d+)$/.exec(route);
    const oneIssue = /^(GET|PATCH) \/issues\/(\d+)$/.exec(route);
    const workflowRun = /^POST \/actions\/workflows\/([^/]+)\/dispatches$/.exec(route);

    if (route === 'GET ') {
      return this.ok(200, { full_name: this.repository, default_branch: 'trunk' });
    }
    if (issueComments?.[1] === 'GET') {
      const number = Number(issueComments[2]);
      const all = this.comments.filter((c) => c.issue_number === number).map((c) => this.commentJson(c));
      return this.page(url, all);
    }
    if (issueComments?.[1] === 'POST') {
      const { body } = request.json<{ body: string }>();
      if (typeof body !== 'string' || body.length === 0)
        return this.validation('IssueComment', 'body', 'body is missing');
      if (body.length > 65_536) {
        return this.validation('IssueComment', 'body', 'body is too long (maximum is 65536 characters)');
      }
      const comment = this.addComment(Number(issueComments[2]), body, BOT_LOGIN);
      return this.ok(201, this.commentJson(comment));
    }
    if (commentUpdate) {
      const comment = this.comments.find((c) => c.id === Number(commentUpdate[1]));
      if (!comment) return this.error(404, 'Not Found');
      const { body } = request.json<{ body: string }>();
      if (body.length > 65_536) {
        return this.validation('IssueComment', 'body', 'body is too long (maximum is 65536 characters)');
      }
      comment.body = body;
      return this.ok(200, this.commentJson(comment));
    }
    if (oneIssue) {
      const issue = this.issues.find((i) => i.number === Number(oneIssue[2]));
      if (!issue) return this.error(404, 'Not Found');
      if (oneIssue[1] === 'GET') return this.ok(200, this.issueJson(issue));
      // PATCH /repos/{owner}/{repo}/issues/{issue_number}: https://docs.github.com/rest/issues/issues#update-an-issue
      const { state, state_reason } = request.json<{ state?: string; state_reason?: string | null }>();
      if (state !== undefined && state !== 'open' && state !== 'closed') {
        return this.validation('Issue', 'state', `state is not included in the list`);
      }
      if (
        state_reason !== undefined &&
        state_reason !== null &&
        !['completed', 'not_planned', 'reopened'].includes(state_reason)
      ) {
        return this.validation('Issue', 'state_reason', `state_reason is not included in the list`);
      }
      if (state !== undefined) issue.state = state;
      if (state_reason !== undefined) issue.state_reason = state_reason as Stored['state_reason'];
      else if (state === 'closed') issue.state_reason = 'completed';
      return this.ok(200, this.issueJson(issue));
    }
    if (route === 'GET /issues') {
      const state = url.searchParams.get('state') ?? 'open';
      const labels = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean);
      const all = this.issues
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => labels.every((l) => i.labels?.includes(l)))
        .map((i) => this.issueJson(i));
      return this.page(url, all);
    }
    if (route === 'POST /issues') {
      const { title, body, labels } = request.json<{ title: string; body?: string; labels?: string[] }>();
      if (typeof title !== 'string' || title.length === 0)
        return this.validation('Issue', 'title', 'title is missing');
      if (title.length > 256)
        return this.validation('Issue', 'title', 'title is too long (maximum is 256 characters)');
      if ((body ?? '').length > 65_536) {
        return this.validation('Issue', 'body', 'body is too long (maximum is 65536 characters)');
      }
      if ((labels ?? []).some((l) => l.length > 50)) {
        return this.validation('Label', 'name', 'name is too long (maximum is 50 characters)');
      }
      const issue = this.addIssue({ title, body: body ?? '', labels: labels ?? [] });
      issue.login = BOT_LOGIN;
      return this.ok(201, this.issueJson(issue));
    }
    if (route === 'POST /dispatches') {
      const { event_type, client_payload } = request.json<{
        event_type: string;
        client_payload?: Record<string, unknown>;
      }>();
      if (typeof event_type !== 'string' || event_type.length === 0 || event_type.length > 100) {
        return this.error(422, 'Invalid request.\n\nevent_type must be 100 characters or fewer.');
      }
      if (client_payload && Object.keys(client_payload).length > 10) {
        return this.error(
          422,
          'Invalid request.\n\nNo more than 10 properties are allowed; 11 were supplied.',
        );
      }
      if (Buffer.byteLength(request.body) >= 65_536) {
        return this.error(422, 'Invalid request.\n\nclient_payload must be less than 64KB.');
      }
      this.dispatches.push({ event_type, client_payload: client_payload ?? {} });
      return { status: 204, headers: this.headers() };
    }
    if (workflowRun) {
      const { ref, inputs } = request.json<{ ref: string; inputs?: Record<string, unknown> }>();
      if (typeof ref !== 'string' || ref.length === 0)
        return this.error(422, 'Invalid request.\n\n"ref" wasn\'t supplied.');
      if (ref !== 'trunk' && ref !== 'main') return this.error(422, `No ref found for: ${ref}`);
      this.workflowRuns.push({ workflow: decodeURIComponent(workflowRun[1]!), ref, inputs: inputs ?? {} });
      return { status: 204, headers: this.headers() };
    }
    return this.error(404, 'Not Found');
  }

  ok(status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse {
    return { status, headers: this.headers(headers), body };
  }

  /** GitHub pagination: `per_page` (max 100), `page`, and a `link` header. */
  page(url: URL, all: unknown[]): FakeResponse {
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
    const page = Number(url.searchParams.get('page') ?? 1);
    const items = all.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < all.length) {
      const next = new URL(url.href);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${this.server.url}${next.pathname}${next.search}>; rel="next"`;
    }
    return this.ok(200, items, headers);
  }

  commentJson(c: Stored) {
    return {
      id: c.id,
      body: c.body,
      user: { login: c.login, type: c.login.endsWith('[bot]') ? 'Bot' : 'User' },
      // An issue's comment is under /issues/, a pull request's under /pull/.
      html_url: `https://github.com/${this.repository}/${this.issues.some((i) => i.number === c.issue_number) ? 'issues' : 'pull'}/${c.issue_number}#issuecomment-${c.id}`,
    };
  }

  issueJson(i: Stored) {
    return {
      id: i.id,
      number: i.number,
      title: i.title,
      body: i.body,
      state: i.state,
      state_reason: i.state_reason ?? null,
      labels: (i.labels ?? []).map((name) => ({ name })),
      user: { login: i.login },
      html_url: `https://github.com/${this.repository}/issues/${i.number}`,
      ...(i.pull_request ? { pull_request: { url: 'x' } } : {}),
    };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
