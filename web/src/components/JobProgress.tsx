/* Progress display for one job: phase list with the current one highlighted, percent or
 * step/total, elapsed and ETA, and an accessible progressbar. */
import { useEffect, useState } from 'react'
import type { JobView } from '../lib/useJob'
import { fmtDuration } from '../lib/format'

/** "Loading_model", "loading-model" and "loading model" name the same phase. */
export const phaseKey = (p: string) => p.toLowerCase().replace(/[_-]+/g, ' ').trim()

export function JobProgress({ view, phases }: { view: JobView; phases: string[] }) {
  const [now, setNow] = useState(Date.now())
  const ended = view.endedAt !== undefined
  // the clock ticks only while the job runs: "Elapsed" stops when it ends
  useEffect(() => { if (ended) return; const t = setInterval(() => setNow(Date.now()), 1000); return () => clearInterval(t) }, [ended])
  const e = view.last
  const pct = e?.percent !== undefined ? Math.max(e.percent, view.peak ?? 0)
    : e?.step !== undefined && e.total_steps ? (100 * e.step) / e.total_steps : undefined
  const cur = phases.map(phaseKey).indexOf(phaseKey(view.phase ?? ''))
  return (
    <div className="job-progress">
      <ol className="phases" aria-label="Phases">
        {phases.map((p, i) => (
          <li key={p} className={i < cur || view.status === 'complete' ? 'done' : i === cur ? 'current' : ''}
            aria-current={i === cur && view.status !== 'complete' ? 'step' : undefined}>{p}</li>
        ))}
      </ol>
      <progress max={100} value={view.status === 'complete' ? 100 : pct ?? 0} aria-label="Job progress" />
      <p aria-live="polite" className="progress-text">
        {view.status === 'connecting' && 'Connecting…'}
        {view.status === 'queued' && `Waiting in queue${e?.queue_position ? ` (position ${e.queue_position})` : ''}…`}
        {view.status === 'running' && <>
          {view.phase ?? 'Working'}{pct !== undefined && ` · ${Math.round(pct)}%`}
          {e?.step !== undefined && e.total_steps !== undefined && ` · step ${e.step}/${e.total_steps}`}
          {e?.loss !== undefined && ` · loss ${e.loss.toFixed(4)}`}
          {e?.message && ` · ${e.message}`}
        </>}
        {view.status === 'complete' && 'Done.'}
        {view.status === 'failed' && <span className="error-text">{view.error ?? 'The job failed.'}</span>}
        {view.status === 'cancelled' && 'Cancelled.'}
      </p>
      <p className="muted" data-testid="elapsed">{view.endedAt !== undefined ? 'Took' : 'Elapsed'} {fmtDuration(((view.endedAt ?? now) - view.startedAt) / 1000)}{e?.eta_seconds !== undefined && view.status === 'running' ? ` · ETA ${fmtDuration(e.eta_seconds)}` : ''}</p>
    </div>
  )
}
