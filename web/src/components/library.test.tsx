/* Library cards, setup notices and upload refusals in jsdom: what an imported voice's file says
 * (no "—"/"0s"), rename through PATCH, the export link; notices naming the exact pack with
 * --data and models import; a dropped non-audio file described. */
import { describe, expect, it, vi, afterEach } from 'vitest'
import { setSystem } from '../test/fakes'
import { render, screen, fireEvent, waitFor } from '@testing-library/react'
import { ModelCard, isImported } from '../pages/Models'
import { BlockedNotice, SystemBanner } from './Common'
import { rejectionMessage } from './Upload'
import { FakeES } from '../test/fakes'
import { packOf, type SystemInfo, type VoiceModel } from '../lib/api'
import { readSession, writeSession } from '../lib/session'

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status })
const imported: VoiceModel = { model_id: 'model_i', name: 'Applio voice', kind: 'rvc', created_at: '2026-01-02T03:04:05Z', quality_grade: '', final_loss: null, file_size_mb: 55,
  training_audio_duration_seconds: 0, training_duration_minutes: 0, version: 'v2', sample_rate: 40000, f0: true, has_index: true,
  index_rows: 12345, source_file: 'voice.zip' }
const trained: VoiceModel = { model_id: 'model_t', name: 'Mine', kind: 'rvc', created_at: '2026-02-03T00:00:00Z', file_size_mb: 55, quality_grade: 'B', final_loss: 20.5, training_audio_duration_seconds: 330,
  training_duration_minutes: 40, version: 'v2', sample_rate: 48000, f0: true, has_index: false,
  training: { attestation: 'The user confirmed that the voice is theirs.', consented_at: '2026-02-03T00:00:00Z' } }

afterEach(() => vi.unstubAllGlobals())

describe('Try it in the library', () => {
  it('uploads the sample recording once, converts 8 s of it with the voice and plays both', async () => {
    FakeES.all = []
    vi.stubGlobal('EventSource', FakeES)
    const f = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/samples/sample-target.wav') return new Response(new Uint8Array([82, 73, 70, 70]), { status: 200 })
      if (url === '/api/upload/target-audio' && init?.method === 'POST')
        return json(200, { file_id: 'audio_sample', filename: 'sample-target.wav', purpose: 'target', duration_seconds: 9 })
      if (url === '/api/convert/rvc' && init?.method === 'POST') return json(202, { status: 'conversion_started', job_id: 'job_try' })
      if (url === '/api/jobs/job_try') return json(200, { job_id: 'job_try', kind: 'convert_rvc', status: 'running', progress: 10 })
      return json(404, { status: 'error', error_code: 'NOT_FOUND', message: 'no endpoint ' + url })
    })
    vi.stubGlobal('fetch', f)
    render(<ul><ModelCard m={imported} onDelete={() => {}} onRenamed={() => {}} /></ul>)
    fireEvent.click(screen.getByRole('button', { name: 'Convert 8 s of a sample recording with this voice' }))
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/job_try'))
    const body = JSON.parse(String(f.mock.calls.find(([u]) => u === '/api/convert/rvc')![1]!.body))
    expect(body).toMatchObject({ model_id: 'model_i', target_audio_id: 'audio_sample', parameters: { clip_seconds: 8 } })
    FakeES.last!.emit('complete', { output_audio_id: 'audio_out' })
    expect(screen.getByLabelText('Original recording').getAttribute('src')).toBe('/api/download/audio_sample?format=wav')
    expect(screen.getByTestId('try-it-audio').getAttribute('src')).toBe('/api/download/audio_out?format=wav')
    expect(f.mock.calls.filter(([u]) => u === '/api/upload/target-audio')).toHaveLength(1)
  })
  it('says why when the sample recording is not installed', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('', { status: 404 })))
    render(<ul><ModelCard m={imported} onDelete={() => {}} onRenamed={() => {}} /></ul>)
    fireEvent.click(screen.getByRole('button', { name: /Convert 8 s of a sample recording/ }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/sample recording is not installed/)
  })
})

describe('Model card', () => {
  it('an imported voice shows what its file says instead of "—" and "0s"', () => {
    render(<ul><ModelCard m={imported} onDelete={() => {}} onRenamed={() => {}} /></ul>)
    const t = screen.getByTestId('model-card').textContent!
    expect(isImported(imported)).toBe(true)
    expect(t).toMatch(/Imported/)
    expect(t).not.toMatch(/Training audio/)
    expect(t).toMatch(/RVC versionv2/)
    expect(t).toMatch(/Sample rate40 kHz/)
    expect(t).toMatch(/Pitch \(f0\)yes/)
    expect(t).toMatch(/Feature index12,345 rows/)
    expect(t).toMatch(/From filevoice\.zip/)
    expect(t).toMatch(/use it only with the permission/)
    expect(screen.getByTestId('export').getAttribute('href')).toBe('/api/models/model_i/export')
  })
  it('a trained voice shows its grade, training audio, loss and consent', () => {
    render(<ul><ModelCard m={trained} onDelete={() => {}} onRenamed={() => {}} /></ul>)
    const t = screen.getByTestId('model-card').textContent!
    expect(t).toMatch(/Training audio5m 30s/)
    expect(t).toMatch(/Final loss20\.50/)
    expect(t).toMatch(/Feature indexnone/)
    expect(t).toMatch(/ConsentThe user confirmed/)
  })
  it('renames through PATCH /api/models/{id} and reports a refusal inline', async () => {
    const f = vi.fn(async (_u: string, i?: RequestInit) => JSON.parse(String(i?.body)).name === 'x'
      ? json(400, { status: 'error', error_code: 'INVALID_REQUEST', message: 'bad', user_message: 'That name cannot be used.' })
      : json(200, { ...trained, name: 'New name' }))
    vi.stubGlobal('fetch', f)
    const renamed = vi.fn()
    render(<ul><ModelCard m={trained} onDelete={() => {}} onRenamed={renamed} /></ul>)
    fireEvent.click(screen.getByRole('button', { name: /Rename/ }))
    fireEvent.change(screen.getByLabelText('New name'), { target: { value: 'x' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    expect((await screen.findByRole('alert')).textContent).toBe('That name cannot be used.')
    fireEvent.change(screen.getByLabelText('New name'), { target: { value: '  New name ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(renamed).toHaveBeenCalled())
    expect(f.mock.calls.at(-1)).toEqual(['/api/models/model_t', expect.objectContaining({ method: 'PATCH', body: '{"name":"New name"}' })])
  })
})

const system = (weights: SystemInfo['weights']): SystemInfo => ({ version: '1', engine: 'c', weights, weights_status: 'missing' })

describe('setup notices', () => {
  it('name the exact pack of each missing weight, --data DIR and the offline import', () => {
    setSystem(system([
      { name: 'f5tts_v1_base', purpose: 'quick clone', installed: false, pack: 'f5tts' },
      { name: 'rvc_pretrained_v2', purpose: 'training base', installed: false, pack: 'rvc-pretrained' },
      { name: 'hubert_base', purpose: 'features', installed: true, pack: 'rvc' }]))
    render(<SystemBanner />)
    const codes = [...screen.getByTestId('weights-banner').querySelectorAll('code')].map((c) => c.textContent)
    expect(codes).toEqual(['voiceclone models pull f5tts --data DIR', 'voiceclone models pull rvc-pretrained --data DIR', 'DIR', './data',
      'voiceclone models import FILE --to FOLDER --data DIR'])
  })
  it('next to a button: blocking weights are an error, weights that only lower quality a warning', () => {
    setSystem(system([
      { name: 'hubert_base', purpose: 'features', installed: true },
      { name: 'rvc_pretrained_v2', purpose: 'training base', installed: false }]))
    render(<BlockedNotice need={['hubert', 'rmvpe']} soft={['rvc_pretrained']} what="Training" />)
    const n = screen.getByTestId('blocked-notice')
    expect(n.className).toContain('warn')
    expect(n.textContent).toMatch(/rvc_pretrained_v2 not installed: Training still works, from scratch/)
    expect(n.textContent).toMatch(/voiceclone models pull rvc-pretrained --data DIR/)   // pack inferred by name on an older server
  })
  it('say nothing when everything needed is installed', () => {
    setSystem(system([{ name: 'hubert_base', purpose: 'f', installed: true }]))
    const { container } = render(<BlockedNotice need={['hubert']} what="Conversion" />)
    expect(container.textContent).toBe('')
  })
  it('packOf follows the server, then the name', () => {
    expect(packOf({ name: 'vocos_mel_24khz' })).toBe('f5tts')
    expect(packOf({ name: 'rmvpe' })).toBe('rvc')
    expect(packOf({ name: 'x', pack: 'rvc-pretrained' })).toBe('rvc-pretrained')
  })
})

describe('uploads and forms', () => {
  it('a dropped non-audio file is described, never silently ignored', () => {
    expect(rejectionMessage({ file: { name: 'notes.txt', type: 'text/plain' }, errors: [{ code: 'file-invalid-type', message: 'x' }] }))
      .toBe('notes.txt is not an audio file (text/plain): choose a WAV, MP3, FLAC or OGG recording.')
    expect(rejectionMessage({ file: { name: 'b.wav' }, errors: [{ code: 'too-many-files', message: 'x' }] })).toMatch(/drop one file here/)
  })
  it('session state round-trips and clears', () => {
    writeSession('t.k', { a: 1 })
    expect(readSession('t.k', null)).toEqual({ a: 1 })
    writeSession('t.k', '')
    expect(readSession('t.k', 'none')).toBe('none')
  })
})
