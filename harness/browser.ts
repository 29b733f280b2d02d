import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium; a browser download cannot work on these machines (DESIGN §7). */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * A fresh headless Chromium with its own profile directory, so IndexedDB starts empty and survives reloads
 * within one test exactly as it would for a visitor. With `profile`, Chromium starts on that directory instead
 * (what an earlier launch left there, as a visitor's next visit finds it) and leaves it in place on close.
 * `userAgent` replaces Chromium's own (which says HeadlessChrome, a bot to the gateway).
 */
export async function launchBrowser(
  profile?: string,
  options: { userAgent?: string } = {},
): Promise<TestBrowser> {
  const dir = profile ?? (await mkdtemp(join(tmpdir(), 'tidemark-chromium-')));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath,
    userAgent: options.userAgent,
    headless: true,
    // Without the background-networking flags Chromium keeps dialling Google's hosts, which this closed
    // network refuses.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      if (!profile) await rm(dir, { recursive: true, force: true });
    },
  };
}
