/* Quality report of an uploaded file (brief §2.3 SNR display): duration, SNR bar coloured
 * by grade, voice activity, noise, clipping, loudness, the server's recommendation and
 * tips derived from the numbers. A measure the server could not take arrives as null and is shown
 * as not measured. */
import type { AudioFile, QualityAnalysis } from '../lib/api'
import { fmtDuration, gradeTone, snrFraction } from '../lib/format'

/** The problems the numbers show, worst first, each with what to do. The first one decides the
 * headline advice, so the report never says "A+" and "record again" at once. */
export interface Problem { severity: 3 | 2 | 1; text: string; cap: string }
export function qualityProblems(q: QualityAnalysis, duration?: number | null): Problem[] {
  const p: Problem[] = []
  // a measure the server could not take is null: it neither raises nor clears a problem
  const clip = q.clipping_percent ?? 0
  const vad = q.voice_activity_percent
  if (vad !== null && vad < 5) p.push({ severity: 3, cap: 'D', text: 'No speech was found: record your voice.' })
  if (clip > 1) p.push({ severity: 3, cap: 'D', text: `${clip.toFixed(1)}% of the samples clip (distorted): lower the input gain and record again.` })
  else if (clip > 0.1) p.push({ severity: 2, cap: 'C', text: `Some samples clip (${clip.toFixed(2)}%): lower the input gain a little.` })
  if (q.snr_db !== null && q.snr_db < 15) p.push({ severity: 3, cap: 'D', text: `Too noisy: ${q.snr_db.toFixed(1)} dB signal-to-noise, training needs 15 dB. Record in a quieter room, closer to the microphone.` })
  else if (q.snr_db !== null && q.snr_db < 20) p.push({ severity: 1, cap: 'C', text: 'Record in a quieter room or move closer to the microphone to raise the SNR.' })
  if (vad !== null && vad >= 5 && vad < 60) p.push({ severity: 1, cap: 'A+', text: 'Much of the file is silence; trimming silence will help.' })
  if (q.loudness_lufs !== null && q.loudness_lufs < -30) p.push({ severity: 1, cap: 'A+', text: 'The recording is quiet; enable volume normalisation.' })
  if (duration !== undefined && duration !== null && duration < 300) p.push({ severity: 1, cap: 'A+', text: 'For Pro training, 5–10 minutes of speech gives the best results.' })
  return p.sort((a, b) => b.severity - a.severity)
}

const ORDER = ['A+', 'A', 'B+', 'B', 'C', 'D']
/** The server grades by SNR only; clipping or no speech lower the grade shown to match the advice. */
export function shownGrade(q: QualityAnalysis, duration?: number | null): string {
  const worst = qualityProblems(q, duration).reduce((g, x) => ORDER.indexOf(x.cap) > ORDER.indexOf(g) ? x.cap : g, q.quality_grade)
  return ORDER.includes(worst) ? worst : q.quality_grade
}

/** Practical advice from the measured numbers, worst first. */
export function qualityTips(q: QualityAnalysis, duration?: number | null): string[] {
  return qualityProblems(q, duration).map((x) => x.text)
}

export function QualityReport({ audio }: { audio: AudioFile }) {
  const q = audio.quality_analysis
  if (!q) return <p role="status">No quality analysis is available for {audio.filename}.</p>
  const dur = audio.duration_seconds ?? q.duration_seconds
  const grade = shownGrade(q, dur)
  const tone = gradeTone(grade)
  const problems = qualityProblems(q, dur)
  // the worst problem is the headline; the server's sentence only when nothing serious is wrong
  const headline = problems[0]?.severity >= 2 ? problems[0].text : q.recommendation
  return (
    <section className="quality card" aria-labelledby={`q-${audio.file_id}`}>
      <h3 id={`q-${audio.file_id}`}>Quality report: {audio.filename}</h3>
      <dl className="stats">
        <div><dt>Duration</dt><dd>{fmtDuration(dur)}</dd></div>
        <div><dt>Grade</dt><dd><span className={`grade ${tone}`} data-testid="quality-grade">{grade}</span>{grade !== q.quality_grade && <span className="muted small-print"> (SNR alone: {q.quality_grade})</span>}</dd></div>
        <div className="wide">
          <dt>Signal-to-noise</dt>
          <dd>
            {q.snr_db === null ? 'not measured' : <>
              <span className={`snr-bar ${tone}`} role="meter" aria-valuemin={0} aria-valuemax={45}
                aria-valuenow={Math.round(q.snr_db)} aria-label={`Signal-to-noise ratio ${q.snr_db.toFixed(1)} dB`}>
                <span style={{ width: `${snrFraction(q.snr_db) * 100}%` }} />
              </span>
              {q.snr_db.toFixed(1)} dB
            </>}
          </dd>
        </div>
        <div><dt>Voice activity</dt><dd>{q.voice_activity_percent === null ? '—' : `${Math.round(q.voice_activity_percent)}%`}</dd></div>
        <div><dt>Background noise</dt><dd>{q.background_noise_level}</dd></div>
        <div><dt>Clipping</dt><dd>{q.clipping_percent !== null ? `${q.clipping_percent.toFixed(2)}%` : '—'}</dd></div>
        <div><dt>Loudness</dt><dd>{q.loudness_lufs !== null && isFinite(q.loudness_lufs) ? `${q.loudness_lufs.toFixed(1)} LUFS` : '—'}</dd></div>
      </dl>
      <p className="recommendation" data-testid="recommendation"><strong>Recommendation:</strong> {headline}</p>
      {qualityTips(q, dur).filter((t) => t !== headline).length > 0 && (
        <ul className="tips" aria-label="Tips">{qualityTips(q, dur).filter((t) => t !== headline).map((t) => <li key={t}>{t}</li>)}</ul>
      )}
    </section>
  )
}
