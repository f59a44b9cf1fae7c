/* Convert's "Type text instead" (RVC text mode) against a stubbed server, coded to the contract
 * POST /api/convert/rvc {model_id, text, [reference_audio_id, reference_text], parameters} → 202:
 * the exact body (with and without a picked reference), F5-TTS's phases then the conversion's,
 * the spoken text in the result, empty text refused before calling, WEIGHTS_MISSING naming the
 * pack from the server's message, and the server's message for a voice without training audio. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { cleanup, render, screen, fireEvent, waitFor } from '@testing-library/react'
import { queryClient } from '../lib/queries'
import { FakeES, FakeUpload, FakeBeforeAfter, json, router, sample, type Route } from '../test/fakes'
import { RVC_DEFAULTS } from '../lib/api'

vi.mock('../components/Upload', () => ({ Upload: FakeUpload }))
vi.mock('../components/BeforeAfter', () => ({ BeforeAfter: FakeBeforeAfter }))
const { Convert, RVC_TEXT_PHASES } = await import('./Convert')

const base: Route[] = [
  (u) => (u === '/api/models' ? json(200, { status: 'success', models: [{ model_id: 'model_a', name: 'Alto' }] }) : undefined),
  (u) => (u === '/api/audio?purpose=target' ? json(200, { audio: [] }) : undefined),
  (u) => (u === '/api/audio?purpose=reference' ? json(200, { audio: [sample({ file_id: 'audio_me', filename: 'me.wav' })] }) : undefined),
  (u) => (u === '/api/jobs/job_t' ? json(200, { job_id: 'job_t', status: 'queued', queue_position: 1 }) : undefined),
]
const convert = (res: () => Response): Route => (u, i) => (u === '/api/convert/rvc' && i?.method === 'POST' ? res() : undefined)
const started = () => json(202, { status: 'conversion_started', job_id: 'job_t', estimated_duration_seconds: 30, progress_stream_url: '/api/progress/job_t' })
let fetchMock: ReturnType<typeof vi.fn>
const posted = () => fetchMock.mock.calls.filter(([u, i]) => u === '/api/convert/rvc' && i?.method === 'POST')

beforeEach(() => {
  history.replaceState(null, '', '/')
  FakeES.all = []
  vi.stubGlobal('EventSource', FakeES)
  fetchMock = vi.fn(router(...base, convert(started)))
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => vi.unstubAllGlobals())

async function textMode() {
  render(<Convert />)
  await screen.findByLabelText('Voice model')
  fireEvent.click(screen.getByLabelText(/Type text instead/))
  expect(screen.queryByText('fake upload target')).toBeNull()   // no recording asked for
}

describe('Convert: type text instead', () => {
  it('posts the text alone (the model’s training audio is the reference) and follows both halves', async () => {
    await textMode()
    fireEvent.change(screen.getByLabelText('Text to speak'), { target: { value: '  Hello there.  ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(JSON.parse(posted()[0][1].body)).toEqual({ model_id: 'model_a', text: 'Hello there.', parameters: RVC_DEFAULTS })
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/job_t'))
    expect(location.search).toBe('?model=model_a&job=job_t&mode=text')
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(RVC_TEXT_PHASES)
    FakeES.last!.emit('progress', { percent: 30, phase: 'generating', message: 'Generating speech...' })
    expect(screen.getByText('generating').getAttribute('aria-current')).toBe('step')
    FakeES.last!.emit('progress', { percent: 75, phase: 'converting' })
    expect(screen.getByText('generating').className).toBe('done')
    FakeES.last!.emit('complete', { output_audio_id: 'audio_out', text: 'Hello there.', reference_text: 'some words',
      reference_source: 'training_audio', reference_audio_id: 'audio_train', reference_start_seconds: 8.78, reference_end_seconds: 20.64 })
    expect(screen.getByTestId('result-audio').getAttribute('src')).toBe('/api/download/audio_out?format=wav')
    expect(screen.getByTestId('spoken-text').textContent).toMatch(/Spoken: “Hello there\.”.*its training audio \(8\.8–20\.6 s of a recording\).*“some words”/)
    expect(screen.queryByTestId('before-after')).toBeNull()   // nothing recorded to compare with
  })

  it('restores a running text job from ?model=&job=&mode=text with its phases', async () => {
    history.replaceState(null, '', '/convert?model=model_a&job=job_t&mode=text')
    history.replaceState(null, '', '/convert?model=model_a&job=job_t&mode=text')
    render(<Convert />)
    await screen.findByLabelText('Voice model')
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/job_t'))
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(RVC_TEXT_PHASES)
    expect((screen.getByLabelText(/Type text instead/) as HTMLInputElement).checked).toBe(true)
    expect(posted()).toHaveLength(0)
  })

  it('sends a picked reference and what it says', async () => {
    await textMode()
    fireEvent.change(screen.getByLabelText('Text to speak'), { target: { value: 'Good morning.' } })
    fireEvent.change(screen.getByLabelText('Speak from'), { target: { value: 'audio_me' } })
    fireEvent.change(screen.getByLabelText('What the recording says (optional)'), { target: { value: 'Some call me nature.' } })
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(JSON.parse(posted()[0][1].body)).toEqual({ model_id: 'model_a', text: 'Good morning.', reference_audio_id: 'audio_me',
      reference_text: 'Some call me nature.', parameters: RVC_DEFAULTS })
  })

  it('a reload keeps text mode, the typed text, the chosen recording and what it says', async () => {
    await textMode()
    fireEvent.change(screen.getByLabelText('Text to speak'), { target: { value: 'Good morning.' } })
    fireEvent.change(await screen.findByLabelText('Speak from'), { target: { value: 'audio_me' } })
    fireEvent.change(screen.getByLabelText('What the recording says (optional)'), { target: { value: 'Some call me nature.' } })
    cleanup()   // the tab reloads: a new page, the same session
    queryClient.clear()
    render(<Convert />)
    await screen.findByLabelText('Voice model')
    expect((screen.getByLabelText(/Type text instead/) as HTMLInputElement).checked).toBe(true)
    expect((screen.getByLabelText('Text to speak') as HTMLTextAreaElement).value).toBe('Good morning.')
    await screen.findByRole('option', { name: /me\.wav/ })
    expect((screen.getByLabelText('Speak from') as HTMLSelectElement).value).toBe('audio_me')
    expect((screen.getByLabelText('What the recording says (optional)') as HTMLInputElement).value).toBe('Some call me nature.')
  })

  it('asks for text before calling the server', async () => {
    await textMode()
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    await new Promise((r) => setTimeout(r, 20))
    expect(posted()).toHaveLength(0)
  })

  it('503 WEIGHTS_MISSING names the pack the server names (F5-TTS)', async () => {
    fetchMock.mockImplementation(router(...base, convert(() => json(503, { status: 'error', error_code: 'WEIGHTS_MISSING',
      message: 'F5-TTS weights are not installed under /d/weights; install them with: voiceclone models pull f5tts --data DIR',
      user_message: 'Voice models are not installed yet.' }))))
    await textMode()
    fireEvent.change(screen.getByLabelText('Text to speak'), { target: { value: 'Hi.' } })
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    const box = await screen.findByTestId('weights-missing')
    expect(box.querySelector('code')?.textContent).toBe('voiceclone models pull f5tts --data DIR')
  })

  it('shows why a voice without training audio needs a reference', async () => {
    fetchMock.mockImplementation(router(...base, convert(() => json(400, { status: 'error', error_code: 'INVALID_REQUEST',
      message: 'the voice model "Alto" has no training recording in your library to speak from: pick a recording of this voice as the reference (reference_audio_id)',
      user_message: 'The request was not understood. Please check its fields.' }))))
    await textMode()
    fireEvent.change(screen.getByLabelText('Text to speak'), { target: { value: 'Hi.' } })
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    expect((await screen.findByTestId('convert-error')).textContent).toMatch(/has no training recording.*pick a recording of this voice/)
  })
})
