/* Small display helpers shared by screens: durations, grades, loudness matching. */

/** A length in seconds; null or undefined (not measured) is "—". */
export function fmtDuration(sec: number | null | undefined): string {
  if (sec === undefined || sec === null || !isFinite(sec)) return '—'
  const s = Math.max(0, Math.round(sec))
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60
  if (h) return `${h}h ${m}m`
  if (m) return `${m}m ${r.toString().padStart(2, '0')}s`
  return `${r}s`
}

/** Grade → semantic colour class (A good … D poor), used by the SNR bar and model cards. */
export function gradeTone(grade: string | undefined): 'good' | 'ok' | 'fair' | 'poor' | 'unknown' {
  if (!grade) return 'unknown'
  if (grade.startsWith('A')) return 'good'
  if (grade.startsWith('B')) return 'ok'
  if (grade.startsWith('C')) return 'fair'
  return 'poor'
}

/** SNR (dB) → bar fill fraction; 45 dB and above is a full bar. */
export const snrFraction = (snr: number) => Math.max(0, Math.min(1, snr / 45))

/** Linear gains that bring two clips to the quieter one's loudness (A/B without a level bias);
 * unity when either loudness is not known (undefined, or null: not measured). */
export function matchGains(lufsA?: number | null, lufsB?: number | null): [number, number] {
  if (lufsA === undefined || lufsB === undefined || lufsA === null || lufsB === null || !isFinite(lufsA) || !isFinite(lufsB)) return [1, 1]
  const target = Math.min(lufsA, lufsB)
  return [Math.pow(10, (target - lufsA) / 20), Math.pow(10, (target - lufsB) / 20)]
}
