/* Convert (brief §5.3, RVC path): pick a voice model from the library, pick an earlier
 * target recording or drop a new one, tune the RVC parameters (folded away), start
 * POST /api/convert/rvc {model_id, target_audio_id, parameters}, follow the phases over SSE
 * (loading model → extracting features → converting → postprocessing), then a result
 * player with downloads and a loudness-matched before/after. "Type text instead" sends
 * {model_id, text, [reference_audio_id, reference_text], parameters}: F5-TTS speaks the text in
 * the voice of a reference (default: the model's own training audio), then the voice converts it. */
import { useEffect, useRef, useState } from 'react'
import toast from 'react-hot-toast'
import {
  ApiError, downloadUrl, errorMessage, pullCommand, rvcParameterProblem, RVC_DEFAULTS, RVC_LIMITS,
  type AudioFile, type RvcParameters,
} from '../lib/api'
import { BlockedNotice, ConfirmButton, Link, Skeleton, Unavailable, WeightsMissing } from '../components/Common'
import { Upload } from '../components/Upload'
import { JobProgress } from '../components/JobProgress'
import { BeforeAfter } from '../components/BeforeAfter'
import { ResultPlayer, resultInfo, resultLufs } from '../components/ResultPlayer'
import { useJob } from '../lib/useJob'
import { useNotifyWhenDone } from '../lib/useNotify'
import { askNotificationPermission } from '../lib/progress'
import { useSearch } from 'wouter'
import { setQuery } from '../lib/router'
import { fetchAudioFile, rememberUpload, useAudioList, useCancelJob, useChosenAudio, useModels, useStartRvc } from '../lib/queries'
import { readSession, useSessionState, writeSession } from '../lib/session'
import { fmtDuration } from '../lib/format'

export const RVC_PHASES = ['loading model', 'extracting features', 'converting', 'postprocessing']
/** Text mode: F5-TTS's phases (voice encoding = transcribing the reference), then the conversion's. */
export const RVC_TEXT_PHASES = ['preprocessing', 'voice encoding', 'generating', 'vocoding', ...RVC_PHASES]

export const RVC_LABELS: Record<keyof RvcParameters, string> = {
  pitch_shift: 'Pitch shift (semitones)',
  index_rate: 'Index rate',
  filter_radius: 'Filter radius',
  rms_mix_rate: 'Volume envelope mix',
  protect: 'Protect consonants',
}
const RVC_HELP: Record<keyof RvcParameters, string> = {
  pitch_shift: '+12 is one octave up (e.g. a male voice model singing a female part), −12 one octave down.',
  index_rate: 'How strongly the feature index pulls towards the model’s accent: 0 off, 1 strongest.',
  filter_radius: 'Median filter on the pitch curve; 3 or more reduces breathiness.',
  rms_mix_rate: '0 keeps the loudness envelope of the original, 1 uses the converted one.',
  protect: 'Protects breaths and voiceless consonants from artifacts; 0.5 turns protection off.',
}

export interface BatchOutput { output_audio_id: string; input_filename?: string; filename?: string; duration_seconds?: number }

/** A batch's results: each file with a player and its download, and all of them as one .zip. */
/* Where in its training recording the reference was cut (the server picks the best 3–12 s). */
export function windowText(r: Record<string, unknown>): string {
  const from = r.reference_start_seconds, to = r.reference_end_seconds
  return typeof from === 'number' && typeof to === 'number' ? ` (${from.toFixed(1)}–${to.toFixed(1)} s of a recording)` : ''
}

export function BatchResults({ outputs, zipUrl, focus }: { outputs: BatchOutput[]; zipUrl: string | null; focus?: boolean }) {
  const h = useRef<HTMLHeadingElement>(null)
  useEffect(() => { if (focus) h.current?.focus() }, [focus])
  return (
    <section className="card result" aria-labelledby="batch-h" data-testid="batch-result">
      <h2 id="batch-h" tabIndex={-1} ref={h}>Converted {outputs.length} files</h2>
      {zipUrl && <p><a className="button primary" href={zipUrl} download data-testid="download-zip">Download all (.zip)</a></p>}
      <ul className="batch-list">
        {outputs.map((o) => (
          <li key={o.output_audio_id}>
            <p><strong>{o.input_filename ?? o.filename}</strong>{o.duration_seconds !== undefined && <span className="muted"> · {fmtDuration(o.duration_seconds)}</span>}</p>
            <audio controls preload="metadata" src={downloadUrl(o.output_audio_id)} aria-label={`Converted ${o.input_filename ?? ''}`} />
            <a href={downloadUrl(o.output_audio_id)} download={o.filename ?? 'converted.wav'}>Download WAV<span className="sr-only"> of {o.input_filename}</span></a>
          </li>
        ))}
      </ul>
    </section>
  )
}

export function Convert() {
  const search = useSearch()
  const { models, error: modelsError, fresh: modelsFresh } = useModels()
  const [modelId, setModelId] = useState(new URLSearchParams(search).get('model') ?? '')
  // /convert?model=…&job=…&target=… restores a conversion after a reload or a visit elsewhere;
  // without ?target= the file chosen in this tab comes back
  const [opened] = useState(() => new URLSearchParams(search))
  const chosen = useChosenAudio('convert.target', opened.get('target'))
  const target = chosen.audio, setTarget = chosen.set
  /** more files converted in the same job (a batch: target_audio_ids); kept for the tab like the first */
  const [extra, setExtra] = useState<AudioFile[]>([])
  useEffect(() => {
    // the batch this tab chose; a link naming another target (another job's page, from the jobs
    // panel) is about that file alone
    const t = opened.get('target')
    const ids = !t || t === readSession<string | null>('convert.target', null) ? readSession<string[]>('convert.extra', []) : []
    if (ids.length) void Promise.all(ids.map((id) => fetchAudioFile(id).catch(() => null)))
      .then((got) => setExtra((xs) => xs.length ? xs : got.filter((a): a is AudioFile => !!a)))
  }, [opened])
  useEffect(() => { writeSession('convert.extra', extra.map((a) => a.file_id)) }, [extra])
  const targetRef = useRef<AudioFile | null>(null)
  targetRef.current = target
  const [p, setP] = useState<RvcParameters>(RVC_DEFAULTS)
  /** "Type text instead": the words to speak, and the voice reference F5-TTS speaks them from */
  // what was typed survives a reload of the tab (sessionStorage), as on Quick clone
  const urlText = opened.get('job') !== null && opened.get('mode') === 'text'
  const [textMode, setTextMode] = useSessionState('convert.textMode', urlText)
  useEffect(() => { if (urlText) setTextMode(true) }, [urlText, setTextMode])
  const [text, setText] = useSessionState('convert.text', '')
  // earlier recordings to pick from: a convenience, so a failure is a note, not a block
  const earlierList = useAudioList('target')
  const earlier = earlierList.audio ?? []
  const refList = useAudioList('reference')
  const refs = refList.audio ?? []
  const [refId, setRefId] = useSessionState('convert.refId', '')
  const [refText, setRefText] = useSessionState('convert.refText', '')
  /** the job on screen speaks text (its phases are F5-TTS's, then the conversion's) */
  const [jobText, setJobText] = useState(urlText)
  const [jobId, setJobId] = useState<string | null>(opened.get('job'))
  const [eta, setEta] = useState<number | null>(null)
  const [unavailable, setUnavailable] = useState(false)
  const [weights, setWeights] = useState<ApiError | null>(null)
  const [startError, setStartError] = useState<string | null>(null)
  const starting = useStartRvc()
  const cancelling = useCancelJob()
  const busy = starting.isPending
  const startedHere = useRef(false)
  const job = useJob(jobId)
  const model = models?.find((m) => m.model_id === modelId)
  useNotifyWhenDone(job, jobId, { title: 'Conversion finished', body: `Your audio in the voice of ${model?.name ?? 'your model'} is ready.` }, 'Conversion failed')

  // the model asked for (?model=) while the library has it, else the first one; decided on the
  // server's current list, not a cached one that may predate the model (just trained, imported)
  useEffect(() => {
    if (models && modelsFresh) setModelId((id) => (id && models.some((x) => x.model_id === id) ? id : models[0]?.model_id ?? ''))
  }, [models, modelsFresh])
  const active = !!jobId && (job.status === 'running' || job.status === 'queued' || job.status === 'connecting')

  const run = async (ev: React.FormEvent) => {
    ev.preventDefault()
    setStartError(null)
    if (!modelId) { toast.error('Choose a voice model.'); return }
    if (textMode && !text.trim()) { toast.error('Type the text to speak.'); return }
    if (!textMode && !target) { toast.error('Add the audio to convert.'); return }
    const problem = rvcParameterProblem(p, RVC_LABELS)
    if (problem) { setStartError(problem); toast.error(problem); return }
    askNotificationPermission()   // a user action
    startedHere.current = true
    setWeights(null)
    try {
      const r = await starting.mutateAsync(textMode
        ? { mode: 'text', body: { model_id: modelId, text: text.trim(), parameters: p,
          ...(refId ? { reference_audio_id: refId, ...(refText.trim() ? { reference_text: refText.trim() } : {}) } : {}) } }
        : extra.length === 0
          ? { mode: 'file', body: { model_id: modelId, target_audio_id: target!.file_id, parameters: p } }
          : { mode: 'batch', body: { model_id: modelId, target_audio_ids: [target!.file_id, ...extra.map((a) => a.file_id)], parameters: p } })
      setEta(typeof r.estimated_duration_seconds === 'number' ? r.estimated_duration_seconds : null)
      setJobId(r.job_id)
      setJobText(textMode)
      setQuery(textMode ? { model: modelId, job: r.job_id, mode: 'text', target: null } : { model: modelId, job: r.job_id, target: target!.file_id, mode: null })
    } catch (e) {
      if (e instanceof ApiError && e.unavailable) setUnavailable(true)
      else if (e instanceof ApiError && e.weightsMissing) setWeights(e)   // shown next to the button
      else {
        // text mode's refusals (no training audio, a short reference) say what to do in `message`;
        // the generic user_message of a 400 would not
        const why = textMode && e instanceof ApiError && e.status === 400 ? e.message : errorMessage(e)
        setStartError(why); toast.error(why)
      }
    }
  }
  const setParam = (k: keyof RvcParameters, v: string) => setP((old) => ({ ...old, [k]: v === '' ? NaN : +v }))
  const batch = job.status === 'complete' && Array.isArray(job.result?.outputs) ? job.result!.outputs as BatchOutput[] : null
  const result = job.status === 'complete' && !batch ? resultInfo(job.result) : null
  const cancel = async () => {
    if (!jobId) return
    try { await cancelling.mutateAsync(jobId); toast.success('Conversion cancelled') } catch (e) { toast.error(errorMessage(e)) }
  }

  return (
    <>
      <h1>Convert</h1>
      {unavailable && <Unavailable what="Voice conversion (RVC)" />}
      {modelsError && <div className="banner error" role="alert">Could not load your voice models: {modelsError}</div>}
      {!models && !modelsError && <Skeleton count={1} />}
      {models && models.length === 0 && (
        <div className="empty card" data-testid="convert-no-models">
          <h2>No voice model to convert with yet</h2>
          <p>Train a model (Pro training) or import one on the Models page. To speak typed text in your voice, use Quick clone.</p>
          <p className="actions" style={{ justifyContent: 'center' }}>
            <Link to="/train" className="button primary">Start training</Link> <Link to="/models" className="button">Import a model</Link> <Link to="/quick" className="button">Quick clone</Link>
          </p>
        </div>
      )}
      {models && models.length > 0 && (
        <form className="stack" onSubmit={(e) => void run(e)} data-testid="convert-form" noValidate>
          <section className="card stack" aria-labelledby="cv-1">
            <h2 id="cv-1">1. Choose a voice model</h2>
            <label htmlFor="model">Voice model</label>
            <select id="model" value={modelId} onChange={(e) => setModelId(e.target.value)}>
              {models.map((m) => <option key={m.model_id} value={m.model_id}>{m.name}{m.quality_grade ? ` (grade ${m.quality_grade})` : ''}</option>)}
            </select>
          </section>
          <section className="card stack" aria-labelledby="cv-2">
            <h2 id="cv-2">2. {textMode ? 'What it should say' : 'Audio to convert'}</h2>
            <label className="check">
              <input type="checkbox" checked={textMode} onChange={(e) => setTextMode(e.target.checked)} data-testid="text-mode" />
              Type text instead <span className="muted">(speak it in this voice: no recording needed)</span>
            </label>
            {textMode && <>
              <label htmlFor="rvc-text">Text to speak</label>
              <textarea id="rvc-text" rows={4} maxLength={5000} value={text} onChange={(e) => setText(e.target.value)} />
              <label htmlFor="rvc-ref">Speak from</label>
              <select id="rvc-ref" value={refId} onChange={(e) => setRefId(e.target.value)} aria-describedby="rvc-ref-help">
                <option value="">The model’s training audio</option>
                {refs.map((a) => <option key={a.file_id} value={a.file_id}>{a.filename} ({fmtDuration(a.duration_seconds)})</option>)}
              </select>
              {refList.error && <p className="muted small-print" data-testid="refs-error">Your other recordings could not be listed ({refList.error}); the model’s training audio still works.</p>}
              <p id="rvc-ref-help" className="muted small-print">
                The text is first spoken in the voice of this recording (up to 12 s of it), then converted with the model.
                An imported model has no training audio: pick a recording of the voice.
              </p>
              {refId && <>
                <label htmlFor="rvc-ref-text">What the recording says (optional)</label>
                <input id="rvc-ref-text" type="text" value={refText} onChange={(e) => setRefText(e.target.value)}
                  placeholder="Left empty, it is transcribed" />
              </>}
            </>}
            {!textMode && chosen.restoring && <p role="status" className="muted">Loading the recording you chose before…</p>}
            {!textMode && chosen.problem && <p role="alert" className="error-text" data-testid="target-lost">{chosen.problem}</p>}
            {!textMode && earlierList.error && <p className="muted small-print" data-testid="earlier-error">Your earlier recordings could not be listed ({earlierList.error}); add the file below.</p>}
            {!textMode && earlier.length > 0 && <>
              <label htmlFor="earlier">Use an earlier recording</label>
              <select id="earlier" value={target && earlier.some((a) => a.file_id === target.file_id) ? target.file_id : ''}
                onChange={(e) => setTarget(earlier.find((a) => a.file_id === e.target.value) ?? null)}>
                <option value="">— choose —</option>
                {earlier.map((a) => <option key={a.file_id} value={a.file_id}>{a.filename} ({fmtDuration(a.duration_seconds)})</option>)}
              </select>
              <p className="muted">…or add a new one:</p>
            </>}
            {!textMode && <Upload purpose="target" label="Drop the audio to convert (several files: one job converts them all)" multiple onDone={(a) => {
              // the first file is the one to convert; more files make a batch
              // (read through a ref: an upload's callback outlives the render it was made in)
              const t = targetRef.current
              if (!t || t.file_id === a.file_id) { targetRef.current = a; setTarget(a) }
              else setExtra((xs) => xs.some((x) => x.file_id === a.file_id) ? xs : [...xs, a])
              rememberUpload(a)   // first in "Use an earlier recording" too
            }} />}
            {!textMode && target && extra.length === 0 && <p role="status" data-testid="target-ready">Ready to convert: {target.filename} ({fmtDuration(target.duration_seconds)})</p>}
            {!textMode && target && extra.length > 0 && (
              <div role="status" data-testid="batch-ready">
                <p>Ready to convert {extra.length + 1} files in one job ({fmtDuration([target, ...extra].reduce((t, a) => t + (a.duration_seconds ?? 0), 0))} in all):</p>
                <ul className="file-pick">
                  {[target, ...extra].map((a, i) => (
                    <li key={a.file_id}>{a.filename} <span className="muted">{fmtDuration(a.duration_seconds)}</span>
                      <button type="button" className="small" onClick={() => {
                        if (i === 0) { setTarget(extra[0]); setExtra(extra.slice(1)) } else setExtra(extra.filter((x) => x.file_id !== a.file_id))
                      }}>Remove<span className="sr-only"> {a.filename}</span></button>
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </section>
          <section className="card stack">
            <details>
              <summary>Advanced parameters</summary>
              <div className="grid2">
                {(Object.keys(RVC_LIMITS) as (keyof RvcParameters)[]).map((k) => {
                  const [min, max, step] = RVC_LIMITS[k]
                  return (
                    <div key={k}>
                      <label htmlFor={`rvc-${k}`}>{RVC_LABELS[k]}</label>
                      <input id={`rvc-${k}`} type="number" min={min} max={max} step={step} value={isNaN(p[k]) ? '' : p[k]}
                        aria-describedby={`rvc-${k}-help`} onChange={(e) => setParam(k, e.target.value)} />
                      <p id={`rvc-${k}-help`} className="muted small-print">{RVC_HELP[k]}</p>
                    </div>
                  )
                })}
              </div>
              <button type="button" className="small" onClick={() => setP(RVC_DEFAULTS)}>Reset to defaults</button>
            </details>
            {startError && <p role="alert" className="error-text" data-testid="convert-error">{startError}</p>}
            <BlockedNotice need={['hubert', 'rmvpe']} what="Voice conversion" />
            {weights && <WeightsMissing what={textMode ? 'Speaking text' : 'Voice conversion'} command={pullCommand(weights, 'rvc')} detail={weights.message} />}
            <p><button type="submit" className="primary" disabled={busy || active}>{busy ? 'Starting…' : active ? 'Converting…' : 'Convert'}</button></p>
          </section>
        </form>
      )}
      {jobId && (
        <section className="card" aria-labelledby="cv-progress">
          <h2 id="cv-progress">{job.status === 'complete' ? 'Finished' : 'Converting…'}</h2>
          {eta !== null && active && <p className="muted">Estimated time: about {fmtDuration(eta)}.</p>}
          <JobProgress view={job} phases={jobText || typeof job.result?.text === 'string' ? RVC_TEXT_PHASES : RVC_PHASES} />
          {active && <ConfirmButton label="Cancel" confirmLabel="Yes, cancel" question="Cancel this conversion?" onConfirm={() => void cancel()} />}
          {job.status === 'complete' && !result && <p role="alert" className="error-text" data-testid="no-result">The job finished but the server sent no audio id for the result.</p>}
        </section>
      )}
      {batch && <BatchResults outputs={batch} zipUrl={typeof job.result?.download_zip_url === 'string' ? job.result.download_zip_url : null} focus={startedHere.current} />}
      {result && <ResultPlayer result={result} title={`Converted: ${model?.name ?? 'your voice'}`} filename="converted" compareWith={typeof job.result?.text === 'string' ? undefined : target?.file_id} focus={startedHere.current} />}
      {result && typeof job.result?.text === 'string' && (
        <p className="card" data-testid="spoken-text">Spoken: “{job.result.text}”
          {typeof job.result.reference_text === 'string' && <span className="muted"> · in the voice of {job.result.reference_source === 'training_audio' ? `its training audio${windowText(job.result)}` : 'your recording'}, which says “{job.result.reference_text}”</span>}
        </p>
      )}
      {result && target && typeof job.result?.text !== 'string' && (
        <BeforeAfter downloads={false}
          before={{ id: target.file_id, label: 'Original', lufs: target.quality_analysis?.loudness_lufs }}
          after={{ id: result.output_audio_id, label: 'Converted', lufs: resultLufs(job.result) }} />
      )}
    </>
  )
}
