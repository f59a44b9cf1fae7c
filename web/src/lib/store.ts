/* App-wide state (Zustand): the current route, the server's /api/system answer and the
 * jobs panel list. Screens keep their own form state locally; only what several
 * components share lives here. */
import { create } from 'zustand'
import { api, ApiError, type Job, type SystemInfo, type WeightInfo } from './api'

export type JobsState = 'loading' | 'ready' | 'unavailable' | 'error'

interface AppState {
  path: string
  search: string
  system: SystemInfo | null
  systemError: string | null
  jobs: Job[]
  jobsState: JobsState
  /** a GET /api/jobs is in flight */
  jobsPolling: boolean
  navigate: (to: string) => void
  syncLocation: () => void
  loadSystem: () => Promise<void>
  loadJobs: () => Promise<void>
}

export const useApp = create<AppState>((set, get) => ({
  path: typeof location !== 'undefined' ? location.pathname : '/',
  search: typeof location !== 'undefined' ? location.search : '',
  system: null,
  systemError: null,
  jobs: [],
  jobsState: 'loading',
  jobsPolling: false,
  navigate: (to) => {
    history.pushState(null, '', to)
    set({ path: location.pathname, search: location.search })
    window.scrollTo?.(0, 0)
  },
  syncLocation: () => set({ path: location.pathname, search: location.search }),
  loadSystem: async () => {
    try { set({ system: await api.system(), systemError: null }) }
    catch (e) { set({ systemError: e instanceof ApiError ? e.userMessage : String(e) }) }
  },
  loadJobs: async () => {
    // one poll at a time: a slow server must not pile up requests from every open page
    if (get().jobsPolling) return
    set({ jobsPolling: true })
    try { set({ jobs: await api.jobs(), jobsState: 'ready' }) }
    catch (e) { set({ jobsState: e instanceof ApiError && e.unavailable ? 'unavailable' : 'error' }) }
    finally { set({ jobsPolling: false }) }
  },
}))

/** Put query parameters into the address bar without navigating (so a reload or a return
 * visit can restore a running job's screen); null removes one. */
export function setQuery(params: Record<string, string | null>): void {
  const q = new URLSearchParams(location.search)
  for (const [k, v] of Object.entries(params)) { if (v === null) q.delete(k); else q.set(k, v) }
  const qs = q.toString()
  history.replaceState(history.state, '', location.pathname + (qs ? '?' + qs : ''))
  useApp.getState().syncLocation()
}

/** Names of weights the server reports missing, for banners. */
export const missingWeights = (s: SystemInfo | null, prefix?: string[]): string[] =>
  (s?.weights ?? []).filter((w) => !w.installed && (!prefix || prefix.some((p) => w.name.startsWith(p)))).map((w) => w.name)
/** The missing weights themselves (name, pack, purpose). */
export const missingWeightInfo = (s: SystemInfo | null, prefix?: string[]): WeightInfo[] =>
  (s?.weights ?? []).filter((w) => !w.installed && (!prefix || prefix.some((p) => w.name.startsWith(p))))
