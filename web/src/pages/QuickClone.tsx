/* Quick clone (brief §5.1, F5-TTS path): reference audio (upload or record 10–30 s),
 * its transcript, the text to speak; generate with phase progress over SSE; result player
 * with WAV/MP3 downloads and a loudness-matched before/after comparison. A server without
 * the F5-TTS weights answers 503 WEIGHTS_MISSING: shown inline with the install command. */
import { useEffect, useRef, useState } from 'react'
import toast from 'react-hot-toast'
import { api, ApiError, errorMessage, pullCommand, type AudioFile } from '../lib/api'
import { BlockedNotice, ConfirmButton, LicenceNote, Link, Unavailable, WeightsMissing } from '../components/Common'
import { Upload } from '../components/Upload'
import { Recorder } from '../components/Recorder'
import { QualityReport } from '../components/QualityReport'
import { JobProgress } from '../components/JobProgress'
import { BeforeAfter } from '../components/BeforeAfter'
import { ResultPlayer, resultInfo, resultLufs } from '../components/ResultPlayer'
import { useJob } from '../lib/useJob'
import { useNotifyWhenDone } from '../lib/useNotify'
import { askNotificationPermission } from '../lib/progress'
import { fmtDuration } from '../lib/format'
import { setQuery, useApp } from '../lib/store'
import { readSession, useSessionState, writeSession } from '../lib/session'

export const F5_PHASES = ['preprocessing', 'voice encoding', 'generating', 'vocoding', 'saving']

export function QuickClone() {
  const [ref, setRef] = useState<AudioFile | null>(null)
  // typed text and the chosen sample survive a reload of the tab
  const [transcript, setTranscript] = useSessionState('quick.transcript', '')
  const [text, setText] = useSessionState('quick.text', '')
  const startedHere = useRef(false)
  const [speed, setSpeed] = useState(1)
  const [steps, setSteps] = useState(32)
  const [jobId, setJobId] = useState<string | null>(null)
  const [eta, setEta] = useState<number | null>(null)
  const [unavailable, setUnavailable] = useState(false)
  const [weights, setWeights] = useState<ApiError | null>(null)
  const [recording, setRecording] = useState<'idle' | 'uploading' | 'failed'>('idle')
  const [busy, setBusy] = useState(false)
  const job = useJob(jobId)
  // /quick?job=…&ref=… restores a job after a reload or a visit elsewhere
  useEffect(() => {
    const q = new URLSearchParams(useApp.getState().search)
    const j = q.get('job'), r = q.get('ref')
    if (j) setJobId(j)
    const refId = r ?? readSession<string | null>('quick.ref', null)
    if (refId) api.audio(refId).then(setRef).catch(() => writeSession('quick.ref', null))
  }, [])
  useEffect(() => { if (ref) writeSession('quick.ref', ref.file_id) }, [ref])
  useNotifyWhenDone(job, jobId, { title: 'Your cloned voice is ready', body: 'Quick clone finished. Open VoiceClone Studio to listen.' }, 'Quick clone failed')

  const recorded = async (wav: Blob, secs: number) => {
    if (secs < 10) toast('Recordings shorter than 10 s clone less accurately.', { icon: 'ℹ️' })
    setRecording('uploading')
    try { setRef(await api.uploadFile('reference', wav, 'recording.wav')); setRecording('idle') } catch (e) { setRecording('failed'); toast.error(errorMessage(e)) }
  }
  const active = !!jobId && (job.status === 'running' || job.status === 'queued' || job.status === 'connecting')
  const generate = async (ev: React.FormEvent) => {
    ev.preventDefault()
    if (!ref) { toast.error('Add a voice sample first.'); return }
    if (!transcript.trim()) { toast.error('Type what the voice sample says (its transcript).'); return }
    if (!text.trim()) { toast.error('Type the text you want to hear.'); return }
    askNotificationPermission()   // a user action: the only moment we may ask
    startedHere.current = true
    setBusy(true)
    setWeights(null)
    try {
      const r = await api.convertF5({ reference_audio_id: ref.file_id, reference_text: transcript.trim(), text: text.trim(), parameters: { speed, nfe_step: steps } })
      setEta(typeof r.estimated_duration_seconds === 'number' ? r.estimated_duration_seconds : null)
      setJobId(r.job_id)
      setQuery({ job: r.job_id, ref: ref.file_id })
    } catch (e) {
      if (e instanceof ApiError && e.unavailable) setUnavailable(true)
      else if (e instanceof ApiError && e.weightsMissing) setWeights(e)   // shown next to the button
      else toast.error(errorMessage(e))
    } finally { setBusy(false) }
  }
  const result = job.status === 'complete' ? resultInfo(job.result) : null
  const cancel = async () => {
    if (!jobId) return
    try { await api.cancelJob(jobId); toast.success('Quick clone cancelled') } catch (e) { toast.error(errorMessage(e)) }
  }

  return (
    <>
      <LicenceNote names={['f5tts_v1_base']} />
      <h1>Quick clone</h1>
      <p className="lead">A 10–30 second sample of your voice and the text to speak: about half a minute later you hear it in your voice.</p>
      {unavailable && <Unavailable what="Quick clone (F5-TTS)" />}
      <form className="stack" onSubmit={(e) => void generate(e)}>
        <section className="card" aria-labelledby="qc-1">
          <h2 id="qc-1">1. Your voice sample</h2>
          <Upload purpose="reference" label="Drop a 10–30 s voice sample" onDone={setRef} />
          <p className="muted">…or record one now:</p>
          <Recorder onRecorded={(w, s) => void recorded(w, s)} />
          {recording === 'uploading' && <p role="status">Uploading your recording…</p>}
          {ref && <p role="status" data-testid="reference-ready">Voice sample ready: {ref.filename} ({fmtDuration(ref.duration_seconds)})</p>}
          {ref && <QualityReport audio={ref} />}
        </section>
        <section className="card" aria-labelledby="qc-2">
          <h2 id="qc-2">2. What does the sample say?</h2>
          <label htmlFor="transcript">Transcript of the sample (exactly what is said in it)</label>
          <textarea id="transcript" rows={2} value={transcript} aria-required="true" onChange={(e) => setTranscript(e.target.value)} />
          <h2>3. What should your voice say?</h2>
          <label htmlFor="gen-text">Text to generate</label>
          <textarea id="gen-text" rows={4} value={text} maxLength={5000} onChange={(e) => setText(e.target.value)} />
          <details>
            <summary>Advanced</summary>
            <label htmlFor="speed">Speed ({speed.toFixed(2)}×)</label>
            <input id="speed" type="range" min={0.5} max={2} step={0.05} value={speed} onChange={(e) => setSpeed(+e.target.value)} />
            <label htmlFor="nfe">Quality steps ({steps}; fewer is faster, more is cleaner)</label>
            <input id="nfe" type="range" min={8} max={64} step={4} value={steps} onChange={(e) => setSteps(+e.target.value)} />
          </details>
          <BlockedNotice need={['f5tts', 'vocos']} what="Quick clone" />
          {weights && <WeightsMissing what="Quick clone" command={pullCommand(weights, 'f5tts')} detail={weights.message} />}
          <p>
            <button type="submit" className="primary" disabled={busy || active}>{busy ? 'Starting…' : active ? 'Generating…' : 'Generate'}</button>
          </p>
        </section>
      </form>
      {jobId && (
        <section className="card" aria-labelledby="qc-progress">
          <h2 id="qc-progress">{job.status === 'complete' ? 'Finished' : 'Cloning your voice…'}</h2>
          {eta !== null && active && <p className="muted">Estimated time: about {fmtDuration(eta)}.</p>}
          <JobProgress view={job} phases={F5_PHASES} />
          {active && <ConfirmButton label="Cancel" confirmLabel="Yes, cancel" question="Cancel this quick clone?" onConfirm={() => void cancel()} />}
          {job.status === 'complete' && !result && <p role="alert" className="error-text" data-testid="no-result">The job finished but the server sent no audio id for the result.</p>}
        </section>
      )}
      {result && <ResultPlayer result={result} title="Your cloned voice" filename="quick_clone" compareWith={ref?.file_id} focus={startedHere.current} />}
      {result && ref && (
        <BeforeAfter downloads={false}
          before={{ id: ref.file_id, label: 'Your sample', lufs: ref.quality_analysis?.loudness_lufs }}
          after={{ id: result.output_audio_id, label: 'Cloned voice', lufs: resultLufs(job.result) }} />
      )}
      {result && (
        <section className="card" aria-labelledby="qc-more">
          <h2 id="qc-more">Want even better quality?</h2>
          <p>Train your own voice model with 5–10 minutes of audio.</p>
          <Link to="/train" className="button">Start Pro training</Link>
        </section>
      )}
    </>
  )
}
