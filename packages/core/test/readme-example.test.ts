// The README's "Testing your plugin" example, as written (only the imports differ), run on
// the README's plugin (readme-plugin.ts): both must compile and the plugin must pass the
// contract suite. The last test fails when the README and these files drift apart.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createFakeServer, describeWebhookContract, fakeServerHarness } from '../src/testing/index.js';
import { StatusPageWebhook } from './readme-plugin.js';

describeWebhookContract('statuspage', async () => {
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
    create: ({ endpoint, ...common }) =>
      new StatusPageWebhook({
        ...common,
        apiKey: 'sk_test_1234567890abcdef',
        baseUrl: endpoint ?? server.url,
      }),
  };
});

it("is the README's example, word for word", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const code = (file: string, from: string) => {
    const text = readFileSync(new URL(file, import.meta.url), 'utf8');
    return text.slice(text.indexOf(from));
  };
  const plugin = code('./readme-plugin.ts', 'import {')
    .replace("'../src/index.js'", "'@empathy/webhooks-core'")
    .replace("'../src/kit/index.js'", "'@empathy/webhooks-core/kit'");
  const contract = code('./readme-example.test.ts', 'import { createFakeServer')
    .replace("'../src/testing/index.js'", "'@empathy/webhooks-core/testing'")
    .replace("import { StatusPageWebhook } from './readme-plugin.js';\n", '')
    .split('\nit("is the README')[0]!;
  expect(plugin).toBe(blocks[0]);
  expect(contract).toBe(blocks[1]);
});
