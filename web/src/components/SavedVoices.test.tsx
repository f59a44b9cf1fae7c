/* Instant voices in jsdom against a stubbed server: the library card (kind, name, length,
 * transcript, the sample, rename, delete), "Save this voice" in Quick clone with the words heard
 * in the sample, and picking a saved voice: the request names voice_id, no sample id, and no
 * transcription runs again. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent, waitFor, cleanup } from '@testing-library/react'
import type { Voice } from '../lib/api'
import { FakeES, FakeUpload, FakeBeforeAfter, json, router, sample, type Route } from '../test/fakes'

vi.mock('./Upload', () => ({ Upload: FakeUpload }))
vi.mock('./BeforeAfter', () => ({ BeforeAfter: FakeBeforeAfter }))
const { QuickClone } = await import('../pages/QuickClone')
const { VoiceCard } = await import('./SavedVoices')

const narrator: Voice = { voice_id: 'voice_n', name: 'Narrator', kind: 'instant', reference_audio_id: 'audio_saved',
  reference_text: 'Some call me nature.', duration_seconds: 12.4, created_at: '2026-03-04T05:06:07Z', audio_available: true }

let fetchMock: ReturnType<typeof vi.fn>
let saved: Voice[]
const voicesRoute: Route = (u, i) => {
  if (u === '/api/voices' && (!i?.method || i.method === 'GET')) return json(200, { status: 'success', voices: saved })
  if (u === '/api/voices' && i?.method === 'POST') {
    const b = JSON.parse(String(i.body))
    const v: Voice = { ...narrator, voice_id: 'voice_new', name: b.name, reference_audio_id: b.reference_audio_id, reference_text: b.reference_text ?? '' }
    saved = [v, ...saved]
    return json(201, { ...v, status: 'success' })
  }
  const m = u.match(/^\/api\/voices\/(voice_\w+)$/)
  if (m && i?.method === 'PATCH') return json(200, { ...narrator, name: JSON.parse(String(i.body)).name })
  if (m && i?.method === 'DELETE') return json(200, { status: 'success', voice_id: m[1], deleted: true })
  return undefined
}
const audioRoute: Route = (u) => (u === '/api/audio/audio_saved' ? json(200, sample({ file_id: 'audio_saved', filename: 'narrator.wav' })) : undefined)
const startRoute: Route = (u, i) => {
  if (u === '/api/convert/f5tts' && i?.method === 'POST')
    return json(202, { status: 'conversion_started', job_id: 'job_q', queue_position: 0, estimated_duration_seconds: 20, progress_stream_url: '/api/progress/job_q' })
  if (u === '/api/convert/f5tts/estimate') return json(200, { status: 'ok', estimated_duration_seconds: 20 })
  if (u === '/api/transcribe') return json(202, { status: 'transcription_started', job_id: 'job_r', estimated_duration_seconds: 3 })
  if (u.startsWith('/api/jobs/')) return json(200, { job_id: u.split('/').pop(), status: 'running', phase: 'preprocessing', progress: 1 })
  return undefined
}
const posted = (path: string) => fetchMock.mock.calls.filter(([u, i]) => u === path && i?.method === 'POST')

beforeEach(() => {
  history.replaceState(null, '', '/')
  sessionStorage.clear()
  FakeES.all = []
  saved = [narrator]
  vi.stubGlobal('EventSource', FakeES)
  fetchMock = vi.fn(router(voicesRoute, audioRoute, startRoute))
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => { cleanup(); vi.unstubAllGlobals() })

describe('Instant voices in the library', () => {
  it('shows kind, name, length, transcript and the sample; renames and deletes through the API', async () => {
    const changed = vi.fn()
    render(<ul><VoiceCard v={narrator} onChanged={changed} /></ul>)
    const t = screen.getByTestId('voice-card').textContent!
    expect(t).toMatch(/Instant voice/)
    expect(t).toMatch(/Narrator/)
    expect(t).toMatch(/Length12s/)
    expect(screen.getByTestId('voice-transcript').textContent).toBe('“Some call me nature.”')
    expect(screen.getByLabelText('Sample of Narrator').getAttribute('src')).toBe('/api/download/audio_saved?format=wav')
    fireEvent.click(screen.getByRole('button', { name: /Rename/ }))
    fireEvent.change(screen.getByLabelText('New name'), { target: { value: ' Storyteller ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(changed).toHaveBeenCalledTimes(1))
    const patch = fetchMock.mock.calls.find(([u, i]) => u === '/api/voices/voice_n' && i?.method === 'PATCH')!
    expect(JSON.parse(patch[1].body)).toEqual({ name: 'Storyteller' })
    fireEvent.click(screen.getByRole('button', { name: 'Delete Narrator' }))
    fireEvent.click(screen.getByRole('button', { name: 'Yes, delete' }))
    await waitFor(() => expect(changed).toHaveBeenCalledTimes(2))
    expect(fetchMock.mock.calls.some(([u, i]) => u === '/api/voices/voice_n' && i?.method === 'DELETE')).toBe(true)
  })
  it('a voice whose sample is gone says so instead of offering a dead player', () => {
    render(<ul><VoiceCard v={{ ...narrator, audio_available: false }} onChanged={() => {}} /></ul>)
    expect(screen.queryByLabelText('Sample of Narrator')).toBeNull()
    expect(screen.getByTestId('voice-card').textContent).toMatch(/sample is gone/)
  })
})

describe('Instant voices in Quick clone', () => {
  it('saves the new sample under a name with the words heard in it', async () => {
    saved = []
    render(<QuickClone />)
    fireEvent.click(screen.getByText('fake upload reference'))
    await waitFor(() => expect(FakeES.all.find((e) => e.url === '/api/progress/job_r')).toBeTruthy())
    FakeES.all.find((e) => e.url === '/api/progress/job_r')!.emit('complete', { purpose: 'reference', text: 'Heard words.', segments: [{ start: 0, end: 5, text: 'Heard words.' }] })
    fireEvent.click(screen.getByRole('button', { name: 'Save this voice…' }))
    fireEvent.click(screen.getByRole('button', { name: 'Save this voice' }))
    expect((await screen.findByRole('alert')).textContent).toBe('Give the voice a name.')
    expect(posted('/api/voices')).toHaveLength(0)
    fireEvent.change(screen.getByLabelText('Name this voice to reuse it later'), { target: { value: ' Me ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save this voice' }))
    await waitFor(() => expect(posted('/api/voices')).toHaveLength(1))
    expect(JSON.parse(posted('/api/voices')[0][1].body)).toEqual({ name: 'Me', reference_audio_id: 'audio_reference', reference_text: 'Heard words.' })
    expect((await screen.findByTestId('voice-chosen')).textContent).toMatch(/Using your saved voice Me/)
    expect(screen.queryByTestId('save-voice')).toBeNull()   // saved: nothing more to save
  })
  it('a picked voice is used by voice_id: no upload, no transcription, its own words', async () => {
    render(<QuickClone />)
    fireEvent.change(await screen.findByLabelText('Use a saved voice'), { target: { value: 'voice_n' } })
    expect((await screen.findByTestId('voice-chosen')).textContent).toBe('Using your saved voice Narrator: “Some call me nature.”')
    await waitFor(() => expect(screen.getByTestId('reference-ready').textContent).toMatch(/narrator\.wav/))
    fireEvent.click(screen.getByLabelText(/Text I type/))
    fireEvent.change(screen.getByLabelText('Text to generate'), { target: { value: 'Hello again.' } })
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }))
    await waitFor(() => expect(posted('/api/convert/f5tts')).toHaveLength(1))
    const body = JSON.parse(posted('/api/convert/f5tts')[0][1].body)
    expect(body.voice_id).toBe('voice_n')
    expect(body.reference_audio_id).toBeUndefined()
    expect(body.reference_text).toBeUndefined()   // the server adds the saved transcript
    expect(body.text).toBe('Hello again.')
    expect(posted('/api/transcribe')).toHaveLength(0)
    expect(fetchMock.mock.calls.some(([u]) => String(u).startsWith('/api/upload'))).toBe(false)
  })
  it('a voice chosen earlier in this tab follows the library: renamed there, renamed here; deleted there, dropped here', async () => {
    sessionStorage.setItem('vcs:quick.voice', JSON.stringify({ ...narrator, name: 'Old name' }))
    saved = [{ ...narrator, name: 'New name' }]
    render(<QuickClone />)
    await waitFor(() => expect(screen.getByTestId('voice-chosen').textContent).toMatch(/New name/))
    cleanup()
    saved = []
    render(<QuickClone />)
    await waitFor(() => expect(fetchMock.mock.calls.filter(([u]) => u === '/api/voices').length).toBeGreaterThanOrEqual(2))
    await waitFor(() => expect(screen.queryByTestId('voice-chosen')).toBeNull())
  })
  it('"Use" in the library opens Quick clone with that voice picked', async () => {
    history.replaceState(null, '', '/quick?voice=voice_n')
    render(<QuickClone />)
    expect((await screen.findByTestId('voice-chosen')).textContent).toMatch(/Narrator/)
    expect((screen.getByLabelText('Use a saved voice') as HTMLSelectElement).value).toBe('voice_n')
  })
})
