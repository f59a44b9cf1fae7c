/* Hook following one job: restores its state from GET /api/jobs/{id} (so a reload or a
 * return visit shows where it is), then listens to the SSE stream (which replays past
 * events). Collects the loss curve for training jobs. */
import { useEffect, useState } from 'react'
import { api, ApiError, type Job } from './api'
import { refreshJobs } from './queries'
import { subscribeProgress, type ProgressEvent } from './progress'
import type { LossPoint } from '../components/LossPlot'

export interface JobView {
  status: 'connecting' | 'queued' | 'running' | 'complete' | 'failed' | 'cancelled' | 'unavailable'
  phase?: string
  last?: ProgressEvent
  loss: LossPoint[]
  result?: Record<string, unknown>
  error?: string
  startedAt: number
  /** when it ended (ms): "Elapsed" stops there */
  endedAt?: number
  /** highest `percent` seen for this job: the bar never runs backwards when a phase
   * reports its own small percent after a bigger overall one */
  peak?: number
}

const higher = (a: number | undefined, b: number | undefined) =>
  b === undefined || !isFinite(b) ? a : a === undefined ? b : Math.max(a, b)

/** Map a server job state onto the view's status. */
export function viewStatus(state: string): JobView['status'] {
  if (state === 'complete' || state === 'completed' || state === 'succeeded') return 'complete'
  if (state === 'cancelled' || state === 'canceled') return 'cancelled'
  if (state === 'failed') return 'failed'
  if (state === 'queued' || state === 'pending') return 'queued'
  return 'running'
}

const TERMINAL = new Set(['complete', 'failed', 'cancelled'])

export function useJob(jobId: string | null): JobView {
  const [v, setV] = useState<JobView>({ status: 'connecting', loss: [], startedAt: Date.now() })
  useEffect(() => {
    if (!jobId) return
    let stop: (() => void) | null = null
    let alive = true
    setV({ status: 'connecting', loss: [], startedAt: Date.now() })
    const listen = () => {
      stop = subscribeProgress(jobId, {
        onProgress: (e) => setV((s) => TERMINAL.has(s.status) ? s : ({
          ...s, status: e.phase === 'queued' || (e.queue_position ?? 0) > 0 ? 'queued' : 'running', phase: e.phase ?? s.phase, last: e,
          peak: higher(s.peak, e.percent),
          loss: typeof e.loss === 'number' && typeof e.step === 'number' ? [...s.loss, { step: e.step, loss: e.loss }] : s.loss,
        })),
        onPhase: (e) => setV((s) => ({ ...s, phase: e.next_phase ?? s.phase })),
        onComplete: (r) => setV((s) => ({ ...s, status: 'complete', result: r, endedAt: s.endedAt ?? Date.now() })),
        onError: (m, code) => setV((s) => s.status === 'complete' ? s
          : { ...s, status: code === 'CANCELLED' ? 'cancelled' : 'failed', error: m, endedAt: s.endedAt ?? Date.now() }),
      })
    }
    api.job(jobId).then((j: Job) => {
      if (!alive) return
      const started = typeof j.started_ms === 'number' && j.started_ms > 0 ? j.started_ms : j.created_at ? Date.parse(j.created_at) : NaN
      const status = viewStatus(j.status)
      const ended = typeof j.finished_ms === 'number' && j.finished_ms > 0 ? j.finished_ms
        : TERMINAL.has(status) && !isNaN(started) && typeof j.duration_seconds === 'number' ? started + j.duration_seconds * 1000
        : TERMINAL.has(status) ? Date.now() : undefined
      setV((s) => ({
        ...s, status, phase: j.phase, result: j.result ?? s.result,
        error: j.error ? j.error.message : s.error,
        last: { percent: j.progress, phase: j.phase, queue_position: j.queue_position, eta_seconds: j.eta_seconds ?? undefined },
        peak: higher(s.peak, j.progress),
        startedAt: isNaN(started) ? s.startedAt : started,
        endedAt: ended,
      }))
      if (!TERMINAL.has(status)) listen()
    }).catch((e) => {
      if (!alive) return
      if (e instanceof ApiError && e.unavailable) setV((s) => ({ ...s, status: 'unavailable' }))
      else if (e instanceof ApiError && e.status === 404) setV((s) => ({ ...s, status: 'failed', error: e.userMessage }))
      else listen()
    })
    return () => { alive = false; stop?.() }
  }, [jobId])
  // a job this page watched just ended: refresh the jobs panel now rather than at its next poll
  const terminal = TERMINAL.has(v.status)
  useEffect(() => { if (jobId && terminal) void refreshJobs() }, [jobId, terminal])
  return v
}
