/* In-browser recorder: microphone via getUserMedia, raw samples through a
 * ScriptProcessor (simple and widely supported), live level meter, 30 s limit, and a
 * client-side WAV encode (lib/wav.ts) handed to onRecorded. */
import { useEffect, useRef, useState } from 'react'
import { concatChunks, encodeWav, levelDb } from '../lib/wav'

const MAX_SECONDS = 30

export function Recorder({ onRecorded }: { onRecorded: (wav: Blob, seconds: number) => void }) {
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
        onRecorded(encodeWav(concatChunks(chunks), rate), n / rate)
      }
      setSecs(0); setState('recording')
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e)); setState('error')
    }
  }

  const pct = Math.round(((level + 60) / 60) * 100)
  return (
    <div className="recorder">
      {state !== 'recording'
        ? <button type="button" onClick={() => void start()}>● Record (10–30 s)</button>
        : <button type="button" className="danger" onClick={() => stopRef.current?.()}>■ Stop ({secs.toFixed(1)} s)</button>}
      <span className="meter" role="meter" aria-label="Microphone level" aria-valuemin={-60} aria-valuemax={0} aria-valuenow={Math.round(level)}>
        <span style={{ width: `${Math.max(0, Math.min(100, pct))}%` }} />
      </span>
      {state === 'error' && <p role="alert" className="error-text">Microphone unavailable: {err}</p>}
    </div>
  )
}
