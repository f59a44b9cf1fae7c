/* Batch conversion on the Convert page: several uploads make one job (target_audio_ids), a file
 * can be removed before starting, and the result lists every file with a player and a download,
 * plus "Download all (.zip)". A single file still posts the brief's target_audio_id. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { cleanup, render, screen, fireEvent, waitFor } from '@testing-library/react'
import { queryClient } from '../lib/queries'
import { Convert } from './Convert'
import { FakeES, json, router, sample } from '../test/fakes'
import type { AudioFile } from '../lib/api'

let n = 0
vi.mock('../components/Upload', () => ({
  Upload: (p: { onDone: (a: AudioFile) => void }) => (
    <button type="button" onClick={() => { n++; p.onDone(sample({ file_id: `audio_t${n}`, filename: `take${n}.wav`, purpose: 'target', duration_seconds: 10 * n })) }}>upload another</button>
  ),
}))
vi.mock('../components/BeforeAfter', () => ({ BeforeAfter: () => null }))

let fetchMock: ReturnType<typeof vi.fn>
const posted = () => fetchMock.mock.calls.filter(([u, i]) => u === '/api/convert/rvc' && i?.method === 'POST').map(([, i]) => JSON.parse(i.body))

beforeEach(() => {
  n = 0
  history.replaceState(null, '', '/')
  sessionStorage.clear()
  FakeES.all = []
  vi.stubGlobal('EventSource', FakeES)
  fetchMock = vi.fn(router(
    (u) => u === '/api/models' ? json(200, { models: [{ model_id: 'model_a', name: 'Alto' }] }) : undefined,
    (u) => u.startsWith('/api/audio?') ? json(200, { audio: [] }) : undefined,
    (u, i) => u === '/api/convert/rvc' && i?.method === 'POST' ? json(202, { status: 'conversion_started', job_id: 'job_b', estimated_duration_seconds: 60 }) : undefined,
    (u) => u === '/api/jobs/job_b' ? json(200, { job_id: 'job_b', status: 'running', progress: 5 }) : undefined,
  ))
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => vi.unstubAllGlobals())

describe('Batch conversion', () => {
  it('several files, one job; results per file and a zip', async () => {
    render(<Convert />)
    await screen.findByLabelText('Voice model')
    for (let i = 0; i < 3; i++) fireEvent.click(screen.getByText('upload another'))
    expect(screen.getByTestId('batch-ready').textContent).toMatch(/Ready to convert 3 files in one job \(1m 00s in all\)/)
    fireEvent.click(screen.getAllByRole('button').find((b) => b.textContent === 'Remove take2.wav')!)
    expect(screen.getByTestId('batch-ready').textContent).toMatch(/2 files/)
    fireEvent.click(screen.getByRole('button', { name: 'Convert' }))
    await waitFor(() => expect(posted()).toHaveLength(1))
    expect(posted()[0]).toMatchObject({ model_id: 'model_a', target_audio_ids: ['audio_t1', 'audio_t3'] })
    expect(posted()[0].target_audio_id).toBeUndefined()
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/job_b'))
    FakeES.last!.emit('complete', { output_audio_id: 'audio_o1', download_zip_url: '/api/jobs/job_b/outputs.zip', outputs: [
      { output_audio_id: 'audio_o1', input_filename: 'take1.wav', filename: 'take1_rvc_Alto.wav', duration_seconds: 10 },
      { output_audio_id: 'audio_o3', input_filename: 'take3.wav', filename: 'take3_rvc_Alto.wav', duration_seconds: 30 }] })
    const res = screen.getByTestId('batch-result')
    expect(res.textContent).toMatch(/Converted 2 files/)
    expect(screen.getByTestId('download-zip').getAttribute('href')).toBe('/api/jobs/job_b/outputs.zip')
    expect(screen.getByLabelText('Converted take3.wav').getAttribute('src')).toBe('/api/download/audio_o3?format=wav')
    expect(screen.getByRole('link', { name: /Download WAV\s*of take1\.wav/ }).getAttribute('download')).toBe('take1_rvc_Alto.wav')
    expect(document.activeElement?.id).toBe('batch-h')   // focus moves to the result
    expect(screen.queryByTestId('result')).toBeNull()
  })

  it('a reload keeps every chosen file of the batch', async () => {
    render(<Convert />)
    await screen.findByLabelText('Voice model')
    for (let i = 0; i < 2; i++) fireEvent.click(screen.getByText('upload another'))
    cleanup()   // the tab reloads: a new page, the same session, the files read back from the server
    queryClient.clear()
    fetchMock.mockImplementation(router((u) => {
      const m = u.match(/^\/api\/audio\/(audio_t\d)$/)
      return m ? json(200, sample({ file_id: m[1], filename: `take${m[1].slice(-1)}.wav`, purpose: 'target', duration_seconds: 10 })) : undefined
    }, (u) => u === '/api/models' ? json(200, { models: [{ model_id: 'model_a', name: 'Alto' }] }) : undefined,
    (u) => u.startsWith('/api/audio?') ? json(200, { audio: [] }) : undefined))
    render(<Convert />)
    expect((await screen.findByTestId('batch-ready')).textContent).toMatch(/Ready to convert 2 files in one job.*take1\.wav.*take2\.wav/)
  })

  it('a link to another job’s file (from the jobs panel) shows that file alone, not this tab’s batch', async () => {
    sessionStorage.setItem('vcs:convert.target', JSON.stringify('audio_t1'))
    sessionStorage.setItem('vcs:convert.extra', JSON.stringify(['audio_t2']))
    fetchMock.mockImplementation(router((u) => {
      const m = u.match(/^\/api\/audio\/(audio_t\d)$/)
      return m ? json(200, sample({ file_id: m[1], filename: `take${m[1].slice(-1)}.wav`, purpose: 'target', duration_seconds: 10 })) : undefined
    }, (u) => u === '/api/models' ? json(200, { models: [{ model_id: 'model_a', name: 'Alto' }] }) : undefined,
    (u) => u.startsWith('/api/audio?') ? json(200, { audio: [] }) : undefined,
    (u) => u === '/api/jobs/job_old' ? json(200, { job_id: 'job_old', status: 'complete', result: { output_audio_id: 'audio_o9' } }) : undefined))
    history.replaceState(null, '', '/convert?model=model_a&job=job_old&target=audio_t9')
    render(<Convert />)
    expect((await screen.findByTestId('target-ready')).textContent).toMatch(/take9\.wav/)
    expect(screen.queryByTestId('batch-ready')).toBeNull()
    expect(fetchMock.mock.calls.some(([u]) => u === '/api/audio/audio_t2')).toBe(false)
  })
})
