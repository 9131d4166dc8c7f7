// The contract's `hostile` hook: a plugin that rightly refuses an event whose routing field is
// garbage passes the hostile-sample case once the harness puts that field back, and only then.

import { expect, it } from 'vitest';
import type { EmpathyEvent } from '../src/index.js';
import { cleanText, permanentError } from '../src/kit/index.js';
import {
  createFakeServer,
  describeWebhookContract,
  fakeServerHarness,
  HOSTILE_TEXT,
  UNSAFE_CHARACTERS,
} from '../src/testing/index.js';
import { type Incident, StatusPageWebhook } from './readme-plugin.js';

/** Posts only alerts from one source: `data.source` routes the event, as GitHub's `repository` does. */
class SourceBoundStatusPage extends StatusPageWebhook {
  protected override render(event: EmpathyEvent): Incident {
    const source = (event.data as { source?: unknown }).source;
    if (source !== undefined && source !== 'checkout-api') {
      throw permanentError(this.errors, 'the alert is from another source', 'wrong_source');
    }
    return super.render(event);
  }
}

describeWebhookContract('statuspage bound to one source', async () => {
  const server = await createFakeServer(() => ({ status: 201, body: { id: 'inc_1' } }));
  return {
    ...fakeServerHarness(server, {
      server_error: { status: 503 },
      rate_limited: (s) => ({ status: 429, headers: { 'retry-after': String(s) } }),
      client_error: { status: 422, body: { error: 'title is required' } },
      echo: (text) => ({ status: 401, body: { error: text } }),
    }),
    secrets: ['sk_test_1234567890abcdef'],
    mark: (incident, text) => ({ ...incident, title: text }),
    hostile: (event) => ({ ...event, data: { ...event.data, source: 'checkout-api' } }) as EmpathyEvent,
    create: ({ endpoint, ...common }) =>
      new SourceBoundStatusPage({
        ...common,
        apiKey: 'sk_test_1234567890abcdef',
        baseUrl: endpoint ?? server.url,
      }),
  };
});

it('exports UNSAFE_CHARACTERS for renderer tests: it finds the hostile sample, and nothing the text policy left', () => {
  expect(UNSAFE_CHARACTERS.test(HOSTILE_TEXT)).toBe(true);
  expect(UNSAFE_CHARACTERS.test(cleanText(HOSTILE_TEXT))).toBe(false);
  expect(UNSAFE_CHARACTERS.test('plain text, tabs\tand\nnewlines, emoji 🔒')).toBe(false);
});
