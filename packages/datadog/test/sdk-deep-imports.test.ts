import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The SDK's root entry loads both API versions (hundreds of modules, ~1 s cold), so the package
 * imports only the modules it uses, by their paths under `dist/packages/`. Those paths are not
 * a public API: the SDK has no `exports` map, and a release may move them. These tests pin them
 * to the SDK range in package.json, whose floor is the version they were run against.
 */
const SDK = '@datadog/datadog-api-client';
const USED: Record<string, string[]> = {
  [`${SDK}/dist/packages/datadog-api-client-common/index.js`]: [
    'BaseServerConfiguration',
    'createConfiguration',
    'ResponseContext',
  ],
  [`${SDK}/dist/packages/datadog-api-client-v1/apis/EventsApi.js`]: ['EventsApi'],
  [`${SDK}/dist/packages/datadog-api-client-v2/apis/MetricsApi.js`]: ['MetricsApi'],
};

const srcDir = new URL('../src/', import.meta.url);
const packageDir = new URL('../', import.meta.url);

describe(`${SDK} deep imports`, () => {
  it('are exactly the ones src/ uses (a new one must be added here)', () => {
    const found = new Set<string>();
    for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const text = readFileSync(new URL(file, srcDir), 'utf8');
      for (const m of text.matchAll(/['"](@datadog\/datadog-api-client\/[^'"]+)['"]/g)) found.add(m[1]!);
    }
    expect([...found].sort()).toEqual(Object.keys(USED).sort());
  });

  it("resolve with Node's own ESM resolver from this package and export what src/ imports", async () => {
    // A child process, not vitest's module graph: vite's resolver is more lenient than Node's.
    const script = `
      const out = {};
      for (const spec of ${JSON.stringify(Object.keys(USED))}) {
        const m = await import(spec);
        out[spec] = Object.keys(m).filter((k) => m[k] !== undefined);
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: packageDir,
      timeout: 60_000,
    });
    const exported = JSON.parse(stdout) as Record<string, string[]>;
    for (const [spec, names] of Object.entries(USED)) {
      expect(exported[spec], spec).toEqual(expect.arrayContaining(names));
    }
  }, 90_000); // a cold load of the SDK on a busy machine takes seconds
});
