/* App-wide state (Zustand): the current route, the server's /api/system answer and the
 * jobs panel list. Screens keep their own form state locally; only what several
 * components share lives here. */
import { create } from 'zustand'
import { api, ApiError, type Job, type SystemInfo } from './api'

export type JobsState = 'loading' | 'ready' | 'unavailable' | 'error'

interface AppState {
  path: string
  search: string
  system: SystemInfo | null
  systemError: string | null
  jobs: Job[]
  jobsState: JobsState
  navigate: (to: string) => void
  syncLocation: () => void
  loadSystem: () => Promise<void>
  loadJobs: () => Promise<void>
}

export const useApp = create<AppState>((set) => ({
  path: typeof location !== 'undefined' ? location.pathname : '/',
  search: typeof location !== 'undefined' ? location.search : '',
  system: null,
  systemError: null,
  jobs: [],
  jobsState: 'loading',
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
    try { set({ jobs: await api.jobs(), jobsState: 'ready' }) }
    catch (e) { set({ jobsState: e instanceof ApiError && e.unavailable ? 'unavailable' : 'error' }) }
  },
}))

/** Names of weights the server reports missing, for banners. */
export const missingWeights = (s: SystemInfo | null, prefix?: string[]): string[] =>
  (s?.weights ?? []).filter((w) => !w.installed && (!prefix || prefix.some((p) => w.name.startsWith(p)))).map((w) => w.name)
