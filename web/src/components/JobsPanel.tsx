/* Jobs panel shown on every page: queued/running jobs with position, ETA and cancel.
 * Polls GET /api/jobs every few seconds; if the server has no jobs API yet it says so. */
import { useEffect } from 'react'
import toast from 'react-hot-toast'
import { api, errorMessage } from '../lib/api'
import { useApp } from '../lib/store'
import { fmtDuration } from '../lib/format'

const ACTIVE = new Set(['queued', 'running', 'pending', 'cancelling'])
/** Friendly names for the server's job kinds; unknown kinds are shown as they are. */
export const KIND_LABELS: Record<string, string> = {
  convert_f5tts: 'Quick clone', convert_rvc: 'Voice conversion', train_rvc: 'Training', train: 'Training',
  preprocess: 'Preprocessing', analyze: 'Quality analysis',
}

export function JobsPanel({ pollMs = 4000 }: { pollMs?: number }) {
  const { jobs, jobsState, loadJobs } = useApp()
  useEffect(() => {
    void loadJobs()
    const t = setInterval(() => { if (useApp.getState().jobsState !== 'unavailable') void loadJobs() }, pollMs)
    return () => clearInterval(t)
  }, [loadJobs, pollMs])
  const active = jobs.filter((j) => ACTIVE.has(j.status))
  const cancel = async (id: string) => {
    try { await api.cancelJob(id); toast.success('Job cancelled'); void loadJobs() } catch (e) { toast.error(errorMessage(e)) }
  }
  return (
    <aside className="jobs-panel" aria-labelledby="jobs-h">
      <h2 id="jobs-h">Jobs</h2>
      {jobsState === 'loading' && <p className="muted">Loading…</p>}
      {jobsState === 'unavailable' && <p className="muted" data-testid="jobs-unavailable">The job queue isn't available on this server yet.</p>}
      {jobsState === 'error' && <p className="muted">Could not load jobs.</p>}
      {jobsState === 'ready' && active.length === 0 && <p className="muted">No jobs running.</p>}
      {active.length > 0 && (
        <ul>
          {active.map((j) => (
            <li key={j.job_id}>
              <span className="job-kind">{(j.kind && KIND_LABELS[j.kind]) ?? j.kind ?? 'job'}</span>{' '}
              <span>{j.status === 'queued' && j.queue_position ? `#${j.queue_position} in queue` : j.phase ?? j.status}</span>
              {typeof (j.percent ?? j.progress) === 'number' && j.status === 'running' && <span> · {Math.round((j.percent ?? j.progress)!)}%</span>}
              {typeof j.eta_seconds === 'number' && <span> · ETA {fmtDuration(j.eta_seconds)}</span>}
              <button type="button" className="small" onClick={() => void cancel(j.job_id)}>
                Cancel<span className="sr-only"> job {j.job_id}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </aside>
  )
}
