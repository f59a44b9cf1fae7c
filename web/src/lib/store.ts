/* App-wide state (Zustand): the server's /api/system answer and the jobs panel list. The
 * current page and its query live in the address bar (lib/router.ts, wouter). Screens keep their
 * own form state locally; only what several components share lives here. */
import { create } from 'zustand'
import { api, ApiError, type Job, type SystemInfo, type WeightInfo } from './api'

export type JobsState = 'loading' | 'ready' | 'unavailable' | 'error'

interface AppState {
  system: SystemInfo | null
  systemError: string | null
  jobs: Job[]
  jobsState: JobsState
  /** a GET /api/jobs is in flight */
  jobsPolling: boolean
  loadSystem: () => Promise<void>
  loadJobs: () => Promise<void>
}

export const useApp = create<AppState>((set, get) => ({
  system: null,
  systemError: null,
  jobs: [],
  jobsState: 'loading',
  jobsPolling: false,
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

/** Names of weights the server reports missing, for banners. */
export const missingWeights = (s: SystemInfo | null, prefix?: string[]): string[] =>
  (s?.weights ?? []).filter((w) => !w.installed && (!prefix || prefix.some((p) => w.name.startsWith(p)))).map((w) => w.name)
/** The missing weights themselves (name, pack, purpose). */
export const missingWeightInfo = (s: SystemInfo | null, prefix?: string[]): WeightInfo[] =>
  (s?.weights ?? []).filter((w) => !w.installed && (!prefix || prefix.some((p) => w.name.startsWith(p))))
