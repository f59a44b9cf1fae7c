/* "We heard: …" for one recording of the quick clone: the transcription's progress while it
 * runs, then the words (per timed segment for a target) as plain text with an "Edit" button.
 * Nothing is typed unless the user chooses to correct it, or speech recognition is not
 * installed (then a text box asks for the words). */
import { useId, useState } from 'react'
import type { Heard } from '../lib/api'
import type { Transcription } from '../lib/useTranscription'
import { fmtDuration } from '../lib/format'

const clock = (s: number) => `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, '0')}`

export function HeardTranscript({ t, what, typed, onTyped }: {
  t: Transcription
  /** "your voice sample" / "the recording" */
  what: string
  /** the words typed when recognition is missing */
  typed: string
  onTyped: (v: string) => void
}) {
  const [editing, setEditing] = useState(false)
  const id = useId()
  if (t.missing) {
    return (
      <div className="heard">
        <label htmlFor={id}>Speech recognition is not installed on this server: type what {what} says</label>
        <textarea id={id} rows={2} value={typed} onChange={(e) => onTyped(e.target.value)} />
      </div>
    )
  }
  if (t.error) return <p role="alert" className="error-text" data-testid="heard-error">{t.error}</p>
  if (!t.heard) {
    const e = t.job.last
    const pct = e?.percent !== undefined ? Math.round(e.percent) : undefined
    return (
      <p role="status" className="muted heard" data-testid="heard-progress">
        Listening to {what}…{pct !== undefined && ` ${pct}%`}
        {e?.eta_seconds !== undefined ? ` · about ${fmtDuration(e.eta_seconds)} left` : t.eta !== null ? ` · about ${fmtDuration(t.eta)}` : ''}
      </p>
    )
  }
  const h = t.heard
  const setSegment = (i: number, text: string) => {
    const segments = h.segments.map((s, j) => (j === i ? { ...s, text } : s))
    t.edit({ ...h, segments, text: segments.map((s) => s.text.trim()).filter(Boolean).join(' ') })
  }
  const timed = h.segments.length > 1 || h.duration_seconds !== undefined
  return (
    <div className="heard" data-testid="heard">
      {!editing && (
        <p><span className="muted">We heard:</span> <q data-testid="heard-text">{h.text}</q>{' '}
          <button type="button" className="small" aria-label={`Edit what we heard in ${what}`} onClick={() => setEditing(true)}>Edit</button>
        </p>
      )}
      {editing && !timed && (
        <>
          <label htmlFor={id}>What {what} says (correct it if we misheard)</label>
          <textarea id={id} rows={2} value={h.text} onChange={(e) => t.edit({ ...h, text: e.target.value, segments: h.segments.map((s) => ({ ...s, text: e.target.value })) })} />
        </>
      )}
      {editing && timed && (
        <fieldset className="segments">
          <legend>What {what} says, part by part (each part keeps its place in time)</legend>
          {h.segments.map((s, i) => (
            <div key={i} className="segment">
              <label htmlFor={`${id}-${i}`}>{clock(s.start)}–{clock(s.end)}</label>
              <input id={`${id}-${i}`} type="text" value={s.text} onChange={(e) => setSegment(i, e.target.value)} />
            </div>
          ))}
        </fieldset>
      )}
      {editing && <button type="button" className="small" onClick={() => setEditing(false)}>Done editing</button>}
    </div>
  )
}

/** The words of a Heard for the request: the (edited) text, or null when empty. */
export const heardText = (h: Heard | null) => (h && h.text.trim() ? h.text.trim() : null)
