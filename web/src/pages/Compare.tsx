/* Stand-alone before/after page, /compare?a={audio_id}&b={audio_id}: reads both files'
 * analyses (through the shared cache: lib/queries.ts) for loudness matching. Linkable, so a
 * result can be revisited; a file that cannot be read is named with the reason. */
import { useSearch } from 'wouter'
import { ApiError, errorMessage } from '../lib/api'
import { useAudioFile } from '../lib/queries'
import { BeforeAfter } from '../components/BeforeAfter'
import { Link, Skeleton } from '../components/Common'

/** Why one side cannot be shown, in words (a deleted file is the usual case). */
function sideProblem(which: string, id: string, e: unknown): string {
  if (e instanceof ApiError && e.status === 404) return `The ${which} recording (${id}) is no longer on the server: it was deleted, or the link is wrong.`
  return `Could not load the ${which} recording (${id}): ${errorMessage(e)}`
}

export function Compare() {
  const q = new URLSearchParams(useSearch())
  const a = q.get('a'), b = q.get('b')
  const both = !!a && !!b
  const before = useAudioFile(both ? a : null), after = useAudioFile(both ? b : null)
  const problems = [
    a && before.error ? sideProblem('original', a, before.error) : null,
    b && after.error ? sideProblem('converted', b, after.error) : null,
  ].filter((x): x is string => !!x)
  return (
    <>
      <h1>Compare</h1>
      {(!a || !b) && <p role="status">Open this page from a finished conversion to compare the original with the result.</p>}
      {problems.length > 0 && (
        <div className="banner error" role="alert" data-testid="compare-error">
          {problems.map((p) => <p key={p}>{p}</p>)}
          <p>Start a new comparison from a conversion on the <Link to="/convert">Convert</Link> page.</p>
        </div>
      )}
      {(before.loading || after.loading) && problems.length === 0 && <Skeleton count={2} />}
      {before.audio && after.audio && (
        <BeforeAfter before={{ id: before.audio.file_id, label: before.audio.filename, lufs: before.audio.quality_analysis?.loudness_lufs }}
          after={{ id: after.audio.file_id, label: after.audio.filename, lufs: after.audio.quality_analysis?.loudness_lufs }} />
      )}
    </>
  )
}
