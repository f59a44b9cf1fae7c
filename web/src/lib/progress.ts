/* SSE subscription to /api/progress/{job_id} (brief §3.2 #5): events progress,
 * phase_complete, complete, error, close. EventSource reconnects by itself and the server
 * replays from Last-Event-ID, so a dropped connection loses nothing. */

export interface ProgressEvent {
  phase?: string
  percent?: number
  step?: number
  total_steps?: number
  loss?: number
  eta_seconds?: number
  message?: string
  queue_position?: number
  [k: string]: unknown
}

export interface ProgressHandlers {
  onProgress?: (e: ProgressEvent) => void
  onPhase?: (e: { phase?: string; next_phase?: string }) => void
  onComplete?: (e: Record<string, unknown>) => void
  onError?: (message: string, code?: string) => void
}

function data(ev: Event): Record<string, unknown> {
  try { return JSON.parse((ev as MessageEvent).data ?? '{}') } catch { return {} }
}

/** Returns an unsubscribe function. */
export function subscribeProgress(jobId: string, h: ProgressHandlers): () => void {
  const es = new EventSource(`/api/progress/${encodeURIComponent(jobId)}`)
  let done = false
  es.addEventListener('progress', (ev) => h.onProgress?.(data(ev) as ProgressEvent))
  es.addEventListener('phase_complete', (ev) => h.onPhase?.(data(ev)))
  es.addEventListener('complete', (ev) => { done = true; h.onComplete?.(data(ev)) })
  es.addEventListener('error', (ev) => {
    const d = data(ev)
    if (typeof d.user_message === 'string' || typeof d.message === 'string') {
      done = true
      h.onError?.(String(d.user_message ?? d.message), typeof d.error_code === 'string' ? d.error_code : undefined)
      es.close()
    } else if (es.readyState === EventSource.CLOSED && !done) {
      h.onError?.('Lost the connection to the progress stream.')
    }
  })
  es.addEventListener('close', () => { done = true; es.close() })
  return () => es.close()
}

/** Ask for notification permission when the user starts a long job. Call it only from a
 * user action (a click on Generate / Convert / Start training), never on page load. */
export function askNotificationPermission(): void {
  try {
    if (typeof Notification !== 'undefined' && Notification.permission === 'default') void Notification.requestPermission()?.catch?.(() => {})
  } catch { /* old Safari: callback form only; notifications are a nicety */ }
}

/** Show a browser notification if allowed and the tab is not being looked at; a click on
 * it brings the studio tab back. Returns whether one was shown. */
export function notify(title: string, body: string): boolean {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || !document.hidden) return false
  try {
    const n = new Notification(title, { body, tag: 'voiceclone-' + title })
    n.onclick = () => { window.focus(); n.close() }
    return true
  } catch { return false }   // e.g. Android Chrome: only service-worker notifications
}
