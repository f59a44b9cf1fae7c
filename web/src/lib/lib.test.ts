// @vitest-environment node
/* Unit tests for the pure helpers: WAV encoding, levels, formatting, grades, loudness
 * matching, API error mapping and the loss-plot path. */
import { describe, expect, it, vi, afterEach } from 'vitest'
import { encodeWav, levelDb, concatChunks } from './wav'
import { fmtDuration, gradeTone, matchGains, snrFraction } from './format'
import { ApiError, errorMessage, request } from './api'
import { lossPath } from '../components/LossPlot'
import { tusErrorMessage } from '../components/Upload'

/** The ApiError a request rejects with (fails the test if it resolves). */
const fail = (p: Promise<unknown>): Promise<ApiError> => p.then(() => { throw new Error('expected the request to fail') }, (x) => x as ApiError)

async function bytes(b: Blob): Promise<DataView> {
  return new DataView(await new Response(b).arrayBuffer())
}

describe('wav', () => {
  it('writes a valid PCM16 mono header and clamps samples', async () => {
    const v = await bytes(encodeWav(new Float32Array([0, 1, -1, 2, -0.5]), 16000))
    const tag = (o: number) => String.fromCharCode(...[0, 1, 2, 3].map((i) => v.getUint8(o + i)))
    expect(tag(0)).toBe('RIFF'); expect(tag(8)).toBe('WAVE'); expect(tag(36)).toBe('data')
    expect(v.byteLength).toBe(44 + 10)
    expect(v.getUint32(4, true)).toBe(v.byteLength - 8)
    expect(v.getUint16(22, true)).toBe(1)
    expect(v.getUint32(24, true)).toBe(16000)
    expect(v.getUint32(28, true)).toBe(32000)
    expect(v.getUint32(40, true)).toBe(10)
    expect([0, 1, 2, 3, 4].map((i) => v.getInt16(44 + 2 * i, true))).toEqual([0, 32767, -32768, 32767, -16384])
  })
  it('concatenates chunks in order', () => {
    expect(Array.from(concatChunks([new Float32Array([1, 2]), new Float32Array([3])]))).toEqual([1, 2, 3])
  })
  it('measures level in dBFS', () => {
    expect(levelDb(new Float32Array(100).fill(1))).toBeCloseTo(0, 5)
    expect(levelDb(new Float32Array(100).fill(0.1))).toBeCloseTo(-20, 5)
    expect(levelDb(new Float32Array(100))).toBe(-90)
  })
})

describe('format', () => {
  it('formats durations', () => {
    expect(fmtDuration(5)).toBe('5s'); expect(fmtDuration(65)).toBe('1m 05s'); expect(fmtDuration(3720)).toBe('1h 2m')
    expect(fmtDuration(undefined)).toBe('—')
  })
  it('maps grades to tones', () => {
    expect(gradeTone('A+')).toBe('good'); expect(gradeTone('B')).toBe('ok'); expect(gradeTone('C')).toBe('fair')
    expect(gradeTone('D')).toBe('poor'); expect(gradeTone(undefined)).toBe('unknown')
  })
  it('clamps the SNR bar', () => {
    expect(snrFraction(-3)).toBe(0); expect(snrFraction(22.5)).toBeCloseTo(0.5); expect(snrFraction(90)).toBe(1)
  })
  it('matches loudness to the quieter clip', () => {
    const [a, b] = matchGains(-14, -20)
    expect(20 * Math.log10(a)).toBeCloseTo(-6, 6); expect(b).toBe(1)
    expect(matchGains(undefined, -20)).toEqual([1, 1])
    expect(matchGains(-Infinity, -20)).toEqual([1, 1])
  })
})

describe('api errors', () => {
  afterEach(() => vi.unstubAllGlobals())
  it('carries the server user_message', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ status: 'error', error_code: 'AUDIO_TOO_SHORT', message: 'x', user_message: 'Audio is too short.' }), { status: 400 })))
    const e = await fail(request('GET', '/api/x'))
    expect(e).toBeInstanceOf(ApiError)
    expect(e.code).toBe('AUDIO_TOO_SHORT'); expect(e.unavailable).toBe(false)
    expect(errorMessage(e)).toBe('Audio is too short.')
  })
  it('treats a missing endpoint as unavailable', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ status: 'error', error_code: 'NOT_FOUND', message: 'no endpoint POST /api/train', user_message: 'Not found.' }), { status: 404 })))
    const e = await fail(request('POST', '/api/train', {}))
    expect(e.unavailable).toBe(true)
    expect(errorMessage(e)).toMatch(/isn't available on this server yet/)
  })
  it('a 404 for a missing thing is not "unavailable"', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ status: 'error', error_code: 'MODEL_NOT_FOUND', message: 'model not found', user_message: 'Model not found.' }), { status: 404 })))
    const e = await fail(request('GET', '/api/models/x'))
    expect(e.unavailable).toBe(false); expect(errorMessage(e)).toBe('Model not found.')
  })
  it('reports an unreachable server', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('fetch failed') }))
    const e = await fail(request('GET', '/api/system'))
    expect(e.code).toBe('NETWORK'); expect(errorMessage(e)).toMatch(/Cannot reach/)
  })
  it('sends JSON bodies', async () => {
    const f = vi.fn(async (_u: string, _i: RequestInit) => new Response('{"job_id":"j1"}', { status: 200 }))
    vi.stubGlobal('fetch', f)
    expect(await request('POST', '/api/train', { a: 1 })).toEqual({ job_id: 'j1' })
    expect(f.mock.calls[0][1].body).toBe('{"a":1}')
  })
  it('reads user_message from a tus error response', () => {
    const err = { originalResponse: { getBody: () => '{"user_message":"Please upload a WAV file."}', getStatus: () => 415 } }
    expect(tusErrorMessage(err)).toBe('Please upload a WAV file.')
    expect(tusErrorMessage({ originalResponse: { getBody: () => '', getStatus: () => 404 } })).toMatch(/aren't available/)
    expect(tusErrorMessage(new Error('x'))).toMatch(/Upload failed/)
  })
})

describe('loss plot', () => {
  it('scales points into the box', () => {
    expect(lossPath([], 100, 50)).toBe('')
    expect(lossPath([{ step: 0, loss: 1 }, { step: 10, loss: 0 }], 100, 50)).toBe('M0.0,0.0 L100.0,50.0')
    expect(lossPath([{ step: 5, loss: 0.3 }], 100, 50)).toBe('M0.0,25.0')
  })
})

describe('contract helpers (convert / import)', async () => {
  const { ApiError, pullCommand, rvcParameterProblem, RVC_DEFAULTS } = await import('./api')
  const labels = { pitch_shift: 'Pitch', index_rate: 'Index rate', filter_radius: 'Filter', rms_mix_rate: 'Mix', protect: 'Protect' }
  it('405 "not allowed" and 404 "no endpoint" mean the feature is not on this server', () => {
    expect(new ApiError(405, { status: 'error', error_code: 'INVALID_REQUEST', message: 'method POST not allowed on /api/models/import' }, '').unavailable).toBe(true)
    expect(new ApiError(404, { status: 'error', error_code: 'MODEL_NOT_FOUND', message: 'model x not found' }, '').unavailable).toBe(false)
  })
  it('pullCommand prefers the command the server names', () => {
    const e = (message: string) => new ApiError(503, { status: 'error', error_code: 'WEIGHTS_MISSING', message }, '')
    expect(pullCommand(e('install them with: voiceclone models pull f5tts'), 'rvc')).toBe('voiceclone models pull f5tts')
    expect(pullCommand(e('Run: voiceclone models pull'), 'rvc')).toBe('voiceclone models pull rvc')
    expect(pullCommand(e('HuBERT missing'), 'f5tts')).toBe('voiceclone models pull f5tts')
    expect(e('x').weightsMissing).toBe(true)
  })
  it('rvcParameterProblem accepts the defaults and names the first bad value', () => {
    expect(rvcParameterProblem(RVC_DEFAULTS, labels)).toBeNull()
    expect(rvcParameterProblem({ ...RVC_DEFAULTS, pitch_shift: 1.5 }, labels)).toBe('Pitch must be a whole number.')
    expect(rvcParameterProblem({ ...RVC_DEFAULTS, protect: NaN }, labels)).toBe('Protect must be between 0 and 0.5.')
  })
})
