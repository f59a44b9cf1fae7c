/* Quick clone (brief §5.1, F5-TTS path): reference audio (upload or record 10–30 s),
 * its transcript, the text to speak; generate with phase progress over SSE; result with
 * before/after comparison and downloads. */
import { useState } from 'react'
import toast from 'react-hot-toast'
import { api, ApiError, errorMessage, type AudioFile } from '../lib/api'
import { SystemBanner, Unavailable } from '../components/Common'
import { Upload } from '../components/Upload'
import { Recorder } from '../components/Recorder'
import { QualityReport } from '../components/QualityReport'
import { JobProgress } from '../components/JobProgress'
import { BeforeAfter } from '../components/BeforeAfter'
import { useJob } from '../lib/useJob'

const PHASES = ['preprocessing', 'voice encoding', 'generating', 'vocoding']

export function QuickClone() {
  const [ref, setRef] = useState<AudioFile | null>(null)
  const [transcript, setTranscript] = useState('')
  const [text, setText] = useState('')
  const [speed, setSpeed] = useState(1)
  const [jobId, setJobId] = useState<string | null>(null)
  const [unavailable, setUnavailable] = useState(false)
  const [busy, setBusy] = useState(false)
  const job = useJob(jobId)

  const recorded = async (wav: Blob, secs: number) => {
    if (secs < 10) toast('Recordings shorter than 10 s clone less accurately.', { icon: 'ℹ️' })
    try { setRef(await api.uploadFile('reference', wav, 'recording.wav')) } catch (e) { toast.error(errorMessage(e)) }
  }
  const generate = async (ev: React.FormEvent) => {
    ev.preventDefault()
    if (!ref) { toast.error('Add a voice sample first.'); return }
    if (!text.trim()) { toast.error('Type the text you want to hear.'); return }
    setBusy(true)
    try {
      const r = await api.convertF5({ reference_audio_id: ref.file_id, reference_text: transcript, text, parameters: { speed } })
      setJobId(r.job_id)
    } catch (e) {
      if (e instanceof ApiError && e.unavailable) setUnavailable(true)
      toast.error(errorMessage(e))
    } finally { setBusy(false) }
  }
  const out = job.status === 'complete' ? (job.result?.output_audio_id as string | undefined) : undefined

  return (
    <>
      <SystemBanner need={['f5tts', 'vocos']} />
      <h1>Quick clone</h1>
      {unavailable && <Unavailable what="Quick clone (F5-TTS)" />}
      <form className="stack" onSubmit={(e) => void generate(e)}>
        <section className="card">
          <h2>1. Your voice sample</h2>
          <Upload purpose="reference" label="Drop a 10–30 s voice sample" onDone={setRef} />
          <p className="muted">…or record one now:</p>
          <Recorder onRecorded={(w, s) => void recorded(w, s)} />
          {ref && <QualityReport audio={ref} />}
        </section>
        <section className="card">
          <h2>2. What does the sample say?</h2>
          <label htmlFor="transcript">Transcript of the sample (optional but improves accuracy)</label>
          <textarea id="transcript" rows={2} value={transcript} onChange={(e) => setTranscript(e.target.value)} />
          <h2>3. What should your voice say?</h2>
          <label htmlFor="gen-text">Text to generate</label>
          <textarea id="gen-text" rows={4} value={text} onChange={(e) => setText(e.target.value)} />
          <details>
            <summary>Advanced</summary>
            <label htmlFor="speed">Speed ({speed.toFixed(2)}×)</label>
            <input id="speed" type="range" min={0.5} max={2} step={0.05} value={speed} onChange={(e) => setSpeed(+e.target.value)} />
          </details>
          <button type="submit" className="primary" disabled={busy || (!!jobId && job.status === 'running')}>Generate</button>
        </section>
      </form>
      {jobId && <section className="card"><h2>Progress</h2><JobProgress view={job} phases={PHASES} /></section>}
      {out && ref && <BeforeAfter before={{ id: ref.file_id, label: 'Your sample', lufs: ref.quality_analysis?.loudness_lufs }} after={{ id: out, label: 'Cloned voice' }} />}
    </>
  )
}
