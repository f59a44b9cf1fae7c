/* "We heard": progress while listening, the words with Edit (no text box until asked), a
 * target's parts edited one by one keeping their times, the sample's text edited as one, an
 * error as an alert, and a text box only when speech recognition is missing. */
import { describe, expect, it, vi, afterEach } from 'vitest'
import { render, screen, fireEvent, cleanup } from '@testing-library/react'
import { useState } from 'react'
import { HeardTranscript, heardText } from './HeardTranscript'
import type { Heard } from '../lib/api'
import type { Transcription } from '../lib/useTranscription'

afterEach(cleanup)

const base = (over: Partial<Transcription> = {}): Transcription => ({
  job: { status: 'running', loss: [], startedAt: 0, last: { percent: 40, eta_seconds: 3 } },
  jobId: 'job_t', heard: null, edit: vi.fn(), error: null, missing: false, eta: 4, ...over,
})

/** Holds the Heard like the page does, so edits show up. */
function Harness({ initial, onEdit }: { initial: Heard; onEdit: (h: Heard) => void }) {
  const [h, setH] = useState(initial)
  return <HeardTranscript t={base({ heard: h, edit: (x) => { setH(x); onEdit(x) } })} what="the recording" typed="" onTyped={() => {}} />
}

describe('HeardTranscript', () => {
  it('shows progress and the time left while listening', () => {
    render(<HeardTranscript t={base()} what="the recording" typed="" onTyped={() => {}} />)
    expect(screen.getByRole('status').textContent).toBe('Listening to the recording… 40% · about 3s left')
    expect(screen.queryByRole('textbox')).toBeNull()
  })

  it('edits a target part by part; each part keeps its span and the text follows', () => {
    const onEdit = vi.fn()
    render(<Harness onEdit={onEdit} initial={{ text: 'Hello there. How are you?', duration_seconds: 9,
      segments: [{ start: 0.5, end: 2, text: 'Hello there.' }, { start: 63, end: 64.25, text: 'How are you?' }] }} />)
    expect(screen.getByTestId('heard-text').textContent).toBe('Hello there. How are you?')
    expect(screen.queryByRole('textbox')).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: 'Edit what we heard in the recording' }))
    expect(screen.getAllByRole('textbox')).toHaveLength(2)
    fireEvent.change(screen.getByLabelText('1:03.0–1:04.3'), { target: { value: 'Who are you?' } })
    expect(onEdit).toHaveBeenLastCalledWith({ text: 'Hello there. Who are you?', duration_seconds: 9,
      segments: [{ start: 0.5, end: 2, text: 'Hello there.' }, { start: 63, end: 64.25, text: 'Who are you?' }] })
    fireEvent.click(screen.getByRole('button', { name: 'Done editing' }))
    expect(screen.getByTestId('heard-text').textContent).toBe('Hello there. Who are you?')
  })

  it("edits a sample's clip as one text", () => {
    const onEdit = vi.fn()
    render(<Harness onEdit={onEdit} initial={{ text: 'Some call me nature', clip_seconds: 5, segments: [{ start: 0, end: 5, text: 'Some call me nature' }] }} />)
    fireEvent.click(screen.getByRole('button', { name: /Edit/ }))
    fireEvent.change(screen.getByLabelText(/says \(correct it/), { target: { value: 'Some call me nature.' } })
    expect(onEdit).toHaveBeenLastCalledWith({ text: 'Some call me nature.', clip_seconds: 5, segments: [{ start: 0, end: 5, text: 'Some call me nature.' }] })
  })

  it('an error is an alert; missing recognition asks for the words', () => {
    render(<HeardTranscript t={base({ error: 'No speech found in the recording.' })} what="the recording" typed="" onTyped={() => {}} />)
    expect(screen.getByRole('alert').textContent).toBe('No speech found in the recording.')
    cleanup()
    const typed = vi.fn()
    render(<HeardTranscript t={base({ missing: true })} what="your voice sample" typed="" onTyped={typed} />)
    fireEvent.change(screen.getByLabelText(/type what your voice sample says/), { target: { value: 'Hi.' } })
    expect(typed).toHaveBeenCalledWith('Hi.')
    expect(heardText({ text: '  ', segments: [] })).toBeNull()
    expect(heardText({ text: ' Hi. ', segments: [] })).toBe('Hi.')
  })
})
