/* Stand-alone before/after page, /compare?a={audio_id}&b={audio_id}: reads both files'
 * analyses for loudness matching. Linkable, so a result can be revisited. */
import { useEffect, useState } from 'react'
import { api, errorMessage, type AudioFile } from '../lib/api'
import { BeforeAfter } from '../components/BeforeAfter'
import { Skeleton } from '../components/Common'
import { useSearch } from 'wouter'

export function Compare() {
  const search = useSearch()
  const q = new URLSearchParams(search)
  const a = q.get('a'), b = q.get('b')
  const [files, setFiles] = useState<[AudioFile, AudioFile] | null>(null)
  const [err, setErr] = useState<string | null>(null)
  useEffect(() => {
    if (!a || !b) return
    Promise.all([api.audio(a), api.audio(b)]).then((x) => setFiles(x as [AudioFile, AudioFile])).catch((e) => setErr(errorMessage(e)))
  }, [a, b])
  return (
    <>
      <h1>Compare</h1>
      {(!a || !b) && <p role="status">Open this page from a finished conversion to compare the original with the result.</p>}
      {err && <div className="banner error" role="alert">{err}</div>}
      {a && b && !files && !err && <Skeleton count={2} />}
      {files && <BeforeAfter before={{ id: files[0].file_id, label: files[0].filename, lufs: files[0].quality_analysis?.loudness_lufs }}
        after={{ id: files[1].file_id, label: files[1].filename, lufs: files[1].quality_analysis?.loudness_lufs }} />}
    </>
  )
}
