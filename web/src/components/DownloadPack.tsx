/* "Download models": installs a pack of base models from the UI. POST /api/weights/pull runs
 * `voiceclone models pull PACK` as a job on the server (resumable, size/sha256-checked, loaded
 * through the safe loaders before it is put in place); its progress (file, bytes, speed, ETA)
 * comes over the same SSE stream as every job. When it completes, /api/system is read again so
 * every notice and button updates. The offline way (`models import`) is named next to it. */
import { useEffect, useState } from 'react'
import { ApiError, errorMessage, type Pack } from '../lib/api'
import { useJob } from '../lib/useJob'
import { refreshSystem, useCancelJob, usePullWeights } from '../lib/queries'
import { fmtDuration } from '../lib/format'

/** What each pack is, for people deciding whether to download it. Sizes from the publishers'
 * files (approximate: the manifest does not state them). */
export const PACKS: Record<Pack, { title: string; enables: string; size: string; licence: string; licenceMeaning: string }> = {
  f5tts: {
    title: 'Quick clone (F5-TTS v1 Base + Vocos vocoder)', enables: 'Quick clone: speak typed text in a voice from a 10–30 s sample.',
    size: 'about 1.4 GB', licence: 'CC-BY-NC-4.0 (F5-TTS), MIT (Vocos)',
    licenceMeaning: 'Non-commercial: you may use the speech you make for personal, research or other non-commercial purposes only — not in anything sold, monetised or advertised — and must credit the F5-TTS authors.',
  },
  rvc: {
    title: 'Voice conversion (HuBERT content features + RMVPE pitch)', enables: 'Convert audio into a trained or imported voice, and train voices.',
    size: 'about 370 MB', licence: 'MIT', licenceMeaning: 'Free to use, also commercially.',
  },
  'rvc-pretrained': {
    title: 'Training head start (RVC pretrained G and D: v1 and v2, 32/40/48 kHz, with and without pitch)', enables: 'Pro training starts from these instead of from scratch: better voices in the same time.',
    size: 'about 2.6 GB', licence: 'MIT', licenceMeaning: 'Free to use, also commercially.',
  },
}

export function DownloadPack({ pack, compact }: { pack: Pack; compact?: boolean }) {
  const [jobId, setJobId] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const pulling = usePullWeights()
  const cancelling = useCancelJob()
  const busy = pulling.isPending
  const job = useJob(jobId)
  useEffect(() => { if (job.status === 'complete') void refreshSystem() }, [job.status])
  const start = async () => {
    setError(null)
    try { setJobId((await pulling.mutateAsync(pack)).job_id) }
    catch (e) { setError(e instanceof ApiError && e.unavailable ? 'This server cannot download models itself: use the command below.' : errorMessage(e)) }
  }
  const cancel = async () => { if (jobId) { try { await cancelling.mutateAsync(jobId) } catch (e) { setError(errorMessage(e)) } } }
  const e = job.last
  const active = !!jobId && (job.status === 'connecting' || job.status === 'queued' || job.status === 'running')
  const num = (k: string) => (typeof e?.[k] === 'number' ? (e[k] as number) : undefined)
  const speed = num('bytes_per_second')
  const pct = Math.max(job.peak ?? 0, e?.percent ?? 0)
  const info = PACKS[pack]
  return (
    <div className="download-pack" data-testid={`download-${pack}`}>
      {!compact && <p className="muted small-print">{info.size} · licence {info.licence}: {info.licenceMeaning}</p>}
      {!active && job.status !== 'complete' && (
        <button type="button" onClick={() => void start()} disabled={busy}>
          {busy ? 'Starting…' : jobId ? 'Try the download again' : `Download ${compact ? `the ${pack} models` : 'these models'}`}
          {compact && <span className="muted"> ({info.size})</span>}
        </button>
      )}
      {active && (
        <div role="status" aria-live="polite">
          <progress max={100} value={pct} aria-label={`Download of the ${pack} models`} />
          <p className="small-print">
            {job.status === 'queued' ? 'Waiting in the queue…' : e?.message ?? 'Starting the download…'}
            {speed ? ` · ${(speed / 1048576).toFixed(1)} MB/s` : ''}
            {typeof e?.eta_seconds === 'number' ? ` · about ${fmtDuration(e.eta_seconds)} left for this file` : ''}
          </p>
          <button type="button" className="small" onClick={() => void cancel()}>Stop the download<span className="sr-only"> of the {pack} models</span></button>
        </div>
      )}
      {job.status === 'complete' && <p role="status" className="ok-text" data-testid={`downloaded-${pack}`}>Installed and checked: the {pack} models are ready.</p>}
      {(job.status === 'failed' || job.status === 'cancelled') && (
        <p role="alert" className="error-text">{job.status === 'cancelled' ? 'Download stopped; what arrived is kept and the next try resumes from there.' : `Download failed: ${job.error ?? 'unknown error'}. The next try resumes.`}</p>
      )}
      {error && <p role="alert" className="error-text">{error}</p>}
    </div>
  )
}
