/* In-browser recorder: microphone via getUserMedia, raw samples through a
 * ScriptProcessor (simple and widely supported), live level meter, a length limit, a reading
 * script to read from, and a client-side WAV encode (lib/wav.ts). A finished take can be played
 * back first: only "Use this recording" hands it to onRecorded; "Record again" drops it. */
import { useEffect, useRef, useState } from 'react'
import { concatChunks, encodeWav, levelDb } from '../lib/wav'
import { READING_SCRIPT } from '../lib/script'
import { fmtDuration } from '../lib/format'

export function Recorder({ onRecorded, maxSeconds = 30, sentences = 5, label = '10–30 s' }: {
  onRecorded: (wav: Blob, seconds: number) => void
  /** the recording stops by itself here */
  maxSeconds?: number
  /** how many sentences of the reading script to offer */
  sentences?: number
  label?: string
}) {
  const MAX_SECONDS = maxSeconds
  const [take, setTake] = useState<{ wav: Blob; seconds: number; url: string } | null>(null)
  useEffect(() => () => { if (take) URL.revokeObjectURL(take.url) }, [take])
  const [state, setState] = useState<'idle' | 'recording' | 'error'>('idle')
  const [level, setLevel] = useState(-90)
  const [secs, setSecs] = useState(0)
  const [err, setErr] = useState('')
  const stopRef = useRef<(() => void) | null>(null)
  useEffect(() => () => stopRef.current?.(), [])

  const start = async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false } })
      const ctx = new AudioContext()
      const src = ctx.createMediaStreamSource(stream)
      const proc = ctx.createScriptProcessor(4096, 1, 1)
      const chunks: Float32Array[] = []
      let n = 0
      proc.onaudioprocess = (ev) => {
        const block = new Float32Array(ev.inputBuffer.getChannelData(0))
        chunks.push(block); n += block.length
        setLevel(levelDb(block)); setSecs(n / ctx.sampleRate)
        if (n / ctx.sampleRate >= MAX_SECONDS) stopRef.current?.()
      }
      src.connect(proc); proc.connect(ctx.destination)
      stopRef.current = () => {
        stopRef.current = null
        proc.disconnect(); src.disconnect(); stream.getTracks().forEach((t) => t.stop())
        const rate = ctx.sampleRate
        void ctx.close()
        setState('idle'); setLevel(-90)
        const wav = encodeWav(concatChunks(chunks), rate)
        setTake({ wav, seconds: n / rate, url: URL.createObjectURL(wav) })   // listen first, then use it
      }
      setTake(null); setSecs(0); setState('recording')
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e)); setState('error')
    }
  }

  const pct = Math.round(((level + 60) / 60) * 100)
  const use = () => { if (take) { onRecorded(take.wav, take.seconds); setTake(null) } }
  return (
    <div className="recorder">
      <details className="script" open={state === 'recording' || undefined}>
        <summary>Reading script: {sentences} sentences to read aloud</summary>
        <p className="muted small-print">Phonetically varied sentences (the Harvard sentences). Read them at your normal pace and volume{sentences > 10 ? `; about ${Math.round(sentences * 3 / 60)} minutes once through: for 5–10 minutes, read them all once calmly and once more lively` : ''}.</p>
        <ol>{READING_SCRIPT.slice(0, sentences).map((t) => <li key={t}>{t}</li>)}</ol>
      </details>
      {state !== 'recording'
        ? <button type="button" onClick={() => void start()}>● {take ? 'Record again' : `Record (${label})`}</button>
        : <button type="button" className="danger" onClick={() => stopRef.current?.()}>■ Stop ({secs.toFixed(1)} s)</button>}
      <span className="meter" role="meter" aria-label="Microphone level" aria-valuemin={-60} aria-valuemax={0} aria-valuenow={Math.round(level)}>
        <span style={{ width: `${Math.max(0, Math.min(100, pct))}%` }} />
      </span>
      {take && state !== 'recording' && (
        <div className="take" data-testid="take">
          <p>Your recording ({fmtDuration(take.seconds)}): listen to it before using it.</p>
          <audio controls src={take.url} aria-label="Your recording" />
          <p className="actions">
            <button type="button" className="primary" onClick={use}>Use this recording</button>
            <button type="button" onClick={() => setTake(null)}>Discard</button>
          </p>
        </div>
      )}
      {state === 'error' && <p role="alert" className="error-text">Microphone unavailable: {err}</p>}
    </div>
  )
}
