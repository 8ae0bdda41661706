import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import axe from 'axe-core';

/** Debian's chromium (`.ci/run` installs it from apt); Playwright's own browser downloads are not used. */
export const CHROMIUM = process.env.WALAUDIT_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = fileURLToPath(new URL('../../.cache/console-screenshots/', import.meta.url));

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the console tests drive a real browser and found none at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does) or point WALAUDIT_CHROMIUM at one`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Headless, no sandbox (CI runs as root), and no calls home: the machines have no internet.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core's serious and critical findings on the page as it is now. It is evaluated through the
 * DevTools protocol, which the page's Content-Security-Policy does not apply to, so the policy the
 * console runs under stays the real one.
 */
export async function accessibilityProblems(page: Page): Promise<AxeFinding[]> {
  await page.evaluate(axe.source);
  // A string, run in the page: the tests' TypeScript knows no DOM.
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) =>
    result.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.slice(0, 5).map((node) => node.html) })))`)) as AxeFinding[];
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}
