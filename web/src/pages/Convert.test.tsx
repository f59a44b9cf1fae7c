/* RVC convert screen against a stubbed server, coded to the contract
 * POST /api/convert/rvc {model_id, target_audio_id, parameters} →
 * 202 {status:"conversion_started", job_id, estimated_duration_seconds, progress_stream_url}:
 * exact request, phases over SSE, result + downloads + before/after, parameter checks,
 * WEIGHTS_MISSING, a server error message, and a server without the endpoint. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent, waitFor } from '@testing-library/react'
import { KEYS, queryClient } from '../lib/queries'
import { FakeES, FakeUpload, FakeBeforeAfter, json, router, sample, type Route } from '../test/fakes'

vi.mock('../components/Upload', () => ({ Upload: FakeUpload }))
vi.mock('../components/BeforeAfter', () => ({ BeforeAfter: FakeBeforeAfter }))
const { Convert, RVC_PHASES } = await import('./Convert')

const MODELS = [{ model_id: 'model_a', name: 'Alto', quality_grade: 'A' }, { model_id: 'model_b', name: 'Bass' }]
const base: Route[] = [
  (u) => (u === '/api/models' ? json(200, { status: 'success', models: MODELS }) : undefined),
  (u) => (u === '/api/audio?purpose=target' ? json(200, { audio: [sample({ file_id: 'audio_old', filename: 'song.wav', purpose: 'target', quality_analysis: { ...sample().quality_analysis!, loudness_lufs: -14 } })] }) : undefined),
  (u) => (u === '/api/jobs/job_r' ? json(200, { job_id: 'job_r', status: 'queued', queue_position: 1 }) : undefined),
]
const convert = (res: () => Response): Route => (u, i) => (u === '/api/convert/rvc' && i?.method === 'POST' ? res() : undefined)
const started = () => json(202, { status: 'conversion_started', job_id: 'job_r', estimated_duration_seconds: 45, progress_stream_url: '/api/progress/job_r' })
let fetchMock: ReturnType<typeof vi.fn>
const posted = () => fetchMock.mock.calls.filter(([u, i]) => u === '/api/convert/rvc' && i?.method === 'POST')

beforeEach(() => {
  history.replaceState(null, '', '/')
  sessionStorage.clear()
  FakeES.all = []
  vi.stubGlobal('EventSource', FakeES)
  fetchMock = vi.fn(router(...base, convert(started)))
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => vi.unstubAllGlobals())

async function ready() {
  render(<Convert />)
  await screen.findByLabelText('Voice model')
}

describe('Convert (RVC)', () => {
  it('shows a skeleton, then the models; ?model= preselects one', async () => {
    history.replaceState(null, '', '/convert?model=model_b')
    render(<Convert />)
    expect(screen.getByLabelText('Loading')).toBeTruthy()
    const sel = await screen.findByLabelText('Voice model') as HTMLSelectElement
    expect(sel.value).toBe('model_b')
  })

  it('?model= of a model newer than the cached list (just trained) is kept once the list is fetched again', async () => {
    queryClient.setQueryData(KEYS.models, MODELS.slice(0, 1))   // the library as an earlier page saw it
    fetchMock.mockImplementation(router((u) => u === '/api/models'
      ? json(200, { status: 'success', models: [...MODELS, { model_id: 'model_new', name: 'Just trained' }] }) : undefined, ...base))
    history.replaceState(null, '', '/convert?model=model_new')
    render(<Convert />)
    await screen.findByRole('option', { name: 'Just trained' })
    expect((screen.getByLabelText('Voice model') as HTMLSelectElement).value).toBe('model_new')
  })

  it('posts exactly the contract body and follows the four phases to a result', async () => {
    await ready()
    fireEvent.change(screen.getByLabelText('Voice model'), { target: { value: 'model_a' } })
    fireEvent.click(screen.getByText('fake upload target'))
    expect(screen.getByTestId('target-ready').textContent).toMatch(/target\.wav/)
    fireEvent.change(screen.getByLabelText('Pitch shift (semitones)'), { target: { value: '-12' } })
    fireEvent.change(screen.getByLabelText('Index rate'), { target: { value: '0.75' } })
    fireEvent.change(screen.getByLabelText('Protect consonants'), { target: { value: '0.5' } })
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    const [, init] = posted()[0]
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json')
    expect(JSON.parse(init.body)).toEqual({ model_id: 'model_a', target_audio_id: 'audio_target',
      parameters: { pitch_shift: -12, index_rate: 0.75, filter_radius: 3, rms_mix_rate: 0.25, protect: 0.5 } })
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/job_r'))
    expect(location.search).toBe('?model=model_a&job=job_r&target=audio_target')
    await screen.findByText(/Waiting in queue \(position 1\)/)
    expect(screen.getByText(/Estimated time: about 45s/)).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Converting…' })).toHaveProperty('disabled', true)
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(RVC_PHASES)
    FakeES.last!.emit('progress', { percent: 10, phase: 'loading model', message: 'Loading model...' })
    FakeES.last!.emit('phase_complete', { phase: 'loading model', next_phase: 'extracting features' })
    FakeES.last!.emit('progress', { percent: 40, phase: 'extracting_features' })   // spelling variants match
    expect(screen.getByText('extracting features').getAttribute('aria-current')).toBe('step')
    expect(screen.getByText('loading model').className).toBe('done')
    FakeES.last!.emit('progress', { percent: 70, phase: 'converting', message: 'Converting audio...' })
    expect(screen.getByText(/converting · 70% · Converting audio/)).toBeTruthy()
    FakeES.last!.emit('progress', { percent: 90, phase: 'postprocessing' })
    FakeES.last!.emit('complete', { output_audio_id: 'audio_conv', download_url: '/api/download/audio_conv', duration_seconds: 150.5,
      processing_time_seconds: 28.3, quality_analysis: { loudness_lufs: -18 } })
    expect(screen.getByText('Done.')).toBeTruthy()
    expect(screen.getByRole('heading', { name: 'Converted: Alto' })).toBeTruthy()
    expect(screen.getByTestId('result-audio').getAttribute('src')).toBe('/api/download/audio_conv?format=wav')
    expect(screen.getByRole('link', { name: 'Download MP3' }).getAttribute('href')).toBe('/api/download/audio_conv?format=mp3')
    expect(screen.getByText(/Length 2m 31s · made in 28s/)).toBeTruthy()
    expect(screen.getByTestId('before-after').textContent).toBe('audio_target@-20 vs audio_conv@-18')
  })

  it('restores a running conversion from ?model=&job=&target= and follows it', async () => {
    history.replaceState(null, '', '/convert?model=model_b&job=job_r&target=audio_old')
    history.replaceState(null, '', '/convert?model=model_b&job=job_r&target=audio_old')
    fetchMock.mockImplementation(router(...base, (u) => (u === '/api/audio/audio_old' ? json(200, sample({ file_id: 'audio_old', filename: 'song.wav' })) : undefined)))
    await ready()
    expect((screen.getByLabelText('Voice model') as HTMLSelectElement).value).toBe('model_b')
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/job_r'))
    expect((await screen.findByTestId('target-ready')).textContent).toMatch(/song\.wav/)
    FakeES.last!.emit('complete', { output_audio_id: 'audio_conv' })
    expect(screen.getByTestId('result-audio')).toBeTruthy()
    expect(posted()).toHaveLength(0)
  })

  it('a file chosen before that was deleted since says so and is forgotten, and a new upload replaces it', async () => {
    sessionStorage.setItem('vcs:convert.target', JSON.stringify('audio_gone'))
    fetchMock.mockImplementation(router(...base, (u) => u === '/api/audio/audio_gone'
      ? json(404, { status: 'error', error_code: 'AUDIO_NOT_FOUND', message: 'no audio audio_gone', user_message: 'That file does not exist.' }) : undefined))
    await ready()
    expect((await screen.findByTestId('target-lost')).textContent).toMatch(/no longer on the server: add it again/)
    expect(sessionStorage.getItem('vcs:convert.target')).toBeNull()
    fireEvent.click(screen.getByText('fake upload target'))
    expect(screen.getByTestId('target-ready').textContent).toMatch(/target\.wav/)
    expect(screen.queryByTestId('target-lost')).toBeNull()
    expect(sessionStorage.getItem('vcs:convert.target')).toBe('"audio_target"')
  })

  it('a new upload is offered first among the earlier recordings, without listing them again', async () => {
    await ready()
    await screen.findByLabelText('Use an earlier recording')
    fireEvent.click(screen.getByText('fake upload target'))
    const options = [...(screen.getByLabelText('Use an earlier recording') as HTMLSelectElement).options].map((o) => o.value)
    expect(options).toEqual(['', 'audio_target', 'audio_old'])
    expect(fetchMock.mock.calls.filter(([u]) => u === '/api/audio?purpose=target')).toHaveLength(1)
  })

  it('the jobs panel lists a started conversion at once, not at its next poll', async () => {
    const { JobsPanel } = await import('../components/JobsPanel')
    let jobs: unknown[] = []
    fetchMock.mockImplementation(router((u) => u === '/api/jobs' ? json(200, { jobs }) : undefined, ...base, convert(() => {
      jobs = [{ job_id: 'job_r', kind: 'convert_rvc', status: 'queued', queue_position: 1, subject: { model_name: 'Alto', file_name: 'target.wav' } }]
      return started()
    })))
    render(<JobsPanel pollMs={0} />)
    await ready()
    await screen.findByText('No jobs running.')
    fireEvent.click(screen.getByText('fake upload target'))
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    expect((await screen.findByTestId('job-row')).textContent).toMatch(/Voice conversion.*Alto · target\.wav.*#1 in queue/)
  })

  it('can convert an earlier target recording picked from the list', async () => {
    await ready()
    fireEvent.change(await screen.findByLabelText('Use an earlier recording'), { target: { value: 'audio_old' } })
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(JSON.parse(posted()[0][1].body).target_audio_id).toBe('audio_old')
  })

  it('refuses out-of-range parameters before calling the server', async () => {
    await ready()
    fireEvent.click(screen.getByText('fake upload target'))
    fireEvent.change(screen.getByLabelText('Index rate'), { target: { value: '3' } })
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    expect((await screen.findByTestId('convert-error')).textContent).toBe('Index rate must be between 0 and 1.')
    fireEvent.change(screen.getByLabelText('Pitch shift (semitones)'), { target: { value: '' } })
    fireEvent.click(screen.getByRole('button', { name: 'Reset to defaults' }))
    expect((screen.getByLabelText('Index rate') as HTMLInputElement).value).toBe('0.5')
    expect(posted()).toHaveLength(0)
  })

  it('503 WEIGHTS_MISSING names the rvc pull command', async () => {
    fetchMock.mockImplementation(router(...base, convert(() => json(503, { status: 'error', error_code: 'WEIGHTS_MISSING',
      message: 'HuBERT weights are not installed', user_message: 'Voice models are not installed yet. Run: voiceclone models pull' }))))
    await ready()
    fireEvent.click(screen.getByText('fake upload target'))
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    const box = await screen.findByTestId('weights-missing')
    expect(box.querySelector('code')?.textContent).toBe('voiceclone models pull rvc --data DIR')
    expect(box.parentElement!.querySelector('button[type=submit]')?.textContent).toBe('Convert')
    expect(box.textContent).toMatch(/HuBERT weights are not installed/)
  })

  it('shows the server user_message inline (e.g. a deleted model)', async () => {
    fetchMock.mockImplementation(router(...base, convert(() => json(404, { status: 'error', error_code: 'MODEL_NOT_FOUND',
      message: 'model model_a not found', user_message: 'That voice model no longer exists.' }))))
    await ready()
    fireEvent.click(screen.getByText('fake upload target'))
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    expect((await screen.findByTestId('convert-error')).textContent).toBe('That voice model no longer exists.')
    expect(screen.queryByTestId('unavailable')).toBeNull()
  })

  it('a server without the endpoint (404 no endpoint) says conversion is not available yet', async () => {
    fetchMock.mockImplementation(router(...base))
    await ready()
    fireEvent.click(screen.getByText('fake upload target'))
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    expect((await screen.findByTestId('unavailable')).textContent).toMatch(/Voice conversion \(RVC\) isn't available on this server yet/)
  })

  it('empty library: points to training, import and quick clone', async () => {
    fetchMock.mockImplementation(router((u) => (u === '/api/models' ? json(200, { models: [] }) : undefined)))
    render(<Convert />)
    await screen.findByTestId('convert-no-models')
    for (const name of ['Start training', 'Import a model', 'Quick clone']) expect(screen.getByRole('link', { name })).toBeTruthy()
  })
})

