/* The one place the UI talks to the server: typed fetch helpers for the public API
 * (ARCHITECTURE §5, brief §3). Errors become ApiError carrying the server's
 * user_message so every screen can toast a human sentence. A 404 "no endpoint" or 501
 * means the feature is not built into this server; screens show a friendly state then. */

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
  /** The route does not exist on this server (not built yet / disabled). */
  get unavailable(): boolean {
    return this.status === 501 || (this.status === 404 && /no endpoint/i.test(this.message))
  }
}

export interface QualityAnalysis {
  snr_db: number
  quality_grade: string
  voice_activity_percent: number
  background_noise_level: string
  recommendation: string
  clipping_percent?: number
  loudness_lufs?: number
  duration_seconds?: number
  sample_rate?: number
  tips?: string[]
  [k: string]: unknown
}

export interface AudioFile {
  file_id: string
  filename: string
  purpose: string
  duration_seconds: number
  sample_rate?: number
  file_size_mb?: number
  created_at?: string
  quality_analysis?: QualityAnalysis
}

export interface WeightInfo { name: string; purpose: string; installed: boolean; path?: string }
export interface SystemInfo {
  version: string
  engine: string
  weights: WeightInfo[]
  weights_status: 'installed' | 'missing'
  weights_hint?: string
  auth?: string
  queue?: Record<string, number>
}

export interface VoiceModel {
  model_id: string
  name: string
  created_at?: string
  quality_grade?: string
  final_loss?: number
  training_duration_minutes?: number
  training_audio_duration_seconds?: number
  file_size_mb?: number
  preview_audio_id?: string
  [k: string]: unknown
}

export interface Job {
  job_id: string
  kind?: string
  status: string
  phase?: string
  percent?: number
  /** percent 0–100 as stored by the jobs module */
  progress?: number
  queue_position?: number
  eta_seconds?: number | null
  created_at?: string
  result?: Record<string, unknown>
  error?: { error_code: string; message: string; user_message?: string }
  [k: string]: unknown
}

export interface StartedJob { job_id: string; progress_stream_url?: string; model_id?: string; [k: string]: unknown }

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
  audio: (id: string) => request<AudioFile>('GET', `/api/audio/${encodeURIComponent(id)}`),
  upload: (id: string) => request<UploadStatus>('GET', `/api/uploads/${encodeURIComponent(id)}`),
  jobs: () => request<{ jobs: Job[] }>('GET', '/api/jobs').then((r) => r.jobs ?? []),
  job: (id: string) => request<Job>('GET', `/api/jobs/${encodeURIComponent(id)}`),
  cancelJob: (id: string) => request<unknown>('DELETE', `/api/jobs/${encodeURIComponent(id)}`),
  convertF5: (b: unknown) => request<StartedJob>('POST', '/api/convert/f5tts', b),
  convertRvc: (b: unknown) => request<StartedJob>('POST', '/api/convert/rvc', b),
  train: (b: unknown) => request<StartedJob>('POST', '/api/train', b),
  preprocess: (b: unknown) => request<StartedJob>('POST', '/api/preprocess', b),
  /** Multipart upload of a small file (recordings); big files go through tus. */
  uploadFile: (purpose: 'training' | 'target' | 'reference', file: Blob, name: string) => {
    const fd = new FormData()
    fd.append('file', file, name)
    return request<AudioFile & { upload_complete: boolean }>('POST', `/api/upload/${purpose}-audio`, fd)
  },
  importModel: (fd: FormData) => request<VoiceModel>('POST', '/api/models/import', fd),
}

export const downloadUrl = (id: string, format: 'wav' | 'mp3' = 'wav') =>
  `/api/download/${encodeURIComponent(id)}?format=${format}`

/** Message for a toast / inline error from anything thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.unavailable ? "This feature isn't available on this server yet." : e.userMessage
  if (e instanceof Error) return e.message
  return String(e)
}
