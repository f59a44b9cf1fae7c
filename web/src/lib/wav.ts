/* In-browser recording → 16-bit PCM mono WAV (ARCHITECTURE §11: recordings are encoded
 * client-side so the server only ever receives a plain WAV). */

/** Average interleaved/mixed Float32 chunks into one mono buffer. */
export function concatChunks(chunks: Float32Array[]): Float32Array {
  const n = chunks.reduce((a, c) => a + c.length, 0)
  const out = new Float32Array(n)
  let o = 0
  for (const c of chunks) { out.set(c, o); o += c.length }
  return out
}

/** Encode mono float samples in [-1, 1] as a RIFF/WAVE PCM16 file. */
export function encodeWav(samples: Float32Array, sampleRate: number): Blob {
  const bytes = 44 + samples.length * 2
  const buf = new ArrayBuffer(bytes)
  const v = new DataView(buf)
  const str = (o: number, s: string) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)) }
  str(0, 'RIFF'); v.setUint32(4, bytes - 8, true); str(8, 'WAVE')
  str(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true)
  v.setUint32(24, sampleRate, true); v.setUint32(28, sampleRate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true)
  str(36, 'data'); v.setUint32(40, samples.length * 2, true)
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]))
    v.setInt16(44 + i * 2, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true)
  }
  return new Blob([buf], { type: 'audio/wav' })
}

/** RMS level of a block in dBFS, floored at -90 (for the level meter). */
export function levelDb(block: Float32Array): number {
  let e = 0
  for (let i = 0; i < block.length; i++) e += block[i] * block[i]
  const rms = Math.sqrt(e / Math.max(1, block.length))
  return rms > 0 ? Math.max(-90, 20 * Math.log10(rms)) : -90
}
