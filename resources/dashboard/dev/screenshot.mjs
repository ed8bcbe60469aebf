#!/usr/bin/env node
// DEV AID ONLY: screenshots of a running dashboard in both themes, for a
// person to look at. Usage: node dev/screenshot.mjs URL OUTDIR
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, out = '/tmp'] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'sluice-shot-'));
const ctx = await chromium.launchPersistentContext(dir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1440, height: 1400 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = ctx.pages()[0] ?? (await ctx.newPage());
page.on('console', (m) => m.type() === 'error' && console.log('console error:', m.text()));
page.on('pageerror', (e) => console.log('page error:', e.message));
for (const scheme of ['light', 'dark']) {
  await page.emulateMedia({ colorScheme: scheme });
  await page.goto(url);
  await page.waitForSelector('[data-testid=conn-status][data-state=live]', { timeout: 10_000 });
  await page.waitForTimeout(5000);
  await page.screenshot({ path: join(out, `dashboard-${scheme}.png`), fullPage: true });
  console.log('wrote', join(out, `dashboard-${scheme}.png`));
}
await ctx.close();
rmSync(dir, { recursive: true, force: true });
