// Debian's Chromium for the page tests, driven by playwright-core: where it
// is, whether the suite may skip without it, and one way to start it — a
// fresh profile every run, flags that keep it off the network it cannot
// reach here, and autoplay for unattended video.
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { tempDir } from './cleanup.js';
import { requireOrSkip } from './skip.js';

export const CHROMIUM = '/usr/bin/chromium';

/** The skip reason for browser tests (never under CI=true: there a missing Chromium fails). */
export const skipChromium = requireOrSkip('the browser test', existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium)`);

export function launchChromium(viewport: { width: number; height: number }): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir('lookout-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
    ],
  });
}
