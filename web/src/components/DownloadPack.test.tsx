/* "Download models": POST /api/weights/pull {pack}, then the job's progress (file, bytes, speed,
 * ETA) from the SSE stream, "installed" on completion with /api/system read again; a failure
 * says the next try resumes; the pack's size and licence meaning are shown before downloading. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent, waitFor } from '@testing-library/react'
import { DownloadPack } from './DownloadPack'
import { FakeES, json, router } from '../test/fakes'

let fetchMock: ReturnType<typeof vi.fn>
beforeEach(() => {
  FakeES.all = []
  vi.stubGlobal('EventSource', FakeES)
  fetchMock = vi.fn(router(
    (u, i) => u === '/api/weights/pull' && i?.method === 'POST' ? json(202, { status: 'pull_started', job_id: 'job_p', pack: 'rvc' }) : undefined,
    (u) => u === '/api/jobs/job_p' ? json(200, { job_id: 'job_p', kind: 'models_pull', status: 'running', phase: 'downloading', progress: 0 }) : undefined,
    (u) => u === '/api/system' ? json(200, { version: '1', engine: 'c', weights: [], weights_status: 'installed' }) : undefined,
  ))
  vi.stubGlobal('fetch', fetchMock)
})
afterEach(() => vi.unstubAllGlobals())

describe('DownloadPack', () => {
  it('says what it is before, then shows bytes, speed and ETA, then installed', async () => {
    render(<DownloadPack pack="f5tts" />)
    expect(screen.getByText(/about 1\.4 GB · licence CC-BY-NC-4\.0/).textContent).toMatch(/Non-commercial/)
    fireEvent.click(screen.getByRole('button', { name: 'Download these models' }))
    await waitFor(() => expect(FakeES.last?.url).toBe('/api/progress/job_p'))
    expect(JSON.parse(fetchMock.mock.calls.find(([u]) => u === '/api/weights/pull')![1].body)).toEqual({ pack: 'f5tts' })
    FakeES.last!.emit('progress', { phase: 'downloading', percent: 40, message: 'model.safetensors: 540.0 of 1350.0 MB',
      bytes_done: 566231040, bytes_total: 1415577600, bytes_per_second: 10485760, eta_seconds: 81 })
    expect(screen.getByText(/model\.safetensors: 540\.0 of 1350\.0 MB · 10\.0 MB\/s · about 1m 21s left/)).toBeTruthy()
    expect(screen.getByRole('progressbar', { name: 'Download of the f5tts models' }).getAttribute('value')).toBe('40')
    FakeES.last!.emit('complete', { pack: 'f5tts', installed: ['f5tts/model.safetensors'] })
    expect(screen.getByTestId('downloaded-f5tts').textContent).toMatch(/Installed and checked/)
    await waitFor(() => expect(fetchMock.mock.calls.some(([u]) => u === '/api/system')).toBe(true))   // notices refresh
  })
  it('a failed download says so and offers to try again (it resumes)', async () => {
    render(<DownloadPack pack="rvc" compact />)
    fireEvent.click(screen.getByRole('button', { name: /Download the rvc models/ }))
    await waitFor(() => expect(FakeES.last).not.toBeNull())
    FakeES.last!.emit('error', { error_code: 'IO_ERROR', message: 'download of http://x/hubert_base.pt failed' })
    expect(screen.getByRole('alert').textContent).toMatch(/Download failed: download of http:\/\/x\/hubert_base\.pt failed\. The next try resumes/)
    expect(screen.getByRole('button', { name: /Try the download again/ })).toBeTruthy()
  })
})
