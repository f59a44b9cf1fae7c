/* "We heard …": starts a transcribe job (POST /api/transcribe) for a chosen recording and
 * follows it; the result (text and timed segments) can then be edited by the user. A result is
 * kept per recording in sessionStorage, so a reload or choosing the same file again does not
 * transcribe twice. Whisper not installed (503 WEIGHTS_MISSING) → `missing`: the screen then
 * asks for the words to be typed, the only case where it does. */
import { useEffect, useState } from 'react'
import { api, ApiError, errorMessage, type Heard, type Segment } from './api'
import { readSession, writeSession } from './session'
import { useJob, type JobView } from './useJob'

export interface Transcription {
  job: JobView
  jobId: string | null
  heard: Heard | null
  /** the user's corrections (also stored for the session) */
  edit: (h: Heard) => void
  error: string | null
  /** speech recognition is not installed on the server */
  missing: boolean
  /** the server's estimate for the transcription, seconds */
  eta: number | null
}

const key = (purpose: string, id: string) => `quick.heard.${purpose}.${id}`

function parseHeard(r: Record<string, unknown> | undefined): Heard | null {
  if (!r || typeof r.text !== 'string') return null
  const segments = Array.isArray(r.segments) ? (r.segments as Segment[]).filter((s) => typeof s?.text === 'string') : []
  return {
    text: r.text, segments,
    clip_seconds: typeof r.clip_seconds === 'number' ? r.clip_seconds : undefined,
    duration_seconds: typeof r.duration_seconds === 'number' ? r.duration_seconds : undefined,
  }
}

export function useTranscription(audioId: string | null, purpose: 'reference' | 'target'): Transcription {
  const [jobId, setJobId] = useState<string | null>(null)
  const [heard, setHeard] = useState<Heard | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [missing, setMissing] = useState(false)
  const [eta, setEta] = useState<number | null>(null)
  const job = useJob(jobId)

  useEffect(() => {
    setJobId(null); setError(null); setMissing(false); setEta(null)
    if (!audioId) { setHeard(null); return }
    const kept = readSession<Heard | null>(key(purpose, audioId), null)
    setHeard(kept)
    if (kept) return
    let alive = true
    api.transcribe(audioId, purpose).then((r) => {
      if (!alive) return
      setJobId(r.job_id)
      setEta(typeof r.estimated_duration_seconds === 'number' ? r.estimated_duration_seconds : null)
    }).catch((e) => {
      if (!alive) return
      if (e instanceof ApiError && (e.weightsMissing || e.unavailable)) setMissing(true)
      else setError(errorMessage(e))
    })
    return () => { alive = false }
  }, [audioId, purpose])

  useEffect(() => {
    if (!audioId || !jobId) return
    if (job.status === 'complete') {
      const h = parseHeard(job.result)
      if (h) { setHeard(h); writeSession(key(purpose, audioId), h) } else setError('The transcription finished without a text.')
    } else if (job.status === 'failed') setError(job.error ?? 'The transcription failed.')
  }, [job.status, job.result, job.error, jobId, audioId, purpose])

  const edit = (h: Heard) => { setHeard(h); if (audioId) writeSession(key(purpose, audioId), h) }
  return { job, jobId, heard, edit, error, missing, eta }
}
