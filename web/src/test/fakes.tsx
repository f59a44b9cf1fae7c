/* Test doubles shared by the page tests: an EventSource the test drives, JSON responses,
 * a fetch router and stand-ins for the upload box and the WaveSurfer before/after (which
 * need a real browser). */
import { act } from '@testing-library/react'
import type { AudioFile, QualityAnalysis, SystemInfo } from '../lib/api'
import { KEYS, queryClient } from '../lib/queries'

export class FakeES {
  static all: FakeES[] = []
  static get last(): FakeES | null { return FakeES.all[FakeES.all.length - 1] ?? null }
  static CLOSED = 2
  readyState = 1
  url: string
  listeners: Record<string, ((e: MessageEvent) => void)[]> = {}
  constructor(url: string) { this.url = url; FakeES.all.push(this) }
  addEventListener(name: string, fn: (e: MessageEvent) => void) { (this.listeners[name] ??= []).push(fn) }
  close() { this.readyState = 2 }
  emit(name: string, data: unknown) {
    act(() => { for (const fn of this.listeners[name] ?? []) fn(new MessageEvent(name, { data: JSON.stringify(data) })) })
  }
}

/** The server's /api/system answer as the app last read it (App reads it at start). */
export const setSystem = (s: SystemInfo) => { queryClient.setQueryData(KEYS.system, s) }

export const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status })

export type Route = (url: string, init?: RequestInit) => Response | Promise<Response> | undefined
/** fetch stub: the first route answering wins; anything else is a 404 "no endpoint". */
export function router(...routes: Route[]) {
  return async (url: string, init?: RequestInit) => {
    for (const r of routes) { const res = await r(url, init); if (res) return res }
    return json(404, { status: 'error', error_code: 'NOT_FOUND', message: `no endpoint ${init?.method ?? 'GET'} ${url}`, user_message: 'Not found.' })
  }
}

/** A quality report as the server sends it (every field; override what a test is about). */
export const quality = (over: Partial<QualityAnalysis> = {}): QualityAnalysis => ({
  duration_seconds: 15, sample_rate: 48000, snr_db: 30, voice_activity_percent: 80, background_noise_level: 'low', noise_floor_dbfs: -60,
  clipping_percent: 0, loudness_lufs: -20, peak_dbfs: -3, quality_grade: 'A', recommendation: 'Good', ...over,
})

/** An uploaded file as the server describes it (the AudioFile schema). */
export const sample = (over: Partial<AudioFile> = {}): AudioFile => ({
  file_id: 'audio_ref', filename: 'me.wav', purpose: 'reference', format: 'wav', duration_seconds: 15, sample_rate: 48000, channels: 1,
  file_size_mb: 1.4, created_at: '2026-01-01T00:00:00Z', warnings: [], quality_analysis: quality(),
  ...over,
})

/** Stand-in for components/Upload: a button that "uploads" a fixed file. */
export function FakeUpload(props: { purpose: string; onDone: (a: AudioFile) => void }) {
  return <button type="button" onClick={() => props.onDone(sample({ file_id: `audio_${props.purpose}`, purpose: props.purpose as AudioFile['purpose'], filename: `${props.purpose}.wav` }))}>fake upload {props.purpose}</button>
}

/** Stand-in for components/BeforeAfter: shows the props it got (ids, loudness). */
export function FakeBeforeAfter(props: { before: { id: string; lufs?: number }; after: { id: string; lufs?: number } }) {
  return <div data-testid="before-after">{`${props.before.id}@${props.before.lufs} vs ${props.after.id}@${props.after.lufs}`}</div>
}
