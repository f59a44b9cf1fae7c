/* Convert (brief §5.3): pick a voice model, then either drop target audio (RVC voice
 * conversion) or type text (speech in the quick-clone voice); advanced parameters folded
 * away; progress over SSE; before/after with downloads. */
import { useEffect, useState } from 'react'
import toast from 'react-hot-toast'
import { api, ApiError, errorMessage, type AudioFile, type VoiceModel } from '../lib/api'
import { Link, Skeleton, SystemBanner, Unavailable } from '../components/Common'
import { Upload } from '../components/Upload'
import { JobProgress } from '../components/JobProgress'
import { BeforeAfter } from '../components/BeforeAfter'
import { useJob } from '../lib/useJob'
import { useApp, missingWeights } from '../lib/store'

const PHASES = ['preprocessing', 'inference', 'postprocessing']

export function Convert() {
  const search = useApp((s) => s.search)
  const system = useApp((s) => s.system)
  const [models, setModels] = useState<VoiceModel[] | null>(null)
  const [modelId, setModelId] = useState(new URLSearchParams(search).get('model') ?? '')
  const [target, setTarget] = useState<AudioFile | null>(null)
  const [p, setP] = useState({ pitch_shift: 0, index_rate: 0.5, filter_radius: 3, rms_mix_rate: 0.25, protect: 0.33 })
  const [jobId, setJobId] = useState<string | null>(null)
  const [unavailable, setUnavailable] = useState(false)
  const job = useJob(jobId)
  useEffect(() => {
    api.models().then((m) => { setModels(m); setModelId((id) => id || m[0]?.model_id || '') }).catch((e) => { setModels([]); toast.error(errorMessage(e)) })
  }, [])
  const missing = missingWeights(system, ['hubert', 'rmvpe'])
  const run = async (ev: React.FormEvent) => {
    ev.preventDefault()
    if (!modelId) { toast.error('Choose a voice model.'); return }
    if (!target) { toast.error('Add the audio to convert.'); return }
    try { setJobId((await api.convertRvc({ model_id: modelId, target_audio_id: target.file_id, parameters: p })).job_id) }
    catch (e) { if (e instanceof ApiError && e.unavailable) setUnavailable(true); toast.error(errorMessage(e)) }
  }
  const num = (k: keyof typeof p, label: string, min: number, max: number, step: number) => (
    <label key={k}>{label} <input type="number" min={min} max={max} step={step} value={p[k]} onChange={(e) => setP({ ...p, [k]: +e.target.value })} /></label>
  )
  const out = job.status === 'complete' ? (job.result?.output_audio_id as string | undefined) : undefined
  return (
    <>
      <h1>Convert</h1>
      {missing.length > 0 && (
        <div className="banner warn" role="status" data-testid="convert-missing">
          <strong>Voice models are not installed</strong> ({missing.join(', ')}): run <code>voiceclone models pull rvc</code> on the server.
          For speech from text, use <Link to="/quick">Quick clone</Link> (needs <code>voiceclone models pull f5tts</code>).
        </div>
      )}
      <SystemBanner need={['f5tts', 'vocos']} />
      {unavailable && <Unavailable what="Voice conversion" />}
      {!models && <Skeleton count={1} />}
      {models && models.length === 0 && (
        <div className="empty card" data-testid="convert-no-models">
          <h2>No voice model to convert with yet</h2>
          <p>Train a model (Pro training) or import one on the Models page. To speak typed text in your voice, use Quick clone.</p>
          <p><Link to="/train" className="button primary">Start training</Link> <Link to="/quick" className="button">Quick clone</Link></p>
        </div>
      )}
      {models && models.length > 0 && (
        <form className="card stack" onSubmit={(e) => void run(e)}>
          <label htmlFor="model">Voice model</label>
          <select id="model" value={modelId} onChange={(e) => setModelId(e.target.value)}>
            {models.map((m) => <option key={m.model_id} value={m.model_id}>{m.name}</option>)}
          </select>
          <Upload purpose="target" label="Drop the audio to convert" onDone={setTarget} />
          {target && <p>Ready: {target.filename}</p>}
          <details>
            <summary>Advanced parameters</summary>
            <div className="grid2">
              {num('pitch_shift', 'Pitch shift (semitones)', -12, 12, 1)}
              {num('index_rate', 'Index rate', 0, 1, 0.05)}
              {num('filter_radius', 'Filter radius', 0, 7, 1)}
              {num('rms_mix_rate', 'Volume envelope mix', 0, 1, 0.05)}
              {num('protect', 'Protect consonants', 0, 0.5, 0.01)}
            </div>
          </details>
          <button type="submit" className="primary">Convert</button>
        </form>
      )}
      {jobId && <section className="card"><h2>Progress</h2><JobProgress view={job} phases={PHASES} /></section>}
      {out && target && <BeforeAfter before={{ id: target.file_id, label: 'Original', lufs: target.quality_analysis?.loudness_lufs }} after={{ id: out, label: 'Converted' }} />}
    </>
  )
}
