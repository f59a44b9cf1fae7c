/* The one place the UI talks to the server: typed fetch helpers for the public API
 * (ARCHITECTURE §5, brief §3). Errors become ApiError carrying the server's
 * user_message so every screen can toast a human sentence. A 404 "no endpoint" or 501
 * means the feature is not built into this server; screens show a friendly state then. */

import type { components } from './api-schema'

/** The server's own schemas (components.schemas of /api/openapi.json), generated into
 * api-schema.d.ts by tools/api-types/generate.sh; tests/api/test_openapi_types.sh fails when they
 * are stale. New code takes its types from here rather than writing them by hand. */
export type Schemas = components['schemas']

export interface ApiErrorBody {
  status: 'error'
  error_code: string
  message: string
  user_message?: string
  [k: string]: unknown
}

export class ApiError extends Error {
  status: number
  code: string
  userMessage: string
  body: ApiErrorBody | null
  constructor(status: number, body: ApiErrorBody | null, fallback: string) {
    super(body?.message ?? fallback)
    this.status = status
    this.code = body?.error_code ?? (status === 0 ? 'NETWORK' : 'HTTP_' + status)
    this.userMessage = body?.user_message ?? body?.message ?? fallback
    this.body = body
  }
  /** The route does not exist on this server (not built yet / disabled): 501, a 404 "no
   * endpoint …", or a 405 "method … not allowed" (the path exists for other methods only). */
  get unavailable(): boolean {
    return this.status === 501 || (this.status === 404 && /no endpoint/i.test(this.message)) ||
      (this.status === 405 && /not allowed/i.test(this.message))
  }
  /** 503 WEIGHTS_MISSING: the model files this feature needs are not installed. */
  get weightsMissing(): boolean { return this.code === 'WEIGHTS_MISSING' }
}

/** The `voiceclone models pull …` command for a WEIGHTS_MISSING error: the one the server's
 * message names, else the given pack's. */
export function pullCommand(e: ApiError | null, pack: Pack): string {
  const m = e?.message.match(/voiceclone models pull(?: [a-z0-9_-]+)?/i)
  return m && m[0].trim() !== 'voiceclone models pull' ? m[0].trim() : `voiceclone models pull ${pack}`
}

/** The installable packs of `voiceclone models pull` (docs/models-manifest.json). */
export type Pack = 'f5tts' | 'rvc' | 'rvc-pretrained'
/** Which pack installs a weight folder (the server says so as `pack`; older servers do not). */
export function packOf(w: Pick<WeightInfo, 'name' | 'pack'>): Pack {
  if (w.pack === 'f5tts' || w.pack === 'rvc' || w.pack === 'rvc-pretrained') return w.pack
  if (/^(f5|vocos)/.test(w.name)) return 'f5tts'
  if (/^rvc_pretrained/.test(w.name)) return 'rvc-pretrained'
  return 'rvc'
}

/** The quality report of an upload (uploads.c upload_quality_json): a measure the analysis could not
 * take (NaN, ∞: e.g. a file too short to measure) is null. */
export type QualityAnalysis = Schemas['QualityAnalysis']

/** An uploaded or produced audio file (GET /api/audio[/{id}], the upload answers): its length and
 * size are null where the file could not be measured, its report null where none was made. */
export type AudioFile = Schemas['AudioFile']

export interface WeightInfo { name: string; purpose: string; installed: boolean; path?: string; licence?: string; licence_note?: string; pack?: string; folder?: string }
export interface SystemInfo {
  version: string
  engine: string
  weights: WeightInfo[]
  weights_status: 'installed' | 'missing'
  weights_hint?: string
  auth?: string
  queue?: Record<string, number>
}

/** A voice model as the server describes it (the Model schema), with the training provenance's
 * known fields spelled out. */
export type VoiceModel = Omit<Schemas['Model'], 'training'> & {
  training?: { attestation?: string; consented_at?: string; steps?: number; epochs?: number; stopped_early?: boolean }
  /** not sent by this server yet */
  preview_audio_id?: string
}

/** A job as GET /api/jobs[/{id}] shows it (the Job schema); result is the kind's own object. */
export type Job = Omit<Schemas['Job'], 'result'> & { result?: Record<string, unknown> | null }

export interface StartedJob { job_id: string; progress_stream_url?: string; model_id?: string; [k: string]: unknown }

/** Answer of POST /api/convert/f5tts and /api/convert/rvc (202). */
export interface ConversionStarted extends StartedJob {
  status: 'conversion_started'
  estimated_duration_seconds?: number | null
  queue_position?: number
}

/** One span of a recording and the words said in it (seconds). */
export interface Segment { start: number; end: number; text: string }

/** An instant voice (GET /api/voices): a saved quick-clone sample and what it says (reference_text
 * empty: not known, transcribed at each use). */
export type Voice = Schemas['Voice']

/** POST /api/convert/f5tts (and POST /api/jobs {kind: convert_f5tts, params}): text mode (text) or
 * speech to speech (target_audio_id, optionally with the checked transcript as target_segments). A
 * missing reference_text is transcribed. The voice sample is reference_audio_id, or voice_id (a saved
 * voice: its sample and transcript). */
export type F5Request = Schemas['F5Request']

/** Result of a transcribe job: what the quick clone hears in a sample (its clip) or a target. */
export interface Heard {
  text: string
  segments: Segment[]
  clip_seconds?: number
  duration_seconds?: number
}

/** RVC inference parameters (brief §3.2 #4, plus protect). */
export interface RvcParameters {
  pitch_shift: number
  index_rate: number
  filter_radius: number
  rms_mix_rate: number
  protect: number
}
export interface RvcRequest { model_id: string; target_audio_id: string; parameters: RvcParameters & { clip_seconds?: number } }
/** RVC text mode: F5-TTS speaks `text` in the voice of reference_audio_id (default: a clip of the
 * model's training audio; reference_text optional, else transcribed), the voice converts it. */
export interface RvcTextRequest {
  model_id: string
  text: string
  reference_audio_id?: string
  reference_text?: string
  tts_parameters?: { nfe_step?: number; speed?: number; seed?: number }
  parameters: RvcParameters
}

export const RVC_DEFAULTS: RvcParameters = { pitch_shift: 0, index_rate: 0.5, filter_radius: 3, rms_mix_rate: 0.25, protect: 0.33 }
/** [min, max, step] per parameter; the UI's inputs and the client-side check use the same. */
export const RVC_LIMITS: Record<keyof RvcParameters, [number, number, number]> = {
  pitch_shift: [-24, 24, 1], index_rate: [0, 1, 0.05], filter_radius: [0, 7, 1], rms_mix_rate: [0, 1, 0.05], protect: [0, 0.5, 0.01],
}
/** Human sentence for the first out-of-range parameter, or null when all are valid. */
export function rvcParameterProblem(p: RvcParameters, labels: Record<keyof RvcParameters, string>): string | null {
  for (const k of Object.keys(RVC_LIMITS) as (keyof RvcParameters)[]) {
    const [min, max] = RVC_LIMITS[k]
    const v = p[k]
    if (typeof v !== 'number' || !isFinite(v) || v < min || v > max) return `${labels[k]} must be between ${min} and ${max}.`
    if ((k === 'pitch_shift' || k === 'filter_radius') && !Number.isInteger(v)) return `${labels[k]} must be a whole number.`
  }
  return null
}

export interface ModelImport { name: string; model: File; index?: File | null }
/** Client-side check of an import before uploading: a name, a .pth (or a .zip holding .pth + .index), an optional .index. */
export function importProblem(m: { name: string; model?: File | null; index?: File | null }): string | null {
  if (!m.name.trim()) return 'Give the model a name.'
  if (!m.model || m.model.size === 0) return 'Choose the model weights file (.pth).'
  if (!/\.(pth|zip)$/i.test(m.model.name)) return `${m.model.name} is not a .pth or .zip file. Choose the RVC model weights (.pth), or a .zip holding them.`
  if (m.index && m.index.size > 0 && !/\.index$/i.test(m.index.name)) return `${m.index.name} is not a .index file. Leave the feature index empty or choose a .index file.`
  return null
}

export interface UploadStatus {
  upload_id: string
  offset: number
  length: number
  upload_complete: boolean
  file_id?: string
  quality_analysis?: QualityAnalysis
}

async function parse(res: Response): Promise<unknown> {
  const text = await res.text()
  if (!text) return null
  try { return JSON.parse(text) } catch { return null }
}

/** Requests give up after this long so a stuck server never freezes a screen. */
export const REQUEST_TIMEOUT_MS = 20000

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response
  const init: RequestInit = { method, headers: {} }
  // uploads may legitimately take long; everything else is bounded
  if (!(body instanceof FormData) && typeof AbortSignal !== 'undefined' && 'timeout' in AbortSignal)
    init.signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS)
  if (body instanceof FormData) init.body = body
  else if (body !== undefined) {
    init.body = JSON.stringify(body)
    ;(init.headers as Record<string, string>)['Content-Type'] = 'application/json'
  }
  try {
    res = await fetch(path, init)
  } catch (e) {
    if (e instanceof DOMException && e.name === 'TimeoutError')
      throw new ApiError(0, null, 'The server is taking too long to answer. Please try again.')
    throw new ApiError(0, null, 'Cannot reach the VoiceClone server. Is it running?')
  }
  const data = await parse(res)
  if (!res.ok) {
    const b = data && typeof data === 'object' && 'error_code' in data ? (data as ApiErrorBody) : null
    throw new ApiError(res.status, b, `Request failed (HTTP ${res.status}).`)
  }
  return data as T
}

export const api = {
  system: () => request<SystemInfo>('GET', '/api/system'),
  models: () => request<{ models: VoiceModel[] }>('GET', '/api/models').then((r) => r.models ?? []),
  deleteModel: (id: string) => request<unknown>('DELETE', `/api/models/${encodeURIComponent(id)}`),
  renameModel: (id: string, name: string) => request<VoiceModel>('PATCH', `/api/models/${encodeURIComponent(id)}`, { name }),
  audio: (id: string) => request<AudioFile>('GET', `/api/audio/${encodeURIComponent(id)}`),
  upload: (id: string) => request<UploadStatus>('GET', `/api/uploads/${encodeURIComponent(id)}`),
  jobs: () => request<{ jobs: Job[] }>('GET', '/api/jobs').then((r) => r.jobs ?? []),
  job: (id: string) => request<Job>('GET', `/api/jobs/${encodeURIComponent(id)}`),
  cancelJob: (id: string) => request<unknown>('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
  /** Ends a running training after its current step, keeping the model trained so far. */
  stopTraining: (id: string) => request<unknown>('POST', `/api/jobs/${encodeURIComponent(id)}/stop`),
  /** Audio files of one purpose, newest first (e.g. earlier target recordings to convert). */
  audioList: (purpose?: 'training' | 'target' | 'reference' | 'output') =>
    request<{ audio: AudioFile[] }>('GET', '/api/audio' + (purpose ? `?purpose=${purpose}` : '')).then((r) => r.audio ?? []),
  voices: () => request<{ voices: Voice[] }>('GET', '/api/voices').then((r) => r.voices ?? []),
  saveVoice: (b: { name: string; reference_audio_id: string; reference_text?: string }) => request<Voice>('POST', '/api/voices', b),
  renameVoice: (id: string, name: string) => request<Voice>('PATCH', `/api/voices/${encodeURIComponent(id)}`, { name }),
  deleteVoice: (id: string) => request<unknown>('DELETE', `/api/voices/${encodeURIComponent(id)}`),
  convertF5: (b: F5Request) => request<ConversionStarted>('POST', '/api/convert/f5tts', b),
  /** The same checks as convertF5 and the expected time; nothing is queued. */
  estimateF5: (b: F5Request) => request<{ status: string; estimated_duration_seconds: number }>('POST', '/api/convert/f5tts/estimate', b),
  /** A transcribe job: "we heard …" for a voice sample (purpose reference) or a target recording. */
  transcribe: (audioId: string, purpose: 'reference' | 'target') =>
    request<StartedJob & { estimated_duration_seconds?: number | null }>('POST', '/api/transcribe', { audio_id: audioId, purpose }),
  convertRvc: (b: RvcRequest) => request<ConversionStarted>('POST', '/api/convert/rvc', b),
  /** Text mode: speak typed text in the voice (F5-TTS, then the RVC voice). */
  convertRvcText: (b: RvcTextRequest) => request<ConversionStarted>('POST', '/api/convert/rvc', b),
  /** Several targets, one job: result.outputs (one per file) and result.download_zip_url. */
  convertRvcBatch: (b: Omit<RvcRequest, 'target_audio_id'> & { target_audio_ids: string[] }) =>
    request<ConversionStarted>('POST', '/api/convert/rvc', b),
  train: (b: TrainRequest) => request<StartedJob>('POST', '/api/train', b),
  preprocess: (b: unknown) => request<StartedJob>('POST', '/api/preprocess', b),
  /** `voiceclone models pull PACK` as a job on the server ("Download models"). */
  pullWeights: (pack: Pack) => request<StartedJob & { pack: string }>('POST', '/api/weights/pull', { pack }),
  /** Multipart upload of a small file (recordings); big files go through tus. */
  uploadFile: (purpose: 'training' | 'target' | 'reference', file: Blob, name: string) => {
    const fd = new FormData()
    fd.append('file', file, name)
    return request<AudioFile & { upload_complete: boolean }>('POST', `/api/upload/${purpose}-audio`, fd)
  },
  /** Multipart POST /api/models/import: fields name, file (.pth or .zip), index (.index, optional).
   * The answer is the new model (201, the Model schema). */
  importModel: async (m: ModelImport): Promise<VoiceModel> => {
    const fd = new FormData()
    fd.append('name', m.name.trim())
    fd.append('file', m.model, m.model.name)
    if (m.index && m.index.size > 0) fd.append('index', m.index, m.index.name)
    return request<VoiceModel>('POST', '/api/models/import', fd)
  },
}

/** NAME.zip holding NAME.pth (+ NAME.index): loads in RVC-WebUI and Applio. */
export const exportUrl = (modelId: string) => `/api/models/${encodeURIComponent(modelId)}/export`

export interface TrainRequest {
  training_audio_ids: string[]
  model_name: string
  voice_consent: true
  accept_noisy_audio?: boolean
  preprocessing: Record<string, boolean>
  training_params: Record<string, unknown>
}

/** The pre-loaded recording (scripts/make-sample.sh, served with the web UI): Quick clone's "Use
 * sample audio" and the library's "Try it". */
export const SAMPLE_TARGET_URL = '/samples/sample-target.wav'

/** Uploads the pre-loaded recording as a target file. */
export async function uploadSampleTarget(): Promise<AudioFile> {
  const res = await fetch(SAMPLE_TARGET_URL)
  if (!res.ok) throw new Error('The sample recording is not installed with this web UI (run make build with espeak-ng installed).')
  return api.uploadFile('target', new Blob([await res.arrayBuffer()], { type: 'audio/wav' }), 'sample-target.wav')
}

export const downloadUrl = (id: string, format: 'wav' | 'mp3' = 'wav') =>
  `/api/download/${encodeURIComponent(id)}?format=${format}`

/** Message for a toast / inline error from anything thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.unavailable ? "This feature isn't available on this server yet." : e.userMessage
  if (e instanceof Error) return e.message
  return String(e)
}
