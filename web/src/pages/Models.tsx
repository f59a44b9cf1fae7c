/* Model library (brief §2.2 model management): cards with name, grade, created date,
 * training audio length, preview, use and delete (confirmed); empty state; skeletons
 * while loading; import of an existing .pth (+ optional .index). */
import { useCallback, useEffect, useState } from 'react'
import toast from 'react-hot-toast'
import { api, errorMessage, type VoiceModel } from '../lib/api'
import { ConfirmButton, Link, Skeleton } from '../components/Common'
import { Waveform } from '../components/BeforeAfter'
import { fmtDuration, gradeTone } from '../lib/format'

function ImportForm({ onDone }: { onDone: () => void }) {
  const [busy, setBusy] = useState(false)
  const submit = async (ev: React.FormEvent<HTMLFormElement>) => {
    ev.preventDefault()
    const fd = new FormData(ev.currentTarget)
    if (!(fd.get('model') instanceof File) || (fd.get('model') as File).size === 0) { toast.error('Choose a .pth model file.'); return }
    setBusy(true)
    try { await api.importModel(fd); toast.success('Model imported'); onDone() } catch (e) { toast.error(errorMessage(e)) } finally { setBusy(false) }
  }
  return (
    <details className="card">
      <summary>Import an existing RVC model</summary>
      <form className="stack" onSubmit={(e) => void submit(e)}>
        <label>Model name <input name="name" required /></label>
        <label>Model weights (.pth) <input name="model" type="file" accept=".pth" /></label>
        <label>Feature index (.index, optional) <input name="index" type="file" accept=".index" /></label>
        <button type="submit" disabled={busy}>Import</button>
      </form>
    </details>
  )
}

export function Models() {
  const [models, setModels] = useState<VoiceModel[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const load = useCallback(() => {
    api.models().then((m) => { setModels(m); setError(null) }).catch((e) => setError(errorMessage(e)))
  }, [])
  useEffect(load, [load])
  const remove = async (m: VoiceModel) => {
    try { await api.deleteModel(m.model_id); toast.success(`Deleted ${m.name}`); load() } catch (e) { toast.error(errorMessage(e)) }
  }
  return (
    <>
      <h1>Your voice models</h1>
      {error && <div className="banner error" role="alert">{error}</div>}
      {!models && !error && <Skeleton count={3} />}
      {models && models.length === 0 && (
        <div className="empty card" data-testid="models-empty">
          <h2>No voice models yet</h2>
          <p>Train one from 5–10 minutes of your voice, or import an RVC model you already have.</p>
          <Link to="/train" className="button primary">Start training</Link>
        </div>
      )}
      {models && models.length > 0 && (
        <ul className="model-grid">
          {models.map((m) => (
            <li key={m.model_id} className="card model">
              <h2>{m.name}</h2>
              <p><span className={`grade ${gradeTone(m.quality_grade)}`}>{m.quality_grade ?? '—'}</span></p>
              <dl className="stats">
                <div><dt>Created</dt><dd>{m.created_at ? new Date(m.created_at).toLocaleDateString() : '—'}</dd></div>
                <div><dt>Training audio</dt><dd>{fmtDuration(m.training_audio_duration_seconds)}</dd></div>
              </dl>
              {m.preview_audio_id && <Waveform id={m.preview_audio_id} label={`preview of ${m.name}`} />}
              <div className="actions">
                <Link to={`/convert?model=${encodeURIComponent(m.model_id)}`} className="button primary">Use<span className="sr-only"> {m.name}</span></Link>
                <ConfirmButton label="Delete" confirmLabel="Yes, delete" question={`Delete ${m.name}? This cannot be undone.`} onConfirm={() => void remove(m)} ariaLabel={`Delete ${m.name}`} />
              </div>
            </li>
          ))}
        </ul>
      )}
      <ImportForm onDone={load} />
    </>
  )
}
