/* Playwright specs for the studio UI, run by tests/e2e/run.sh against a real
 * `voiceclone serve`. playwright-core + Debian chromium (no browser download), axe-core
 * via @axe-core/playwright on every page (no serious/critical violations allowed).
 * A tiny sequential harness: each spec gets a fresh page; failures save a screenshot. */
import { createRequire } from 'node:module'
import { mkdtempSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(join(process.env.VCS_WEB, 'package.json'))
const { chromium } = require('playwright-core')
const { AxeBuilder } = require('@axe-core/playwright')

const BASE = process.env.VCS_BASE
const AUDIO = process.env.VCS_AUDIO_DIR
const SHOTS = process.env.VCS_SHOTS
const TIMEOUT = 15000

function assert(cond, msg) { if (!cond) throw new Error('assertion failed: ' + msg) }

async function axe(page, where) {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  if (bad.length) {
    throw new Error(`axe on ${where}: ` + bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`).join('; '))
  }
  return r
}

async function api(path, init) {
  const res = await fetch(BASE + path, init)
  return { status: res.status, body: await res.json().catch(() => null) }
}

async function uploadThroughUi(page, input, file) {
  await page.locator(`[data-testid="upload-input-${input}"]`).setInputFiles(join(AUDIO, file))
}

const state = {}
const specs = [
  ['home renders both paths, the weights banner from /api/system, and is axe clean', async (page) => {
    const sys = await api('/api/system')
    await page.goto(BASE + '/')
    await page.getByRole('heading', { name: 'Clone your voice in minutes' }).waitFor()
    await page.getByRole('link', { name: 'Try quick clone' }).waitFor()
    await page.getByRole('link', { name: 'Start training' }).waitFor()
    await page.getByRole('link', { name: 'Browse models' }).waitFor()
    const banner = page.getByTestId('weights-banner')
    if (sys.body.weights_status === 'missing') {
      await banner.waitFor()
      const t = await banner.innerText()
      assert(/Voice models are not installed/.test(t) && /voiceclone models pull/.test(t), 'banner text: ' + t)
      for (const w of sys.body.weights.filter((x) => !x.installed)) assert(t.includes(w.name), 'banner names ' + w.name)
    } else {
      assert(await banner.count() === 0, 'no banner when weights are installed')
    }
    await page.getByRole('complementary').getByRole('heading', { name: 'Jobs' }).waitFor()
    await axe(page, 'home')
  }],
  ['keyboard: skip link first, then navigation; visible focus', async (page) => {
    await page.goto(BASE + '/')
    await page.getByRole('heading', { name: 'Clone your voice in minutes' }).waitFor()
    await page.keyboard.press('Tab')
    assert(await page.evaluate(() => document.activeElement?.textContent) === 'Skip to content', 'skip link focused first')
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle)
    assert(outline !== 'none', 'focus ring visible, got ' + outline)
    await page.keyboard.press('Tab'); await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')   // second nav link after the logo: Home; then Quick clone
    await page.keyboard.press('Tab'); await page.keyboard.press('Enter')
    await page.waitForURL(/\/quick$/)
    await page.getByRole('heading', { name: 'Quick clone', level: 1 }).waitFor()
  }],
  ['pro training: upload a WAV through the UI (tus) and see the quality report', async (page) => {
    await page.goto(BASE + '/train')
    await page.getByRole('heading', { name: 'Pro training' }).waitFor()
    await uploadThroughUi(page, 'training', 'speech.wav')
    const report = page.getByRole('region', { name: /Quality report: speech\.wav/ })
    await report.waitFor({ timeout: TIMEOUT })
    const text = await report.innerText()
    for (const k of ['Duration', 'Grade', 'Signal-to-noise', 'Voice activity', 'Background noise', 'Clipping', 'Loudness', 'Recommendation'])
      assert(text.includes(k), 'report shows ' + k)
    const meter = report.getByRole('meter')
    assert(/dB/.test(await meter.getAttribute('aria-label')), 'SNR meter labelled')
    await page.getByText('Uploaded').waitFor()
    // the server really has it: GET /api/audio lists it with an analysis
    const list = await api('/api/audio')
    const files = list.body.audio ?? []
    const mine = files.find((f) => f.filename === 'speech.wav')
    assert(mine, 'server lists the uploaded file')
    state.audioId = mine.file_id
    assert(text.includes(mine.quality_analysis.quality_grade), 'grade matches the server analysis')
    await axe(page, 'pro training with report')
  }],
  ['tus upload can be paused and resumed, then completes with a report', async (page) => {
    // slow each PATCH down so there is time to pause between 2 MB chunks
    await page.route('**/api/uploads/**', async (route) => {
      if (route.request().method() === 'PATCH') await new Promise((r) => setTimeout(r, 600))
      await route.continue().catch(() => {})
    })
    await page.goto(BASE + '/train')
    await uploadThroughUi(page, 'training', 'long.wav')
    const item = page.locator('.upload-item').filter({ hasText: 'long.wav' })
    await item.getByRole('button', { name: /Pause/ }).click()
    await item.getByText(/Paused at \d+%/).waitFor()
    await page.waitForTimeout(1500)
    assert(await item.getByText(/Paused at/).count() === 1, 'stays paused')
    await item.getByRole('button', { name: /Resume/ }).click()
    await page.getByRole('region', { name: /Quality report: long\.wav/ }).waitFor({ timeout: 30000 })
    await item.getByText('Uploaded').waitFor()
  }],
  ['record in the browser: client-side WAV reaches the server and gets a report', async (page) => {
    await page.goto(BASE + '/quick')
    await page.getByRole('button', { name: /Record/ }).click()
    await page.getByRole('button', { name: /Stop \(/ }).waitFor()
    // the fake microphone beeps once a second: the meter must rise above the -90 dB floor at some point
    await page.waitForFunction(() => Number(document.querySelector('.recorder [role=meter]')?.getAttribute('aria-valuenow')) > -60, null, { timeout: 5000 })
    await page.waitForFunction(() => /Stop \((4|5|6)\./.test(document.querySelector('.recorder button')?.textContent ?? ''), null, { timeout: 15000 })
    await page.getByRole('button', { name: /Stop \(/ }).click()
    const report = page.getByRole('region', { name: /Quality report: recording\.wav/ })
    await report.waitFor({ timeout: TIMEOUT })
    const dur = (await api('/api/audio')).body.audio.find((f) => f.filename === 'recording.wav')?.duration_seconds
    assert(dur > 3.5 && dur < 8, 'recorded duration on the server: ' + dur)
  }],
  ['upload of a non-audio file shows the server\'s message in a toast', async (page) => {
    await page.goto(BASE + '/train')
    await page.getByRole('heading', { name: 'Pro training' }).waitFor()
    await uploadThroughUi(page, 'training', 'fake.wav')
    const failed = page.locator('.upload-item.failed .status')
    await failed.waitFor({ timeout: TIMEOUT })
    const msg = (await failed.innerText()).trim()
    assert(/WAV/.test(msg) && !/undefined|\{|error_code|Upload failed/.test(msg), 'server user_message shown: ' + msg)
    await page.getByRole('status').filter({ hasText: msg }).first().waitFor()
  }],
  ['training audio that is too short is refused with a clear message', async (page) => {
    await page.goto(BASE + '/train')
    await uploadThroughUi(page, 'training', 'short.wav')
    await page.getByRole('status').filter({ hasText: /too short/i }).first().waitFor({ timeout: TIMEOUT })
  }],
  ['models page: empty state, axe clean', async (page) => {
    const m = await api('/api/models')
    assert(m.status === 200 && m.body.models.length === 0, 'fresh server has no models')
    await page.goto(BASE + '/models')   // deep link: server SPA fallback
    await page.getByTestId('models-empty').waitFor()
    await page.getByRole('heading', { name: 'No voice models yet' }).waitFor()
    await axe(page, 'models')
  }],
  ['convert page: missing-model message, axe clean', async (page) => {
    await page.goto(BASE + '/convert')
    await page.getByRole('heading', { name: 'Convert', level: 1 }).waitFor()
    await page.getByTestId('convert-no-models').waitFor()
    const sys = await api('/api/system')
    if (sys.body.weights.some((w) => !w.installed && /^(hubert|rmvpe)/.test(w.name))) {
      const t = await page.getByTestId('convert-missing').innerText()
      assert(/voiceclone models pull/.test(t), 'convert banner gives the command: ' + t)
    }
    await axe(page, 'convert')
  }],
  ['quick clone: form, validation toast, weights banner, axe clean', async (page) => {
    await page.goto(BASE + '/quick')
    await page.getByRole('heading', { name: 'Quick clone', level: 1 }).waitFor()
    await page.getByLabel('Text to generate').fill('Hello from my cloned voice.')
    await page.getByRole('button', { name: 'Generate' }).click()
    await page.getByRole('status').filter({ hasText: 'Add a voice sample first.' }).first().waitFor()
    await page.getByRole('button', { name: /Record/ }).waitFor()
    await page.getByRole('meter', { name: 'Microphone level' }).waitFor()
    await axe(page, 'quick clone')
  }],
  ['before/after page renders both waveforms of real server audio, axe clean', async (page) => {
    assert(state.audioId, 'an uploaded audio id from the upload spec')
    const id = state.audioId
    await page.goto(`${BASE}/compare?a=${id}&b=${id}`)
    await page.getByRole('heading', { name: 'Before / after' }).waitFor({ timeout: TIMEOUT })
    const play = page.getByRole('button', { name: 'Play both (synced)' })
    await play.waitFor()
    await page.waitForFunction(() => !document.querySelector('.before-after button')?.disabled, null, { timeout: TIMEOUT })
    await page.getByRole('radio', { name: /^A:/ }).click()
    assert(await page.getByRole('radio', { name: /^A:/ }).getAttribute('aria-checked') === 'true', 'A/B switch')
    const wav = await page.getByRole('link', { name: 'WAV' }).getAttribute('href')
    assert(wav === `/api/download/${id}?format=wav`, 'download link ' + wav)
    const dl = await fetch(BASE + wav)
    assert(dl.status === 200 && (await dl.arrayBuffer()).byteLength > 1000, 'download works')
    await axe(page, 'compare')
  }],
  ['pages for features this server lacks say so instead of breaking', async (page) => {
    await page.goto(BASE + '/training/job_does_not_exist')
    await page.getByRole('heading', { name: 'Training' }).waitFor()
    await page.getByText(/isn't available on this server yet|does not exist|not found/i).first().waitFor({ timeout: TIMEOUT })
    await page.getByRole('complementary').getByText(/No jobs running|isn't available on this server yet/).waitFor({ timeout: TIMEOUT })
    await page.goto(BASE + '/nowhere')
    await page.getByRole('heading', { name: 'Page not found' }).waitFor()
    await axe(page, 'not found')
  }],
  // last: it drives the server's job scheduler, so a fault there cannot spill into the other specs
  ['jobs: a running job shows live on its page and in the jobs panel, and cancels after confirmation', async (page) => {
    // Uses the jobs module's test-only `sleep` kind (VCS_JOBS_TEST_KINDS=1 in run.sh).
    const r = await api('/api/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'sleep', params: { seconds: 60, steps: 120 } }) })
    if (r.status === 404 && /no endpoint/i.test(r.body?.message ?? '')) return 'SKIP: this server has no /api/jobs yet'
    assert(r.status === 202 && r.body.job_id, 'job submitted: ' + JSON.stringify(r.body))
    const id = r.body.job_id
    await page.goto(`${BASE}/training/${id}`)
    await page.locator('.progress-text').filter({ hasText: /\d+%/ }).waitFor({ timeout: TIMEOUT })
    const p1 = Number(await page.getByRole('progressbar', { name: 'Job progress' }).getAttribute('value'))
    await page.waitForTimeout(1500)
    const p2 = Number(await page.getByRole('progressbar', { name: 'Job progress' }).getAttribute('value'))
    assert(p2 > p1, `progress advances live over SSE (${p1} → ${p2})`)
    const panel = page.getByRole('complementary')
    await panel.getByText('sleep').waitFor({ timeout: TIMEOUT })
    await page.getByRole('button', { name: 'Cancel training' }).click()
    await page.getByRole('button', { name: 'Yes, cancel' }).click()
    await page.getByText('Cancelled.').waitFor({ timeout: TIMEOUT })
    const j = await api('/api/jobs/' + id)
    assert(j.body.status === 'cancelled', 'server says cancelled: ' + j.body.status)
    await page.reload()   // restored from the server
    await page.getByText('Cancelled.').waitFor({ timeout: TIMEOUT })
    await axe(page, 'training')
  }],
]

const t0 = Date.now()
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-profile-')), {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
})
await ctx.grantPermissions(['microphone'], { origin: BASE })
ctx.setDefaultTimeout(TIMEOUT)
let failed = 0, skipped = 0
for (const [name, fn] of specs) {
  const page = await ctx.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  const s = Date.now()
  try {
    const outcome = await fn(page)
    if (typeof outcome === 'string' && outcome.startsWith('SKIP')) {
      skipped++
      console.log(`SKIP ${name}: ${outcome.slice(5).trim()}`)
      await page.close()
      continue
    }
    if (errors.length) throw new Error('uncaught page errors: ' + errors.join(' | '))
    if (process.env.VCS_SHOTS_ALL) {
      mkdirSync(SHOTS, { recursive: true })
      await page.screenshot({ path: join(SHOTS, 'ok_' + name.replace(/[^a-z0-9]+/gi, '_').slice(0, 40) + '.png'), fullPage: true })
    }
    console.log(`PASS ${name} (${Date.now() - s} ms)`)
  } catch (e) {
    failed++
    console.log(`FAIL ${name} (${Date.now() - s} ms)\n    ${String(e.message ?? e).split('\n').slice(0, 6).join('\n    ')}`)
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: join(SHOTS, name.replace(/[^a-z0-9]+/gi, '_').slice(0, 60) + '.png'), fullPage: true }).catch(() => {})
  }
  await page.close()
}
await ctx.close()
console.log(`e2e: ${specs.length - failed - skipped}/${specs.length} passed, ${failed} failed, ${skipped} skipped (server feature missing) in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
process.exit(failed ? 1 : 0)
