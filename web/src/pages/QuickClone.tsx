/* Quick clone (brief §2.2 "Quick Demo Workflow", §5.1, F5-TTS path): a voice sample (upload or
 * record) → what to say: a recording (upload, record, or the pre-loaded sample) spoken again in
 * that voice, or typed text → "we heard: …" for both recordings (transcribe jobs; editable, never
 * required) → the expected time (POST /api/convert/f5tts/estimate, which also runs the server's
 * checks) → Generate → phases with progress, ETA and Cancel over SSE → result player and the
 * before/after of the original recording and its clone, in sync. A server without the F5-TTS
 * weights answers 503 WEIGHTS_MISSING: shown inline with the install command. A sample can be
 * saved as a named instant voice (with what it says) and picked again later: the request then
 * names voice_id instead of reference_audio_id, and nothing is uploaded or transcribed again. */
import { useEffect, useRef, useState } from 'react'
import toast from 'react-hot-toast'
import { api, ApiError, errorMessage, pullCommand, SAMPLE_TARGET_URL, type AudioFile, type F5Request, type Voice } from '../lib/api'
import { BlockedNotice, ConfirmButton, LicenceNote, Link, Unavailable, WeightsMissing } from '../components/Common'
import { Upload } from '../components/Upload'
import { Recorder } from '../components/Recorder'
import { QualityReport } from '../components/QualityReport'
import { JobProgress } from '../components/JobProgress'
import { BeforeAfter } from '../components/BeforeAfter'
import { HeardTranscript, heardText } from '../components/HeardTranscript'
import { SavedVoicePicker, SaveVoice, useVoices } from '../components/SavedVoices'
import { ResultPlayer, resultInfo, resultLufs } from '../components/ResultPlayer'
import { useJob } from '../lib/useJob'
import { useTranscription } from '../lib/useTranscription'
import { useNotifyWhenDone } from '../lib/useNotify'
import { askNotificationPermission } from '../lib/progress'
import { fmtDuration } from '../lib/format'
import { setQuery } from '../lib/router'
import { useSessionState } from '../lib/session'
import { fetchAudioFile, useCancelJob, useChosenAudio, useF5Estimate, useStartF5 } from '../lib/queries'

export const F5_PHASES = ['preprocessing', 'voice encoding', 'generating', 'vocoding', 'saving']
/** The pre-loaded target (scripts/make-sample.sh, served with the web UI). */
export { SAMPLE_TARGET_URL }

type Mode = 'speech' | 'text'

/** A chosen recording restored by id from the address or the session (lib/queries.ts). */
function useStoredAudio(key: string, fromQuery: string | null): [AudioFile | null, (a: AudioFile | null) => void, string | null] {
  const c = useChosenAudio(key, fromQuery)
  return [c.audio, c.set, c.problem]
}

export function QuickClone() {
  const q = new URLSearchParams(location.search)
  const [ref, setRef, refProblem] = useStoredAudio('quick.ref', q.get('ref'))
  const [voice, setVoice] = useSessionState<Voice | null>('quick.voice', null)
  const [voices] = useVoices()
  const pickVoice = (v: Voice | null) => {
    setVoice(v)
    if (v) fetchAudioFile(v.reference_audio_id).then(setRef).catch((e) => toast.error(errorMessage(e)))
    else setRef(null)
  }
  const newRef = (a: AudioFile) => { setVoice(null); setRef(a) }   // a new sample is no saved voice
  useEffect(() => {   // the session's copy of the chosen voice follows the library (renamed, deleted)
    if (!voices || !voice) return
    const fresh = voices.find((x) => x.voice_id === voice.voice_id)
    if (!fresh) setVoice(null)
    else if (fresh.name !== voice.name || fresh.reference_text !== voice.reference_text) setVoice(fresh)
  }, [voices])   // eslint-disable-line react-hooks/exhaustive-deps
  const voiceFromQuery = q.get('voice')   // "Use" in the library
  useEffect(() => {
    const v = voiceFromQuery && voices?.find((x) => x.voice_id === voiceFromQuery)
    if (v && v.voice_id !== voice?.voice_id) pickVoice(v)
  }, [voiceFromQuery, voices])   // eslint-disable-line react-hooks/exhaustive-deps
  const [target, setTarget, targetProblem] = useStoredAudio('quick.target', q.get('target'))
  const [mode, setMode] = useSessionState<Mode>('quick.mode', 'speech')
  const [text, setText] = useSessionState('quick.text', '')
  const [typedRef, setTypedRef] = useSessionState('quick.typedRef', '')
  const [typedTarget, setTypedTarget] = useSessionState('quick.typedTarget', '')
  const startedHere = useRef(false)
  const [speed, setSpeed] = useState(1)
  const [pitch, setPitch] = useState(0)
  const [steps, setSteps] = useState(32)
  const [jobId, setJobId] = useState<string | null>(q.get('job'))
  const [eta, setEta] = useState<number | null>(null)
  const [unavailable, setUnavailable] = useState(false)
  const [weights, setWeights] = useState<ApiError | null>(null)
  /** why the server refused to start, kept next to Generate (a toast alone is gone in 6 s) */
  const [startError, setStartError] = useState<string | null>(null)
  const [recording, setRecording] = useState<'idle' | 'uploading' | 'failed'>('idle')
  const [loadingSample, setLoadingSample] = useState(false)
  const starting = useStartF5()
  const cancelling = useCancelJob()
  const busy = starting.isPending
  const job = useJob(jobId)
  const savedText = voice?.reference_text || null   // a saved voice's words: nothing to hear again
  const heardRef = useTranscription(savedText ? null : ref?.file_id ?? null, 'reference')
  const heardTarget = useTranscription(mode === 'speech' ? target?.file_id ?? null : null, 'target')
  useNotifyWhenDone(job, jobId, { title: 'Your cloned voice is ready', body: 'Quick clone finished. Open VoiceClone Studio to listen.' }, 'Quick clone failed')

  const upload = async (purpose: 'reference' | 'target', wav: Blob, name: string, set: (a: AudioFile) => void) => {
    setRecording('uploading')
    try { set(await api.uploadFile(purpose, wav, name)); setRecording('idle') } catch (e) { setRecording('failed'); toast.error(errorMessage(e)) }
  }
  const recordedRef = (wav: Blob, secs: number) => {
    if (secs < 10) toast('Recordings shorter than 10 s clone less accurately.', { icon: 'ℹ️' })
    void upload('reference', wav, 'recording.wav', newRef)
  }
  const pickSample = async () => {
    setLoadingSample(true)
    try {
      const res = await fetch(SAMPLE_TARGET_URL)
      if (!res.ok) throw new Error('The sample recording is not installed with this web UI (run make build with espeak-ng installed).')
      setTarget(await api.uploadFile('target', new Blob([await res.arrayBuffer()], { type: 'audio/wav' }), 'sample-target.wav'))
    } catch (e) { toast.error(errorMessage(e)) } finally { setLoadingSample(false) }
  }

  // the request as it would be sent now; null while something needed is missing or still being heard
  const refText = savedText ?? heardText(heardRef.heard) ?? (heardRef.missing && typedRef.trim() ? typedRef.trim() : null)
  const request = ((): F5Request | null => {
    if (!ref) return null
    const sample = voice ? { voice_id: voice.voice_id } : { reference_audio_id: ref.file_id }
    const base: F5Request = { ...sample, parameters: { speed, pitch_shift: pitch, nfe_step: steps } }
    if (refText) { if (!savedText) base.reference_text = refText }   // a saved voice's own transcript is the server's to add
    else if (!heardRef.error) return null   // still listening (an error: let the server say it)
    if (mode === 'text') return text.trim() ? { ...base, text: text.trim() } : null
    if (!target) return null
    // the typed words span the whole recording; a length the server could not measure (null) cannot be timed
    if (heardTarget.missing) return typedTarget.trim() && target.duration_seconds !== null ? { ...base, target_audio_id: target.file_id, target_segments: [{ start: 0, end: target.duration_seconds, text: typedTarget.trim() }] } : null
    if (heardTarget.heard) {
      const segments = heardTarget.heard.segments.filter((s) => s.text.trim())
      return segments.length ? { ...base, target_audio_id: target.file_id, target_segments: segments } : null
    }
    return heardTarget.error ? { ...base, target_audio_id: target.file_id } : null
  })()
  // Re-estimated when what the time depends on changes: not on every letter typed into a part of
  // the transcript (speech to speech is timed by the recording), only when a part empties or fills.
  const requestKey = request ? JSON.stringify({ ...request, target_segments: request.target_segments?.map((g) => [g.start, g.end, !!g.text.trim()]) }) : ''
  // the expected time (and the server's checks) before the user starts
  const expected = useF5Estimate(request, requestKey)

  const active = !!jobId && (job.status === 'running' || job.status === 'queued' || job.status === 'connecting')
  const generate = async (ev: React.FormEvent) => {
    ev.preventDefault()
    if (!ref) { toast.error('Add a voice sample first.'); return }
    if (mode === 'text' && !text.trim()) { toast.error('Type the text you want to hear.'); return }
    if (mode === 'speech' && !target) { toast.error('Add the recording to speak in your voice, or use the sample.'); return }
    if (!request) {
      const typing = (heardRef.missing && !typedRef.trim()) || (mode === 'speech' && heardTarget.missing && !typedTarget.trim())
      toast.error(typing ? 'Speech recognition is not installed here: type what the recordings say.' : 'Still listening to your recordings: a moment, please.')
      return
    }
    askNotificationPermission()   // a user action: the only moment we may ask
    startedHere.current = true
    setWeights(null)
    setStartError(null)
    try {
      const r = await starting.mutateAsync(request)
      setEta(typeof r.estimated_duration_seconds === 'number' ? r.estimated_duration_seconds : null)
      setJobId(r.job_id)
      setQuery({ job: r.job_id, ref: ref.file_id, ...(mode === 'speech' && target ? { target: target.file_id } : {}) })
    } catch (e) {
      if (e instanceof ApiError && e.unavailable) setUnavailable(true)
      else if (e instanceof ApiError && e.weightsMissing) setWeights(e)   // shown next to the button
      else { setStartError(errorMessage(e)); toast.error(errorMessage(e)) }
    }
  }
  const result = job.status === 'complete' ? resultInfo(job.result) : null
  const cancel = async () => {
    if (!jobId) return
    try { await cancelling.mutateAsync(jobId); toast.success('Quick clone cancelled') } catch (e) { toast.error(errorMessage(e)) }
  }
  // before/after: the original recording in speech-to-speech mode, else the voice sample
  const original = mode === 'speech' && target ? { id: target.file_id, label: 'Original recording', lufs: target.quality_analysis?.loudness_lufs }
    : ref ? { id: ref.file_id, label: 'Your sample', lufs: ref.quality_analysis?.loudness_lufs } : null

  return (
    <>
      <LicenceNote names={['f5tts_v1_base']} />
      <h1>Quick clone</h1>
      <p className="lead">A 10–30 second sample of your voice, and a recording to say again in it (or text), and you hear it in your voice: the expected time on this machine is shown before you start.</p>
      {unavailable && <Unavailable what="Quick clone (F5-TTS)" />}
      <form className="stack" onSubmit={(e) => void generate(e)}>
        <section className="card" aria-labelledby="qc-1">
          <h2 id="qc-1">1. Your voice sample</h2>
          <SavedVoicePicker voices={voices} chosen={voice} onPick={pickVoice} />
          <Upload purpose="reference" label="Drop a 10–30 s voice sample" onDone={newRef} />
          <p className="muted">…or record one now:</p>
          <Recorder onRecorded={(w, s) => recordedRef(w, s)} />
          {recording === 'uploading' && <p role="status">Uploading your recording…</p>}
          {!ref && refProblem && <p role="alert" className="error-text" data-testid="reference-lost">{refProblem}</p>}
          {ref && <p role="status" data-testid="reference-ready">Voice sample ready: {ref.filename} ({fmtDuration(ref.duration_seconds)})</p>}
          {voice && <p role="status" data-testid="voice-chosen">Using your saved voice {voice.name}{savedText ? <>: “{savedText}”</> : null}</p>}
          {ref && !savedText && <HeardTranscript t={heardRef} what="your voice sample" typed={typedRef} onTyped={setTypedRef} />}
          {ref && !voice && <SaveVoice audioId={ref.file_id} transcript={refText} onSaved={setVoice} />}
          {ref && <QualityReport audio={ref} />}
        </section>
        <section className="card" aria-labelledby="qc-2">
          <h2 id="qc-2">2. What should your voice say?</h2>
          <div role="radiogroup" aria-labelledby="qc-2" className="mode-switch">
            <label className="check"><input type="radio" name="qc-mode" checked={mode === 'speech'} onChange={() => setMode('speech')} /> A recording, said again in your voice</label>
            <label className="check"><input type="radio" name="qc-mode" checked={mode === 'text'} onChange={() => setMode('text')} /> Text I type</label>
          </div>
          {mode === 'speech' && <>
            <Upload purpose="target" label="Drop the recording to say again (up to 5 minutes)" onDone={setTarget} />
            <p className="muted">…or record it, or use our sample:</p>
            <Recorder label="up to 60 s" maxSeconds={60} onRecorded={(w) => void upload('target', w, 'target-recording.wav', setTarget)} />
            <p><button type="button" onClick={() => void pickSample()} disabled={loadingSample}>{loadingSample ? 'Loading the sample…' : 'Use sample audio'}</button></p>
            {!target && targetProblem && <p role="alert" className="error-text" data-testid="target-lost">{targetProblem}</p>}
            {target && <p role="status" data-testid="target-ready">Recording ready: {target.filename} ({fmtDuration(target.duration_seconds)})</p>}
            {target && <HeardTranscript t={heardTarget} what="the recording" typed={typedTarget} onTyped={setTypedTarget} />}
          </>}
          {mode === 'text' && <>
            <label htmlFor="gen-text">Text to generate</label>
            <textarea id="gen-text" rows={4} value={text} maxLength={5000} onChange={(e) => setText(e.target.value)} />
          </>}
          <details>
            <summary>Advanced</summary>
            <label htmlFor="speed">Speed ({speed.toFixed(2)}×)</label>
            <input id="speed" type="range" min={0.5} max={2} step={0.05} value={speed} onChange={(e) => setSpeed(+e.target.value)} />
            <label htmlFor="pitch">Pitch shift ({pitch > 0 ? '+' : ''}{pitch} semitones)</label>
            <input id="pitch" type="range" min={-12} max={12} step={1} value={pitch} onChange={(e) => setPitch(+e.target.value)} />
            <label htmlFor="nfe">Quality steps ({steps}; fewer is faster, more is cleaner)</label>
            <input id="nfe" type="range" min={8} max={64} step={4} value={steps} onChange={(e) => setSteps(+e.target.value)} />
          </details>
          <BlockedNotice need={['f5tts', 'vocos']} what="Quick clone" />
          {weights && <WeightsMissing what="Quick clone" command={pullCommand(weights, 'f5tts')} detail={weights.message} />}
          {expected.seconds !== null && !active && <p className="muted" data-testid="expected-time">Expected time: about {fmtDuration(expected.seconds)}.</p>}
          {expected.error && <p role="alert" className="error-text" data-testid="expected-error">{expected.error}</p>}
          {startError && startError !== expected.error && <p role="alert" className="error-text" data-testid="generate-error">{startError}</p>}
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
      {result && <ResultPlayer result={result} title="Your cloned voice" filename="quick_clone" compareWith={original?.id} focus={startedHere.current} />}
      {result && original && (
        <BeforeAfter downloads={false} before={original}
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
