/* Before/after comparison (brief §2.3): two WaveSurfer waveforms playing in sync; the A/B
 * switch only swaps which one is audible (both keep playing), so switching is instant and
 * gapless. Gains are loudness-matched from each file's analysed loudness_lufs so the
 * louder clip does not win by level alone. Optional spectrogram view, WAV/MP3 download. */
import { useEffect, useRef, useState } from 'react'
import WaveSurfer from 'wavesurfer.js'
import Spectrogram from 'wavesurfer.js/dist/plugins/spectrogram.js'
import Timeline from 'wavesurfer.js/dist/plugins/timeline.js'
import { downloadUrl } from '../lib/api'
import { matchGains } from '../lib/format'

interface Side { id: string; label: string; lufs?: number | null }

function useWave(container: React.RefObject<HTMLDivElement | null>, id: string, spectro: boolean, timeline: boolean) {
  const [ws, setWs] = useState<WaveSurfer | null>(null)
  useEffect(() => {
    if (!container.current) return
    const plugins = []
    if (timeline) plugins.push(Timeline.create())
    if (spectro) plugins.push(Spectrogram.create({ labels: true, height: 128 }))
    const w = WaveSurfer.create({
      container: container.current, url: downloadUrl(id, 'wav'), height: 72,
      waveColor: '#6b7fd7', progressColor: '#27358f', cursorColor: '#111', plugins,
    })
    setWs(w)
    return () => { w.destroy(); setWs(null) }
  }, [container, id, spectro, timeline])
  return ws
}

export function BeforeAfter({ before, after, downloads = true }: { before: Side; after: Side; downloads?: boolean }) {
  const refA = useRef<HTMLDivElement>(null), refB = useRef<HTMLDivElement>(null)
  const [spectro, setSpectro] = useState(false)
  const [active, setActive] = useState<'a' | 'b'>('b')
  const [playing, setPlaying] = useState(false)
  const a = useWave(refA, before.id, spectro, true)
  const b = useWave(refB, after.id, spectro, false)
  const [gA, gB] = matchGains(before.lufs, after.lufs)

  useEffect(() => {
    a?.setVolume(active === 'a' ? gA : 0)
    b?.setVolume(active === 'b' ? gB : 0)
  }, [a, b, active, gA, gB])

  useEffect(() => {
    if (!a || !b) return
    const sync = (src: WaveSurfer, dst: WaveSurfer) => src.on('interaction', (t) => dst.setTime(t))
    const offs = [sync(a, b), sync(b, a), a.on('finish', () => setPlaying(false))]
    return () => offs.forEach((off) => off())
  }, [a, b])

  const toggle = async () => {
    if (!a || !b) return
    if (playing) { a.pause(); b.pause(); setPlaying(false); return }
    b.setTime(a.getCurrentTime())
    await Promise.all([a.play(), b.play()])
    setPlaying(true)
  }

  return (
    <section className="card before-after" aria-labelledby="ba-h">
      <h2 id="ba-h">Before / after</h2>
      <div className="toolbar">
        <button type="button" onClick={() => void toggle()} disabled={!a || !b}>{playing ? 'Pause' : 'Play both (synced)'}</button>
        <div role="radiogroup" aria-label="Audible version" className="ab-switch">
          {(['a', 'b'] as const).map((k) => (
            <button key={k} type="button" role="radio" aria-checked={active === k} onClick={() => setActive(k)}>
              {k === 'a' ? `A: ${before.label}` : `B: ${after.label}`}
            </button>
          ))}
        </div>
        <label className="check"><input type="checkbox" checked={spectro} onChange={(e) => setSpectro(e.target.checked)} /> Spectrogram</label>
      </div>
      <p className="muted">Levels matched from measured loudness (A ×{gA.toFixed(2)}, B ×{gB.toFixed(2)}). Press A or B to switch without stopping.</p>
      <div className={'wave ' + (active === 'a' ? 'active' : '')}><span className="wave-label">A · {before.label}</span><div ref={refA} /></div>
      <div className={'wave ' + (active === 'b' ? 'active' : '')}><span className="wave-label">B · {after.label}</span><div ref={refB} /></div>
      {downloads && <p className="downloads">
        Download result: <a href={downloadUrl(after.id, 'wav')} download>WAV</a> · <a href={downloadUrl(after.id, 'mp3')} download>MP3</a>
      </p>}
    </section>
  )
}

/** A single waveform with play/pause, used to preview one file. */
export function Waveform({ id, label }: { id: string; label: string }) {
  const ref = useRef<HTMLDivElement>(null)
  const ws = useWave(ref, id, false, false)
  const [playing, setPlaying] = useState(false)
  useEffect(() => {
    if (!ws) return
    const offs = [ws.on('play', () => setPlaying(true)), ws.on('pause', () => setPlaying(false))]
    return () => offs.forEach((off) => off())
  }, [ws])
  return (
    <div className="wave single">
      <button type="button" className="small" onClick={() => void ws?.playPause()} disabled={!ws}>
        {playing ? 'Pause' : 'Play'}<span className="sr-only"> {label}</span>
      </button>
      <div ref={ref} className="wave-canvas" aria-label={`Waveform of ${label}`} role="img" />
    </div>
  )
}
