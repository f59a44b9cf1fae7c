/* Training progress page, /training/{job_id}: restored from the server on every visit;
 * phases, step/total, loss, elapsed/ETA, live loss plot, stop-and-keep and cancel (each
 * confirmed) and a
 * browser notification when done. */
import toast from 'react-hot-toast'
import { api, errorMessage } from '../lib/api'
import { useJob } from '../lib/useJob'
import { useNotifyWhenDone } from '../lib/useNotify'
import { ConfirmButton, Link, Unavailable } from '../components/Common'
import { JobProgress } from '../components/JobProgress'
import { LossPlot } from '../components/LossPlot'

const PHASES = ['preprocessing', 'feature extraction', 'training', 'index', 'validation']

export function Training({ jobId }: { jobId: string }) {
  const job = useJob(jobId)
  // only a finish seen live notifies (not a job that was already done when the page opened)
  useNotifyWhenDone(job, jobId, { title: 'Training finished', body: 'Your voice model is ready.' }, 'Training failed')
  const cancel = async () => {
    try { await api.cancelJob(jobId); toast.success('Training cancelled') } catch (e) { toast.error(errorMessage(e)) }
  }
  const stop = async () => {
    try { await api.stopTraining(jobId); toast.success('Stopping after this step; the model trained so far is kept') } catch (e) { toast.error(errorMessage(e)) }
  }
  if (job.status === 'unavailable') return <><h1>Training</h1><Unavailable what="Job tracking" /></>
  const active = job.status === 'running' || job.status === 'queued' || job.status === 'connecting'
  return (
    <>
      <h1>Training</h1>
      <p className="muted">Job {jobId}. You can leave this page; come back any time to see the progress.</p>
      <section className="card">
        <JobProgress view={job} phases={PHASES} />
        <LossPlot points={job.loss} />
        {job.status === 'running' && job.phase === 'training' && (
          <ConfirmButton label="Stop now and keep the model" confirmLabel="Yes, stop and keep it" question="Stop training now? The model trained so far is saved to your library." onConfirm={() => void stop()} />
        )}
        {active && <ConfirmButton label="Cancel training" confirmLabel="Yes, cancel" question="Cancel this training? Progress will be lost." onConfirm={() => void cancel()} />}
        {job.status === 'complete' && <Link to="/models" className="button primary">Go to your models</Link>}
      </section>
    </>
  )
}
