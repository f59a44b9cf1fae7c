/* The finished result of a conversion: a native audio player (keyboard and screen-reader
 * friendly out of the box), WAV/MP3 downloads, a few facts and a link to the linkable
 * before/after page. */
import { useEffect, useRef } from 'react'
import { downloadUrl } from '../lib/api'
import { fmtDuration } from '../lib/format'
import { Link } from './Common'

export interface ResultInfo {
  output_audio_id: string
  duration_seconds?: number
  processing_time_seconds?: number
  [k: string]: unknown
}

/** Pull the result fields out of a job's `complete` payload (or its stored result). */
export function resultInfo(r: Record<string, unknown> | undefined): ResultInfo | null {
  const id = r?.output_audio_id
  if (typeof id !== 'string' || !id) return null
  const num = (k: string) => (typeof r?.[k] === 'number' ? (r[k] as number) : undefined)
  return { ...r, output_audio_id: id, duration_seconds: num('duration_seconds'), processing_time_seconds: num('processing_time_seconds') }
}

/** Loudness (LUFS) from a result's quality_analysis, for before/after level matching. */
export function resultLufs(r: Record<string, unknown> | undefined): number | undefined {
  const q = r?.quality_analysis as { loudness_lufs?: unknown } | undefined
  return typeof q?.loudness_lufs === 'number' ? q.loudness_lufs : undefined
}

/** focus: move keyboard/screen-reader focus to the result's heading when it appears (after the
 * user pressed Generate/Convert on this page, not when a finished job is restored). */
export function ResultPlayer({ result, title, compareWith, filename, focus }: { result: ResultInfo; title: string; compareWith?: string; filename: string; focus?: boolean }) {
  const id = result.output_audio_id
  const h = useRef<HTMLHeadingElement>(null)
  useEffect(() => { if (focus) h.current?.focus() }, [focus, id])
  return (
    <section className="card result" aria-labelledby="result-h" data-testid="result">
      <h2 id="result-h" tabIndex={-1} ref={h}>{title}</h2>
      <audio controls preload="metadata" src={downloadUrl(id, 'wav')} data-testid="result-audio" aria-label={title}>
        Your browser cannot play audio here; use the download links.
      </audio>
      <p className="muted">
        {result.duration_seconds !== undefined && <>Length {fmtDuration(result.duration_seconds)}</>}
        {result.processing_time_seconds !== undefined && <> · made in {fmtDuration(result.processing_time_seconds)}</>}
      </p>
      <p className="actions">
        <a className="button primary" href={downloadUrl(id, 'wav')} download={`${filename}.wav`} data-testid="download-wav">Download WAV</a>
        <a className="button" href={downloadUrl(id, 'mp3')} download={`${filename}.mp3`} data-testid="download-mp3">Download MP3</a>
        {compareWith && <Link to={`/compare?a=${encodeURIComponent(compareWith)}&b=${encodeURIComponent(id)}`}>Open before/after on its own page</Link>}
      </p>
    </section>
  )
}
