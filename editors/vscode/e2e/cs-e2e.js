// End-to-end check of the Proc extension in code-server (the real VS Code workbench), driven by Playwright in
// Debian's chromium. Started by e2e/code-server.sh, which sets:
//   CS_URL       the workbench URL with ?folder=<workspace> (the workspace holds complaint.proc with `by Agentt`)
//   OUT_DIR      where screenshots go
//   CHROMIUM     the chromium executable (default /usr/bin/chromium)
//   PROFILE_DIR  where to put the temporary browser profile
// Checks: (1) the TextMate grammar colours a keyword differently from plain text, (2) the status bar shows the
// language mode "Proc", (3) the language server's diagnostic about the unknown role is in the Problems panel.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const url = process.env.CS_URL || 'http://127.0.0.1:18080/';
const out = process.env.OUT_DIR || '.';
const file = process.env.PROC_E2E_FILE || 'complaint.proc';
const expected = new RegExp(process.env.PROC_E2E_EXPECT || 'Agentt');
const t0 = Date.now();
const log = (msg) => console.log(`[cs-e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);

(async () => {
  fs.mkdirSync(out, { recursive: true });
  const prof = fs.mkdtempSync(path.join(process.env.PROFILE_DIR || require('os').tmpdir(), 'pwprof-'));
  const ctx = await chromium.launchPersistentContext(prof, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const checks = { grammar: false, languageMode: false, diagnostic: false };
  try {
    await page.goto(url);
    await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
    await page.waitForSelector('.explorer-folders-view', { timeout: 60000 });
    log('workbench loaded');
    await page.screenshot({ path: path.join(out, 'cs-workbench.png') });

    // Open the file from the Explorer, as a user would (Quick Open + Enter was flaky in the research runs).
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).first().click();
    await page.waitForSelector('.editor-instance .monaco-editor .view-lines', { timeout: 15000 });
    log(`opened ${file}`);

    // (2) language mode in the status bar (contributes.languages)
    const modeItem = page.locator('#status\\.editor\\.mode');
    await modeItem.waitFor({ timeout: 15000 });
    let mode = '';
    for (let i = 0; i < 30 && !/^Proc$/.test(mode); i++) {
      mode = (await modeItem.innerText().catch(() => '')).trim();
      if (!/^Proc$/.test(mode)) await page.waitForTimeout(500);
    }
    checks.languageMode = mode === 'Proc';
    log(`language mode: ${JSON.stringify(mode)}`);

    // (1) TextMate grammar: a keyword must get another token class than plain text. Without the grammar every
    // token has the default foreground class `mtk1`, the class of plain text. The file starts with comments,
    // then `role Agent` lines.
    const spanClass = async (re) => {
      const span = page.locator('.editor-instance .view-line span span', { hasText: re }).first();
      return (await span.count()) ? span.getAttribute('class') : null;
    };
    const ws = '[\\s\\u00a0]*';
    let keywordCls = null;
    let commentCls = null;
    for (let i = 0; i < 20 && !(keywordCls && commentCls); i++) {
      keywordCls = await spanClass(new RegExp(`^${ws}role${ws}$`));
      commentCls = await spanClass(/^\/\/\/.*/);
      if (!(keywordCls && commentCls)) await page.waitForTimeout(500);
    }
    const plainCount = await page.locator('.editor-instance .view-line span span.mtk1').count();
    log(`token classes: keyword 'role'=${keywordCls} doc comment=${commentCls} plain text=mtk1 (${plainCount} spans)`);
    checks.grammar = Boolean(keywordCls && commentCls && plainCount > 0 && !/\bmtk1\b/.test(keywordCls) &&
      keywordCls !== commentCls);

    // (3) the language server's diagnostic: a squiggle in the editor and a row in the Problems panel.
    await page.waitForSelector('.squiggly-error', { timeout: 60000 });
    log('error squiggle shown');
    await page.keyboard.press('Control+Shift+M');
    const row = page.locator('.markers-panel .monaco-tl-row').filter({ hasText: expected }).first();
    await row.waitFor({ timeout: 30000 });
    const problem = (await row.innerText()).replace(/\s+/g, ' ');
    checks.diagnostic = expected.test(problem);
    log(`problem: ${problem}`);
    // Go to the diagnostic so that the screenshot shows the squiggle next to the Problems panel.
    await row.click().catch(() => {});
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(out, 'cs-diagnostic.png') });
  } catch (e) {
    log(`ERROR ${e.message.split('\n')[0]}`);
    await page.screenshot({ path: path.join(out, 'cs-error.png') }).catch(() => {});
  }
  await ctx.close();
  fs.rmSync(prof, { recursive: true, force: true });
  for (const [name, ok] of Object.entries(checks)) log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
  const ok = Object.values(checks).every(Boolean);
  log(ok ? 'PASS' : 'FAIL');
  process.exit(ok ? 0 : 1);
})();
