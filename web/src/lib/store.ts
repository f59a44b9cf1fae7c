/* App-wide state (Zustand): the server's /api/system answer, read once at start and after a
 * model download. The current page and its query live in the address bar (lib/router.ts,
 * wouter); the lists the server owns (jobs, models, voices) in TanStack Query (lib/queries.ts).
 * Screens keep their own form state locally. */
import { create } from 'zustand'
import { api, ApiError, type SystemInfo, type WeightInfo } from './api'

interface AppState {
  system: SystemInfo | null
  systemError: string | null
  loadSystem: () => Promise<void>
}

export const useApp = create<AppState>((set) => ({
  system: null,
  systemError: null,
  loadSystem: async () => {
    try { set({ system: await api.system(), systemError: null }) }
    catch (e) { set({ systemError: e instanceof ApiError ? e.userMessage : String(e) }) }
  },
}))

/** Names of weights the server reports missing, for banners. */
export const missingWeights = (s: SystemInfo | null, prefix?: string[]): string[] =>
  (s?.weights ?? []).filter((w) => !w.installed && (!prefix || prefix.some((p) => w.name.startsWith(p)))).map((w) => w.name)
/** The missing weights themselves (name, pack, purpose). */
export const missingWeightInfo = (s: SystemInfo | null, prefix?: string[]): WeightInfo[] =>
  (s?.weights ?? []).filter((w) => !w.installed && (!prefix || prefix.some((p) => w.name.startsWith(p))))
