/* Server state through TanStack Query (@tanstack/react-query): the jobs list (polled for the jobs
 * panel and the training page), the voice models and the instant voices. One QueryClient holds the
 * cache, so every screen that shows a list shares one request and one copy of the answer, and a
 * change (a delete, a rename, an import, a job that ended) refreshes it everywhere through
 * invalidation. Hooks pass the client explicitly, so a component works without a provider (the
 * component tests render pages on their own); src/test/setup.ts clears the cache between tests.
 * Zustand (store.ts) keeps only what the server does not own. */
import { QueryClient, useQuery } from '@tanstack/react-query'
import { api, ApiError, errorMessage, type Job, type Voice, type VoiceModel } from './api'

export const queryClient = new QueryClient({
  defaultOptions: {
    // a refusal is shown as it is (the screens say what to do); focus alone does not refetch
    queries: { retry: false, refetchOnWindowFocus: false },
  },
})

export const KEYS = { jobs: ['jobs'], models: ['models'], voices: ['voices'] } as const

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

/** GET /api/models: null until an answer came (loading, or failed: then error says why). */
export function useModels(): { models: VoiceModel[] | null; error: string | null } {
  const q = useQuery({ queryKey: KEYS.models, queryFn: api.models }, queryClient)
  return { models: q.data ?? null, error: q.error ? errorMessage(q.error) : null }
}
export const refreshModels = () => queryClient.invalidateQueries({ queryKey: KEYS.models })

/** GET /api/voices: null while loading, [] on a server without instant voices (no error shown). */
export function useVoiceList(): { voices: Voice[] | null; error: string | null } {
  const q = useQuery({ queryKey: KEYS.voices, queryFn: api.voices }, queryClient)
  return { voices: q.data ?? (q.error ? [] : null), error: q.error && !unavailable(q.error) ? errorMessage(q.error) : null }
}
export const refreshVoices = () => queryClient.invalidateQueries({ queryKey: KEYS.voices })
