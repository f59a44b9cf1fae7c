/* Resumable upload box: react-dropzone for picking/dropping files, tus-js-client for the
 * transfer to /api/uploads/ (metadata filename + purpose), per-file progress with
 * pause/resume. When a file finishes, GET /api/uploads/{id} gives the audio id and the
 * quality analysis, handed to the parent through onDone. */
import { useCallback, useRef, useState } from 'react'
import { useDropzone, type FileRejection } from 'react-dropzone'
import * as tus from 'tus-js-client'
import toast from 'react-hot-toast'
import { api, type AudioFile } from '../lib/api'

export type Purpose = 'training' | 'target' | 'reference'

interface Item {
  key: string
  name: string
  size: number
  sent: number
  state: 'uploading' | 'paused' | 'analysing' | 'done' | 'failed' | 'rejected'
  error?: string
  upload?: tus.Upload
}

/** Pull the server's JSON user_message out of a tus error. */
export function tusErrorMessage(err: unknown): string {
  const res = (err as { originalResponse?: { getBody?: () => string; getStatus?: () => number } })?.originalResponse
  const body = res?.getBody?.()
  if (body) {
    try {
      const j = JSON.parse(body)
      if (j.user_message) return j.user_message
      if (j.message) return j.message
    } catch { /* not JSON */ }
  }
  if (res?.getStatus?.() === 404) return "Uploads aren't available on this server yet."
  return 'Upload failed. Check your connection and try again.'
}

const ACCEPT = { 'audio/*': ['.wav', '.mp3', '.flac', '.ogg', '.m4a'] }

/** Why a dropped file was not uploaded, in words (react-dropzone's codes). */
export function rejectionMessage(r: { file: { name: string; type?: string }; errors: readonly { code: string; message: string }[] }): string {
  const code = r.errors[0]?.code
  if (code === 'file-invalid-type')
    return `${r.file.name} is not an audio file${r.file.type ? ` (${r.file.type})` : ''}: choose a WAV, MP3, FLAC or OGG recording.`
  if (code === 'too-many-files') return `${r.file.name} was not added: drop one file here.`
  return `${r.file.name} was not added: ${r.errors[0]?.message ?? 'unknown reason'}.`
}

export function Upload(props: {
  purpose: Purpose
  label: string
  multiple?: boolean
  onDone: (audio: AudioFile) => void
}) {
  const [items, setItems] = useState<Item[]>([])
  const itemsRef = useRef(items)
  itemsRef.current = items
  const patch = (key: string, p: Partial<Item>) => setItems((xs) => xs.map((x) => (x.key === key ? { ...x, ...p } : x)))
  const { purpose, onDone } = props

  const finish = useCallback(async (key: string, url: string | null) => {
    patch(key, { state: 'analysing' })
    try {
      const id = (url ?? '').replace(/\/+$/, '').split('/').pop() ?? ''
      const st = await api.upload(id)
      if (!st.file_id) throw new Error('The server did not return an audio id for this upload.')
      const audio = await api.audio(st.file_id)
      if (!audio.quality_analysis && st.quality_analysis) audio.quality_analysis = st.quality_analysis
      patch(key, { state: 'done' })
      onDone(audio)
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e)
      patch(key, { state: 'failed', error: msg })
      toast.error(msg)
    }
  }, [onDone])

  const onDrop = useCallback((files: File[]) => {
    for (const file of files) {
      const key = `${file.name}-${file.size}-${Date.now()}-${Math.random()}`
      const up = new tus.Upload(file, {
        endpoint: '/api/uploads/',
        chunkSize: 2 * 1024 * 1024,
        retryDelays: [0, 1000, 3000],
        removeFingerprintOnSuccess: true,
        metadata: { filename: file.name, purpose, filetype: file.type || 'application/octet-stream' },
        onProgress: (sent) => patch(key, { sent }),
        onSuccess: () => void finish(key, up.url),
        onError: (err) => {
          const msg = tusErrorMessage(err)
          patch(key, { state: 'failed', error: msg })
          toast.error(msg)
        },
        onShouldRetry: (err) => {
          const s = (err as tus.DetailedError).originalResponse?.getStatus() ?? 0
          return s === 0 || s >= 500 && s !== 501 && s !== 503
        },
      })
      setItems((xs) => [...xs, { key, name: file.name, size: file.size, sent: 0, state: 'uploading', upload: up }])
      up.start()
    }
  }, [purpose, finish])

  // a dropped file that is not audio is said so (never silently ignored)
  const onDropRejected = useCallback((rejected: FileRejection[]) => {
    setItems((xs) => [...xs, ...rejected.map((r) => ({
      key: `${r.file.name}-${Date.now()}-${Math.random()}`, name: r.file.name, size: r.file.size, sent: 0,
      state: 'rejected' as const, error: rejectionMessage(r),
    }))])
  }, [])
  const { getRootProps, getInputProps, isDragActive, open } = useDropzone({ onDrop, onDropRejected, accept: ACCEPT, multiple: props.multiple ?? false, noClick: true, noKeyboard: true })
  const remove = (it: Item) => { void it.upload?.abort(); setItems((xs) => xs.filter((x) => x.key !== it.key)) }

  const toggle = (it: Item) => {
    if (!it.upload) return
    if (it.state === 'uploading') { void it.upload.abort(); patch(it.key, { state: 'paused' }) }
    else if (it.state === 'paused') { it.upload.start(); patch(it.key, { state: 'uploading' }) }
  }

  return (
    <div className="upload">
      <div {...getRootProps({ className: 'dropzone' + (isDragActive ? ' active' : '') })}>
        <input {...getInputProps({ 'aria-label': props.label, 'data-testid': `upload-input-${purpose}` } as Record<string, string>)} />
        <p><strong>{isDragActive ? 'Drop to upload' : props.label}</strong></p>
        <p className="muted">Drag files here, or <button type="button" onClick={open}>choose {props.multiple ? 'files' : 'a file'}…</button> · WAV, MP3, FLAC or OGG</p>
      </div>
      {items.length > 0 && (
        <ul className="upload-list" aria-label="Uploads">
          {items.map((it) => {
            const pct = it.size ? Math.round((100 * it.sent) / it.size) : 0
            return (
              <li key={it.key} className={'upload-item ' + it.state} data-testid="upload-row">
                <span className="name">{it.name}</span>
                {it.state !== 'failed' && it.state !== 'rejected' && <progress max={100} value={pct} aria-label={`Upload progress for ${it.name}`}>{pct}%</progress>}
                <span className={'status' + (it.state === 'failed' || it.state === 'rejected' ? ' error-text' : '')} aria-live="polite" role={it.state === 'failed' || it.state === 'rejected' ? 'alert' : undefined}>
                  {it.state === 'uploading' && `${pct}%`}
                  {it.state === 'paused' && `Paused at ${pct}%`}
                  {it.state === 'analysing' && 'Analysing quality…'}
                  {it.state === 'done' && 'Uploaded'}
                  {(it.state === 'failed' || it.state === 'rejected') && (it.error ?? 'Failed')}
                </span>
                {(it.state === 'failed' || it.state === 'rejected') && (
                  <button type="button" className="small" onClick={() => remove(it)}>
                    Remove<span className="sr-only"> {it.name}</span>
                  </button>
                )}
                {(it.state === 'uploading' || it.state === 'paused') && (
                  <button type="button" className="small" onClick={() => toggle(it)}>
                    {it.state === 'uploading' ? 'Pause' : 'Resume'}<span className="sr-only"> {it.name}</span>
                  </button>
                )}
              </li>
            )
          })}
        </ul>
      )}
    </div>
  )
}
