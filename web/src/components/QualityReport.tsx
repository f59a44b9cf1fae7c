/* Quality report of an uploaded file (brief §2.3 SNR display): duration, SNR bar coloured
 * by grade, voice activity, noise, clipping, loudness, the server's recommendation and
 * tips derived from the numbers. */
import type { AudioFile, QualityAnalysis } from '../lib/api'
import { fmtDuration, gradeTone, snrFraction } from '../lib/format'

/** Practical advice from the measured numbers (shown under the recommendation). */
export function qualityTips(q: QualityAnalysis, duration?: number): string[] {
  const tips: string[] = [...(q.tips ?? [])]
  if (q.snr_db < 20) tips.push('Record in a quieter room or move closer to the microphone to raise the SNR.')
  if ((q.clipping_percent ?? 0) > 0.1) tips.push('Some samples clip: lower the input gain a little.')
  if (q.voice_activity_percent < 60) tips.push('Much of the file is silence; trimming silence will help.')
  if (q.loudness_lufs !== undefined && q.loudness_lufs < -30) tips.push('The recording is quiet; enable volume normalisation.')
  if (duration !== undefined && duration < 300) tips.push('For Pro training, 5–10 minutes of speech gives the best results.')
  return tips
}

export function QualityReport({ audio }: { audio: AudioFile }) {
  const q = audio.quality_analysis
  if (!q) return <p role="status">No quality analysis is available for {audio.filename}.</p>
  const tone = gradeTone(q.quality_grade)
  const dur = audio.duration_seconds ?? q.duration_seconds
  return (
    <section className="quality card" aria-labelledby={`q-${audio.file_id}`}>
      <h3 id={`q-${audio.file_id}`}>Quality report: {audio.filename}</h3>
      <dl className="stats">
        <div><dt>Duration</dt><dd>{fmtDuration(dur)}</dd></div>
        <div><dt>Grade</dt><dd><span className={`grade ${tone}`}>{q.quality_grade}</span></dd></div>
        <div className="wide">
          <dt>Signal-to-noise</dt>
          <dd>
            <span className={`snr-bar ${tone}`} role="meter" aria-valuemin={0} aria-valuemax={45}
              aria-valuenow={Math.round(q.snr_db)} aria-label={`Signal-to-noise ratio ${q.snr_db.toFixed(1)} dB`}>
              <span style={{ width: `${snrFraction(q.snr_db) * 100}%` }} />
            </span>
            {q.snr_db.toFixed(1)} dB
          </dd>
        </div>
        <div><dt>Voice activity</dt><dd>{Math.round(q.voice_activity_percent)}%</dd></div>
        <div><dt>Background noise</dt><dd>{q.background_noise_level}</dd></div>
        <div><dt>Clipping</dt><dd>{q.clipping_percent !== undefined ? `${q.clipping_percent.toFixed(2)}%` : '—'}</dd></div>
        <div><dt>Loudness</dt><dd>{q.loudness_lufs !== undefined && isFinite(q.loudness_lufs) ? `${q.loudness_lufs.toFixed(1)} LUFS` : '—'}</dd></div>
      </dl>
      <p className="recommendation"><strong>Recommendation:</strong> {q.recommendation}</p>
      {qualityTips(q, dur).length > 0 && (
        <ul className="tips" aria-label="Tips">{qualityTips(q, dur).map((t) => <li key={t}>{t}</li>)}</ul>
      )}
    </section>
  )
}
