/* Pro training setup (brief §5.2, RVC path): resumable uploads of training audio, a
 * quality report per file, preprocessing options, model name, then start → the training
 * page (/training/{job_id}). Asks for notification permission when the long job starts. */
import { useState } from 'react'
import toast from 'react-hot-toast'
import { api, ApiError, errorMessage, type AudioFile } from '../lib/api'
import { SystemBanner, Unavailable } from '../components/Common'
import { Upload } from '../components/Upload'
import { QualityReport } from '../components/QualityReport'
import { askNotificationPermission } from '../lib/progress'
import { useApp } from '../lib/store'
import { fmtDuration } from '../lib/format'

const OPTIONS = [
  ['remove_noise', 'Remove background noise'],
  ['normalize_volume', 'Normalise volume'],
  ['trim_silence', 'Trim long silences'],
] as const

export function ProTraining() {
  const navigate = useApp((s) => s.navigate)
  const [files, setFiles] = useState<AudioFile[]>([])
  const [selected, setSelected] = useState<string | null>(null)
  const [opts, setOpts] = useState<Record<string, boolean>>({ remove_noise: true, normalize_volume: true, trim_silence: true })
  const [name, setName] = useState('')
  /** 0 = let the server choose from the audio length and the measured step time */
  const [epochs, setEpochs] = useState(0)
  const [consent, setConsent] = useState(false)
  const [unavailable, setUnavailable] = useState(false)
  const [busy, setBusy] = useState(false)

  const added = (a: AudioFile) => { setFiles((fs) => [...fs, a]); setSelected((s) => s ?? a.file_id) }
  const total = files.reduce((t, f) => t + (f.duration_seconds ?? 0), 0)
  const start = async (ev: React.FormEvent) => {
    ev.preventDefault()
    if (!selected) { toast.error('Upload training audio first.'); return }
    if (!name.trim()) { toast.error('Give your voice model a name.'); return }
    if (!consent) { toast.error('Confirm that the voice is yours or that you have permission.'); return }
    askNotificationPermission()
    setBusy(true)
    try {
      const r = await api.train({ training_audio_id: selected, model_name: name.trim(), voice_consent: true, preprocessing: opts,
        training_params: epochs > 0 ? { epochs } : {} })
      const minutes = typeof r.estimated_duration_minutes === 'number' ? r.estimated_duration_minutes : null
      toast.success(`Training started${minutes ? `: about ${minutes} min` : ''}`)
      navigate(`/training/${encodeURIComponent(r.job_id)}`)
    } catch (e) {
      if (e instanceof ApiError && e.unavailable) setUnavailable(true)
      toast.error(errorMessage(e))
    } finally { setBusy(false) }
  }

  return (
    <>
      <SystemBanner need={['hubert', 'rmvpe', 'rvc']} />
      <h1>Pro training</h1>
      {unavailable && <Unavailable what="Model training (RVC)" />}
      <section className="card">
        <h2>1. Upload 5–10 minutes of speech</h2>
        <Upload purpose="training" label="Drop training audio files" multiple onDone={added} />
        {files.length > 0 && <p>{files.length} file(s), {fmtDuration(total)} in total.</p>}
      </section>
      {files.length > 0 && (
        <section className="stack" aria-label="Quality reports">
          {files.map((f) => <QualityReport key={f.file_id} audio={f} />)}
        </section>
      )}
      <form className="card stack" onSubmit={(e) => void start(e)}>
        <h2>2. Options</h2>
        {files.length > 1 && (
          <label>Training file
            <select value={selected ?? ''} onChange={(e) => setSelected(e.target.value)}>
              {files.map((f) => <option key={f.file_id} value={f.file_id}>{f.filename}</option>)}
            </select>
          </label>
        )}
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
          <label htmlFor="epochs">Epochs (0 = chosen for you, about 45 minutes of training)</label>
          <input id="epochs" type="number" min={0} max={1000} value={epochs} onChange={(e) => setEpochs(+e.target.value)} />
          <p className="muted">Vocal separation (music removal) is not available yet: upload speech without background music.</p>
        </details>
        <label className="check">
          <input type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} /> This is my voice, or I have
          the speaker's permission to clone it.
        </label>
        <button type="submit" className="primary" disabled={busy || !consent}>Start training</button>
      </form>
    </>
  )
}
