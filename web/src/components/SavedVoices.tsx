/* Instant voices (GET/POST/PATCH/DELETE /api/voices): a quick-clone voice sample saved under a
 * name with its transcript, picked again later without uploading (ElevenLabs' instant clones).
 * The quick clone uses the picker and "Save this voice"; the library lists them with rename and
 * delete. */
import { useState } from 'react'
import toast from 'react-hot-toast'
import { downloadUrl, errorMessage, type Voice } from '../lib/api'
import { refreshVoices, useDeleteVoice, useRenameVoice, useSaveVoice, useVoiceList } from '../lib/queries'
import { ConfirmButton, Link } from './Common'
import { fmtDuration } from '../lib/format'

/** The user's saved voices (null while loading; [] on a server without them), a reload (every
 * screen showing them follows: one TanStack Query cache, lib/queries.ts) and the load error. */
export function useVoices(): [Voice[] | null, () => void, string | null] {
  const { voices, error } = useVoiceList()
  return [voices, () => void refreshVoices(), error]
}

/** "Use a saved voice": shown once there is one to pick. */
export function SavedVoicePicker({ voices, chosen, onPick }: { voices: Voice[] | null; chosen: Voice | null; onPick: (v: Voice | null) => void }) {
  if (!voices?.length) return null
  return (
    <div className="saved-voice-picker">
      <label htmlFor="saved-voice">Use a saved voice</label>
      <select id="saved-voice" value={chosen?.voice_id ?? ''} onChange={(e) => onPick(voices.find((v) => v.voice_id === e.target.value) ?? null)}>
        <option value="">— a new sample (upload or record below) —</option>
        {voices.map((v) => <option key={v.voice_id} value={v.voice_id}>{v.name} ({fmtDuration(v.duration_seconds ?? undefined)})</option>)}
      </select>
    </div>
  )
}

/** "Save this voice": names the current sample and keeps it (with its transcript) in the library.
 * A div, not a form: it sits inside the quick clone's form. */
export function SaveVoice({ audioId, transcript, onSaved }: { audioId: string; transcript: string | null; onSaved: (v: Voice) => void }) {
  const [name, setName] = useState('')
  const saving = useSaveVoice()
  const busy = saving.isPending
  const [error, setError] = useState<string | null>(null)
  const [open, setOpen] = useState(false)   // the name box appears on request: nothing asks for typing by default
  const save = async () => {
    if (!name.trim()) { setError('Give the voice a name.'); return }
    try {
      const v = await saving.mutateAsync({ name: name.trim(), reference_audio_id: audioId, ...(transcript ? { reference_text: transcript } : {}) })
      toast.success(`Saved ${v.name} in your library`)
      setError(null)
      setName('')
      onSaved(v)
    } catch (e) { setError(errorMessage(e)) }
  }
  if (!open) return <p data-testid="save-voice"><button type="button" onClick={() => setOpen(true)}>Save this voice…</button></p>
  return (
    <div className="save-voice" data-testid="save-voice">
      <label htmlFor="save-voice-name">Name this voice to reuse it later</label>
      <input id="save-voice-name" value={name} maxLength={100} autoComplete="off" autoFocus onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); void save() } }} />
      <button type="button" onClick={() => void save()} disabled={busy}>{busy ? 'Saving…' : 'Save this voice'}</button>
      <button type="button" onClick={() => { setOpen(false); setError(null) }}>Not now</button>
      {!transcript && <p className="muted small-print">Its words are not known yet: they will be heard each time you use it (or save it once we have heard them).</p>}
      {error && <p role="alert" className="error-text">{error}</p>}
    </div>
  )
}

/** The library's instant voices: kind, name, length, transcript, the sample itself; use, rename, delete. */
/** onChanged: told after a rename or delete (the list itself refreshes through lib/queries.ts). */
export function VoiceList({ voices, onChanged }: { voices: Voice[]; onChanged?: () => void }) {
  if (!voices.length) return null
  return (
    <section aria-labelledby="instant-voices">
      <h2 id="instant-voices">Instant voices</h2>
      <p className="muted">Voice samples saved from Quick clone: pick one there instead of uploading again.</p>
      <ul className="model-grid">
        {voices.map((v) => <VoiceCard key={v.voice_id} v={v} onChanged={onChanged} />)}
      </ul>
    </section>
  )
}

export function VoiceCard({ v, onChanged }: { v: Voice; onChanged?: () => void }) {
  const [renaming, setRenaming] = useState(false)
  const [name, setName] = useState(v.name)
  const [error, setError] = useState<string | null>(null)
  const renaming_ = useRenameVoice()
  const deleting = useDeleteVoice()
  const rename = async (ev: React.FormEvent) => {
    ev.preventDefault()
    if (!name.trim()) { setError('Give the voice a name.'); return }
    try { await renaming_.mutateAsync({ id: v.voice_id, name: name.trim() }); toast.success(`Renamed to ${name.trim()}`); setRenaming(false); setError(null); onChanged?.() }
    catch (e) { setError(errorMessage(e)) }
  }
  const remove = async () => {
    try { await deleting.mutateAsync(v.voice_id); toast.success(`Deleted ${v.name}`); onChanged?.() } catch (e) { toast.error(errorMessage(e)) }
  }
  return (
    <li className="card model" data-testid="voice-card">
      <h3>{v.name}</h3>
      <p><span className="grade unknown">Instant voice</span></p>
      <dl className="facts-list">
        <dt>Kind</dt><dd>Quick clone sample (F5-TTS)</dd>
        <dt>Length</dt><dd>{fmtDuration(v.duration_seconds ?? undefined)}</dd>
        <dt>Transcript</dt><dd data-testid="voice-transcript">{v.reference_text ? `“${v.reference_text}”` : 'not known yet (heard at each use)'}</dd>
        <dt>Saved</dt><dd>{v.created_at ? new Date(v.created_at).toLocaleDateString() : '—'}</dd>
      </dl>
      {v.audio_available !== false
        ? <audio controls preload="metadata" src={downloadUrl(v.reference_audio_id)} aria-label={`Sample of ${v.name}`} />
        : <p className="error-text">Its sample is gone: delete this voice and save a new one.</p>}
      {renaming && (
        <form className="rename" onSubmit={(e) => void rename(e)} noValidate>
          <label htmlFor={`rename-${v.voice_id}`}>New name</label>
          <input id={`rename-${v.voice_id}`} value={name} maxLength={100} autoFocus onChange={(e) => setName(e.target.value)} />
          <button type="submit" className="small">Save</button>
          <button type="button" className="small" onClick={() => { setRenaming(false); setName(v.name); setError(null) }}>Keep the name</button>
        </form>
      )}
      {error && <p role="alert" className="error-text">{error}</p>}
      <div className="actions">
        <Link to={`/quick?voice=${encodeURIComponent(v.voice_id)}`} className="button primary">Use<span className="sr-only"> {v.name}</span></Link>
        {!renaming && <button type="button" onClick={() => setRenaming(true)}>Rename<span className="sr-only"> {v.name}</span></button>}
        <ConfirmButton label="Delete" confirmLabel="Yes, delete" question={`Delete the saved voice ${v.name}? Its sample stays in your uploads.`}
          onConfirm={() => void remove()} ariaLabel={`Delete ${v.name}`} />
      </div>
    </li>
  )
}
