/* Quick clone against a stubbed server: validation, the exact POST /api/convert/f5tts body,
 * live phases over SSE, the result player with WAV/MP3 downloads and the loudness-matched
 * before/after, 503 WEIGHTS_MISSING shown with the pull command, a failed job's message,
 * and a browser notification only for a finish seen while hidden. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent, waitFor, cleanup } from '@testing-library/react'
import { useApp } from '../lib/store'
import { FakeES, FakeUpload, FakeBeforeAfter, json, router, sample } from '../test/fakes'

vi.mock('../components/Upload', () => ({ Upload: FakeUpload }))
vi.mock('../components/BeforeAfter', () => ({ BeforeAfter: FakeBeforeAfter }))
const { QuickClone } = await import('./QuickClone')

let fetchMock: ReturnType<typeof vi.fn>
const started = json(202, { status: 'conversion_started', job_id: 'job_q', queue_position: 0, estimated_duration_seconds: 25, progress_stream_url: '/api/progress/job_q' })
const convertRoute = (res: () => Response) => (u: string, i?: RequestInit) => (u === '/api/convert/f5tts' && i?.method === 'POST' ? res() : undefined)
const jobRoute = (u: string) => (u === '/api/jobs/job_q' ? json(200, { job_id: 'job_q', status: 'running', phase: 'preprocessing', progress: 1 }) : undefined)

beforeEach(() => {
  history.replaceState(null, '', '/')
  useApp.setState({ path: '/', search: '' })
  FakeES.all = []
  vi.stubGlobal('EventSource', FakeES)
  fetchMock = vi.fn(router(convertRoute(() => started.clone()), jobRoute))
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => vi.unstubAllGlobals())

function fill(transcript = 'Some call me nature.', text = 'Hello from the studio.') {
  fireEvent.click(screen.getByText('fake upload reference'))
  fireEvent.change(screen.getByLabelText(/Transcript of the sample/), { target: { value: transcript } })
  fireEvent.change(screen.getByLabelText('Text to generate'), { target: { value: text } })
  fireEvent.click(screen.getByRole('button', { name: 'Generate' }))
}
const posted = () => fetchMock.mock.calls.filter(([u, i]) => u === '/api/convert/f5tts' && i?.method === 'POST')

describe('Quick clone', () => {
  it('needs the transcript before it posts anything', async () => {
    render(<QuickClone />)
    fill('')
    await new Promise((r) => setTimeout(r, 20))
    expect(posted()).toHaveLength(0)
  })

  it('posts the request, follows the phases and ends with a player, downloads and before/after', async () => {
    render(<QuickClone />)
    fill()
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(JSON.parse(posted()[0][1].body)).toEqual({ reference_audio_id: 'audio_reference', reference_text: 'Some call me nature.',
      text: 'Hello from the studio.', parameters: { speed: 1, nfe_step: 32 } })
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/job_q'))
    expect(screen.getByText(/Estimated time: about 25s/)).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Generating…' })).toHaveProperty('disabled', true)
    FakeES.last!.emit('progress', { percent: 50, phase: 'generating', message: 'Generating speech...' })
    expect(screen.getByText('generating').getAttribute('aria-current')).toBe('step')
    expect(screen.getByText('voice encoding').className).toBe('done')
    // the server's vocoding phase restarts at 5 %: the bar must not run backwards
    FakeES.last!.emit('progress', { percent: 5, phase: 'vocoding' })
    expect(screen.getByRole('progressbar', { name: 'Job progress' }).getAttribute('value')).toBe('50')
    FakeES.last!.emit('complete', { job_id: 'job_q', output_audio_id: 'audio_out', duration_seconds: 6, processing_time_seconds: 3.9,
      download_url: '/api/download/audio_out', quality_analysis: { loudness_lufs: -35 } })
    const audio = screen.getByTestId('result-audio') as HTMLAudioElement
    expect(audio.getAttribute('src')).toBe('/api/download/audio_out?format=wav')
    expect(audio.hasAttribute('controls')).toBe(true)
    expect(screen.getByRole('link', { name: 'Download WAV' }).getAttribute('href')).toBe('/api/download/audio_out?format=wav')
    expect(screen.getByRole('link', { name: 'Download MP3' }).getAttribute('href')).toBe('/api/download/audio_out?format=mp3')
    expect(screen.getByRole('link', { name: /before\/after on its own page/ }).getAttribute('href')).toBe('/compare?a=audio_reference&b=audio_out')
    // loudness matching gets both measured levels: the sample's and the result's
    expect(screen.getByTestId('before-after').textContent).toBe('audio_reference@-20 vs audio_out@-35')
    expect(screen.getByRole('button', { name: 'Generate' })).toHaveProperty('disabled', false)
  })

  it('puts the job in the address and restores a finished one from it (reload, return visit)', async () => {
    render(<QuickClone />)
    fill()
    await waitFor(() => expect(location.search).toBe('?job=job_q&ref=audio_reference'))
    cleanup()
    FakeES.all = []
    fetchMock.mockImplementation(router(
      (u) => (u === '/api/jobs/job_q' ? json(200, { job_id: 'job_q', status: 'complete', progress: 100,
        result: { output_audio_id: 'audio_out', duration_seconds: 6, quality_analysis: { loudness_lufs: -30 } } }) : undefined),
      (u) => (u === '/api/audio/audio_reference' ? json(200, sample({ file_id: 'audio_reference', quality_analysis: { ...sample().quality_analysis!, loudness_lufs: -21 } })) : undefined)))
    render(<QuickClone />)
    expect((await screen.findByTestId('result-audio')).getAttribute('src')).toBe('/api/download/audio_out?format=wav')
    await waitFor(() => expect(screen.getByTestId('before-after').textContent).toBe('audio_reference@-21 vs audio_out@-30'))
    expect(FakeES.all).toHaveLength(0)   // finished: no stream needed
  })

  it('503 WEIGHTS_MISSING: says what to install, with the command, and starts nothing', async () => {
    fetchMock.mockImplementation(router(convertRoute(() => json(503, { status: 'error', error_code: 'WEIGHTS_MISSING',
      message: 'F5-TTS weights are not installed under /data/weights; install them with: voiceclone models pull f5tts',
      user_message: 'Voice models are not installed yet. Run: voiceclone models pull' }))))
    render(<QuickClone />)
    fill()
    const box = await screen.findByTestId('weights-missing')
    expect(box.getAttribute('role')).toBe('alert')
    expect(box.textContent).toMatch(/Quick clone needs voice models that are not installed/)
    expect(box.querySelector('code')?.textContent).toBe('voiceclone models pull f5tts --data DIR')
    expect(box.textContent).toMatch(/voiceclone models import FILE --to FOLDER --data DIR/)   // the offline way
    // next to the button it blocks, not at the top of the page or in a toast
    expect(box.parentElement!.querySelector('button[type=submit]')?.textContent).toBe('Generate')
    expect(FakeES.all).toHaveLength(0)
    expect(screen.getByRole('heading', { name: 'Quick clone', level: 1 })).toBeTruthy()
  })

  it('a job that fails shows the server message', async () => {
    render(<QuickClone />)
    fill()
    await waitFor(() => expect(FakeES.last).not.toBeNull())
    FakeES.last!.emit('error', { error_code: 'CONVERSION_FAILED', message: 'x', user_message: 'The reference audio could not be read.' })
    expect(screen.getByText('The reference audio could not be read.')).toBeTruthy()
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
      render(<QuickClone />)
      expect(FakeNotification.requestPermission).not.toHaveBeenCalled()   // never on page load
      fill()
      expect(FakeNotification.requestPermission).toHaveBeenCalledOnce()
      await waitFor(() => expect(FakeES.last).not.toBeNull())
      await waitFor(() => expect(screen.getByText(/preprocessing ·/)).toBeTruthy())
      FakeES.last!.emit('complete', { output_audio_id: 'audio_out' })
      expect(shown).toEqual(['Your cloned voice is ready'])
    } finally {
      delete (document as unknown as Record<string, unknown>).hidden
    }
  })
})
