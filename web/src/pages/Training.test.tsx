/* Training page against a stubbed server: state restored from GET /api/jobs/{id}, live
 * SSE progress (step/total, loss plot, phases), completion, failure and cancel with
 * confirmation. EventSource is replaced by a fake the test drives. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent, waitFor, act } from '@testing-library/react'
import { Training } from './Training'
import { viewStatus } from '../lib/useJob'

class FakeES {
  static last: FakeES | null = null
  static CLOSED = 2
  readyState = 1
  url: string
  listeners: Record<string, ((e: MessageEvent) => void)[]> = {}
  constructor(url: string) { this.url = url; FakeES.last = this }
  addEventListener(name: string, fn: (e: MessageEvent) => void) { (this.listeners[name] ??= []).push(fn) }
  close() { this.readyState = 2 }
  emit(name: string, data: unknown) {
    act(() => { for (const fn of this.listeners[name] ?? []) fn(new MessageEvent(name, { data: JSON.stringify(data) })) })
  }
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status })
let fetchMock: ReturnType<typeof vi.fn>

beforeEach(() => {
  FakeES.last = null
  vi.stubGlobal('EventSource', FakeES)
  fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    if (init?.method === 'DELETE') return json(200, { status: 'cancelling', job_id: 'j1' })
    if (url === '/api/jobs/j1') return json(200, { job_id: 'j1', kind: 'train', status: 'running', phase: 'training', progress: 10, created_at: new Date(Date.now() - 65000).toISOString() })
    return json(404, { status: 'error', error_code: 'NOT_FOUND', message: 'no endpoint' })
  })
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => vi.unstubAllGlobals())

describe('Training page', () => {
  it('restores from the server, then follows SSE progress and completion', async () => {
    render(<Training jobId="j1" />)
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/j1'))
    expect(screen.getByText(/Elapsed 1m 0[5-9]s/)).toBeTruthy()
    FakeES.last!.emit('progress', { step: 150, total_steps: 3500, loss: 0.1523, phase: 'training', eta_seconds: 2100 })
    FakeES.last!.emit('progress', { step: 300, total_steps: 3500, loss: 0.0892, phase: 'training', eta_seconds: 1950 })
    expect(screen.getByText(/step 300\/3500 · loss 0\.0892/)).toBeTruthy()
    expect(screen.getByText(/ETA 32m 30s/)).toBeTruthy()
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe('Training loss, latest 0.0892 at step 300')
    expect(screen.getByText('training').getAttribute('aria-current')).toBe('step')
    FakeES.last!.emit('complete', { job_id: 'j1', model_id: 'm1', final_loss: 0.0124 })
    expect(screen.getByText('Done.')).toBeTruthy()
    expect(screen.getByRole('link', { name: 'Go to your models' })).toBeTruthy()
    expect(screen.queryByRole('button', { name: 'Cancel training' })).toBeNull()
  })
  it('cancels only after confirmation', async () => {
    render(<Training jobId="j1" />)
    await waitFor(() => expect(FakeES.last).not.toBeNull())
    fireEvent.click(screen.getByRole('button', { name: 'Cancel training' }))
    expect(fetchMock.mock.calls.some(([, i]) => i?.method === 'DELETE')).toBe(false)
    fireEvent.click(screen.getByRole('button', { name: 'Yes, cancel' }))
    await waitFor(() => expect(fetchMock.mock.calls.some(([u, i]) => u === '/api/jobs/j1' && i?.method === 'DELETE')).toBe(true))
    FakeES.last!.emit('error', { job_id: 'j1', error_code: 'CANCELLED', message: 'cancelled', user_message: 'The job was cancelled.' })
    expect(screen.getByText('Cancelled.')).toBeTruthy()
  })
  it('stop now keeps the model: a confirmed POST to /stop while training', async () => {
    render(<Training jobId="j1" />)
    await waitFor(() => expect(FakeES.last).not.toBeNull())
    FakeES.last!.emit('progress', { step: 3, total_steps: 100, loss: 40.5, phase: 'training', eta_seconds: 300 })
    fireEvent.click(await screen.findByRole('button', { name: 'Stop now and keep the model' }))
    expect(fetchMock.mock.calls.some(([u]) => u === '/api/jobs/j1/stop')).toBe(false)
    fireEvent.click(screen.getByRole('button', { name: 'Yes, stop and keep it' }))
    await waitFor(() => expect(fetchMock.mock.calls.some(([u, i]) => u === '/api/jobs/j1/stop' && i?.method === 'POST')).toBe(true))
  })
  it('shows the server user_message when the job fails', async () => {
    render(<Training jobId="j1" />)
    await waitFor(() => expect(FakeES.last).not.toBeNull())
    FakeES.last!.emit('error', { error_code: 'CONVERSION_FAILED', message: 'x', user_message: 'Training failed: out of memory.' })
    expect(screen.getByText('Training failed: out of memory.')).toBeTruthy()
  })
  it('a finished job is shown without opening a stream', async () => {
    fetchMock.mockImplementation(async () => json(200, { job_id: 'j1', status: 'complete', phase: 'complete', progress: 100, result: { model_id: 'm1' } }))
    render(<Training jobId="j1" />)
    await waitFor(() => expect(screen.getByText('Done.')).toBeTruthy())
    expect(FakeES.last).toBeNull()
  })
  it('says so when the server has no jobs API', async () => {
    fetchMock.mockImplementation(async () => json(404, { status: 'error', error_code: 'NOT_FOUND', message: 'no endpoint GET /api/jobs/j1' }))
    render(<Training jobId="j1" />)
    await waitFor(() => expect(screen.getByTestId('unavailable')).toBeTruthy())
  })
  it('maps server states', () => {
    expect(viewStatus('complete')).toBe('complete'); expect(viewStatus('cancelled')).toBe('cancelled')
    expect(viewStatus('queued')).toBe('queued'); expect(viewStatus('running')).toBe('running'); expect(viewStatus('failed')).toBe('failed')
  })
})

describe('Finished training', () => {
  it('shows the model name, grade, final loss, epochs, early stop, speech and "Convert with this voice"', async () => {
    fetchMock.mockImplementation(async () => json(200, { job_id: 'j1', kind: 'train_rvc', status: 'complete', started_ms: 1000, finished_ms: 61000,
      result: { model_id: 'model_x', model_name: 'Alice', quality_grade: 'B', final_loss: 19.25, epochs: 3, epochs_planned: 10, steps: 42,
        stopped_early: true, speech_seconds: 312, training_minutes: 12.5,
        training_set: { speech_seconds: 312, pieces: 92, steps_per_epoch: 23, step_seconds: 15, epoch_seconds: 345 } } }))
    render(<Training jobId="j1" />)
    const done = await screen.findByTestId('training-done')
    expect(done.textContent).toMatch(/Your voice model “Alice” is ready/)
    expect(done.textContent).toMatch(/GradeB/)
    expect(done.textContent).toMatch(/Final loss \(mel\)19\.25/)
    expect(done.textContent).toMatch(/Epochs3 of 10/)
    expect(done.textContent).toMatch(/Stopped earlyyes/)
    expect(done.textContent).toMatch(/Speech learnt from5m 12s/)
    expect(screen.getByTestId('training-set').textContent).toBe('92 pieces, about 5m 45s an epoch')
    expect(screen.getByRole('link', { name: 'Convert with this voice' }).getAttribute('href')).toBe('/convert?model=model_x')
    // the clock shows how long it took and does not run on
    expect(screen.getByTestId('elapsed').textContent).toBe('Took 1m 00s')
  })
  it('"Elapsed" stops when a live job ends', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    try {
      render(<Training jobId="j1" />)
      await waitFor(() => expect(FakeES.last).not.toBeNull())
      FakeES.last!.emit('error', { error_code: 'CANCELLED', message: 'cancelled by request' })
      const at = screen.getByTestId('elapsed').textContent
      expect(at).toMatch(/^Took/)
      await act(async () => { vi.advanceTimersByTime(5000) })
      expect(screen.getByTestId('elapsed').textContent).toBe(at)
    } finally { vi.useRealTimers() }
  })
})

describe('Try it', () => {
  it('converts the first seconds of the training audio with the new voice and plays it next to the original', async () => {
    fetchMock.mockImplementation(async (url: string, init?: RequestInit) => {
      if (url === '/api/convert/rvc' && init?.method === 'POST') return json(202, { status: 'conversion_started', job_id: 'job_try' })
      if (url === '/api/jobs/job_try') return json(200, { job_id: 'job_try', kind: 'convert_rvc', status: 'running', progress: 10 })
      return json(200, { job_id: 'j1', kind: 'train_rvc', status: 'complete',
        result: { model_id: 'model_x', model_name: 'Alice', quality_grade: 'B', final_loss: 19, training_audio_ids: ['audio_1', 'audio_2'] } })
    })
    render(<Training jobId="j1" />)
    fireEvent.click(await screen.findByRole('button', { name: /Convert 8 s of your training audio/ }))
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/job_try'))
    const body = JSON.parse(fetchMock.mock.calls.find(([u]) => u === '/api/convert/rvc')![1].body)
    expect(body).toMatchObject({ model_id: 'model_x', target_audio_id: 'audio_1', parameters: { clip_seconds: 8, index_rate: 0.5 } })
    FakeES.last!.emit('complete', { output_audio_id: 'audio_out' })
    expect(screen.getByLabelText('Original recording').getAttribute('src')).toBe('/api/download/audio_1?format=wav')
    expect(screen.getByTestId('try-it-audio').getAttribute('src')).toBe('/api/download/audio_out?format=wav')
  })
})

describe('Training notes', () => {
  it('keeps the re-measured SNR, the speech kept and the training-set report on screen after the progress line moves on', async () => {
    render(<Training jobId="j1" />)
    await waitFor(() => expect(FakeES.last).not.toBeNull())
    FakeES.last!.emit('progress', { phase: 'preprocessing', percent: 5, message: 'After noise removal: SNR 17.2 dB (training minimum 15 dB)' })
    FakeES.last!.emit('progress', { phase: 'feature extraction', percent: 15, message: 'Speech kept after slicing: 312 s in 92 pieces' })
    FakeES.last!.emit('progress', { phase: 'training', percent: 15, message: 'Training set: 312 s of speech in 92 pieces; about 6 min an epoch (23 steps of 15.0 s)' })
    FakeES.last!.emit('progress', { phase: 'training', step: 1, total_steps: 10, loss: 1 })
    const notes = screen.getByTestId('training-notes').textContent
    expect(notes).toMatch(/Training set: 312 s of speech in 92 pieces; about 6 min an epoch/)
    expect(notes).toMatch(/After noise removal: SNR 17\.2 dB/)
    expect(notes).toMatch(/Speech kept after slicing: 312 s in 92 pieces/)
  })
})
