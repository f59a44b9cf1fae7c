/* Component tests in jsdom: quality report, banners, confirmation, models page states,
 * jobs panel "unavailable" and routing. fetch is stubbed per test. */
import { describe, expect, it, vi, afterEach } from 'vitest'
import { setSystem } from '../test/fakes'
import { cleanup, render, screen, fireEvent, waitFor } from '@testing-library/react'
import { QualityReport, qualityProblems, qualityTips, shownGrade } from './QualityReport'
import { ConfirmButton, LicenceNote, SystemBanner } from './Common'
import { JobsPanel } from './JobsPanel'
import { LossPlot } from './LossPlot'
import { BaseModels, Models } from '../pages/Models'
import { queryClient, refreshJobs, refreshSystem } from '../lib/queries'
import type { AudioFile, SystemInfo } from '../lib/api'
import { quality, sample } from '../test/fakes'

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status })

const audio: AudioFile = sample({
  file_id: 'a1', filename: 'me.wav', purpose: 'training', duration_seconds: 42,
  quality_analysis: quality({ snr_db: 12.3, quality_grade: 'D', voice_activity_percent: 40, background_noise_level: 'high',
    recommendation: 'Re-record in a quieter place', clipping_percent: 0.5, loudness_lufs: -35 }),
})

afterEach(() => vi.unstubAllGlobals())

describe('QualityReport', () => {
  it('shows every measure, grade colour and tips', () => {
    render(<QualityReport audio={audio} />)
    expect(screen.getByText('Quality report: me.wav')).toBeTruthy()
    expect(screen.getByText('42s')).toBeTruthy()
    expect(screen.getByText('D').className).toContain('poor')
    expect(screen.getByRole('meter', { name: /12.3 dB/ }).getAttribute('aria-valuenow')).toBe('12')
    expect(screen.getByText('40%')).toBeTruthy()
    expect(screen.getByText('-35.0 LUFS')).toBeTruthy()
    expect(screen.getByText('0.50%')).toBeTruthy()
    // the worst problem is the headline (with the number and the threshold), the rest are tips
    expect(screen.getByTestId('recommendation').textContent).toMatch(/Too noisy: 12.3 dB signal-to-noise, training needs 15 dB/)
    expect(screen.getAllByRole('listitem').length).toBe(qualityTips(audio.quality_analysis!, 42).length - 1)
  })
  it('never says A+ and "record again" at once: clipping lowers the grade and leads the advice', () => {
    const clipped: AudioFile = { ...audio, file_id: 'a2', filename: 'loud.wav', duration_seconds: 400,
      quality_analysis: quality({ snr_db: 50, quality_grade: 'A+', voice_activity_percent: 90, background_noise_level: 'low',
        recommendation: 'The recording is clipping. Lower the input gain and record again.', clipping_percent: 2.5, loudness_lufs: -12 }) }
    render(<QualityReport audio={clipped} />)
    expect(screen.getByTestId('quality-grade').textContent).toBe('D')
    expect(screen.getByTestId('quality-grade').className).toContain('poor')
    expect(screen.getByText(/SNR alone: A\+/)).toBeTruthy()
    expect(screen.getByTestId('recommendation').textContent).toMatch(/2.5% of the samples clip/)
    expect(shownGrade({ ...clipped.quality_analysis!, clipping_percent: 0 }, 400)).toBe('A+')
    expect(qualityProblems({ ...clipped.quality_analysis!, snr_db: 12, quality_grade: 'D' }, 400).map((p) => p.severity)).toEqual([3, 3])
  })
  it('gives no SNR/clipping tips for a clean long file', () => {
    expect(qualityTips(quality({ snr_db: 40, quality_grade: 'A', voice_activity_percent: 90, background_noise_level: 'low', recommendation: '', clipping_percent: 0, loudness_lufs: -18 }), 600)).toEqual([])
  })
  it('shows measures the server could not take (null) as not measured, and raises no problem from them', () => {
    const q = quality({ snr_db: null, voice_activity_percent: null, clipping_percent: null, loudness_lufs: null, quality_grade: 'C',
      recommendation: 'Could not measure this file.' })
    render(<QualityReport audio={{ ...audio, duration_seconds: null, quality_analysis: { ...q, duration_seconds: null } }} />)
    expect(screen.getByText('not measured')).toBeTruthy()
    expect(screen.queryByRole('meter')).toBeNull()
    expect(screen.getAllByText('—').length).toBe(4)   // duration, voice activity, clipping, loudness
    expect(qualityProblems(q, null)).toEqual([])
    expect(screen.getByTestId('recommendation').textContent).toMatch(/Could not measure this file/)
  })
  it('says so when there is no analysis', () => {
    render(<QualityReport audio={{ ...audio, quality_analysis: null }} />)
    expect(screen.getByRole('status').textContent).toMatch(/No quality analysis/)
  })
})

describe('SystemBanner', () => {
  it('says when the server status could not be read, and clears once it can', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(500, { status: 'error', error_code: 'INTERNAL', message: 'x', user_message: 'The server failed.' })))
    await refreshSystem()
    render(<SystemBanner />)
    expect(screen.getByRole('alert').textContent).toBe('Cannot read the server status: The server failed.')
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { version: '0', engine: 'c', weights_status: 'installed', weights: [] })))
    await refreshSystem()
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull())
  })
  const sys = (installed: boolean): SystemInfo => ({ version: '0', engine: 'c', weights_status: installed ? 'installed' : 'missing',
    weights: [{ name: 'f5tts_v1_base', purpose: '', installed }, { name: 'hubert_base', purpose: '', installed: true }] })
  it('names missing weights and the pull command', () => {
    setSystem(sys(false))
    render(<SystemBanner need={['f5tts', 'vocos']} />)
    expect(screen.getByTestId('weights-banner').textContent).toMatch(/f5tts_v1_base.*voiceclone models pull f5tts/)
  })
  it('is hidden when weights are installed', () => {
    setSystem(sys(true))
    const { container } = render(<SystemBanner />)
    expect(container.textContent).toBe('')
  })
})

describe('LicenceNote', () => {
  const sys = (installed: boolean): SystemInfo => ({ version: '0', engine: 'c', weights_status: 'installed',
    weights: [{ name: 'f5tts_v1_base', purpose: 'quick clone', installed, licence: 'CC-BY-NC-4.0',
      licence_note: 'Non-commercial use only' }, { name: 'hubert_base', purpose: 'content', installed: true, licence: 'MIT' }] })
  it('shows the licence of the installed weights a page uses', () => {
    setSystem(sys(true))
    render(<LicenceNote names={['f5tts_v1_base']} />)
    const t = screen.getByTestId('licence-note').textContent
    expect(t).toMatch(/quick clone: licence CC-BY-NC-4.0 — Non-commercial use only/)
    expect(t).not.toMatch(/MIT/)
  })
  it('says nothing while those weights are not installed', () => {
    setSystem(sys(false))
    const { container } = render(<LicenceNote names={['f5tts_v1_base']} />)
    expect(container.textContent).toBe('')
  })
})

describe('BaseModels', () => {
  it('lists every base model with its licence and whether it is installed', () => {
    setSystem({ version: '0', engine: 'c', weights_status: 'missing', weights: [
      { name: 'f5tts_v1_base', purpose: 'quick clone', installed: true, licence: 'CC-BY-NC-4.0', licence_note: 'Non-commercial use only' },
      { name: 'rmvpe', purpose: 'pitch', installed: false, licence: 'MIT' }] })
    render(<BaseModels />)
    const rows = screen.getAllByRole('row')
    expect(rows).toHaveLength(3)
    expect(rows[1].textContent).toMatch(/f5tts_v1_base.*quick clone.*yes.*CC-BY-NC-4.0.*Non-commercial/)
    expect(rows[2].textContent).toMatch(/rmvpe.*no — voiceclone models pull rvc --data DIR.*MIT/)
  })
})

describe('ConfirmButton', () => {
  it('asks before acting and can be dismissed', () => {
    const ok = vi.fn()
    render(<ConfirmButton label="Delete" confirmLabel="Yes, delete" question="Really?" onConfirm={ok} />)
    fireEvent.click(screen.getByText('Delete'))
    fireEvent.click(screen.getByText('Keep'))
    expect(ok).not.toHaveBeenCalled()
    fireEvent.click(screen.getByText('Delete'))
    fireEvent.click(screen.getByText('Yes, delete'))
    expect(ok).toHaveBeenCalledOnce()
  })
})

describe('Models page', () => {
  it('shows skeletons, then the empty state', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { status: 'success', models: [] })))
    render(<Models />)
    expect(screen.getByLabelText('Loading')).toBeTruthy()
    await waitFor(() => expect(screen.getByTestId('models-empty')).toBeTruthy())
    expect(screen.getByRole('heading', { name: 'No voices yet' })).toBeTruthy()
  })
  it('with only instant voices, does not say there are no voices', async () => {
    const voice = { voice_id: 'voice_1', name: 'Narrator', kind: 'instant', reference_audio_id: 'audio_ref', reference_text: 'Hello.',
      duration_seconds: 12, created_at: '2026-01-01T00:00:00Z', audio_available: true }
    vi.stubGlobal('fetch', vi.fn(async (u: string) => u === '/api/voices' ? json(200, { status: 'success', voices: [voice] })
      : json(200, { status: 'success', models: [] })))
    render(<Models />)
    const empty = await screen.findByTestId('models-empty')
    await waitFor(() => expect(empty.textContent).toMatch(/Your saved instant voice below works in Quick clone/))
    expect(screen.getByRole('heading', { name: 'No trained or imported voice models yet' })).toBeTruthy()
    expect(screen.queryByText(/No voices yet|No voice models yet/)).toBeNull()
    expect(screen.getAllByText('Narrator').length).toBeGreaterThan(0)   // the voice itself is listed
  })
  it('after a delete, the list is asked for again (TanStack Query invalidation) and the card goes', async () => {
    let library = [{ model_id: 'm1', name: 'My Voice', quality_grade: 'A', training_audio_duration_seconds: 512, created_at: '2025-01-15T14:30:00Z' }]
    const f = vi.fn(async (u: string, i?: RequestInit) => {
      if (i?.method === 'DELETE') { library = []; return json(200, { status: 'success' }) }
      return u === '/api/models' ? json(200, { status: 'success', models: library }) : json(200, { status: 'success', voices: [] })
    })
    vi.stubGlobal('fetch', f)
    render(<><Models /><Models /></>)   // two screens showing the list share one request
    await waitFor(() => expect(screen.getAllByRole('heading', { name: 'My Voice' })).toHaveLength(2))
    expect(f.mock.calls.filter(([u]) => u === '/api/models')).toHaveLength(1)
    fireEvent.click(screen.getAllByRole('button', { name: 'Delete My Voice' })[0])
    fireEvent.click(screen.getByText('Yes, delete'))
    await waitFor(() => expect(screen.queryAllByRole('heading', { name: 'My Voice' })).toHaveLength(0))
    expect(f.mock.calls.filter(([u]) => u === '/api/models')).toHaveLength(2)
    expect(screen.getAllByTestId('models-empty')).toHaveLength(2)
  })
  it('lists model cards and deletes after confirmation', async () => {
    const f = vi.fn(async (_u: string, i?: RequestInit) => i?.method === 'DELETE' ? json(200, { status: 'success' })
      : json(200, { status: 'success', models: [{ model_id: 'm1', name: 'My Voice', quality_grade: 'A', training_audio_duration_seconds: 512, created_at: '2025-01-15T14:30:00Z' }] }))
    vi.stubGlobal('fetch', f)
    render(<Models />)
    await waitFor(() => expect(screen.getByRole('heading', { name: 'My Voice' })).toBeTruthy())
    expect(screen.getByText('8m 32s')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Delete My Voice' }))
    fireEvent.click(screen.getByText('Yes, delete'))
    await waitFor(() => expect(f.mock.calls.some(([u, i]) => u === '/api/models/m1' && i?.method === 'DELETE')).toBe(true))
  })
})

describe('JobsPanel', () => {
  it('says when the server has no job queue', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(404, { status: 'error', error_code: 'NOT_FOUND', message: 'no endpoint GET /api/jobs' })))
    render(<JobsPanel pollMs={100000} />)
    await waitFor(() => expect(screen.getByTestId('jobs-unavailable')).toBeTruthy())
  })
  it('lists active jobs with queue position and ETA', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { jobs: [
      { job_id: 'j1', kind: 'train', status: 'queued', queue_position: 2, eta_seconds: 125 },
      { job_id: 'j2', kind: 'analyze', status: 'completed' }] })))
    render(<JobsPanel pollMs={100000} />)
    await waitFor(() => expect(screen.getByText(/#2 in queue/)).toBeTruthy())
    expect(screen.getByText(/ETA 2m 05s/)).toBeTruthy()
    // friendly name for the kind, linking to the job's page
    expect(screen.getByRole('link', { name: /Training/ }).getAttribute('href')).toBe('/training/j1')
    expect(screen.queryByText('analyze')).toBeNull()
  })
  it('names what each job works on, shows progress, links to its page and lists recent finished ones', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { jobs: [
      { job_id: 'j3', kind: 'convert_rvc', status: 'running', phase: 'converting', progress: 42, eta_seconds: 20,
        subject: { model_name: 'Alice', model_id: 'model_a', file_name: 'song.wav', audio_id: 'audio_t' } },
      { job_id: 'j4', kind: 'train_rvc', status: 'running', phase: 'training', progress: 30,
        subject: { model_name: 'My voice', file_count: 3 } },
      { job_id: 'j5', kind: 'convert_f5tts', status: 'complete', duration_seconds: 31, subject: { text: 'Hello there', audio_id: 'audio_r' } }] })))
    render(<JobsPanel pollMs={100000} />)
    await waitFor(() => expect(screen.getByText('Alice · song.wav')).toBeTruthy())
    expect(screen.getByText(/converting · 42% · ETA 20s/)).toBeTruthy()
    expect(screen.getByRole('link', { name: /Voice conversion/ }).getAttribute('href')).toBe('/convert?model=model_a&job=j3&target=audio_t')
    expect(screen.getByText('My voice · 3 files')).toBeTruthy()
    expect(screen.getByRole('progressbar', { name: 'Training progress' }).getAttribute('value')).toBe('30')
    const recent = screen.getByRole('list', { name: 'Recently finished jobs' })
    expect(recent.textContent).toMatch(/Quick clone.*“Hello there”.*done · took 31s/)
    expect(screen.getByRole('link', { name: /Quick clone/ }).getAttribute('href')).toBe('/quick?job=j5&ref=audio_r')
    expect(screen.getAllByRole('button', { name: /Cancel/ })).toHaveLength(2)   // only running jobs can be cancelled
  })
  it('names every kind the server runs in words (quick clone\'s "we heard" is a transcribe job)', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { jobs: [
      { job_id: 'j6', kind: 'transcribe', status: 'running', phase: 'voice encoding', progress: 5, subject: { file_name: 'me.wav', audio_id: 'audio_r' } }] })))
    render(<JobsPanel pollMs={100000} />)
    expect((await screen.findByTestId('job-row')).textContent).toMatch(/^Listening \(speech recognition\)me\.wav/)
    expect(screen.queryByText('transcribe')).toBeNull()
  })
})

describe('jobs polling', () => {
  it('never stacks a second GET /api/jobs on a slow one', async () => {
    let release: (r: Response) => void = () => {}
    const f = vi.fn(async () => json(200, { jobs: [] }))
    f.mockImplementationOnce(() => new Promise<Response>((r) => { release = r }))
    vi.stubGlobal('fetch', f)
    render(<JobsPanel pollMs={100000} />)
    await waitFor(() => expect(f).toHaveBeenCalledTimes(1))
    const joined = refreshJobs()   // while the first is still out: joins it
    await new Promise((r) => setTimeout(r, 20))
    expect(f).toHaveBeenCalledTimes(1)
    release(json(200, { jobs: [] }))
    expect(await screen.findByText('No jobs running.')).toBeTruthy()
    await joined
    await refreshJobs()
    expect(f).toHaveBeenCalledTimes(2)
  })
  it('polls on its own, and stops on a server without the job queue', async () => {
    const f = vi.fn(async () => json(404, { status: 'error', error_code: 'NOT_FOUND', message: 'no endpoint GET /api/jobs' }))
    vi.stubGlobal('fetch', f)
    render(<JobsPanel pollMs={30} />)
    await screen.findByTestId('jobs-unavailable')
    const n = f.mock.calls.length
    await new Promise((r) => setTimeout(r, 150))
    expect(f.mock.calls.length).toBe(n)
    const g = vi.fn(async () => json(200, { jobs: [] }))
    vi.stubGlobal('fetch', g)
    cleanup(); queryClient.clear()
    render(<JobsPanel pollMs={30} />)
    await waitFor(() => expect(g.mock.calls.length).toBeGreaterThanOrEqual(3))
  })
})

describe('LossPlot', () => {
  it('describes the latest loss', () => {
    render(<LossPlot points={[{ step: 1, loss: 0.5 }, { step: 2, loss: 0.25 }]} />)
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe('Training loss, latest 0.2500 at step 2')
  })
})

describe('PageErrorBoundary', () => {
  it('replaces a crashing page with a message instead of a blank screen', async () => {
    const { PageErrorBoundary } = await import('./Common')
    const Boom = () => { throw new Error('kaboom') }
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    render(<PageErrorBoundary><Boom /></PageErrorBoundary>)
    spy.mockRestore()
    expect(screen.getByTestId('page-error').textContent).toMatch(/Something went wrong on this page.*kaboom/)
    expect(screen.getByRole('button', { name: 'Reload the page' })).toBeTruthy()
  })
})
