/* Training progress page, /training/{job_id}: restored from the server on every visit;
 * phases, step/total, loss, elapsed/ETA, live loss plot, stop-and-keep and cancel (each
 * confirmed) and a browser notification when done. Once finished: the model's name, grade,
 * final loss, epochs, whether it was stopped early and the speech it learnt from, with
 * "Convert with this voice". */
import { useEffect, useId, useState } from 'react'
import toast from 'react-hot-toast'
import { downloadUrl, errorMessage, RVC_DEFAULTS, uploadSampleTarget } from '../lib/api'
import { useJob } from '../lib/useJob'
import { useCancelJob, useStartRvc, useStopTraining } from '../lib/queries'
import { useNotifyWhenDone } from '../lib/useNotify'
import { ConfirmButton, Link, Unavailable } from '../components/Common'
import { JobProgress } from '../components/JobProgress'
import { LossPlot } from '../components/LossPlot'
import { fmtDuration, gradeTone } from '../lib/format'

const PHASES = ['preprocessing', 'feature extraction', 'training', 'index', 'validation']

/** What a finished train_rvc job reports (its result / `complete` event). */
export interface TrainingSummary {
  model_id?: string
  model_name?: string
  quality_grade?: string
  final_loss?: number
  epochs?: number
  epochs_planned?: number
  steps?: number
  stopped_early?: boolean
  speech_seconds?: number
  training_minutes?: number
  recovered?: boolean
  training_audio_ids?: string[]
  /** the training-set report, measured on the second step (also shown live as a progress line) */
  training_set?: { speech_seconds?: number; pieces?: number; steps_per_epoch?: number; step_seconds?: number; epoch_seconds?: number }
}

export const PREVIEW_SECONDS = 8

/** "Try it": converts the first seconds of the training audio with the new voice (clip_seconds) and
 * plays the result next to the original. Without audioId (a voice in the library) it converts the
 * pre-loaded sample recording instead, uploaded on the first press. */
export function TryIt({ modelId, audioId }: { modelId: string; audioId?: string }) {
  const [jobId, setJobId] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [source, setSource] = useState<string | null>(audioId ?? null)
  const [busy, setBusy] = useState(false)
  const headingId = useId()   // several cards each have one
  const starting = useStartRvc()
  const job = useJob(jobId)
  const start = async () => {
    setError(null)
    setBusy(true)
    try {
      const target = source ?? (await uploadSampleTarget()).file_id
      setSource(target)
      const r = await starting.mutateAsync({ mode: 'file', body: { model_id: modelId, target_audio_id: target, parameters: { ...RVC_DEFAULTS, clip_seconds: PREVIEW_SECONDS } } })
      setJobId(r.job_id)
    } catch (e) { setError(errorMessage(e)) } finally { setBusy(false) }
  }
  const what = audioId ? 'your training audio' : 'a sample recording'

  const out = job.status === 'complete' && typeof job.result?.output_audio_id === 'string' ? job.result.output_audio_id : null
  const running = !!jobId && !out && job.status !== 'failed' && job.status !== 'cancelled'
  return (
    <section aria-labelledby={headingId} className="try-it" data-testid="try-it">
      <h3 id={headingId}>Try it</h3>
      {!jobId && <button type="button" onClick={() => void start()} disabled={busy}>{busy ? 'Starting…' : `Convert ${PREVIEW_SECONDS} s of ${what} with this voice`}</button>}
      {running && <p role="status">Converting a few seconds… {typeof job.last?.percent === 'number' ? `${Math.round(Math.max(job.peak ?? 0, job.last.percent))}%` : ''}</p>}
      {out && (
        <div className="grid2">
          <figure><figcaption>Original ({audioId ? 'your recording' : 'sample recording'})</figcaption>
            <audio controls preload="metadata" src={downloadUrl(source!)} aria-label="Original recording" /></figure>
          <figure><figcaption>Your voice model</figcaption>
            <audio controls preload="metadata" src={downloadUrl(out)} aria-label="Converted with your voice model" data-testid="try-it-audio" /></figure>
        </div>
      )}
      {(error || job.status === 'failed') && <p role="alert" className="error-text">{error ?? job.error}</p>}
    </section>
  )
}

export function TrainingDone({ r }: { r: TrainingSummary }) {
  const num = (v: unknown) => typeof v === 'number' && isFinite(v)
  return (
    <section className="card" aria-labelledby="done-h" data-testid="training-done">
      <h2 id="done-h">Your voice model “{r.model_name ?? 'new voice'}” is ready</h2>
      <dl className="stats">
        <div><dt>Grade</dt><dd><span className={`grade ${gradeTone(r.quality_grade)}`}>{r.quality_grade ?? '—'}</span></dd></div>
        <div><dt>Final loss (mel)</dt><dd>{num(r.final_loss) ? r.final_loss!.toFixed(2) : '—'}</dd></div>
        <div><dt>Epochs</dt><dd>{num(r.epochs) ? `${r.epochs}${num(r.epochs_planned) && r.epochs_planned !== r.epochs ? ` of ${r.epochs_planned}` : ''}` : '—'}</dd></div>
        <div><dt>Steps</dt><dd>{num(r.steps) ? r.steps : '—'}</dd></div>
        <div><dt>Stopped early</dt><dd>{r.stopped_early ? 'yes, by you (the model so far was kept)' : 'no, it ran to the end'}</dd></div>
        {num(r.speech_seconds) && <div><dt>Speech learnt from</dt><dd>{fmtDuration(r.speech_seconds)}</dd></div>}
        {num(r.training_set?.pieces) && num(r.training_set?.epoch_seconds) && <div><dt>Training set</dt>
          <dd data-testid="training-set">{r.training_set!.pieces} pieces, about {fmtDuration(r.training_set!.epoch_seconds!)} an epoch</dd></div>}
        {num(r.training_minutes) && <div><dt>Training time</dt><dd>{fmtDuration(r.training_minutes! * 60)}</dd></div>}
      </dl>
      <p className="muted small-print">Grade from the final mel loss: A below 18, B below 23, C below 28, D otherwise (the RVC logs' scale).</p>
      {r.model_id && r.training_audio_ids?.[0] && <TryIt modelId={r.model_id} audioId={r.training_audio_ids[0]} />}
      <p className="actions">
        {r.model_id && <Link to={`/convert?model=${encodeURIComponent(r.model_id)}`} className="button primary">Convert with this voice</Link>}
        <Link to="/models" className="button">Go to your models</Link>
      </p>
    </section>
  )
}

/** Progress messages worth keeping on screen after they pass: the SNR measured again after noise
 * removal, how much speech the slicer kept, and the training-set report (epoch time measured on
 * the first step). */
export const KEPT_NOTES = /^(After noise removal|Speech kept after slicing|Training set:)/

export function Training({ jobId }: { jobId: string }) {
  const job = useJob(jobId)
  const [notes, setNotes] = useState<string[]>([])
  const message = job.last?.message
  useEffect(() => { setNotes([]) }, [jobId])
  useEffect(() => {
    if (message && KEPT_NOTES.test(message)) setNotes((ns) => ns.includes(message) ? ns : [...ns, message])
  }, [message])
  // only a finish seen live notifies (not a job that was already done when the page opened)
  useNotifyWhenDone(job, jobId, { title: 'Training finished', body: 'Your voice model is ready.' }, 'Training failed')
  const cancelling = useCancelJob()
  const stopping = useStopTraining()
  const cancel = async () => {
    try { await cancelling.mutateAsync(jobId); toast.success('Training cancelled') } catch (e) { toast.error(errorMessage(e)) }
  }
  const stop = async () => {
    try { await stopping.mutateAsync(jobId); toast.success('Stopping after this step; the model trained so far is kept') } catch (e) { toast.error(errorMessage(e)) }
  }
  if (job.status === 'unavailable') return <><h1>Training</h1><Unavailable what="Job tracking" /></>
  const active = job.status === 'running' || job.status === 'queued' || job.status === 'connecting'
  return (
    <>
      <h1>Training</h1>
      <p className="muted">Job {jobId}. You can leave this page; come back any time to see the progress (the Jobs panel links here).</p>
      <section className="card">
        <JobProgress view={job} phases={PHASES} />
        {notes.length > 0 && <ul className="muted small-print" aria-label="Training notes" data-testid="training-notes">{notes.map((n) => <li key={n}>{n}</li>)}</ul>}
        <LossPlot points={job.loss} />
        {job.status === 'running' && job.phase === 'training' && (
          <ConfirmButton label="Stop now and keep the model" confirmLabel="Yes, stop and keep it" question="Stop training now? The model trained so far is saved to your library." onConfirm={() => void stop()} />
        )}
        {active && <ConfirmButton label="Cancel training" confirmLabel="Yes, cancel" question="Cancel this training? Progress will be lost." onConfirm={() => void cancel()} />}
      </section>
      {job.status === 'complete' && <TrainingDone r={(job.result ?? {}) as TrainingSummary} />}
    </>
  )
}
