import { MemoryQueue } from '../src/index.js';
import { describeQueueContract } from '../src/testing/index.js';

describeQueueContract('MemoryQueue', () => ({ durable: false, open: () => new MemoryQueue() }));

// The README's "Testing your queue" example is this file up to here (only the imports differ).

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

it("is the README's queue contract example, word for word", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((b) => b.includes('describeQueueContract('));
  const text = readFileSync(new URL(import.meta.url), 'utf8');
  const example = text
    .slice(0, text.indexOf('\n// The README') + 1)
    .replace("'../src/index.js'", "'@empathy/webhooks-core'")
    .replace("'../src/testing/index.js'", "'@empathy/webhooks-core/testing'");
  expect(example.trimEnd()).toBe(block?.trimEnd());
});
