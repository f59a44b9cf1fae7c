/* Pro training form: training cannot start before the user attests that the voice is theirs
 * (or that they have the speaker's permission); vocal separation is not offered. */
import { describe, expect, it, vi, afterEach, beforeEach } from 'vitest'
import { render, screen, fireEvent } from '@testing-library/react'
import { ProTraining } from './ProTraining'

beforeEach(() => {
  vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ status: 'ok', weights: [] }), { status: 200 })))
})
afterEach(() => vi.unstubAllGlobals())

describe('Pro training form', () => {
  it('needs the consent box before training can start', () => {
    render(<ProTraining />)
    const start = screen.getByRole('button', { name: 'Start training' }) as HTMLButtonElement
    expect(start.disabled).toBe(true)
    fireEvent.click(screen.getByLabelText(/This is my voice, or I have/))
    expect(start.disabled).toBe(false)
  })
  it('does not offer vocal separation, and says why', () => {
    render(<ProTraining />)
    expect(screen.queryByLabelText(/Separate vocals/)).toBeNull()
    expect(screen.getByText(/Vocal separation \(music removal\) is not available yet/)).toBeTruthy()
  })
})
