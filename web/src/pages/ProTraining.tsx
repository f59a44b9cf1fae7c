/* Pro training setup (brief §5.2, RVC path): resumable uploads of a training set, a quality
 * report per file, which files to train on (all by default) with the total length and the
 * speech in it, noisy takes flagged against the 15 dB minimum with a "use anyway", the
 * preprocessing options, model name, then start → the training page (/training/{job_id}).
 * Trainings already running are listed at the top. The uploaded files, name and options
 * survive a reload of the tab. Asks for notification permission when the long job starts. */
import { useEffect, useState } from 'react'
import toast from 'react-hot-toast'
import { api, ApiError, errorMessage, pullCommand, type AudioFile } from '../lib/api'
import { BlockedNotice, Link, Unavailable, WeightsMissing } from '../components/Common'
import { Upload } from '../components/Upload'
import { Recorder } from '../components/Recorder'
import { READING_SCRIPT } from '../lib/script'
import { QualityReport } from '../components/QualityReport'
import { ACTIVE, jobTitle } from '../components/JobsPanel'
import { askNotificationPermission } from '../lib/progress'
import { go } from '../lib/router'
import { fetchAudioFile, rememberUpload, useJobs, useStartTraining } from '../lib/queries'
import { fmtDuration } from '../lib/format'
import { readSession, useSessionState, writeSession } from '../lib/session'

const OPTIONS = [
  ['remove_noise', 'Remove background noise'],
  ['normalize_volume', 'Normalise volume'],
  ['trim_silence', 'Trim long silences'],
] as const

/** The server's training minimum; uploads under 10 dB are refused outright. */
export const MIN_SNR_DB = 15
export const isNoisy = (a: AudioFile) => typeof a.quality_analysis?.snr_db === 'number' && a.quality_analysis.snr_db < MIN_SNR_DB
/** Seconds of speech in a file: its length × the voice activity the analysis measured. */
export const speechSeconds = (a: AudioFile) =>
  (a.duration_seconds ?? 0) * Math.min(1, Math.max(0, (a.quality_analysis?.voice_activity_percent ?? 100) / 100))

export function RunningTrainings() {
  const { jobs } = useJobs()   // the jobs panel polls the same query
  const running = jobs.filter((j) => (j.kind === 'train_rvc' || j.kind === 'train') && ACTIVE.has(j.status))
  if (running.length === 0) return null
  return (
    <section className="card" aria-labelledby="running-h" data-testid="running-trainings">
      <h2 id="running-h">Trainings in progress</h2>
      <ul>
        {running.map((j) => (
          <li key={j.job_id}>
            <Link to={`/training/${encodeURIComponent(j.job_id)}`}>{jobTitle(j) || j.job_id}</Link>{' '}
            <span className="muted">{j.status === 'queued' ? 'waiting in queue' : `${j.phase ?? 'running'}${typeof j.progress === 'number' ? ` · ${Math.round(j.progress)}%` : ''}`}</span>
          </li>
        ))}
      </ul>
    </section>
  )
}

export function ProTraining() {
  const [files, setFiles] = useState<AudioFile[]>([])
  /** files of this tab's training set that could not be read back after a reload (deleted) */
  const [lost, setLost] = useState(0)
  /** ids of the files to train on; a new upload is selected */
  const [selected, setSelected] = useSessionState<string[]>('pro.selected', [])
  const [opts, setOpts] = useSessionState<Record<string, boolean>>('pro.options', { remove_noise: true, normalize_volume: true, trim_silence: true })
  const [name, setName] = useSessionState('pro.name', '')
  /** 0 = let the server choose from the audio length and the measured step time */
  const [epochs, setEpochs] = useState(0)
  /** the model flavour RVC tools know: rate, features version, pitch guidance (server defaults: 48 kHz, v2, pitch) */
  const [sampleRate, setSampleRate] = useState(48000)
  const [version, setVersion] = useState<'v2' | 'v1'>('v2')
  const [pitch, setPitch] = useState(true)
  const [consent, setConsent] = useState(false)
  const [useNoisy, setUseNoisy] = useState(false)
  const [unavailable, setUnavailable] = useState(false)
  const [weights, setWeights] = useState<ApiError | null>(null)
  const [startError, setStartError] = useState<string | null>(null)
  const training = useStartTraining()
  const busy = training.isPending
  const [recording, setRecording] = useState<'idle' | 'uploading' | string>('idle')
  const recorded = async (wav: Blob, secs: number) => {
    setRecording('uploading')
    try { added(await api.uploadFile('training', wav, `recording-${files.length + 1}.wav`)); setRecording('idle') }
    catch (e) { setRecording(`Your ${Math.round(secs)} s recording was not accepted: ${errorMessage(e)}`) }
  }

  // the uploaded files come back after a reload (their ids are kept for this tab)
  useEffect(() => {
    const ids = readSession<string[]>('pro.files', [])
    if (ids.length === 0) return
    Promise.all(ids.map((id) => fetchAudioFile(id).catch(() => null))).then((got) => {
      const ok = got.filter((a): a is AudioFile => !!a)
      setLost(got.length - ok.length)
      setFiles((fs) => [...ok.filter((a) => !fs.some((f) => f.file_id === a.file_id)), ...fs])
      setSelected((sel) => sel.filter((id) => ok.some((a) => a.file_id === id)))
    })
  }, [setSelected])
  useEffect(() => { writeSession('pro.files', files.map((f) => f.file_id)) }, [files])

  const added = (a: AudioFile) => {
    rememberUpload(a)
    setFiles((fs) => fs.some((f) => f.file_id === a.file_id) ? fs : [...fs, a])
    setSelected((s) => s.includes(a.file_id) ? s : [...s, a.file_id])
  }
  const toggle = (id: string, on: boolean) => setSelected((s) => on ? [...s.filter((x) => x !== id), id] : s.filter((x) => x !== id))
  const chosen = files.filter((f) => selected.includes(f.file_id))
  const total = chosen.reduce((t, f) => t + (f.duration_seconds ?? 0), 0)
  const speech = chosen.reduce((t, f) => t + speechSeconds(f), 0)
  const noisy = chosen.filter(isNoisy)

  const start = async (ev: React.FormEvent) => {
    ev.preventDefault()
    setStartError(null)
    setWeights(null)
    const problem = chosen.length === 0 ? (files.length ? 'Tick at least one file to train on.' : 'Upload training audio first.')
      : !name.trim() ? 'Give your voice model a name.'
      : !consent ? 'Confirm that the voice is yours or that you have permission.'
      : noisy.length > 0 && !useNoisy ? `${noisy.map((f) => f.filename).join(', ')} ${noisy.length > 1 ? 'are' : 'is'} below the ${MIN_SNR_DB} dB minimum: untick ${noisy.length > 1 ? 'them' : 'it'}, or tick “Use the noisy files anyway”.`
      : null
    if (problem) { setStartError(problem); return }
    askNotificationPermission()
    try {
      const r = await training.mutateAsync({ training_audio_ids: chosen.map((f) => f.file_id), model_name: name.trim(), voice_consent: true,
        preprocessing: opts, training_params: { ...(epochs > 0 ? { epochs } : {}), sample_rate: sampleRate, version, f0: pitch },
        ...(noisy.length > 0 ? { accept_noisy_audio: true } : {}) })
      const minutes = typeof r.estimated_duration_minutes === 'number' ? r.estimated_duration_minutes : null
      toast.success(`Training started${minutes ? `: about ${minutes} min` : ''}`)
      writeSession('pro.name', null)
      go(`/training/${encodeURIComponent(r.job_id)}`)
    } catch (e) {
      if (e instanceof ApiError && e.unavailable) setUnavailable(true)
      else if (e instanceof ApiError && e.weightsMissing) setWeights(e)
      else setStartError(errorMessage(e))
    }
  }

  return (
    <>
      <h1>Pro training</h1>
      <RunningTrainings />
      {unavailable && <Unavailable what="Model training (RVC)" />}
      <section className="card">
        <h2>1. Upload 5–10 minutes of speech</h2>
        <p className="muted">Several files are fine: all the ones you tick below are trained on together.</p>
        <Upload purpose="training" label="Drop training audio files" multiple onDone={added} />
        {lost > 0 && <p role="status" className="muted" data-testid="files-lost">{lost === 1 ? 'One file' : `${lost} files`} of your training set could not be loaded again (deleted since): upload {lost === 1 ? 'it' : 'them'} again if you need {lost === 1 ? 'it' : 'them'}.</p>}
        <p className="muted">…or record here, reading the script (each take up to 10 minutes):</p>
        <Recorder onRecorded={(w, secs) => void recorded(w, secs)} maxSeconds={600} sentences={READING_SCRIPT.length} label="up to 10 min" />
        {recording === 'uploading' && <p role="status">Uploading your recording…</p>}
        {recording !== 'idle' && recording !== 'uploading' && <p role="alert" className="error-text">{recording}</p>}
      </section>
      {files.length > 0 && (
        <section className="card stack" aria-labelledby="set-h" data-testid="training-set">
          <h2 id="set-h">2. Your training set</h2>
          <ul className="file-pick">
            {files.map((f) => (
              <li key={f.file_id} className={isNoisy(f) ? 'noisy' : ''}>
                <label className="check">
                  <input type="checkbox" checked={selected.includes(f.file_id)} onChange={(e) => toggle(f.file_id, e.target.checked)} />{' '}
                  {f.filename}
                </label>
                <span className="muted">{fmtDuration(f.duration_seconds)}{typeof f.quality_analysis?.snr_db === 'number' ? ` · SNR ${f.quality_analysis.snr_db.toFixed(1)} dB` : ''}{isNoisy(f) ? ' · noisy' : ''}</span>
              </li>
            ))}
          </ul>
          <p role="status" data-testid="set-total">
            Training on {chosen.length} of {files.length} file{files.length === 1 ? '' : 's'}: {fmtDuration(total)} in total,
            about <strong>{fmtDuration(speech)} of speech</strong>.
            {speech > 0 && speech < 300 && ' 5–10 minutes of speech gives the best voice; more files help.'}
          </p>
          {noisy.length > 0 && (
            <div className="banner warn" role="status" data-testid="noisy-report">
              <strong>{noisy.length === 1 ? 'One file is' : `${noisy.length} files are`} noisier than training needs.</strong>
              <ul>
                {noisy.map((f) => (
                  <li key={f.file_id}>{f.filename}: signal-to-noise <strong>{f.quality_analysis?.snr_db?.toFixed(1)} dB</strong>, the minimum is {MIN_SNR_DB} dB.</li>
                ))}
              </ul>
              <p>Best: record {noisy.length === 1 ? 'it' : 'them'} again in a quiet room, close to the microphone, with fans and music off.
                Or untick {noisy.length === 1 ? 'it' : 'them'}. Or train anyway: “Remove background noise” is applied first and the
                noise level is measured again, but the voice will likely sound noisier.</p>
              <label className="check">
                <input type="checkbox" checked={useNoisy} onChange={(e) => { setUseNoisy(e.target.checked); if (e.target.checked) setOpts({ ...opts, remove_noise: true }) }} />{' '}
                Use the noisy files anyway (noise removal on)
              </label>
            </div>
          )}
        </section>
      )}
      {files.length > 0 && (
        <section className="stack" aria-label="Quality reports">
          {files.map((f) => <QualityReport key={f.file_id} audio={f} />)}
        </section>
      )}
      <form className="card stack" onSubmit={(e) => void start(e)} noValidate>
        <h2>3. Options</h2>
        <fieldset>
          <legend>Preprocessing</legend>
          {OPTIONS.map(([k, label]) => (
            <label key={k} className="check">
              <input type="checkbox" checked={!!opts[k]} onChange={(e) => setOpts({ ...opts, [k]: e.target.checked })} /> {label}
            </label>
          ))}
        </fieldset>
        <label htmlFor="model-name">Model name</label>
        <input id="model-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="My voice" />
        <details>
          <summary>Advanced</summary>
          <label htmlFor="epochs">Epochs (0 = chosen for you: as many as fit in about 2 hours of this machine's measured
            training step, 10 to 20)</label>
          <input id="epochs" type="number" min={0} max={1000} value={epochs} onChange={(e) => setEpochs(+e.target.value)} />
          <p className="muted" data-testid="epochs-note">What to expect at the default: a 10-minute recording gets 10 epochs
            (about 2 hours on a fast 2-core machine, longer on slower ones; the training-set report gives the time measured
            here). That is half of RVC's default 20 (Applio trains up to 200): the voice is recognisable on clean speech but
            rougher than a longer-trained model. More epochs sound cleaner; "Stop now and keep the model" ends early. Without
            the pretrained base models, training starts from scratch and the default does not give a usable voice.</p>
          <label htmlFor="sample-rate">Sample rate of the voice</label>
          <select id="sample-rate" value={sampleRate} onChange={(e) => setSampleRate(+e.target.value)}>
            <option value={48000}>48 kHz (default)</option>
            <option value={40000}>40 kHz</option>
            <option value={32000}>32 kHz</option>
          </select>
          <label htmlFor="rvc-version">Model version</label>
          <select id="rvc-version" value={version} onChange={(e) => setVersion(e.target.value as 'v1' | 'v2')}>
            <option value="v2">v2 (default: 768-dim features)</option>
            <option value="v1">v1 (256-dim features, for older RVC tools)</option>
          </select>
          <label className="check">
            <input type="checkbox" checked={pitch} onChange={(e) => setPitch(e.target.checked)} /> Pitch guidance (untick for a
            model without pitch: for speech, follows the input's intonation less)
          </label>
          <p className="muted">Vocal separation (music removal) is not available yet: upload speech without background music.</p>
        </details>
        <label className="check">
          <input type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} /> This is my voice, or I have
          the speaker's permission to clone it.
        </label>
        <BlockedNotice need={['hubert', 'rmvpe']} soft={[`rvc_pretrained_${version}`]} what="Training" />
        {weights && <WeightsMissing what="Training" command={pullCommand(weights, 'rvc')} detail={weights.message} />}
        {startError && <p role="alert" className="error-text" data-testid="train-error">{startError}</p>}
        <button type="submit" className="primary" disabled={busy || !consent}>{busy ? 'Starting…' : 'Start training'}</button>
      </form>
    </>
  )
}
