// The API contract test (tests/contract/run.sh starts the real server and calls this).
//
// Fetches the server's own /api/openapi.json and exercises EVERY operation in it against the real
// server. Each answer is checked against the document with Ajv (JSON Schema 2020-12, the dialect of
// OpenAPI 3.1): its status must be documented for the operation, a JSON body must validate against
// the schema documented for that status, another body must have the documented media type, a HEAD
// answer has no body, 405 carries Allow, 429 Retry-After. JSON request bodies sent here are
// validated against the documented requestBody schema too, so the document accepts what the
// server accepts. Every operation must have answered at least once, and with a 2xx unless
// NO_SUCCESS below says why not. A route added without a case here fails with its operationId.
//
// Env: VCS_BASE (server URL), VCS_AUDIO_DIR (speech.wav, reference.wav, tone.wav), VCS_ROOT (repo),
// VCS_BIN and VCS_DATA (the server's binary and data folder: the last part creates an API key),
// VCS_MIRROR_DIR (the folder run.sh's file server serves the "rvc" pack's downloads from).
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const BASE = process.env.VCS_BASE;
const AUDIO = process.env.VCS_AUDIO_DIR;
const ROOT = process.env.VCS_ROOT;

// Operations that cannot answer 2xx on a test server, and why.
const NO_SUCCESS = {};

const failures = [];
const fail = (msg) => { failures.push(msg); console.error('FAIL ' + msg); };

const docRes = await fetch(BASE + '/api/openapi.json');
const doc = await docRes.json();
if (process.env.VCS_DOC_OUT) writeFileSync(process.env.VCS_DOC_OUT, JSON.stringify(doc, null, 1));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi');
const ptr = (...parts) => parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
function validator(...parts) {
  const ref = 'openapi#/' + ptr(...parts);
  const v = ajv.getSchema(ref);
  if (!v) throw new Error('no schema at ' + ref);
  return v;
}

// every operation in the document, by "METHOD /path"
const ops = new Map();
for (const [path, item] of Object.entries(doc.paths))
  for (const [method, op] of Object.entries(item)) ops.set(`${method.toUpperCase()} ${path}`, { path, method, op, seen: [] });

const idSafe = /^[A-Za-z][A-Za-z0-9_]*$/;
for (const [key, o] of ops) if (!idSafe.test(o.op.operationId || '')) fail(`${key}: operationId '${o.op.operationId}' is not URL-safe`);
if (!Array.isArray(doc.servers) || !doc.servers.length) fail('servers is not set');

// Error is one closed object per code: a code's extra fields belong to it (the real error bodies
// below are checked against the same schema); these probes say the document itself ties them.
{
  const isError = validator('components', 'schemas', 'Error');
  const base = { status: 'error', message: 'm', user_message: 'u' };
  const probes = [
    [true, { ...base, error_code: 'AUDIO_TOO_LONG', duration_seconds: 1900, max_duration_seconds: 1800 }],
    [true, { ...base, error_code: 'FILE_TOO_LARGE', max_size_mb: 300 }],
    [true, { ...base, error_code: 'INVALID_FORMAT', supported_formats: ['pth', 'index', 'zip'] }],
    [true, { ...base, error_code: 'CONFLICT', file_id: 'audio_x' }],
    [false, { ...base, error_code: 'AUDIO_TOO_LONG', max_size_mb: 300 }],
    [false, { ...base, error_code: 'NOT_FOUND', file_id: 'audio_x' }],
    [false, { ...base, error_code: 'FILE_TOO_LARGE', recommendation: 'x' }],
    [false, { ...base, error_code: 'NO_SUCH_CODE' }],
    [false, { ...base, error_code: 'NOT_FOUND', message: undefined }],
  ];
  for (const [want, body] of probes)
    if (isError(JSON.parse(JSON.stringify(body))) !== want) fail(`Error ${want ? 'refuses' : 'accepts'} ${JSON.stringify(body)}`);
  const codes = (doc.components.schemas.Error.oneOf || []).map((b) => b.properties?.error_code?.const);
  if (codes.length < 20 || codes.some((c) => typeof c !== 'string')) fail(`Error: not one branch per code (${codes})`);
}

function mediaMatches(documented, got) {
  const base = (got || '').split(';')[0].trim().toLowerCase();
  if (documented.endsWith('/*')) return base.startsWith(documented.slice(0, -1));
  return base === documented;
}

// One request of operation `key` ("GET /api/audio/{audio_id}") to the concrete `url` path.
// invalid: the JSON body is meant to be refused, so the document must refuse it too.
async function call(key, url, { method, headers = {}, body, json, invalid = false, raw = false } = {}) {
  const o = ops.get(key);
  if (!o) throw new Error(`no operation ${key} in the document`);
  const m = method || o.method.toUpperCase();
  if (json !== undefined) {
    body = JSON.stringify(json);
    headers = { 'Content-Type': 'application/json', ...headers };
    const rb = o.op.requestBody?.content?.['application/json'];
    if (!rb) fail(`${key}: sends JSON but documents no application/json requestBody`);
    else if (rb.schema) {
      const v = validator('paths', o.path, o.method, 'requestBody', 'content', 'application/json', 'schema');
      const fits = v(json);
      if (!fits && !invalid) fail(`${key}: the request body ${body.slice(0, 200)} does not fit the documented schema: ${ajv.errorsText(v.errors)}`);
      if (fits && invalid) fail(`${key}: the documented schema accepts ${body.slice(0, 200)}, which the server must refuse`);
    }
  }
  if (body instanceof FormData) { // the form's field names must be documented (values are text on the wire)
    const schema = o.op.requestBody?.content?.['multipart/form-data']?.schema;
    if (!schema) fail(`${key}: sends a form but documents no multipart/form-data requestBody`);
    for (const name of new Set(body.keys()))
      if (schema && !schema.properties?.[name]) fail(`${key}: form field '${name}' is not documented`);
    for (const name of schema?.required || [])
      if (schema && !body.has(name) && !invalid) fail(`${key}: the documented required form field '${name}' was not sent`);
  }
  const res = raw ? await rawRequest(m, url, headers) : await fetch(BASE + url, { method: m, headers, body, redirect: 'manual' });
  const buf = raw ? res.buf : Buffer.from(await res.arrayBuffer());
  const status = String(res.status);
  const where = `${m} ${url} → ${status}`;
  o.seen.push(status);
  const resp = o.op.responses[status];
  if (!resp) {
    fail(`${key}: status ${status} is not documented (${Object.keys(o.op.responses).join(',')}): ${buf.toString().slice(0, 300)}`);
    return { status: res.status, headers: res.headers, buf, body: safeJson(buf) };
  }
  const ct = res.headers.get('content-type');
  if (m === 'HEAD') {
    if (buf.length) fail(`${where}: HEAD answered with a body`);
  } else if (resp.content) {
    const [media, spec] = Object.entries(resp.content)[0];
    if (buf.length === 0 && status !== '204') fail(`${where}: documented ${media}, got no body`);
    else if (!mediaMatches(media, ct)) fail(`${where}: Content-Type ${ct}, documented ${media}`);
    else if (spec.schema) {
      const data = media === 'text/event-stream' ? parseSse(buf, where) : safeJson(buf);
      const v = validator('paths', o.path, o.method, 'responses', status, 'content', media, 'schema');
      if (data === undefined) fail(`${where}: the body is not JSON`);
      else if (!v(data)) fail(`${where}: ${ajv.errorsText(v.errors)}\n    body: ${buf.toString().slice(0, 600)}`);
    }
  } else if (buf.length) {
    fail(`${where}: documented without a body, got ${buf.length} bytes (${ct})`);
  }
  for (const h of Object.keys(resp.headers || {}))
    if (['Allow', 'Retry-After', 'Tus-Version', 'Location'].includes(h) && !res.headers.get(h)) fail(`${where}: documented header ${h} missing`);
  return { status: res.status, headers: res.headers, buf, body: safeJson(buf) };
}

// node:http, for headers fetch will not send as given (Host)
function rawRequest(method, path, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request(BASE + path, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
        buf: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function safeJson(buf) {
  try { return JSON.parse(buf.toString()); } catch { return undefined; }
}

// An event stream as the document describes it: one {id, event, data} per message (data parsed
// as JSON), comment lines (": keep-alive") skipped. Counts each event name seen, and which of
// SseProgress's forms each progress event's data fits (a phase, a download, a training step).
const eventsSeen = {};
const PROGRESS_FORMS = ['ProgressData', 'DownloadProgressData', 'TrainingStepData'];
const progressForms = {};
const fits = (name, data) => validator('components', 'schemas', name)(data);
function parseSse(buf, where) {
  const out = [];
  for (const block of buf.toString().split('\n\n')) {
    const msg = {};
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i), value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'id') msg.id = Number(value);
      else if (field === 'event') msg.event = value;
      else if (field === 'data') {
        msg.data = safeJson(Buffer.from(value));
        if (msg.data === undefined) fail(`${where}: an event's data is not JSON: ${value.slice(0, 200)}`);
      } else fail(`${where}: unexpected SSE field '${field}'`);
    }
    if (!Object.keys(msg).length) continue;
    out.push(msg);
    eventsSeen[msg.event] = (eventsSeen[msg.event] || 0) + 1;
    if (msg.event === 'progress')
      for (const form of PROGRESS_FORMS) if (fits(form, msg.data)) progressForms[form] = (progressForms[form] || 0) + 1;
  }
  return out;
}

const expect = (r, want, what) => {
  if (![].concat(want).includes(r.status)) fail(`${what}: status ${r.status}, want ${want}: ${r.buf.toString().slice(0, 300)}`);
  return r;
};

function form(fields, file, name) {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, String(v));
  if (file) f.append('file', new Blob([file]), name);
  return f;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitJob(id, seconds) {
  for (let t = 0; t < seconds * 10; t++) {
    const j = await (await fetch(`${BASE}/api/jobs/${id}`)).json();
    if (['complete', 'failed', 'cancelled'].includes(j.status)) return j;
    await sleep(100);
  }
  return null;
}
async function waitRunning(id, seconds) {
  for (let t = 0; t < seconds * 10; t++) {
    const j = await (await fetch(`${BASE}/api/jobs/${id}`)).json();
    if (j.status !== 'queued') return j;
    await sleep(100);
  }
  return null;
}

// A finished job of each kind, checked three ways: GET /api/jobs/{id} against Job (which narrows
// `result` by kind), its result against the kind's own schema (closed: a field added without its
// schema fails, checked below by adding one), and its whole event stream against JobStreamEvent,
// whose "complete" data must be the same result.
const KIND_RESULT = { analyze: 'ResultAnalyze', preprocess: 'ResultPreprocess', convert_f5tts: 'ResultConvertF5tts',
  transcribe: 'ResultTranscribe', convert_rvc: 'ResultConvertRvc', train_rvc: 'ResultTrainRvc',
  models_pull: 'ResultModelsPull', sleep: 'ResultSleep' };
// Kinds whose success a test server cannot produce, and why (their failure streams are still checked).
const NO_RESULT = {};
const resultsSeen = {};
const jobEvents = new Map(); // job id → its stream's events (checkJob)
// (the job row prints numbers with 15 significant digits, the event log with 17)
const canonical = (v) => JSON.stringify(v, (k, x) => (typeof x === 'number' ? Number(x.toPrecision(12))
  : x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
const differingKeys = (a, b) => [...new Set([...Object.keys(a || {}), ...Object.keys(b || {})])]
  .filter((k) => canonical(a?.[k]) !== canonical(b?.[k])).join(', ') || '(no key: different types)';
async function checkJob(id, what, seconds = 120) {
  const end = await waitJob(id, seconds);
  if (!end) { fail(`${what}: job ${id} did not finish in ${seconds} s`); return null; }
  const j = expect(await call('GET /api/jobs/{job_id}', `/api/jobs/${id}`), 200, what).body;
  if (j.status === 'complete') {
    const name = KIND_RESULT[j.kind];
    if (!name) fail(`${what}: kind ${j.kind} has no result schema: add it to KIND_RESULT and src/server/schemas_jobs.c`);
    else if (!j.result) fail(`${what}: a complete job without a result`);
    else {
      const v = validator('components', 'schemas', name);
      if (!v(j.result)) fail(`${what}: the result does not fit ${name}: ${ajv.errorsText(v.errors)}\n    ${JSON.stringify(j.result).slice(0, 600)}`);
      else resultsSeen[j.kind] = (resultsSeen[j.kind] || 0) + 1;
      if (v({ ...j.result, undocumented_field: 1 })) fail(`${name} accepts an undocumented field (not closed)`);
    }
  }
  const st = expect(await call('GET /api/progress/{job_id}', `/api/progress/${id}`), 200, `${what}: its stream`);
  const events = parseSse(st.buf, `${what} stream`);
  jobEvents.set(id, events);
  if (events.at(-1)?.event !== 'close') fail(`${what}: the stream of a finished job does not end with close`);
  const complete = events.find((e) => e.event === 'complete');
  if (j.status === 'complete' && canonical(complete?.data) !== canonical(j.result))
    fail(`${what}: the complete event's data differs from the job's result in ${differingKeys(complete?.data, j.result)}:\n    ${canonical(complete?.data)}\n    ${canonical(j.result)}`);
  if (j.status !== 'complete' && !events.some((e) => e.event === 'error')) fail(`${what}: a ${j.status} job's stream has no error event`);
  return j;
}

const speech = readFileSync(`${AUDIO}/speech.wav`);
const reference = readFileSync(`${AUDIO}/reference.wav`);
const tone = readFileSync(`${AUDIO}/tone.wav`);
const GET = (k, url, o) => call(k, url, o);
const both = async (k, url) => { const r = await call(k, url); await call('HEAD ' + k.slice(4), url, { method: 'HEAD' }); return r; };

// ---- system and docs ----
await both('GET /api/health', '/api/health');
await both('GET /api/system', '/api/system');
await both('GET /api/openapi.json', '/api/openapi.json');
await both('GET /api/docs', '/api/docs');

// ---- "Download models": the rvc pack (HuBERT, RMVPE: the tiny golden ones) from run.sh's file
// server, by a real models_pull job; its stream's download progress (bytes, speed, ETA) checked
// against DownloadProgressData and against the files served. Conversion and training need them.
const pull = expect(await call('POST /api/weights/pull', '/api/weights/pull', { json: { pack: 'rvc' } }), 202, 'pull').body;
expect(await call('POST /api/weights/pull', '/api/weights/pull', { json: { pack: 'everything' }, invalid: true }), 400, 'pull of an unknown pack');
const pulled = await checkJob(pull?.job_id, 'weights pull', 120);
const PACK = [['hubert', 'hubert_base.pt'], ['rmvpe', 'rmvpe.pt']];
if (JSON.stringify(pulled?.result?.installed) !== JSON.stringify(PACK.map((f) => f.join('/'))))
  fail(`weights pull: installed ${JSON.stringify(pulled?.result?.installed)}, want both files of the rvc pack: ${JSON.stringify(pulled)?.slice(0, 400)}`);
const downloads = (jobEvents.get(pull?.job_id) || []).filter((e) => e.event === 'progress' && fits('DownloadProgressData', e.data));
for (const [i, [folder, file]] of PACK.entries()) {
  const served = readFileSync(`${process.env.VCS_MIRROR_DIR}/${file}`);
  let installed;
  try { installed = readFileSync(`${process.env.VCS_DATA}/weights/${folder}/${file}`); } catch { installed = null; }
  if (!installed?.equals(served)) fail(`weights pull: weights/${folder}/${file} is not the file served`);
  const mine = downloads.filter((e) => e.data.file === file).map((e) => e.data);
  if (!mine.length) { fail(`weights pull: no download progress event for ${file}`); continue; }
  for (const d of mine)
    if (d.file_index !== i + 1 || d.file_count !== PACK.length || d.bytes_total !== served.length || d.bytes_done > d.bytes_total
      || !(d.bytes_per_second >= 0)) fail(`weights pull: a download event of ${file} does not add up: ${JSON.stringify(d)}`);
  const last = mine.at(-1);
  if (last.bytes_done !== served.length || last.percent !== 100 * (i + 1) / PACK.length || last.eta_seconds !== 0 || !(last.bytes_per_second > 0))
    fail(`weights pull: the last download event of ${file} is not the whole file (${served.length} bytes) `
      + `at a speed with ETA 0: ${JSON.stringify(last)}`);
}

// ---- uploads: multipart, whole and chunked ----
const training = expect(await call('POST /api/upload/training-audio', '/api/upload/training-audio',
  { body: form({}, speech, 'speech.wav') }), 200, 'training upload').body;
const target = expect(await call('POST /api/upload/target-audio', '/api/upload/target-audio',
  { body: form({}, tone, 'tone.wav') }), 200, 'target upload').body;
const half = Math.ceil(reference.length / 2);
const first = expect(await call('POST /api/upload/reference-audio', '/api/upload/reference-audio',
  { body: form({ chunk_index: 0, total_chunks: 2 }, reference.subarray(0, half), 'ref.wav') }), 200, 'first chunk').body;
const refAudio = expect(await call('POST /api/upload/reference-audio', '/api/upload/reference-audio',
  { body: form({ chunk_index: 1, total_chunks: 2, file_id: first?.file_id }, reference.subarray(half), 'ref.wav') }), 200, 'last chunk').body;
expect(await call('POST /api/upload/target-audio', '/api/upload/target-audio',
  { body: form({}, Buffer.from('not audio at all'), 'fake.wav') }), 400, 'a text file as audio');
expect(await call('POST /api/upload/reference-audio', '/api/upload/reference-audio',
  { body: form({}, tone, 'tone.wav') }), 400, 'a 2 s reference (too short)');

// ---- tus ----
await call('OPTIONS /api/uploads', '/api/uploads', { method: 'OPTIONS' });
const TUS = { 'Tus-Resumable': '1.0.0' };
const meta = `filename ${Buffer.from('tone.wav').toString('base64')},purpose ${Buffer.from('target').toString('base64')}`;
const created = expect(await call('POST /api/uploads', '/api/uploads',
  { headers: { ...TUS, 'Upload-Length': String(tone.length), 'Upload-Metadata': meta } }), 201, 'tus create');
const tusPath = new URL(created.headers.get('location') || '/api/uploads/none', BASE).pathname;
expect(await call('POST /api/uploads', '/api/uploads', { headers: { 'Upload-Length': '10' } }), 412, 'tus without Tus-Resumable');
expect(await call('HEAD /api/uploads/{upload_id}', tusPath, { method: 'HEAD', headers: TUS }), 200, 'tus HEAD');
expect(await call('GET /api/uploads/{upload_id}', tusPath), 200, 'upload state');
expect(await call('PATCH /api/uploads/{upload_id}', tusPath, { body: tone.subarray(0, 10),
  headers: { ...TUS, 'Upload-Offset': '5', 'Content-Type': 'application/offset+octet-stream' } }), 409, 'tus PATCH at a wrong offset');
expect(await call('PATCH /api/uploads/{upload_id}', tusPath, { body: tone.subarray(0, 10),
  headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'text/plain' } }), 415, 'tus PATCH of another type');
expect(await call('PATCH /api/uploads/{upload_id}', tusPath, { body: tone,
  headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' } }), 204, 'tus PATCH');
expect(await call('GET /api/uploads/{upload_id}', tusPath), 200, 'finished upload state');
const created2 = await call('POST /api/uploads', '/api/uploads', { headers: { ...TUS, 'Upload-Length': '100', 'Upload-Metadata': meta } });
const tusPath2 = new URL(created2.headers.get('location') || '/api/uploads/none', BASE).pathname;
expect(await call('DELETE /api/uploads/{upload_id}', tusPath2, { headers: TUS }), 204, 'tus termination');
expect(await call('HEAD /api/uploads/{upload_id}', '/api/uploads/nosuchupload', { method: 'HEAD', headers: TUS }), 404, 'tus HEAD unknown');

// ---- audio ----
const aid = target?.file_id;
await both('GET /api/audio', '/api/audio');
expect(await call('GET /api/audio', '/api/audio?purpose=nonsense'), 400, 'audio list with a bad purpose');
await both('GET /api/audio/{audio_id}', `/api/audio/${aid}`);
expect(await call('GET /api/audio/{audio_id}', '/api/audio/nosuchaudio'), 404, 'unknown audio');
await both('GET /api/audio/{audio_id}/peaks', `/api/audio/${aid}/peaks?buckets=50`);
const full = await both('GET /api/download/{audio_id}', `/api/download/${aid}`);
expect(await call('GET /api/download/{audio_id}', `/api/download/${aid}`, { headers: { Range: 'bytes=0-9' } }), 206, 'a range');
expect(await call('GET /api/download/{audio_id}', `/api/download/${aid}`, { headers: { Range: `bytes=${full.buf.length + 10}-` } }), 416, 'a range past the end');
expect(await call('GET /api/download/{audio_id}', `/api/download/${aid}?format=mp3`), 200, 'mp3');
expect(await call('POST /api/analyze/quality', '/api/analyze/quality', { json: { audio_id: aid } }), 200, 'analysis of a stored file');
expect(await call('POST /api/analyze/quality', '/api/analyze/quality', { body: form({}, tone, 'tone.wav') }), 200, 'analysis of a sent file');

// ---- models ----
const voice = new FormData();
voice.append('name', 'Contract voice');
voice.append('file', new Blob([readFileSync(`${ROOT}/tests/models/rvc/fixtures/voice_v2_96.pth`)]), 'voice.pth');
voice.append('index', new Blob([readFileSync(`${ROOT}/tests/models/rvc/fixtures/voice_v2_96.index`)]), 'voice.index');
const model = expect(await call('POST /api/models/import', '/api/models/import', { body: voice }), 201, 'import').body;
const bad = new FormData();
bad.append('file', new Blob([readFileSync(`${ROOT}/tests/models/rvc/fixtures/not_a_voice.pth`)]), 'x.pth');
expect(await call('POST /api/models/import', '/api/models/import', { body: bad }), 400, 'import of a file that is no voice');
const mid = model?.model_id;
await both('GET /api/models', '/api/models');
await both('GET /api/models/{model_id}', `/api/models/${mid}`);
expect(await call('PATCH /api/models/{model_id}', `/api/models/${mid}`, { json: { name: 'Renamed voice' } }), 200, 'rename');
expect(await call('PATCH /api/models/{model_id}', `/api/models/${mid}`, { json: { name: 'x'.repeat(5000) }, invalid: true }), 413, 'a JSON body over its limit');
expect(await call('PATCH /api/models/{model_id}', `/api/models/${mid}`,
  { body: '{"name":"x"}', headers: { 'Content-Type': 'text/plain' } }), 415, 'JSON sent as text/plain');
expect(await call('PATCH /api/models/{model_id}', `/api/models/${mid}`,
  { body: '{"name":', headers: { 'Content-Type': 'application/json' } }), 400, 'malformed JSON');
await both('GET /api/models/{model_id}/export', `/api/models/${mid}/export`);

// ---- instant voices: a saved quick-clone reference ----
const saved = expect(await call('POST /api/voices', '/api/voices',
  { json: { name: 'Narrator', reference_audio_id: refAudio?.file_id, reference_text: 'Some call me nature.' } }), 201, 'save a voice').body;
const vid = saved?.voice_id;
expect(await call('POST /api/voices', '/api/voices', { json: { name: 'x', reference_audio_id: 'nosuchaudio' } }), 404, 'a voice of unknown audio');
expect(await call('POST /api/voices', '/api/voices', { json: { reference_audio_id: refAudio?.file_id }, invalid: true }), 400, 'a voice without a name');
await both('GET /api/voices', '/api/voices');
await both('GET /api/voices/{voice_id}', `/api/voices/${vid}`);
expect(await call('GET /api/voices/{voice_id}', '/api/voices/nosuchvoice'), 404, 'unknown voice');
expect(await call('PATCH /api/voices/{voice_id}', `/api/voices/${vid}`, { json: { name: 'Storyteller' } }), 200, 'rename a voice');
expect(await call('PATCH /api/voices/{voice_id}', `/api/voices/${vid}`, { json: {}, invalid: true }), 400, 'a voice edit that changes nothing');
expect(await call('DELETE /api/audio/{audio_id}', `/api/audio/${refAudio?.file_id}`), 409, 'deleting a saved voice\'s clip');

// ---- jobs ----
const sleepJob = expect(await call('POST /api/jobs', '/api/jobs', { json: { kind: 'sleep', params: { seconds: 0 } } }), 202, 'submit').body;
const jid = sleepJob?.job_id;
await waitJob(jid, 20);
await both('GET /api/jobs', '/api/jobs');
await both('GET /api/jobs/{job_id}', `/api/jobs/${jid}`);
await both('GET /api/status/{job_id}', `/api/status/${jid}`);
expect(await call('GET /api/jobs/{job_id}', '/api/jobs/nosuchjob'), 404, 'unknown job');
const stream = expect(await call('GET /api/progress/{job_id}', `/api/progress/${jid}`), 200, 'the stream of a finished job');
const lastId = [...stream.buf.toString().matchAll(/^id: (\d+)$/gm)].pop()?.[1] || '1';
for (const m of stream.buf.toString().matchAll(/^data: (.*)$/gm))
  if (safeJson(Buffer.from(m[1])) === undefined) fail(`progress stream: an event's data is not JSON: ${m[1].slice(0, 200)}`);
if (!/^event: close$/m.test(stream.buf.toString())) fail('progress stream of a finished job has no close event');
expect(await call('GET /api/progress/{job_id}', `/api/progress/${jid}`, { headers: { 'Last-Event-ID': lastId } }), 204, 'a stream past its end');
await call('HEAD /api/progress/{job_id}', `/api/progress/${jid}`, { method: 'HEAD', headers: { 'Last-Event-ID': lastId } });
expect(await call('DELETE /api/jobs/{job_id}', `/api/jobs/${jid}`), 409, 'cancelling a finished job');
const longJob = (await call('POST /api/jobs', '/api/jobs', { json: { kind: 'sleep', params: { seconds: 30, steps: 30 } } })).body;
expect(await call('DELETE /api/jobs/{job_id}', `/api/jobs/${longJob?.job_id}`), 200, 'cancel');
expect(await call('POST /api/jobs', '/api/jobs', { json: { kind: 'sleep', params: { seconds: 0 }, priority: 1 }, invalid: true }), 400, 'an unknown field');
const prep = expect(await call('POST /api/preprocess', '/api/preprocess', { json: { audio_id: aid, options: { normalize_volume: true } } }), 202, 'preprocess').body;
const analysis = expect(await call('POST /api/jobs', '/api/jobs', { json: { kind: 'analyze', params: { audio_id: aid } } }), 202, 'an analyze job').body;
const failing = expect(await call('POST /api/jobs', '/api/jobs', { json: { kind: 'sleep', params: { seconds: 0, fail: true } } }), 202, 'a job that fails').body;
const writer = expect(await call('POST /api/jobs', '/api/jobs', { json: { kind: 'sleep', params: { seconds: 0, output_bytes: 1000 } } }), 202, 'a job with an output').body;
expect(await call('POST /api/preprocess', '/api/preprocess', { json: { audio_id: 'nosuchaudio' } }), 404, 'preprocess of unknown audio');

// ---- conversion ----
const quick = expect(await call('POST /api/convert/f5tts', '/api/convert/f5tts',
  { json: { reference_audio_id: refAudio?.file_id, reference_text: 'Some call me nature.', text: 'Hello.', parameters: { nfe_step: 2 } } }),
  202, 'quick clone').body;
expect(await call('POST /api/convert/f5tts/estimate', '/api/convert/f5tts/estimate',
  { json: { reference_audio_id: refAudio?.file_id, reference_text: 'Some call me nature.', text: 'Hello.', parameters: { pitch_shift: 2 } } }),
  200, 'quick clone estimate');
expect(await call('POST /api/convert/f5tts/estimate', '/api/convert/f5tts/estimate',
  { json: { reference_audio_id: 'nosuchaudio', text: 'Hello.' } }), 404, 'estimate for an unknown sample');
expect(await call('POST /api/convert/f5tts', '/api/convert/f5tts',
  { json: { voice_id: vid, text: 'Hello again.', parameters: { nfe_step: 2 } } }), 202, 'quick clone with a saved voice');
expect(await call('POST /api/convert/f5tts/estimate', '/api/convert/f5tts/estimate', { json: { voice_id: vid, text: 'Hi.' } }),
  200, 'estimate with a saved voice');
expect(await call('POST /api/convert/f5tts', '/api/convert/f5tts',
  { json: { voice_id: vid, reference_audio_id: refAudio?.file_id, text: 'x' }, invalid: true }), 400, 'a saved voice and a sample at once');
expect(await call('POST /api/jobs', '/api/jobs',
  { json: { kind: 'convert_f5tts', params: { voice_id: vid, text: 'Through the jobs route.', parameters: { nfe_step: 2 } } } }),
  202, 'a quick clone job with a saved voice');
expect(await call('POST /api/jobs', '/api/jobs',
  { json: { kind: 'convert_f5tts', params: { voice_id: vid, reference_audio_id: refAudio?.file_id, text: 'x' } }, invalid: true }),
  400, 'a quick clone job with a saved voice and a sample at once');
const heard = expect(await call('POST /api/transcribe', '/api/transcribe', { json: { audio_id: refAudio?.file_id, purpose: 'reference' } }),
  202, 'transcription').body;
const heardTarget = expect(await call('POST /api/transcribe', '/api/transcribe', { json: { audio_id: training?.file_id, purpose: 'target' } }),
  202, 'transcription of a target').body;
expect(await call('POST /api/transcribe', '/api/transcribe', { json: { audio_id: refAudio?.file_id, purpose: 'lyrics' }, invalid: true }),
  400, 'an unknown purpose');
const batch = expect(await call('POST /api/convert/rvc', '/api/convert/rvc',
  { json: { model_id: mid, target_audio_ids: [aid], parameters: { pitch_shift: 0, clip_seconds: 1 } } }), 202, 'batch conversion').body;
expect(await call('POST /api/convert/rvc', '/api/convert/rvc', { json: { model_id: 'nosuchmodel', target_audio_id: aid } }), 404, 'unknown model');
const done = await checkJob(batch?.job_id, 'batch conversion');
if (done?.status !== 'complete') fail(`the batch conversion did not complete: ${JSON.stringify(done)?.slice(0, 400)}`);
for (const [j, what] of [[prep, 'preprocess'], [analysis, 'analyze'], [failing, 'failing sleep'], [writer, 'sleep with output'],
  [quick, 'quick clone'], [heard, 'transcription'], [heardTarget, 'target transcription'], [sleepJob, 'sleep'], [longJob, 'cancelled sleep']])
  await checkJob(j?.job_id, what);
await both('GET /api/jobs/{job_id}/outputs.zip', `/api/jobs/${batch?.job_id}/outputs.zip`);
// text mode: F5-TTS speaks the text in the reference's voice, the model converts it
const spoken = expect(await call('POST /api/convert/rvc', '/api/convert/rvc', { json: { model_id: mid, text: 'Hello.',
  reference_audio_id: refAudio?.file_id, reference_text: 'Some call me nature.', tts_parameters: { nfe_step: 2, seed: 1 } } }),
  202, 'text mode conversion').body;
expect(await call('POST /api/convert/rvc', '/api/convert/rvc', { json: { model_id: mid, text: 'Hello.' } }), 400,
  'text mode with an imported voice (no training audio) and no reference');
expect(await call('POST /api/convert/rvc', '/api/convert/rvc', { json: { model_id: mid, text: 'Hello.', reference_audio_id: refAudio?.file_id,
  tts_parameters: { steps: 2 } }, invalid: true }), 400, 'an unknown tts_parameters option');
const spokenDone = await waitJob(spoken?.job_id, 120);
if (spokenDone?.status !== 'complete') fail(`the text mode conversion did not complete: ${JSON.stringify(spokenDone)?.slice(0, 400)}`);
expect(await call('GET /api/jobs/{job_id}/outputs.zip', `/api/jobs/${jid}/outputs.zip`), [404, 409], 'outputs.zip of a job without outputs');

// ---- training ----
const train = expect(await call('POST /api/train', '/api/train', { json: {
  training_audio_ids: [training?.file_id], model_name: 'Contract trained', voice_consent: true,
  training_params: { model_size: 'tiny', batch_size: 2, epochs: 50 } } }), 202, 'training').body;
expect(await call('POST /api/train', '/api/train', { json: { training_audio_id: training?.file_id, model_name: 'x' }, invalid: true }), 400, 'training without consent');
// stopped after two steps, so the stream has its training_set report (given after the second)
for (let t = 0; t < 600; t++) {
  const j = await (await fetch(`${BASE}/api/jobs/${train?.job_id}`)).json();
  if (['complete', 'failed', 'cancelled'].includes(j.status)) break;
  const h = await (await fetch(`${BASE}/api/jobs/${train?.job_id}/loss_history`)).json();
  if (h.points?.length >= 2) break;
  await sleep(100);
}
expect(await call('POST /api/jobs/{job_id}/stop', `/api/jobs/${train?.job_id}/stop`), [202, 409], 'stop');
await checkJob(train?.job_id, 'training', 60);
await both('GET /api/jobs/{job_id}/loss_history', `/api/jobs/${train?.job_id}/loss_history`);
expect(await call('POST /api/jobs/{job_id}/stop', `/api/jobs/${jid}/stop`), [400, 409], 'stopping a job that is no training');

// ---- the guard: answers any route can give ----
const r405 = expect(await call('GET /api/jobs', '/api/jobs', { method: 'PUT' }), 405, 'an unknown method');
if (!/GET/.test(r405.headers.get('allow') || '')) fail(`405 Allow: ${r405.headers.get('allow')}`);
expect(await call('GET /api/health', '/api/health', { headers: { 'X-Padding': 'x'.repeat(20000) } }), 431, 'huge headers');
expect(await call('GET /api/health', '/api/health', { headers: { Host: 'evil.example' }, raw: true }), 421, 'a foreign Host');
expect(await call('POST /api/jobs', '/api/jobs', { json: { kind: 'sleep' }, headers: { Origin: 'http://evil.example' } }), 403, 'a foreign Origin');

// ---- deletions last ----
expect(await call('DELETE /api/voices/{voice_id}', `/api/voices/${vid}`), 200, 'voice delete');
expect(await call('DELETE /api/voices/{voice_id}', `/api/voices/${vid}`), 404, 'voice delete again');
expect(await call('DELETE /api/models/{model_id}', `/api/models/${mid}`), 200, 'model delete');
expect(await call('DELETE /api/models/{model_id}', `/api/models/${mid}`), 404, 'model delete again');
expect(await call('DELETE /api/audio/{audio_id}', `/api/audio/${training?.file_id}`), 200, 'audio delete');

// ---- with an API key: 401 without it ----
const key = execFileSync(process.env.VCS_BIN, ['keys', 'create', '--data', process.env.VCS_DATA]).toString().trim().split('\n').pop();
await sleep(1200); // the server re-reads the key count once a second
expect(await call('GET /api/jobs', '/api/jobs'), 401, 'no key');
expect(await call('GET /api/jobs', '/api/jobs', { headers: { Authorization: 'Bearer vcs_wrong' } }), 401, 'a wrong key');
expect(await call('GET /api/jobs', '/api/jobs', { headers: { Authorization: `Bearer ${key}` } }), 200, 'the key');
const pub = expect(await call('GET /api/system', '/api/system'), 200, 'public system info').body;
if (pub?.weights?.some((w) => w.path !== null)) fail('/api/system shows paths to a caller without a key');

// ---- coverage ----
for (const kind of Object.keys(KIND_RESULT))
  if (!resultsSeen[kind] && !NO_RESULT[kind]) fail(`no completed ${kind} job's result was validated`);
for (const ev of ['progress', 'training_set', 'complete', 'error', 'close'])
  if (!eventsSeen[ev]) fail(`no '${ev}' event was validated`);
for (const form of PROGRESS_FORMS)
  if (!progressForms[form]) fail(`no progress event whose data is a ${form} was validated`);
console.log(`contract: job results validated ${JSON.stringify(resultsSeen)}; events ${JSON.stringify(eventsSeen)}; `
  + `progress forms ${JSON.stringify(progressForms)}`);
let n = 0;
for (const [key, o] of ops) {
  n++;
  if (!o.seen.length) fail(`${key} (${o.op.operationId}) was never exercised: add a case to tests/contract/contract.mjs`);
  else if (!o.seen.some((s) => s.startsWith('2')) && !NO_SUCCESS[key]) fail(`${key}: no 2xx answer was seen (${o.seen.join(',')})`);
}
console.log(`contract: ${n} operations, ${[...ops.values()].reduce((a, o) => a + o.seen.length, 0)} answers checked, ${failures.length} failures`);
process.exit(failures.length ? 1 : 0);
