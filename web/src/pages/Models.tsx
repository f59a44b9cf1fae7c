/* Model library (brief §2.2 model management): cards with name, grade, created date,
 * training audio length, preview, use and delete (confirmed); empty state; skeletons
 * while loading; import of an existing .pth (+ optional .index); the instant voices saved from
 * Quick clone (components/SavedVoices); the base models with their licences. Each voice has "Try
 * it": a few seconds of the pre-loaded sample recording converted with it, next to the original. */
import { useEffect, useState } from 'react'
import toast from 'react-hot-toast'
import { ApiError, errorMessage, exportUrl, importProblem, packOf, type Pack, type VoiceModel } from '../lib/api'
import { ConfirmButton, Link, Skeleton, Unavailable } from '../components/Common'
import { Waveform } from '../components/BeforeAfter'
import { fmtDuration, gradeTone } from '../lib/format'
import { DownloadPack, PACKS } from '../components/DownloadPack'
import { useVoices, VoiceList } from '../components/SavedVoices'
import { TryIt } from './Training'
import { useSessionState } from '../lib/session'
import { useDeleteModel, useImportModel, useModels, useRenameModel, useSystem } from '../lib/queries'

/** Import of an RVC model; the library (every screen listing models) refreshes on success. */
export function ImportForm({ onDone, open }: { onDone?: (m: VoiceModel) => void; open?: boolean }) {
  const [name, setName] = useSessionState('models.importName', '')   // typed text survives a reload (files cannot)
  const [model, setModel] = useState<File | null>(null)
  const [index, setIndex] = useState<File | null>(null)
  const importing = useImportModel()
  const busy = importing.isPending
  const [error, setError] = useState<string | null>(null)
  const [unavailable, setUnavailable] = useState(false)
  const [done, setDone] = useState<VoiceModel | null>(null)
  const [formKey, setFormKey] = useState(0)   // remounts the file inputs after a success
  // opened for you while the library is empty; once the user toggles it, or an import
  // succeeds, their choice wins (an import that fills the library must not fold its own
  // success message away)
  const [userOpen, setUserOpen] = useState<boolean | null>(null)
  const isOpen = userOpen ?? !!open
  const submit = async (ev: React.FormEvent<HTMLFormElement>) => {
    ev.preventDefault()
    setDone(null)
    const problem = importProblem({ name, model, index })
    if (problem) { setError(problem); return }
    setError(null)
    try {
      const m = await importing.mutateAsync({ name, model: model!, index })
      toast.success(`Imported ${m.name ?? name.trim()}`)
      setDone(m)
      setUserOpen(true)
      setName(''); setModel(null); setIndex(null); setFormKey((k) => k + 1)
      onDone?.(m)
    } catch (e) {
      if (e instanceof ApiError && e.unavailable) setUnavailable(true)
      else setError(errorMessage(e))
    }
  }
  return (
    <details className="card" open={isOpen} onToggle={(e) => { const o = e.currentTarget.open; if (o !== isOpen) setUserOpen(o) }} data-testid="import">
      <summary>Import an existing RVC model</summary>
      {unavailable && <Unavailable what="Model import" />}
      <form key={formKey} className="stack" onSubmit={(e) => void submit(e)} aria-busy={busy} noValidate>
        <p className="muted">An RVC v1/v2 model: the <code>.pth</code> weights and, if you have it, the <code>.index</code> feature index (better accent and timbre) — or one <code>.zip</code> holding both.</p>
        <label htmlFor="import-name">Model name</label>
        <input id="import-name" name="name" value={name} onChange={(e) => setName(e.target.value)} aria-required="true" autoComplete="off" />
        <label htmlFor="import-model">Model weights (.pth or .zip)</label>
        <input id="import-model" name="file" type="file" accept=".pth,.zip" aria-required="true" onChange={(e) => setModel(e.target.files?.[0] ?? null)} />
        <label htmlFor="import-index">Feature index (.index, optional)</label>
        <input id="import-index" name="index" type="file" accept=".index" onChange={(e) => setIndex(e.target.files?.[0] ?? null)} />
        {error && <p role="alert" className="error-text" data-testid="import-error">{error}</p>}
        {busy && <p role="status" className="import-status">Uploading and checking {model?.name}…</p>}
        {done && !busy && <p role="status" className="import-status" data-testid="import-done">Imported {done.name}. <Link to={`/convert?model=${encodeURIComponent(done.model_id)}`}>Use it to convert audio</Link></p>}
        <p><button type="submit" disabled={busy}>{busy ? 'Importing…' : 'Import'}</button></p>
      </form>
    </details>
  )
}

export function Models() {
  const { models, error } = useModels()
  const [voices, , voicesError] = useVoices()
  const deleting = useDeleteModel()
  const remove = async (m: VoiceModel) => {
    try { await deleting.mutateAsync(m.model_id); toast.success(`Deleted ${m.name}`) } catch (e) { toast.error(errorMessage(e)) }
  }
  return (
    <>
      <h1>Your voice models</h1>
      {error && <div className="banner error" role="alert">{error}</div>}
      {!models && !error && <Skeleton count={3} />}
      {models && models.length === 0 && <NoModels instantVoices={voices?.length ?? 0} />}
      {models && models.length > 0 && (
        <ul className="model-grid">
          {models.map((m) => <ModelCard key={m.model_id} m={m} onDelete={() => void remove(m)} />)}
        </ul>
      )}
      {voicesError && <div className="banner error" role="alert">{voicesError}</div>}
      {voices && <VoiceList voices={voices} />}
      <ImportForm open={models?.length === 0} />
      <BaseModels />
    </>
  )
}

/** The library without RVC models. Instant voices (listed below it) are voices too, so the
 * text only says "no voices" when there are none of either; with some, it says what a model
 * adds (Convert works from a recording) and that the saved voices already work in Quick clone. */
export function NoModels({ instantVoices }: { instantVoices: number }) {
  const saved = instantVoices === 1 ? 'Your saved instant voice' : `Your ${instantVoices} saved instant voices`
  return (
    <div className="empty card" data-testid="models-empty">
      {instantVoices > 0 ? <>
        <h2>No trained or imported voice models yet</h2>
        <p>{saved} below {instantVoices === 1 ? 'works' : 'work'} in Quick clone. To convert recordings with <Link to="/convert">Convert</Link>, train a
          voice model from 5–10 minutes of your voice, or import an RVC model you already have.</p>
      </> : <>
        <h2>No voices yet</h2>
        <p>Save a voice from <Link to="/quick">Quick clone</Link> in seconds, train a voice model from 5–10 minutes of your voice, or
          import an RVC model you already have.</p>
      </>}
      <Link to="/train" className="button primary">Start training</Link>
    </div>
  )
}

/** A trained voice has a training summary; an imported one says what its file holds instead. */
export const isImported = (m: VoiceModel) => !m.training_audio_duration_seconds && !m.training_duration_minutes

/** One voice in the library: what the file says (version, rate, pitch, index), grade and training
 * length for trained voices, the consent note; use, rename, export (.zip of .pth + .index), delete. */
export function ModelCard({ m, onDelete, onRenamed }: { m: VoiceModel; onDelete: () => void; onRenamed?: () => void }) {
  const [renaming, setRenaming] = useState(false)
  const renamingOnServer = useRenameModel()
  const [name, setName] = useState(m.name)
  const [error, setError] = useState<string | null>(null)
  const imported = isImported(m)
  const rename = async (ev: React.FormEvent) => {
    ev.preventDefault()
    if (!name.trim()) { setError('Give the model a name.'); return }
    try { await renamingOnServer.mutateAsync({ id: m.model_id, name: name.trim() }); toast.success(`Renamed to ${name.trim()}`); setRenaming(false); setError(null); onRenamed?.() }
    catch (e) { setError(errorMessage(e)) }
  }
  return (
    <li className="card model" data-testid="model-card">
      <h2>{m.name}</h2>
      <p>
        {imported ? <span className="grade unknown">Imported</span> : <span className={`grade ${gradeTone(m.quality_grade)}`}>{m.quality_grade || '—'}</span>}
      </p>
      <dl className="facts-list">
        <dt>Created</dt><dd>{m.created_at ? new Date(m.created_at).toLocaleDateString() : '—'}</dd>
        {!imported && <><dt>Training audio</dt><dd>{fmtDuration(m.training_audio_duration_seconds ?? undefined)}</dd></>}
        {typeof m.final_loss === 'number' && m.final_loss > 0 && <><dt>Final loss</dt><dd>{m.final_loss.toFixed(2)}</dd></>}
        {m.version && <><dt>RVC version</dt><dd>{m.version}</dd></>}
        {m.sample_rate ? <><dt>Sample rate</dt><dd>{Math.round(m.sample_rate / 1000)} kHz</dd></> : null}
        {typeof m.f0 === 'boolean' && <><dt>Pitch (f0)</dt><dd>{m.f0 ? 'yes: follows the sung/spoken pitch' : 'no: speech only'}</dd></>}
        <dt>Feature index</dt><dd>{m.has_index ? (typeof m.index_rows === 'number' && m.index_rows > 0 ? `${m.index_rows.toLocaleString()} rows` : 'yes') : 'none (accent follows the model only)'}</dd>
        {imported && m.source_file && <><dt>From file</dt><dd>{m.source_file}</dd></>}
        {m.training?.attestation && <><dt>Consent</dt><dd>{m.training.attestation}{m.training.consented_at ? ` (${new Date(m.training.consented_at).toLocaleDateString()})` : ''}</dd></>}
      </dl>
      {imported && !m.training?.attestation && <p className="muted small-print">Imported voice: use it only with the permission of the person whose voice it is.</p>}
      {m.preview_audio_id && <Waveform id={m.preview_audio_id} label={`preview of ${m.name}`} />}
      <TryIt modelId={m.model_id} />
      {renaming && (
        <form className="rename" onSubmit={(e) => void rename(e)} noValidate>
          <label htmlFor={`rename-${m.model_id}`}>New name</label>
          <input id={`rename-${m.model_id}`} value={name} maxLength={100} autoFocus onChange={(e) => setName(e.target.value)} />
          <button type="submit" className="small">Save</button>
          <button type="button" className="small" onClick={() => { setRenaming(false); setName(m.name); setError(null) }}>Keep the name</button>
        </form>
      )}
      {error && <p role="alert" className="error-text">{error}</p>}
      <div className="actions">
        <Link to={`/convert?model=${encodeURIComponent(m.model_id)}`} className="button primary">Use<span className="sr-only"> {m.name}</span></Link>
        {!renaming && <button type="button" onClick={() => setRenaming(true)}>Rename<span className="sr-only"> {m.name}</span></button>}
        <a className="button" href={exportUrl(m.model_id)} download data-testid="export">Export .zip<span className="sr-only"> of {m.name}</span></a>
        <ConfirmButton label="Delete" confirmLabel="Yes, delete" question={`Delete ${m.name}? This cannot be undone.`} onConfirm={onDelete} ariaLabel={`Delete ${m.name}`} />
      </div>
    </li>
  )
}

/** The studio's base models (from /api/system): what each is for, whether it is installed and
 * its licence — the F5-TTS weights are non-commercial, which users must see. */
export function BaseModels() {
  const weights = useSystem().system?.weights
  // a pack stays on screen once shown, so its download's "installed" message is not unmounted
  // the moment /api/system reports it installed
  const [shown, setShown] = useState<Pack[]>([])
  const missingNow = [...new Set((weights ?? []).filter((w) => !w.installed).map(packOf))]
  const key = missingNow.join(',')
  useEffect(() => { if (key) setShown((old) => [...new Set([...old, ...(key.split(',') as Pack[])])]) }, [key])
  if (!weights?.length) return null
  const missingPacks = [...new Set([...shown, ...missingNow])]
  return (
    <section className="card" aria-labelledby="base-models" data-testid="base-models">
      <h2 id="base-models">Base models</h2>
      {missingPacks.length > 0 && (
        <div className="packs">
          {missingPacks.map((p) => (
            <article key={p} className="pack" aria-labelledby={`pack-${p}`}>
              <h3 id={`pack-${p}`}>{PACKS[p].title}</h3>
              <p>{PACKS[p].enables}</p>
              <DownloadPack pack={p} />
            </article>
          ))}
          <p className="muted small-print">Without internet on the server: copy the files over and run{' '}
            <code>voiceclone models import FILE --to FOLDER --data DIR</code> there (docs/MODELS.md lists the files and folders).</p>
        </div>
      )}
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Base models (scrolls sideways on small screens)">
      <table>
        <thead><tr><th scope="col">Model</th><th scope="col">Used for</th><th scope="col">Installed</th><th scope="col">Licence</th></tr></thead>
        <tbody>
          {weights.map((w) => (
            <tr key={w.name}>
              <td>{w.name}</td>
              <td>{w.purpose}</td>
              <td>{w.installed ? 'yes' : <>no — <code>voiceclone models pull {packOf(w)} --data DIR</code></>}</td>
              <td>{w.licence ?? '—'}{w.licence_note ? <span className="muted small-print"> ({w.licence_note})</span> : null}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </section>
  )
}
