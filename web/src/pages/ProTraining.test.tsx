/* Pro training form: consent before training; the training set (every ticked file is sent as
 * training_audio_ids, total and speech shown); noisy takes (report against 15 dB, "use anyway"
 * required, accept_noisy_audio sent, noise removal turned on); running trainings listed; errors
 * and missing weights inline next to the button; the set and name survive a reload. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent, waitFor } from '@testing-library/react'
import { ProTraining } from './ProTraining'
import { FakeUpload, json, quality, router, sample } from '../test/fakes'
import type { AudioFile } from '../lib/api'
import type { Job } from '../lib/api'

/** A job row as GET /api/jobs lists it, with the fields a test does not care about filled in. */
const job = (j: Pick<Job, 'job_id' | 'kind' | 'status'> & Partial<Job>): Job => ({ phase: '', progress: 0, lane: 'cpu', queue_position: 0,
  eta_seconds: null, created_at: '2026-01-01T00:00:00Z', attempts: 0, progress_stream_url: `/api/progress/${j.job_id}`, subject: {}, ...j })

let uploads: AudioFile[] = []
vi.mock('../components/Upload', () => ({
  Upload: (p: { onDone: (a: AudioFile) => void }) => (
    <button type="button" onClick={() => { const a = uploads.shift(); if (a) p.onDone(a) }}>fake upload training</button>
  ),
}))
void FakeUpload

const clean = (id: string, secs: number) => sample({ file_id: id, filename: `${id}.wav`, purpose: 'training', duration_seconds: secs })
const noisy = sample({ file_id: 'audio_noisy', filename: 'noisy.wav', purpose: 'training', duration_seconds: 60,
  quality_analysis: quality({ snr_db: 12.4, quality_grade: 'D', voice_activity_percent: 50, background_noise_level: 'high', recommendation: 'Too noisy' }) })
let fetchMock: ReturnType<typeof vi.fn>
let jobsList: unknown[] = []
const posted = () => fetchMock.mock.calls.filter(([u, i]) => u === '/api/train' && i?.method === 'POST').map(([, i]) => JSON.parse(i.body))

beforeEach(() => {
  sessionStorage.clear()
  uploads = [clean('audio_a', 120), clean('audio_b', 60)]
  history.replaceState(null, '', '/train')
  jobsList = []
  fetchMock = vi.fn(router(
    (u) => u === '/api/jobs' ? json(200, { jobs: jobsList }) : undefined,
    (u, i) => u === '/api/train' && i?.method === 'POST' ? json(202, { job_id: 'job_t', estimated_duration_minutes: 40 }) : undefined,
    (u) => u.startsWith('/api/audio/') ? json(200, [clean('audio_a', 120), clean('audio_b', 60), noisy].find((a) => u.endsWith(a.file_id))) : undefined,
  ))
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => vi.unstubAllGlobals())

const upload = (n: number) => { for (let i = 0; i < n; i++) fireEvent.click(screen.getByText('fake upload training')) }
const fill = () => {
  fireEvent.change(screen.getByLabelText('Model name'), { target: { value: 'My voice' } })
  fireEvent.click(screen.getByLabelText(/This is my voice, or I have/))
}

describe('Pro training form', () => {
  it('needs the consent box before training can start', () => {
    render(<ProTraining />)
    const start = screen.getByRole('button', { name: 'Start training' }) as HTMLButtonElement
    expect(start.disabled).toBe(true)
    fireEvent.click(screen.getByLabelText(/This is my voice, or I have/))
    expect(start.disabled).toBe(false)
  })
  it('the recorder offers a reading script long enough for 5–10 minutes read twice', () => {
    render(<ProTraining />)
    expect(screen.getByText(/Reading script: 80 sentences/)).toBeTruthy()
    expect(screen.getByText(/about 4 minutes once through: for 5–10 minutes, read them all once calmly and once more lively/)).toBeTruthy()
    expect(new Set(screen.getAllByRole('listitem').map((li) => li.textContent)).size).toBe(80)   // no sentence twice
  })
  it('does not offer vocal separation, and says why', () => {
    render(<ProTraining />)
    expect(screen.queryByLabelText(/Separate vocals/)).toBeNull()
    expect(screen.getByText(/Vocal separation \(music removal\) is not available yet/)).toBeTruthy()
  })
  it('trains on every ticked file and shows the total and the speech in it', async () => {
    render(<ProTraining />)
    upload(2)
    // 120 s + 60 s at 80 % voice activity
    expect(screen.getByTestId('set-total').textContent).toMatch(/Training on 2 of 2 files: 3m 00s in total, about 2m 24s of speech/)
    fireEvent.click(screen.getByRole('checkbox', { name: /audio_b\.wav/ }))
    expect(screen.getByTestId('set-total').textContent).toMatch(/Training on 1 of 2 files: 2m 00s/)
    fireEvent.click(screen.getByRole('checkbox', { name: /audio_b\.wav/ }))
    fill()
    fireEvent.click(screen.getByRole('button', { name: 'Start training' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(posted()[0]).toMatchObject({ training_audio_ids: ['audio_a', 'audio_b'], model_name: 'My voice', voice_consent: true })
    expect(posted()[0].accept_noisy_audio).toBeUndefined()
    await waitFor(() => expect(location.pathname).toBe('/training/job_t'))
  })
  it('sends the model flavour: 48 kHz v2 with pitch by default; v1, 32 kHz, no pitch when chosen', async () => {
    render(<ProTraining />)
    upload(1)
    fill()
    fireEvent.click(screen.getByRole('button', { name: 'Start training' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(posted()[0].training_params).toEqual({ sample_rate: 48000, version: 'v2', f0: true })
    fireEvent.change(screen.getByLabelText('Sample rate of the voice'), { target: { value: '32000' } })
    fireEvent.change(screen.getByLabelText('Model version'), { target: { value: 'v1' } })
    fireEvent.click(screen.getByLabelText(/Pitch guidance/))
    fireEvent.click(screen.getByRole('button', { name: 'Start training' }))
    await waitFor(() => expect(posted()).toHaveLength(2))
    expect(posted()[1].training_params).toEqual({ sample_rate: 32000, version: 'v1', f0: false })
  })
  it('noisy take: report against the 15 dB minimum, refused until "use anyway", which turns noise removal on', async () => {
    uploads = [noisy]
    render(<ProTraining />)
    upload(1)
    expect(screen.getByTestId('noisy-report').textContent).toMatch(/noisy\.wav: signal-to-noise 12\.4 dB, the minimum is 15 dB/)
    fireEvent.click(screen.getByLabelText('Remove background noise'))   // off …
    fill()
    fireEvent.click(screen.getByRole('button', { name: 'Start training' }))
    expect((await screen.findByTestId('train-error')).textContent).toMatch(/noisy\.wav is below the 15 dB minimum/)
    expect(posted()).toHaveLength(0)
    fireEvent.click(screen.getByLabelText(/Use the noisy files anyway/))
    expect((screen.getByLabelText('Remove background noise') as HTMLInputElement).checked).toBe(true)   // … on again
    fireEvent.click(screen.getByRole('button', { name: 'Start training' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(posted()[0]).toMatchObject({ training_audio_ids: ['audio_noisy'], accept_noisy_audio: true, preprocessing: { remove_noise: true } })
  })
  it('shows the server refusal and missing weights inline next to the button, not in a toast', async () => {
    fetchMock.mockImplementation(router((u) => u === '/api/train' ? json(503, { status: 'error', error_code: 'WEIGHTS_MISSING',
      message: 'hubert_base.pt is not installed; install the RVC base models with: voiceclone models pull rvc --data DIR' }) : undefined))
    render(<ProTraining />)
    upload(1)
    fill()
    fireEvent.click(screen.getByRole('button', { name: 'Start training' }))
    const box = await screen.findByTestId('weights-missing')
    expect(box.textContent).toMatch(/voiceclone models pull rvc --data DIR/)
    expect(box.parentElement!.querySelector('button[type=submit]')?.textContent).toBe('Start training')
  })
  it('lists the trainings already running, linked to their pages', async () => {
    jobsList = ([
      job({ job_id: 'job_r', kind: 'train_rvc', status: 'running', phase: 'training', progress: 37, subject: { model_name: 'Alice', file_count: 2 } }),
      job({ job_id: 'job_c', kind: 'convert_rvc', status: 'running' }),
      job({ job_id: 'job_d', kind: 'train_rvc', status: 'complete' })])
    render(<ProTraining />)
    const list = await screen.findByTestId('running-trainings')
    expect(list.querySelectorAll('li')).toHaveLength(1)
    expect(screen.getByRole('link', { name: 'Alice · 2 files' }).getAttribute('href')).toBe('/training/job_r')
    expect(list.textContent).toMatch(/training · 37%/)
  })
  it('keeps the uploaded set, the ticks and the name over a reload of the tab', async () => {
    const first = render(<ProTraining />)
    upload(2)
    fireEvent.click(screen.getByRole('checkbox', { name: /audio_b\.wav/ }))
    fireEvent.change(screen.getByLabelText('Model name'), { target: { value: 'Kept' } })
    first.unmount()
    render(<ProTraining />)   // a reload: the same tab's sessionStorage
    await waitFor(() => expect(screen.getByTestId('set-total').textContent).toMatch(/Training on 1 of 2 files/))
    expect((screen.getByLabelText('Model name') as HTMLInputElement).value).toBe('Kept')
    expect((screen.getByRole('checkbox', { name: /audio_a\.wav/ }) as HTMLInputElement).checked).toBe(true)
  })
})
