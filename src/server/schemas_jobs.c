/*
 * JSON Schemas of what jobs produce: the `result` of each job kind (GET /api/jobs/{id} and the
 * "complete" event) and the `data` of each Server-Sent Event of GET /api/progress/{id}. They join
 * components.schemas of /api/openapi.json next to SERVER_SCHEMAS (schemas.c).
 *
 * Each object lists every field its writer sets (the file named above it) and is closed, so a
 * field a kind starts to report without its schema here fails the contract test (tests/contract),
 * which validates real results and real streams of every kind against these. The per-kind
 * results differ in their required fields, so JobResult's oneOf picks exactly one; the Job
 * schema (schemas.c) narrows it further by `kind`.
 */
#include "server/server.h"

const server_schema SERVER_JOB_SCHEMAS[] = {
    /* jobs_kinds.c analyze_run */
    {"ResultAnalyze", SERVER_SCHEMA({
        "type": "object", "description": "kind analyze",
        "required": ["job_id", "audio_id", "quality_analysis"], "additionalProperties": false,
        "properties": {
            "job_id": {"type": "string"},
            "audio_id": {"type": "string"},
            "quality_analysis": {"$ref": "#/components/schemas/QualityAnalysis"}
        }
    })},
    /* jobs_kinds.c preprocess_run + jobs_store_audio_output */
    {"ResultPreprocess", SERVER_SCHEMA({
        "type": "object", "description": "kind preprocess: the cleaned copy, stored as a new file of the input's purpose",
        "required": ["job_id", "input_audio_id", "output_audio_id", "download_url", "duration_seconds", "quality_analysis"],
        "additionalProperties": false,
        "properties": {
            "job_id": {"type": "string"},
            "input_audio_id": {"type": "string"},
            "output_audio_id": {"type": "string"},
            "download_url": {"type": "string"},
            "duration_seconds": {"type": "number"},
            "quality_analysis": {"$ref": "#/components/schemas/QualityAnalysis"}
        }
    })},
    /* jobs_f5_asr.c f5_asr_segments_json: one recognised stretch of speech, in seconds */
    {"TranscriptSegment", SERVER_SCHEMA({
        "type": "object", "required": ["start", "end", "text"], "additionalProperties": false,
        "properties": {"start": {"type": "number"}, "end": {"type": "number"}, "text": {"type": "string"}}
    })},
    /* jobs_kinds.c f5_run + jobs_store_audio_output */
    {"ResultConvertF5tts", SERVER_SCHEMA({
        "type": "object",
        "description": "kind convert_f5tts (quick clone): the speech made, and the texts used (transcribed when not given)",
        "required": ["job_id", "processing_time_seconds", "reference_text", "text", "output_audio_id", "download_url",
                     "duration_seconds", "quality_analysis"],
        "additionalProperties": false,
        "properties": {
            "job_id": {"type": "string"},
            "processing_time_seconds": {"type": "number"},
            "reference_text": {"type": "string"},
            "text": {"type": "string"},
            "target_segments": {"type": "array", "items": {"$ref": "#/components/schemas/TranscriptSegment"},
                                "description": "speech to speech only: the target's segments, each spoken within its time span"},
            "output_audio_id": {"type": "string"},
            "download_url": {"type": "string"},
            "duration_seconds": {"type": "number"},
            "quality_analysis": {"$ref": "#/components/schemas/QualityAnalysis"}
        }
    })},
    /* jobs_f5_asr.c transcribe_audio: a voice sample (as the quick clone clips it) or a target */
    {"ResultTranscribe", SERVER_SCHEMA({
        "description": "kind transcribe",
        "oneOf": [
            {"type": "object", "required": ["job_id", "audio_id", "purpose", "text", "clip_seconds", "segments"],
             "additionalProperties": false,
             "properties": {
                 "job_id": {"type": "string"}, "audio_id": {"type": "string"}, "purpose": {"const": "reference"},
                 "text": {"type": "string"},
                 "clip_seconds": {"type": "number", "description": "the part of the sample the quick clone uses"},
                 "segments": {"type": "array", "items": {"$ref": "#/components/schemas/TranscriptSegment"}}
             }},
            {"type": "object", "required": ["job_id", "audio_id", "purpose", "text", "duration_seconds", "segments"],
             "additionalProperties": false,
             "properties": {
                 "job_id": {"type": "string"}, "audio_id": {"type": "string"}, "purpose": {"const": "target"},
                 "text": {"type": "string"}, "duration_seconds": {"type": "number"},
                 "segments": {"type": "array", "items": {"$ref": "#/components/schemas/TranscriptSegment"}}
             }}
        ]
    })},
    /* jobs_kind_rvc.c convert_one: one converted file of a batch */
    {"ConvertedFile", SERVER_SCHEMA({
        "type": "object",
        "required": ["input_audio_id", "input_filename", "sample_rate", "filename", "output_audio_id", "download_url",
                     "duration_seconds", "quality_analysis"],
        "additionalProperties": false,
        "properties": {
            "input_audio_id": {"type": "string"},
            "input_filename": {"type": "string"},
            "sample_rate": {"type": "integer"},
            "filename": {"type": "string"},
            "output_audio_id": {"type": "string"},
            "download_url": {"type": "string"},
            "duration_seconds": {"type": "number"},
            "quality_analysis": {"$ref": "#/components/schemas/QualityAnalysis"}
        }
    })},
    /* jobs_kind_rvc.c rvc_run */
    {"ResultConvertRvc", SERVER_SCHEMA({
        "type": "object",
        "description": "kind convert_rvc: the first (or only) file at the top level; a batch adds every file and the zip; text mode (jobs_rvc_text.c) has no input_audio_id but the text spoken and the reference used",
        "required": ["job_id", "model_id", "sample_rate", "processing_time_seconds", "output_audio_id",
                     "download_url", "duration_seconds", "quality_analysis"],
        "additionalProperties": false,
        "properties": {
            "job_id": {"type": "string"},
            "model_id": {"type": "string"},
            "input_audio_id": {"type": "string"},
            "sample_rate": {"type": "integer"},
            "processing_time_seconds": {"type": "number"},
            "output_audio_id": {"type": "string"},
            "download_url": {"type": "string"},
            "duration_seconds": {"type": "number"},
            "quality_analysis": {"$ref": "#/components/schemas/QualityAnalysis"},
            "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/ConvertedFile"}},
            "download_zip_url": {"type": "string"},
            "text": {"type": "string", "description": "text mode: what F5-TTS spoke before the conversion"},
            "reference_text": {"type": "string", "description": "text mode: the reference clip's transcript (given or transcribed)"},
            "reference_audio_id": {"type": "string"},
            "reference_source": {"type": "string", "enum": ["request", "training_audio"]},
            "reference_start_seconds": {"type": "number", "description": "text mode, reference_source training_audio: where in reference_audio_id the reference window (the best 3-12 s between pauses) starts"},
            "reference_end_seconds": {"type": "number", "description": "text mode, reference_source training_audio: where that window ends"},
            "speech_seconds": {"type": "number", "description": "text mode: length of the spoken text before conversion"}
        }
    })},
    /* jobs_kind_train.c report_json: the training-set report (also the "training_set" event) */
    {"TrainingSetReport", SERVER_SCHEMA({
        "type": "object",
        "description": "measured before training starts: speech after slicing, pieces, and one real step timed",
        "required": ["speech_seconds", "pieces", "steps_per_epoch", "epochs", "epochs_chosen", "step_seconds", "epoch_seconds",
                     "remaining_seconds"],
        "additionalProperties": false,
        "properties": {
            "speech_seconds": {"type": "number"},
            "pieces": {"type": "integer"},
            "steps_per_epoch": {"type": "integer"},
            "epochs": {"type": "integer", "description": "the epochs this run trains"},
            "epochs_chosen": {"type": "boolean", "description": "true: no epochs were given, so they were chosen from step_seconds (docs/RVC.md Defaults)"},
            "step_seconds": {"type": "number", "description": "the measured time of one training step"},
            "epoch_seconds": {"type": "number"},
            "remaining_seconds": {"type": "number"}
        }
    })},
    /* jobs_kind_train.c train_run (a finished run) and already_done (a run found finished after a restart) */
    {"ResultTrainRvc", SERVER_SCHEMA({
        "description": "kind train_rvc: the model added to the library",
        "oneOf": [
            {"type": "object",
             "required": ["job_id", "model_id", "model_name", "final_loss", "loss_gen_all", "quality_grade", "steps", "epochs",
                          "stopped_early", "training_minutes", "speech_seconds", "epochs_planned", "training_audio_ids"],
             "additionalProperties": false,
             "properties": {
                 "job_id": {"type": "string"}, "model_id": {"type": "string"}, "model_name": {"type": "string"},
                 "final_loss": {"type": "number", "description": "the last mel loss"},
                 "loss_gen_all": {"type": "number"},
                 "quality_grade": {"type": "string"},
                 "steps": {"type": "integer"},
                 "epochs": {"type": "integer", "description": "epochs done"},
                 "stopped_early": {"type": "boolean", "description": "stopped by request (POST /api/jobs/{id}/stop)"},
                 "training_minutes": {"type": "number"},
                 "speech_seconds": {"type": "number"},
                 "epochs_planned": {"type": ["integer", "null"], "description": "as requested, or the default chosen from the measured step"},
                 "training_audio_ids": {"type": "array", "items": {"type": "string"}},
                 "training_set": {"$ref": "#/components/schemas/TrainingSetReport"}
             }},
            {"type": "object", "required": ["job_id", "model_id", "model_name", "final_loss", "quality_grade", "recovered"],
             "additionalProperties": false,
             "description": "the model was already stored when a restart re-ran the job",
             "properties": {
                 "job_id": {"type": "string"}, "model_id": {"type": "string"}, "model_name": {"type": "string"},
                 "final_loss": {"type": "number"}, "quality_grade": {"type": "string"}, "recovered": {"const": true}
             }}
        ]
    })},
    /* jobs_kind_pull.c pull_run_job: weights files as folder/file */
    {"ResultModelsPull", SERVER_SCHEMA({
        "type": "object", "description": "kind models_pull",
        "required": ["job_id", "pack", "installed", "skipped"], "additionalProperties": false,
        "properties": {
            "job_id": {"type": "string"}, "pack": {"type": "string"},
            "installed": {"type": "array", "items": {"type": "string"}},
            "skipped": {"type": "array", "items": {"type": "string"}, "description": "already installed and checked"}
        }
    })},
    /* jobs_kinds.c sleep_run / sleep_write_output (VCS_JOBS_TEST_KINDS=1 only) */
    {"ResultSleep", SERVER_SCHEMA({
        "description": "kind sleep (test kind)",
        "oneOf": [
            {"type": "object", "required": ["job_id", "steps"], "additionalProperties": false,
             "properties": {"job_id": {"type": "string"}, "steps": {"type": "integer"}, "resumed_from": {"type": "integer"}}},
            {"type": "object", "required": ["job_id", "output_id", "output_bytes"], "additionalProperties": false,
             "properties": {"job_id": {"type": "string"}, "output_id": {"type": "string"}, "output_bytes": {"type": "integer"}}}
        ]
    })},
    {"JobResult", SERVER_SCHEMA({
        "description": "a completed job's result; which one follows from the job's kind (Job narrows it by kind)",
        "oneOf": [
            {"$ref": "#/components/schemas/ResultAnalyze"}, {"$ref": "#/components/schemas/ResultPreprocess"},
            {"$ref": "#/components/schemas/ResultConvertF5tts"}, {"$ref": "#/components/schemas/ResultTranscribe"},
            {"$ref": "#/components/schemas/ResultConvertRvc"}, {"$ref": "#/components/schemas/ResultTrainRvc"},
            {"$ref": "#/components/schemas/ResultModelsPull"}, {"$ref": "#/components/schemas/ResultSleep"}
        ]
    })},

    /* ---- Server-Sent Events (res_jobs.c progress): one message is id, event and data ---- */

    /* jobs_sched.c job_progress (+ queue_position on submit, attempt on start), f5_progress_emit
     * (eta_seconds), sleep_progress (t_ns) */
    {"ProgressData", SERVER_SCHEMA({
        "type": "object", "description": "a phase and how far the job is",
        "required": ["percent", "phase", "message"], "additionalProperties": false,
        "properties": {
            "percent": {"type": "number", "minimum": 0, "maximum": 100},
            "phase": {"type": "string", "description": "queued, starting, decoding, preprocessing, feature extraction, training, saving, ..."},
            "message": {"type": "string"},
            "queue_position": {"type": "integer", "description": "queued and starting events"},
            "attempt": {"type": "integer", "description": "starting event: 1, or more after a restart"},
            "eta_seconds": {"type": "number", "description": "quick clone and transcription"},
            "t_ns": {"type": "integer", "description": "sleep test kind: the wall clock when written"}
        }
    })},
    /* jobs_kind_pull.c on_bytes */
    {"DownloadProgressData", SERVER_SCHEMA({
        "type": "object", "description": "models_pull: bytes of the file being downloaded",
        "required": ["percent", "phase", "message", "file", "bytes_done", "bytes_total", "bytes_per_second", "file_index",
                     "file_count"],
        "additionalProperties": false,
        "properties": {
            "percent": {"type": "number"}, "phase": {"const": "downloading"}, "message": {"type": "string"},
            "file": {"type": "string"}, "bytes_done": {"type": "number"},
            "bytes_total": {"type": "number", "description": "0 when the server did not say"},
            "bytes_per_second": {"type": "number"}, "file_index": {"type": "integer"}, "file_count": {"type": "integer"},
            "eta_seconds": {"type": "number"}
        }
    })},
    /* jobs_kind_train.c on_step: one per training step */
    {"TrainingStepData", SERVER_SCHEMA({
        "type": "object", "description": "train_rvc: one training step and its losses",
        "required": ["step", "total_steps", "loss", "loss_mel", "loss_disc", "loss_kl", "loss_fm", "epoch", "epochs", "phase",
                     "eta_seconds", "percent"],
        "additionalProperties": false,
        "properties": {
            "step": {"type": "integer"}, "total_steps": {"type": "integer"},
            "loss": {"type": "number", "description": "the generator's total loss"},
            "loss_mel": {"type": "number"}, "loss_disc": {"type": "number"}, "loss_kl": {"type": "number"},
            "loss_fm": {"type": "number"}, "epoch": {"type": "integer"}, "epochs": {"type": "integer"},
            "phase": {"const": "training"}, "eta_seconds": {"type": "number"}, "percent": {"type": "number"}
        }
    })},
    /* jobs_sched.c error_payload: failed, cancelled (error_code CANCELLED) or given up after restarts */
    {"JobErrorData", SERVER_SCHEMA({
        "type": "object", "required": ["job_id", "error_code", "message", "user_message"], "additionalProperties": false,
        "properties": {
            "job_id": {"type": "string"},
            "error_code": {"type": "string", "description": "CANCELLED when the job was cancelled"},
            "message": {"type": "string"}, "user_message": {"type": "string"}
        }
    })},
    {"SseProgress", SERVER_SCHEMA({
        "type": "object", "required": ["id", "event", "data"], "additionalProperties": false,
        "properties": {
            "id": {"type": "integer", "minimum": 1}, "event": {"const": "progress"},
            "data": {"oneOf": [{"$ref": "#/components/schemas/ProgressData"}, {"$ref": "#/components/schemas/DownloadProgressData"},
                               {"$ref": "#/components/schemas/TrainingStepData"}]}
        }
    })},
    {"SseTrainingSet", SERVER_SCHEMA({
        "type": "object", "required": ["id", "event", "data"], "additionalProperties": false,
        "description": "train_rvc, once the set is prepared and one step was timed, before training starts",
        "properties": {"id": {"type": "integer", "minimum": 1}, "event": {"const": "training_set"},
                       "data": {"$ref": "#/components/schemas/TrainingSetReport"}}
    })},
    {"SseComplete", SERVER_SCHEMA({
        "type": "object", "required": ["id", "event", "data"], "additionalProperties": false,
        "description": "the job completed; data is its result (as in GET /api/jobs/{id})",
        "properties": {"id": {"type": "integer", "minimum": 1}, "event": {"const": "complete"},
                       "data": {"$ref": "#/components/schemas/JobResult"}}
    })},
    {"SseError", SERVER_SCHEMA({
        "type": "object", "required": ["id", "event", "data"], "additionalProperties": false,
        "description": "the job failed or was cancelled",
        "properties": {"id": {"type": "integer", "minimum": 1}, "event": {"const": "error"},
                       "data": {"$ref": "#/components/schemas/JobErrorData"}}
    })},
    {"SseClose", SERVER_SCHEMA({
        "type": "object", "required": ["id", "event", "data"], "additionalProperties": false,
        "description": "the last message of a finished job's stream, after complete or error",
        "properties": {"id": {"type": "integer", "minimum": 1}, "event": {"const": "close"},
                       "data": {"type": "object", "maxProperties": 0}}
    })},
    {"JobStreamEvent", SERVER_SCHEMA({
        "description": "one message of GET /api/progress/{job_id}: its id: and event: lines, and its data: line parsed as JSON",
        "oneOf": [
            {"$ref": "#/components/schemas/SseProgress"}, {"$ref": "#/components/schemas/SseTrainingSet"},
            {"$ref": "#/components/schemas/SseComplete"}, {"$ref": "#/components/schemas/SseError"},
            {"$ref": "#/components/schemas/SseClose"}
        ],
        "discriminator": {
            "propertyName": "event",
            "mapping": {
                "progress": "#/components/schemas/SseProgress", "training_set": "#/components/schemas/SseTrainingSet",
                "complete": "#/components/schemas/SseComplete", "error": "#/components/schemas/SseError",
                "close": "#/components/schemas/SseClose"
            }
        }
    })},
    {0},
};
