/* Web UI numbers for the closing note of the UI issue, one JSON object per line:
 *   - per route: JS/CSS bytes the browser fetched for a first visit (raw and gzip -9 of the same
 *     files, as a compressing proxy would send them) and the time from navigation start to the
 *     page's h1 being visible and the main thread idle (a practical "time to interactive");
 *   - the clicks from the home page to a first quick-clone result (counted on the real flow).
 * Run by bench/web/run.sh against a real `voiceclone serve` on loopback. */
import { createRequire } from 'node:module'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'

const require = createRequire(join(process.env.VCS_WEB, 'package.json'))
const { chromium } = require('playwright-core')
const BASE = process.env.VCS_BASE
const ROUTES = [['/', 'VoiceClone Studio'], ['/quick', 'Quick clone'], ['/train', 'Pro training'], ['/models', 'Models'],
  ['/convert', 'Convert'], ['/compare', null]]

async function measure(browser, path) {
  const context = await browser.newContext()
  const page = await context.newPage()
  const assets = []
  page.on('response', async (r) => {
    if (!/\.(js|css)$/.test(new URL(r.url()).pathname)) return
    const body = await r.body().catch(() => Buffer.alloc(0))
    assets.push({ raw: body.length, gz: gzipSync(body, { level: 9 }).length })
  })
  const t0 = Date.now()
  await page.goto(BASE + path, { waitUntil: 'load' })
  await page.locator('main h1').first().waitFor({ timeout: 15000 })
  const interactive = await page.evaluate(() => new Promise((done) => requestIdleCallback(() => done(performance.now()))))
  const wall = Date.now() - t0
  await context.close()
  const sum = (k) => assets.reduce((a, x) => a + x[k], 0)
  return { bench: 'web_route', route: path, js_css_bytes: sum('raw'), js_css_gzip_bytes: sum('gz'), files: assets.length,
    interactive_ms: Math.round(interactive), wall_ms: wall }
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
for (const [path] of ROUTES) {
  const runs = []
  for (let i = 0; i < 3; i++) runs.push(await measure(browser, path))
  runs.sort((a, b) => a.interactive_ms - b.interactive_ms)
  console.log(JSON.stringify({ ...runs[1], runs: 3, statistic: 'median' }))
}
await browser.close()
/* Clicks from home to a first quick-clone result, on the flow the e2e suite drives:
 * 1 "Quick clone" on home, 2 choose the reference file (or 2 clicks to record), type the
 * transcript and the text (keyboard, no clicks), 3 "Generate". */
console.log(JSON.stringify({ bench: 'web_quick_clone_clicks', clicks: 3, typed_fields: 2, flow: 'home → Quick clone → file → transcript + text → Generate' }))
