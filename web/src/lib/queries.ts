/* Server state through TanStack Query (@tanstack/react-query): the jobs list (polled for the jobs
 * panel and the training page), the voice models, the instant voices, uploaded audio files (one by
 * id, and the lists per purpose) and the requests that start or stop work (mutations: a started or
 * cancelled job refreshes the jobs panel at once). One QueryClient holds the
 * cache, so every screen that shows a list shares one request and one copy of the answer, and a
 * change (a delete, a rename, an import, a job that ended) refreshes it everywhere through
 * invalidation. Hooks pass the client explicitly, so a component works without a provider (the
 * component tests render pages on their own); src/test/setup.ts clears the cache between tests.
 * GET /api/system (versions, installed weights) is read once at start and again after a model
 * download, as before; screens only look at the last answer. Two things stay outside on purpose:
 * uploads (tus, components/Upload.tsx: their answers are handed to rememberUpload) and one job's
 * live progress (lib/useJob.ts: a snapshot, then the server's SSE stream, which is push, not poll). */
import { useEffect, useState } from 'react'
import { QueryClient, useMutation, useQuery } from '@tanstack/react-query'
import {
  api, ApiError, errorMessage, type AudioFile, type ConversionStarted, type F5Request, type Job, type ModelImport, type Pack,
  type RvcRequest, type RvcTextRequest, type StartedJob, type SystemInfo, type TrainRequest, type Voice, type VoiceModel,
} from './api'
import { readSession, writeSession } from './session'

export const queryClient = new QueryClient({
  defaultOptions: {
    // a refusal is shown as it is (the screens say what to do); focus alone does not refetch
    queries: { retry: false, refetchOnWindowFocus: false },
  },
})

export type AudioPurpose = 'training' | 'target' | 'reference' | 'output'

export const KEYS = {
  jobs: ['jobs'], models: ['models'], voices: ['voices'], system: ['system'],
  audio: (id: string) => ['audio-file', id] as const,
  audioList: (purpose: AudioPurpose) => ['audio-list', purpose] as const,
} as const

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

/** GET /api/audio/{id}: one uploaded or produced file (null id: nothing asked). An answer is kept:
 * the same file shown on two screens, or again after a reload of the page's state, is one request. */
export function useAudioFile(id: string | null): { audio: AudioFile | null; error: ApiError | Error | null; loading: boolean } {
  const q = useQuery({ queryKey: KEYS.audio(id ?? ''), queryFn: () => api.audio(id!), enabled: !!id, staleTime: 60_000 }, queryClient)
  return { audio: id ? q.data ?? null : null, error: id ? q.error : null, loading: !!id && q.isPending && !q.error }
}

/** GET /api/audio/{id} through the cache, for an event handler (picking a saved voice). */
export const fetchAudioFile = (id: string): Promise<AudioFile> =>
  queryClient.fetchQuery({ queryKey: KEYS.audio(id), queryFn: () => api.audio(id), staleTime: 60_000 })

/** GET /api/audio?purpose=…: the files of one purpose, newest first (null while loading). */
export function useAudioList(purpose: AudioPurpose, enabled = true): { audio: AudioFile[] | null; error: string | null } {
  const q = useQuery({ queryKey: KEYS.audioList(purpose), queryFn: () => api.audioList(purpose), enabled }, queryClient)
  return { audio: q.data ?? null, error: q.error && !unavailable(q.error) ? errorMessage(q.error) : null }
}

/** A file just uploaded: known without asking the server again (kept by id, and first in its
 * purpose's list where that list is loaded). */
export function rememberUpload(a: AudioFile): void {
  queryClient.setQueryData(KEYS.audio(a.file_id), a)
  if (a.purpose === 'training' || a.purpose === 'target' || a.purpose === 'reference' || a.purpose === 'output')
    queryClient.setQueryData<AudioFile[]>(KEYS.audioList(a.purpose), (xs) => xs && [a, ...xs.filter((x) => x.file_id !== a.file_id)])
}

/** The one request that starts an RVC conversion: one file, several (a batch) or typed text. */
export type RvcStart =
  | { mode: 'file'; body: RvcRequest }
  | { mode: 'batch'; body: Omit<RvcRequest, 'target_audio_id'> & { target_audio_ids: string[] } }
  | { mode: 'text'; body: RvcTextRequest }

/** DELETE /api/jobs/{id}; the jobs list is read again whatever the answer (a job that had just
 * ended answers "already finished", and the panel should say so too). */
export function useCancelJob() {
  return useMutation<unknown, unknown, string>({
    mutationFn: (id) => api.cancelJob(id),
    onSettled: () => { void refreshJobs() },
  }, queryClient)
}

/** A chosen recording that survives a reload: its id from the address (fromQuery) or else this
 * tab's session, read again through the cache. Once the user picks (or clears) a file, that choice
 * wins over the restored one. problem: the restored file could not be read (deleted: the session
 * forgets it), in words for the screen. */
export function useChosenAudio(sessionKey: string, fromQuery: string | null): {
  audio: AudioFile | null; set: (a: AudioFile | null) => void; restoring: boolean; problem: string | null
} {
  const [restoreId] = useState(() => fromQuery ?? readSession<string | null>(sessionKey, null))
  const [picked, setPicked] = useState<AudioFile | null | undefined>(undefined)
  const restored = useAudioFile(picked === undefined ? restoreId : null)
  const audio = picked === undefined ? restored.audio : picked
  const gone = restored.error instanceof ApiError && restored.error.status === 404
  useEffect(() => { if (gone) writeSession(sessionKey, null) }, [sessionKey, gone])
  useEffect(() => { if (audio) writeSession(sessionKey, audio.file_id) }, [sessionKey, audio])
  const problem = !restored.error ? null : gone ? 'The recording chosen before is no longer on the server: add it again.'
    : `Could not load the recording chosen before: ${errorMessage(restored.error)}`
  return { audio, set: setPicked, restoring: restored.loading, problem }
}

/** POST /api/convert/f5tts/estimate for the request as it would be sent (null: none yet): the
 * expected time, or the server's refusal (its checks run, nothing is queued). `key` names what the
 * time depends on, so edits that cannot change it (a corrected word) ask nothing; the answer for a
 * key is kept. A server that cannot estimate (no endpoint, weights missing) is no error here: the
 * start itself says so next to the button. */
export function useF5Estimate(body: F5Request | null, key: string): { seconds: number | null; error: string | null } {
  const q = useQuery({
    queryKey: ['f5-estimate', key],
    queryFn: ({ signal }) => new Promise<number>((ok, bad) => {
      // typing settles first: a request per pause, not per keystroke (a newer key cancels this one)
      const t = setTimeout(() => api.estimateF5(body!).then((r) => ok(r.estimated_duration_seconds), bad), 300)
      signal.addEventListener('abort', () => { clearTimeout(t); bad(new DOMException('superseded', 'AbortError')) })
    }),
    enabled: !!body && !!key, staleTime: Infinity, gcTime: 60_000,
    placeholderData: (previous) => previous,   // the last time stays on screen while the next is asked
  }, queryClient)
  const quiet = q.error instanceof ApiError && (q.error.unavailable || q.error.weightsMissing)
  return { seconds: body && key && !q.isError ? q.data ?? null : null, error: body && key && q.error && !quiet ? errorMessage(q.error) : null }
}

/** A change on the server and the lists it changes: on success those are read again, so every
 * screen showing them follows (the library after a rename, the jobs panel after a start). */
const changing = <T, V>(fn: (v: V) => Promise<T>, ...refresh: (() => Promise<unknown>)[]) => () =>
  useMutation<T, unknown, V>({ mutationFn: fn, onSuccess: () => { for (const r of refresh) void r() } }, queryClient)

export const useRenameModel = changing((v: { id: string; name: string }) => api.renameModel(v.id, v.name), refreshModels)
export const useDeleteModel = changing((id: string) => api.deleteModel(id), refreshModels)
export const useImportModel = changing((m: ModelImport) => api.importModel(m), refreshModels)
export const useSaveVoice = changing((b: { name: string; reference_audio_id: string; reference_text?: string }) => api.saveVoice(b), refreshVoices)
export const useRenameVoice = changing((v: { id: string; name: string }) => api.renameVoice(v.id, v.name), refreshVoices)
export const useDeleteVoice = changing((id: string) => api.deleteVoice(id), refreshVoices)
/** POST /api/convert/rvc; the jobs panel shows the new job without waiting for its next poll. */
export const useStartRvc = changing((s: RvcStart): Promise<ConversionStarted> =>
  s.mode === 'text' ? api.convertRvcText(s.body) : s.mode === 'batch' ? api.convertRvcBatch(s.body) : api.convertRvc(s.body), refreshJobs)
/** POST /api/convert/f5tts (quick clone). */
export const useStartF5 = changing((b: F5Request) => api.convertF5(b), refreshJobs)
export const useStartTraining = changing((b: TrainRequest): Promise<StartedJob> => api.train(b), refreshJobs)
export const useStopTraining = changing((id: string) => api.stopTraining(id), refreshJobs)
export const usePullWeights = changing((pack: Pack) => api.pullWeights(pack), refreshJobs)
