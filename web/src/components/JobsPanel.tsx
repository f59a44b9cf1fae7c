/* Jobs panel shown on every page: each running or queued job with its kind, what it works on
 * (model / file / text), state, progress and ETA, a link back to its page, and Cancel; below,
 * the last few finished ones (so a job that ended while you were elsewhere can still be found).
 * Polls GET /api/jobs every few seconds; if the server has no jobs API yet it says so. */
import toast from 'react-hot-toast'
import { errorMessage, type Job } from '../lib/api'
import { useCancelJob, useJobs } from '../lib/queries'
import { fmtDuration } from '../lib/format'
import { Link } from './Common'

export const ACTIVE = new Set(['queued', 'running', 'pending', 'cancelling'])
/** Friendly names for the server's job kinds; unknown kinds are shown as they are. */
export const KIND_LABELS: Record<string, string> = {
  convert_f5tts: 'Quick clone', convert_rvc: 'Voice conversion', train_rvc: 'Training', train: 'Training',
  preprocess: 'Preprocessing', analyze: 'Quality analysis', models_pull: 'Model download', transcribe: 'Listening (speech recognition)',
}
const RECENT = 3

/** The page that shows a job (progress, result), or null when it has none. */
export function jobLink(j: Job): string | null {
  const s = j.subject ?? {}
  const q = (o: Record<string, string | undefined>) =>
    Object.entries(o).filter(([, v]) => v).map(([k, v]) => `${k}=${encodeURIComponent(v!)}`).join('&')
  switch (j.kind) {
    case 'train_rvc': case 'train': return `/training/${encodeURIComponent(j.job_id)}`
    case 'convert_f5tts': return `/quick?${q({ job: j.job_id, ref: s.audio_id })}`
    case 'convert_rvc': return `/convert?${q({ model: s.model_id, job: j.job_id, target: s.audio_id })}`
    case 'models_pull': return '/models'
    default: return null
  }
}

/** What the job works on, in a few words: the model's name, the file, or the text spoken. */
export function jobTitle(j: Job): string {
  const s = j.subject ?? {}
  if (j.kind === 'convert_f5tts') return s.text ? `“${s.text}”` : s.file_name ?? ''
  if (j.kind === 'convert_rvc') return [s.model_name, s.file_name].filter(Boolean).join(' · ')
  if (j.kind === 'models_pull') return s.pack ? `${s.pack} models` : ''

  if (s.model_name) return s.model_name + (s.file_count && s.file_count > 1 ? ` · ${s.file_count} files` : '')
  return s.file_name ?? ''
}

const pct = (j: Job) => j.progress
const STATE_LABEL: Record<string, string> = { complete: 'done', failed: 'failed', cancelled: 'cancelled' }

function JobRow({ j, onCancel }: { j: Job; onCancel?: () => void }) {
  const kind = (j.kind && KIND_LABELS[j.kind]) ?? j.kind ?? 'Job'
  const title = jobTitle(j)
  const link = jobLink(j)
  const p = pct(j)
  const state = j.status === 'queued' && j.queue_position ? `#${j.queue_position} in queue`
    : j.status === 'running' ? j.phase || 'running' : STATE_LABEL[j.status] ?? j.status
  return (
    <li className={`job-row ${j.status}`} data-testid="job-row">
      <span className="job-head">
        {link ? <Link to={link} className="job-kind">{kind}<span className="sr-only">: open its page</span></Link> : <span className="job-kind">{kind}</span>}
        {title && <span className="job-title">{title}</span>}
      </span>
      <span className="job-state">
        {state}
        {j.status === 'running' && typeof p === 'number' && <> · {Math.round(p)}%</>}
        {ACTIVE.has(j.status) && typeof j.eta_seconds === 'number' && j.eta_seconds > 0 && <> · ETA {fmtDuration(j.eta_seconds)}</>}
        {!ACTIVE.has(j.status) && typeof j.duration_seconds === 'number' && <> · took {fmtDuration(j.duration_seconds)}</>}
      </span>
      {j.status === 'running' && typeof p === 'number' && <progress max={100} value={p} aria-label={`${kind} progress`} />}
      {onCancel && (
        <button type="button" className="small" onClick={onCancel}>
          Cancel<span className="sr-only"> job: {kind} {title}</span>
        </button>
      )}
    </li>
  )
}

export function JobsPanel({ pollMs = 4000 }: { pollMs?: number }) {
  const { jobs, state: jobsState } = useJobs(pollMs)
  const active = jobs.filter((j) => ACTIVE.has(j.status))
  const recent = jobs.filter((j) => !ACTIVE.has(j.status) && jobLink(j)).slice(0, RECENT)
  const cancelling = useCancelJob()
  const cancel = async (id: string) => {
    try { await cancelling.mutateAsync(id); toast.success('Job cancelled') } catch (e) { toast.error(errorMessage(e)) }
  }
  return (
    <aside className="jobs-panel" aria-labelledby="jobs-h">
      <h2 id="jobs-h">Jobs</h2>
      {jobsState === 'loading' && <p className="muted">Loading…</p>}
      {jobsState === 'unavailable' && <p className="muted" data-testid="jobs-unavailable">The job queue isn't available on this server yet.</p>}
      {jobsState === 'error' && <p className="muted">Could not load jobs.</p>}
      {jobsState === 'ready' && active.length === 0 && <p className="muted">No jobs running.</p>}
      {active.length > 0 && (
        <ul aria-label="Running and queued jobs" className="job-list">
          {active.map((j) => <JobRow key={j.job_id} j={j} onCancel={() => void cancel(j.job_id)} />)}
        </ul>
      )}
      {recent.length > 0 && (
        <>
          <h3 className="small-heading">Recently finished</h3>
          <ul aria-label="Recently finished jobs" className="job-list">
            {recent.map((j) => <JobRow key={j.job_id} j={j} />)}
          </ul>
        </>
      )}
    </aside>
  )
}
