import type { Page } from 'playwright-core';

declare global {
  interface Window {
    __cspViolations?: string[];
  }
}

/**
 * Records what the page's Content-Security-Policy blocks: violation events in the document and
 * the console lines Chromium writes for them (workers' included). Call before page.goto.
 */
export async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  const lines: string[] = [];
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) lines.push(m.text());
  });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations!.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return async () => [...lines, ...((await page.evaluate(() => window.__cspViolations).catch(() => [])) ?? [])];
}
