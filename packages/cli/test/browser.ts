/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The browser tests pass functions to page.evaluate(), which run in the page: they use DOM types.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's chromium: `.ci/run` installs it with apt when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Starts Debian's chromium, headless, on a fresh profile; `close()` removes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with 'apt-get install -y chromium' (.ci/run does)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'cli-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
