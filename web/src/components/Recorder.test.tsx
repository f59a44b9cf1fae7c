/* Recorder in jsdom with a fake microphone: a take is played back first and only handed on with
 * "Use this recording"; "Discard" drops it; the reading script is offered; the length limit stops
 * the recording by itself. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent, waitFor, act } from '@testing-library/react'
import { Recorder } from './Recorder'

let proc: { onaudioprocess: ((e: unknown) => void) | null; connect: () => void; disconnect: () => void }
class FakeCtx {
  sampleRate = 8000
  createMediaStreamSource() { return { connect() {}, disconnect() {} } }
  createScriptProcessor() { proc = { onaudioprocess: null, connect() {}, disconnect() {} }; return proc }
  get destination() { return {} }
  close() { return Promise.resolve() }
}
const feed = (seconds: number) => act(() => {
  for (let i = 0; i < (seconds * 8000) / 4000; i++)
    proc.onaudioprocess!({ inputBuffer: { getChannelData: () => new Float32Array(4000).fill(0.1) } })
})

beforeEach(() => {
  vi.stubGlobal('AudioContext', FakeCtx)
  Object.defineProperty(navigator, 'mediaDevices', { configurable: true,
    value: { getUserMedia: vi.fn(async () => ({ getTracks: () => [{ stop() {} }] })) } })
  URL.createObjectURL = vi.fn(() => 'blob:take')
  URL.revokeObjectURL = vi.fn()
})
afterEach(() => vi.unstubAllGlobals())

describe('Recorder', () => {
  it('plays a take back before it is used, and can discard it', async () => {
    const used = vi.fn()
    render(<Recorder onRecorded={used} />)
    expect(screen.getByText('The birch canoe slid on the smooth planks.')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: /Record \(10–30 s\)/ }))
    await waitFor(() => expect(proc?.onaudioprocess).toBeTruthy())
    feed(12)
    fireEvent.click(screen.getByRole('button', { name: /Stop \(12\.0 s\)/ }))
    expect(screen.getByLabelText('Your recording').getAttribute('src')).toBe('blob:take')
    expect(screen.getByTestId('take').textContent).toMatch(/Your recording \(12s\)/)
    expect(used).not.toHaveBeenCalled()
    fireEvent.click(screen.getByRole('button', { name: 'Discard' }))
    expect(screen.queryByTestId('take')).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: /Record/ }))
    await waitFor(() => expect(proc?.onaudioprocess).toBeTruthy())
    feed(4)
    fireEvent.click(screen.getByRole('button', { name: /Stop/ }))
    fireEvent.click(screen.getByRole('button', { name: 'Use this recording' }))
    expect(used).toHaveBeenCalledTimes(1)
    const [wav, secs] = used.mock.calls[0]
    expect(secs).toBe(4)
    expect((wav as Blob).size).toBe(44 + 4 * 8000 * 2)   // 16-bit mono WAV of 4 s
  })
  it('stops by itself at the limit; the Pro path offers the whole script', async () => {
    render(<Recorder onRecorded={() => {}} maxSeconds={5} sentences={30} label="up to 10 min" />)
    expect(screen.getAllByRole('listitem')).toHaveLength(30)
    fireEvent.click(screen.getByRole('button', { name: /Record \(up to 10 min\)/ }))
    await waitFor(() => expect(proc?.onaudioprocess).toBeTruthy())
    feed(6)
    expect(screen.getByTestId('take').textContent).toMatch(/\(5s\)/)
  })
})
