/* Hook following one job: restores its state from GET /api/jobs/{id} (so a reload or a
 * return visit shows where it is), then listens to the SSE stream. Collects the loss
 * curve for training jobs. */
import { useEffect, useState } from 'react'
import { api, ApiError, type Job } from './api'
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
}

const TERMINAL = new Set(['complete', 'completed', 'succeeded', 'failed', 'cancelled', 'canceled'])

export function useJob(jobId: string | null): JobView {
  const [v, setV] = useState<JobView>({ status: 'connecting', loss: [], startedAt: Date.now() })
  useEffect(() => {
    if (!jobId) return
    let stop: (() => void) | null = null
    let alive = true
    setV({ status: 'connecting', loss: [], startedAt: Date.now() })
    const listen = () => {
      stop = subscribeProgress(jobId, {
        onProgress: (e) => setV((s) => ({
          ...s, status: e.queue_position ? 'queued' : 'running', phase: e.phase ?? s.phase, last: e,
          loss: typeof e.loss === 'number' && typeof e.step === 'number' ? [...s.loss, { step: e.step, loss: e.loss }] : s.loss,
        })),
        onPhase: (e) => setV((s) => ({ ...s, phase: e.next_phase ?? s.phase })),
        onComplete: (r) => setV((s) => ({ ...s, status: 'complete', result: r })),
        onError: (m) => setV((s) => ({ ...s, status: s.status === 'complete' ? s.status : 'failed', error: m })),
      })
    }
    api.job(jobId).then((j: Job) => {
      if (!alive) return
      const started = j.created_at ? Date.parse(j.created_at) : NaN
      const st = j.status === 'completed' || j.status === 'succeeded' ? 'complete' : j.status === 'canceled' ? 'cancelled' : j.status
      setV((s) => ({ ...s, status: TERMINAL.has(j.status) ? (st as JobView['status']) : j.status === 'queued' ? 'queued' : 'running',
        phase: j.phase, result: j as Record<string, unknown>, startedAt: isNaN(started) ? s.startedAt : started }))
      listen()
    }).catch((e) => {
      if (!alive) return
      if (e instanceof ApiError && e.unavailable) setV((s) => ({ ...s, status: 'unavailable' }))
      else if (e instanceof ApiError && e.status === 404) setV((s) => ({ ...s, status: 'failed', error: 'This job no longer exists.' }))
      else listen()
    })
    return () => { alive = false; stop?.() }
  }, [jobId])
  return v
}
