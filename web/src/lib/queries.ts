/* Server state through TanStack Query (@tanstack/react-query): the jobs list (polled for the jobs
 * panel and the training page), the voice models and the instant voices. One QueryClient holds the
 * cache, so every screen that shows a list shares one request and one copy of the answer, and a
 * change (a delete, a rename, an import, a job that ended) refreshes it everywhere through
 * invalidation. Hooks pass the client explicitly, so a component works without a provider (the
 * component tests render pages on their own); src/test/setup.ts clears the cache between tests.
 * GET /api/system (versions, installed weights) is read once at start and again after a model
 * download, as before; screens only look at the last answer. */
import { QueryClient, useQuery } from '@tanstack/react-query'
import { api, ApiError, errorMessage, type Job, type SystemInfo, type Voice, type VoiceModel } from './api'

export const queryClient = new QueryClient({
  defaultOptions: {
    // a refusal is shown as it is (the screens say what to do); focus alone does not refetch
    queries: { retry: false, refetchOnWindowFocus: false },
  },
})

export const KEYS = { jobs: ['jobs'], models: ['models'], voices: ['voices'], system: ['system'] } as const

const unavailable = (e: unknown) => e instanceof ApiError && e.unavailable

export type JobsState = 'loading' | 'ready' | 'unavailable' | 'error'

/** GET /api/jobs, polled every pollMs while the queue exists (a server without one stops the poll).
 * A poll never starts while one is in flight. */
export function useJobs(pollMs?: number): { jobs: Job[]; state: JobsState } {
  const q = useQuery({
    queryKey: KEYS.jobs,
    queryFn: api.jobs,
    refetchInterval: (query) => (pollMs && !unavailable(query.state.error) ? pollMs : false),
  }, queryClient)
  const state: JobsState = q.isPending && !q.error ? 'loading' : q.error ? (unavailable(q.error) ? 'unavailable' : 'error') : 'ready'
  return { jobs: q.data ?? [], state }
}

/** Asks for the jobs list again now (a job just ended or was cancelled); joins a poll in flight
 * instead of stacking a second request on a slow server. */
export const refreshJobs = () => queryClient.invalidateQueries({ queryKey: KEYS.jobs }, { cancelRefetch: false })

/** GET /api/models: null until an answer came (loading, or failed: then error says why);
 * fresh: true once an answer has come since this screen mounted and none is on its way (a cached
 * list shown at mount, before its refetch has even started, is not fresh). */
export function useModels(): { models: VoiceModel[] | null; error: string | null; fresh: boolean } {
  const q = useQuery({ queryKey: KEYS.models, queryFn: api.models }, queryClient)
  return { models: q.data ?? null, error: q.error ? errorMessage(q.error) : null, fresh: q.isFetchedAfterMount && !q.isFetching }
}
export const refreshModels = () => queryClient.invalidateQueries({ queryKey: KEYS.models })

/** GET /api/voices: null while loading, [] on a server without instant voices (no error shown). */
export function useVoiceList(): { voices: Voice[] | null; error: string | null } {
  const q = useQuery({ queryKey: KEYS.voices, queryFn: api.voices }, queryClient)
  return { voices: q.data ?? (q.error ? [] : null), error: q.error && !unavailable(q.error) ? errorMessage(q.error) : null }
}
export const refreshVoices = () => queryClient.invalidateQueries({ queryKey: KEYS.voices })

const systemQuery = { queryKey: KEYS.system, queryFn: api.system }

/** GET /api/system as last read (null before the first answer; error: why it could not be read).
 * Screens only look: App reads it at start and a finished model download again (refreshSystem). */
export function useSystem(): { system: SystemInfo | null; error: string | null } {
  const q = useQuery({ ...systemQuery, enabled: false, staleTime: Infinity }, queryClient)
  return { system: q.data ?? null, error: q.error ? (q.error instanceof ApiError ? q.error.userMessage : String(q.error)) : null }
}
/** Reads GET /api/system again; a failure is kept as useSystem's error. */
export const refreshSystem = (): Promise<void> => queryClient.fetchQuery({ ...systemQuery, staleTime: 0 }).then(() => undefined, () => undefined)
