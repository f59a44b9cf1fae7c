/* The /compare page reads both files through the shared cache: a skeleton while they load, the
 * before/after with each file's loudness once both are in, and a file that is gone is named (which
 * side, which id) instead of an endless skeleton. */
import { describe, expect, it, vi, afterEach } from 'vitest'
import { render, screen } from '@testing-library/react'
import { FakeBeforeAfter, json, router, sample } from '../test/fakes'

vi.mock('../components/BeforeAfter', () => ({ BeforeAfter: FakeBeforeAfter }))
const { Compare } = await import('./Compare')

const file = (id: string, lufs: number) => (u: string) =>
  u === `/api/audio/${id}` ? json(200, sample({ file_id: id, quality_analysis: { ...sample().quality_analysis!, loudness_lufs: lufs } })) : undefined

afterEach(() => vi.unstubAllGlobals())

describe('Compare', () => {
  it('shows a skeleton, then both files loudness-matched from their analyses', async () => {
    vi.stubGlobal('fetch', vi.fn(router(file('audio_a', -23), file('audio_b', -14))))
    history.replaceState(null, '', '/compare?a=audio_a&b=audio_b')
    render(<Compare />)
    expect(screen.getByLabelText('Loading')).toBeTruthy()
    expect((await screen.findByTestId('before-after')).textContent).toBe('audio_a@-23 vs audio_b@-14')
    expect(screen.queryByLabelText('Loading')).toBeNull()
  })

  it('names the side that is gone, with its id, and stops loading', async () => {
    vi.stubGlobal('fetch', vi.fn(router(file('audio_a', -23), (u) => u === '/api/audio/audio_gone'
      ? json(404, { status: 'error', error_code: 'AUDIO_NOT_FOUND', message: 'no such audio', user_message: 'That file does not exist.' }) : undefined)))
    history.replaceState(null, '', '/compare?a=audio_a&b=audio_gone')
    render(<Compare />)
    const alert = await screen.findByTestId('compare-error')
    expect(alert.textContent).toMatch(/converted recording \(audio_gone\) is no longer on the server/)
    expect(alert.textContent).not.toMatch(/original/)
    expect(screen.queryByLabelText('Loading')).toBeNull()
    expect(screen.queryByTestId('before-after')).toBeNull()
  })

  it('without both ids says where to open it from', () => {
    vi.stubGlobal('fetch', vi.fn(router()))
    history.replaceState(null, '', '/compare?a=audio_a')
    render(<Compare />)
    expect(screen.getByRole('status').textContent).toMatch(/Open this page from a finished conversion/)
  })
})
