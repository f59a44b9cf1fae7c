/* Browser notification when a job this page watched live finishes (brief §2.4: "provide
 * notifications on completion"). Only a transition seen while the page was open counts: a
 * job that was already finished when the page restored it does not notify again. */
import { useEffect, useRef } from 'react'
import type { JobView } from './useJob'
import { notify } from './progress'

export function useNotifyWhenDone(view: JobView, jobId: string | null, done: { title: string; body: string }, failedTitle: string) {
  const prev = useRef<{ id: string | null; status: JobView['status'] }>({ id: jobId, status: view.status })
  useEffect(() => {
    const p = prev.current
    prev.current = { id: jobId, status: view.status }
    if (!jobId || p.id !== jobId) return
    const wasLive = p.status === 'running' || p.status === 'queued'
    if (!wasLive) return
    if (view.status === 'complete') notify(done.title, done.body)
    else if (view.status === 'failed') notify(failedTitle, view.error ?? 'The job failed.')
  }, [jobId, view.status, view.error, done.title, done.body, failedTitle])
}
