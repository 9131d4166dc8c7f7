/**
 * The README's examples, run as written: only the package imports are pointed at this checkout
 * and `listen(8000)` becomes a free port. Each receives a real signed delivery from CustomWebhook.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PayloadSigner } from '@empathy/webhooks-core';
import { sampleEvent } from '@empathy/webhooks-core/fakes';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeServer, deliver, SECRET, urlOf } from './helpers.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const require = createRequire(import.meta.url);
const modules: Record<string, string> = {
  '@empathy/webhooks-receiver': fileURLToPath(new URL('../src/index.ts', import.meta.url)),
  '@empathy/webhooks-core': require.resolve('@empathy/webhooks-core'),
  express: require.resolve('express'),
  hono: require.resolve('hono'),
};

let dir: string;
let server: Server | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'receiver-readme-'));
  vi.stubEnv('WEBHOOK_SECRET', SECRET);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  vi.unstubAllEnvs();
});
afterEach(async () => {
  await closeServer(server);
  server = undefined;
  vi.restoreAllMocks();
});

/** Loads README block `index` as a module, with the rewrites described above. */
async function load(
  index: number,
): Promise<{ server?: Server; default?: { fetch: (r: Request) => Promise<Response> } }> {
  let code = blocks[index]!;
  for (const [name, path] of Object.entries(modules)) {
    code = code.replaceAll(`from '${name}'`, `from ${JSON.stringify(pathToFileURL(path).href)}`);
  }
  code = code
    .replace(/^app\.listen\(8000\);$/m, "export const server = app.listen(0, '127.0.0.1');")
    .replace(/^createServer\(/m, 'export const server = createServer(')
    .replace(/^\}\)\.listen\(8000\);$/m, "}).listen(0, '127.0.0.1');");
  const file = join(dir, `block-${index}.ts`);
  writeFileSync(file, code);
  const module = await import(pathToFileURL(file).href);
  if (module.server) {
    server = module.server as Server;
    if (!server.listening) await new Promise((resolve) => server!.once('listening', resolve));
  }
  return module;
}

describe('the README examples', () => {
  it('has the four examples this test runs', () => {
    expect(blocks).toHaveLength(4);
  });

  it.each([
    [0, 'Express with onEvent (the seed’s FastAPI receiver)'],
    [2, 'Express with next()'],
    [3, 'node:http with verify()'],
  ])('block %i, %s, receives a real signed delivery', async (index) => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const { server: s } = await load(index);
    const event = sampleEvent('security_vulnerability');
    const { stats, failures } = await deliver(urlOf(s!), [event]);
    expect(failures).toEqual([]);
    expect(stats.successCount).toBe(1);
    expect(log).toHaveBeenCalledWith(`security_vulnerability ${event.event_id}`);
  });

  it('block 1, Hono, answers a signed request through app.fetch and refuses a forged one', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const app = (await load(1)).default!;
    const event = sampleEvent('alert');
    const body = JSON.stringify(event);
    const post = (secret: string) =>
      app.fetch(
        new Request('http://localhost/webhooks/empathy', {
          method: 'POST',
          body,
          headers: {
            ...new PayloadSigner(secret).sign(body, event.event_id),
            'content-type': 'application/json',
          },
        }),
      );
    expect((await post('whsec_Zm9yZ2VkLWtleS1mb3JnZWQta2V5')).status).toBe(401);
    const ok = await post(SECRET);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok' });
    expect(log).toHaveBeenCalledWith(`alert ${event.event_id}`);
  });
});
