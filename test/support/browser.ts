/**
 * The headless Chromium the browser tests drive (playwright-core with the system's Chromium), one
 * launch per test file: `chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })`.
 * Without a sandbox (tests run as root in containers), GPU, first-run pages, or the background
 * traffic (component updates, sync) that would slow the start and reach out of the machine.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
