/* Quick clone against a stubbed server: speech to speech as the brief draws it (sample →
 * recording → "we heard" for both, editable, never required → expected time → Generate → phases
 * with ETA → before/after of the original recording), the pre-loaded sample, the server's checks
 * shown before Generate, typing only when speech recognition is missing, text mode, 503
 * WEIGHTS_MISSING with the pull command, a failed job's message, and a browser notification
 * only for a finish seen while hidden. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent, waitFor, cleanup } from '@testing-library/react'
import toast from 'react-hot-toast'
import { FakeES, FakeUpload, FakeBeforeAfter, json, router, sample, type Route } from '../test/fakes'

vi.mock('../components/Upload', () => ({ Upload: FakeUpload }))
vi.mock('../components/BeforeAfter', () => ({ BeforeAfter: FakeBeforeAfter }))
const { QuickClone } = await import('./QuickClone')

let fetchMock: ReturnType<typeof vi.fn>
const started = json(202, { status: 'conversion_started', job_id: 'job_q', queue_position: 0, estimated_duration_seconds: 25, progress_stream_url: '/api/progress/job_q' })
const convertRoute = (res: () => Response): Route => (u, i) => (u === '/api/convert/f5tts' && i?.method === 'POST' ? res() : undefined)
const estimateRoute = (res: () => Response): Route => (u, i) => (u === '/api/convert/f5tts/estimate' && i?.method === 'POST' ? res() : undefined)
const transcribeRoute = (res: (purpose: string) => Response): Route => (u, i) =>
  u === '/api/transcribe' && i?.method === 'POST' ? res(JSON.parse(String(i.body)).purpose) : undefined
const transcribing = (purpose: string) => json(202, { status: 'transcription_started', job_id: purpose === 'reference' ? 'job_r' : 'job_t', estimated_duration_seconds: 4 })
const jobRoute: Route = (u) => {
  const m = u.match(/^\/api\/jobs\/(job_[qrt])$/)
  return m ? json(200, { job_id: m[1], status: 'running', phase: 'preprocessing', progress: 1 }) : undefined
}
const uploadRoute: Route = (u, i) => (u === '/api/upload/target-audio' && i?.method === 'POST'
  ? json(200, sample({ file_id: 'audio_sample', purpose: 'target', filename: 'sample-target.wav', duration_seconds: 9 })) : undefined)
const sampleFile: Route = (u) => (u === '/samples/sample-target.wav' ? new Response(new Uint8Array([82, 73, 70, 70]), { status: 200 }) : undefined)

const stream = (id: string) => FakeES.all.find((e) => e.url === `/api/progress/${id}`)
const HEARD_REF = { purpose: 'reference', text: 'Some call me nature.', clip_seconds: 5, segments: [{ start: 0, end: 5, text: 'Some call me nature.' }] }
const HEARD_TARGET = { purpose: 'target', text: 'Hello there. How are you?', duration_seconds: 15,
  segments: [{ start: 0.5, end: 2, text: 'Hello there.' }, { start: 3, end: 4.5, text: 'How are you?' }] }

beforeEach(() => {
  history.replaceState(null, '', '/')
  sessionStorage.clear()
  FakeES.all = []
  vi.stubGlobal('EventSource', FakeES)
  fetchMock = vi.fn(router(convertRoute(() => started.clone()), estimateRoute(() => json(200, { status: 'ok', estimated_duration_seconds: 25 })),
    transcribeRoute(transcribing), jobRoute, uploadRoute, sampleFile))
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => { cleanup(); vi.unstubAllGlobals() })

const posted = (path = '/api/convert/f5tts') => fetchMock.mock.calls.filter(([u, i]) => u === path && i?.method === 'POST')

/** Sample and recording chosen, both heard. */
async function bothHeard() {
  render(<QuickClone />)
  fireEvent.click(screen.getByText('fake upload reference'))
  await waitFor(() => expect(stream('job_r')).toBeTruthy())
  stream('job_r')!.emit('progress', { percent: 40, phase: 'voice encoding', eta_seconds: 3 })
  expect(screen.getByTestId('heard-progress').textContent).toMatch(/Listening to your voice sample… 40% · about 3s left/)
  stream('job_r')!.emit('complete', HEARD_REF)
  fireEvent.click(screen.getByText('fake upload target'))
  await waitFor(() => expect(stream('job_t')).toBeTruthy())
  stream('job_t')!.emit('complete', HEARD_TARGET)
}

describe('Quick clone', () => {
  it('speech to speech: shows what it heard, nothing to type, the expected time, then posts the edited transcript', async () => {
    await bothHeard()
    expect(JSON.parse(posted('/api/transcribe')[0][1].body)).toEqual({ audio_id: 'audio_reference', purpose: 'reference' })
    expect(JSON.parse(posted('/api/transcribe')[1][1].body)).toEqual({ audio_id: 'audio_target', purpose: 'target' })
    const heard = screen.getAllByTestId('heard-text').map((e) => e.textContent)
    expect(heard).toEqual(['Some call me nature.', 'Hello there. How are you?'])
    expect(screen.queryAllByRole('textbox')).toHaveLength(0)   // nothing asks for typing
    expect(await screen.findByTestId('expected-time')).toHaveProperty('textContent', 'Expected time: about 25s.')
    // correct the second part; its time span stays
    fireEvent.click(screen.getByRole('button', { name: 'Edit what we heard in the recording' }))
    const estimates = posted('/api/convert/f5tts/estimate').length
    fireEvent.change(screen.getByLabelText('0:03.0–0:04.5'), { target: { value: 'How do you do?' } })
    await new Promise((r) => setTimeout(r, 400))
    expect(posted('/api/convert/f5tts/estimate')).toHaveLength(estimates)   // a corrected word does not change the time
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(JSON.parse(posted()[0][1].body)).toEqual({
      reference_audio_id: 'audio_reference', reference_text: 'Some call me nature.', target_audio_id: 'audio_target',
      target_segments: [{ start: 0.5, end: 2, text: 'Hello there.' }, { start: 3, end: 4.5, text: 'How do you do?' }],
      parameters: { speed: 1, pitch_shift: 0, nfe_step: 32 },
    })
    await waitFor(() => expect(stream('job_q')).toBeTruthy())
    stream('job_q')!.emit('progress', { percent: 60, phase: 'generating', message: 'Generating speech...', eta_seconds: 15 })
    expect(screen.getByText('generating').getAttribute('aria-current')).toBe('step')
    expect(screen.getByText('voice encoding').className).toBe('done')
    expect(screen.getByTestId('elapsed').textContent).toMatch(/ETA 15s/)
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeTruthy()
    stream('job_q')!.emit('complete', { output_audio_id: 'audio_out', duration_seconds: 15, quality_analysis: { loudness_lufs: -22 } })
    // before/after: the original recording against its clone
    expect(screen.getByTestId('before-after').textContent).toBe('audio_target@-20 vs audio_out@-22')
    expect((screen.getByTestId('result-audio') as HTMLAudioElement).getAttribute('src')).toBe('/api/download/audio_out?format=wav')
  })

  it('"Use sample audio" uploads the pre-loaded recording as the target', async () => {
    render(<QuickClone />)
    fireEvent.click(screen.getByRole('button', { name: 'Use sample audio' }))
    expect(await screen.findByTestId('target-ready')).toHaveProperty('textContent', 'Recording ready: sample-target.wav (9s)')
    expect(fetchMock.mock.calls.some(([u]) => u === '/samples/sample-target.wav')).toBe(true)
    await waitFor(() => expect(JSON.parse(posted('/api/transcribe')[0][1].body)).toEqual({ audio_id: 'audio_sample', purpose: 'target' }))
  })

  it("shows the server's refusal before Generate (a silent recording: no speech found)", async () => {
    fetchMock.mockImplementation(router(estimateRoute(() => json(400, { status: 'error', error_code: 'QUALITY_TOO_LOW',
      message: 'no speech found in the target recording', user_message: 'No speech found in the recording.' })),
    transcribeRoute((p) => p === 'reference' ? transcribing(p) : json(400, { status: 'error', error_code: 'QUALITY_TOO_LOW',
      message: 'no speech found in the target recording (it is silent)', user_message: 'No speech found in the recording.' })), jobRoute))
    render(<QuickClone />)
    fireEvent.click(screen.getByText('fake upload reference'))
    await waitFor(() => expect(stream('job_r')).toBeTruthy())
    stream('job_r')!.emit('complete', HEARD_REF)
    fireEvent.click(screen.getByText('fake upload target'))
    expect((await screen.findByTestId('heard-error')).textContent).toBe('No speech found in the recording.')
    expect((await screen.findByTestId('expected-error')).textContent).toBe('No speech found in the recording.')
  })

  it('asks for the words only when speech recognition is not installed', async () => {
    fetchMock.mockImplementation(router(convertRoute(() => started.clone()), estimateRoute(() => json(200, { estimated_duration_seconds: 30 })),
      transcribeRoute(() => json(503, { status: 'error', error_code: 'WEIGHTS_MISSING', message: 'install it with: voiceclone models pull whisper' })), jobRoute))
    const toastError = vi.spyOn(toast, 'error')
    render(<QuickClone />)
    fireEvent.click(screen.getByText('fake upload reference'))
    await screen.findByLabelText(/type what your voice sample says/)
    fireEvent.click(screen.getByText('fake upload target'))
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }))   // nothing typed yet: told what is missing
    expect(toastError).toHaveBeenCalledWith('Speech recognition is not installed here: type what the recordings say.')
    expect(posted()).toHaveLength(0)
    fireEvent.change(screen.getByLabelText(/type what your voice sample says/), { target: { value: 'Some call me nature.' } })
    fireEvent.change(await screen.findByLabelText(/type what the recording says/), { target: { value: 'Hello.' } })
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(JSON.parse(posted()[0][1].body)).toMatchObject({ reference_text: 'Some call me nature.', target_audio_id: 'audio_target',
      target_segments: [{ start: 0, end: 15, text: 'Hello.' }] })
  })

  it('text mode: the heard sample transcript and the typed text, with pitch shift', async () => {
    render(<QuickClone />)
    fireEvent.click(screen.getByText('fake upload reference'))
    await waitFor(() => expect(stream('job_r')).toBeTruthy())
    stream('job_r')!.emit('complete', HEARD_REF)
    fireEvent.click(screen.getByLabelText('Text I type'))
    fireEvent.change(screen.getByLabelText('Text to generate'), { target: { value: 'Hello from the studio.' } })
    fireEvent.change(screen.getByLabelText(/Pitch shift/), { target: { value: '-3' } })
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(JSON.parse(posted()[0][1].body)).toEqual({ reference_audio_id: 'audio_reference', reference_text: 'Some call me nature.',
      text: 'Hello from the studio.', parameters: { speed: 1, pitch_shift: -3, nfe_step: 32 } })
    expect(posted('/api/transcribe')).toHaveLength(1)   // the sample only: no recording in text mode
  })

  it('503 WEIGHTS_MISSING: says what to install, with the command, and starts nothing', async () => {
    fetchMock.mockImplementation(router(convertRoute(() => json(503, { status: 'error', error_code: 'WEIGHTS_MISSING',
      message: 'F5-TTS weights are not installed under /data/weights; install them with: voiceclone models pull f5tts',
      user_message: 'Voice models are not installed yet. Run: voiceclone models pull' })), transcribeRoute(transcribing), jobRoute))
    await bothHeard()
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }))
    const box = await screen.findByTestId('weights-missing')
    expect(box.getAttribute('role')).toBe('alert')
    expect(box.querySelector('code')?.textContent).toBe('voiceclone models pull f5tts --data DIR')
    expect(box.parentElement!.querySelector('button[type=submit]')?.textContent).toBe('Generate')
    expect(stream('job_q')).toBeUndefined()
  })

  it('a refused start stays next to Generate, not only in a passing toast', async () => {
    fetchMock.mockImplementation(router(convertRoute(() => json(429, { status: 'error', error_code: 'RATE_LIMITED', message: 'queue full',
      user_message: 'You have 3 jobs waiting: wait for one to finish, then try again.' })),
    estimateRoute(() => json(200, { estimated_duration_seconds: 25 })), transcribeRoute(transcribing), jobRoute))
    await bothHeard()
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }))
    const err = await screen.findByTestId('generate-error')
    expect(err.textContent).toBe('You have 3 jobs waiting: wait for one to finish, then try again.')
    expect(err.parentElement!.querySelector('button[type=submit]')?.textContent).toBe('Generate')
    expect(stream('job_q')).toBeUndefined()
  })

  it('a job that fails shows the server message', async () => {
    await bothHeard()
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }))
    await waitFor(() => expect(stream('job_q')).toBeTruthy())
    stream('job_q')!.emit('error', { error_code: 'QUALITY_TOO_LOW', message: 'x', user_message: 'No speech found in the target recording.' })
    expect(screen.getByText('No speech found in the target recording.')).toBeTruthy()
  })

  it('asks for notification permission on Generate and notifies when a live job finishes in a hidden tab', async () => {
    const shown: string[] = []
    class FakeNotification {
      static permission = 'default'
      static requestPermission = vi.fn(async () => { FakeNotification.permission = 'granted'; return 'granted' })
      onclick: (() => void) | null = null
      constructor(title: string) { shown.push(title) }
      close() {}
    }
    vi.stubGlobal('Notification', FakeNotification)
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true })
    try {
      await bothHeard()
      expect(FakeNotification.requestPermission).not.toHaveBeenCalled()   // never on page load
      fireEvent.click(screen.getByRole('button', { name: 'Generate' }))
      expect(FakeNotification.requestPermission).toHaveBeenCalledOnce()
      await waitFor(() => expect(stream('job_q')).toBeTruthy())
      stream('job_q')!.emit('complete', { output_audio_id: 'audio_out' })
      expect(shown).toEqual(['Your cloned voice is ready'])
    } finally {
      delete (document as unknown as Record<string, unknown>).hidden
    }
  })
})
