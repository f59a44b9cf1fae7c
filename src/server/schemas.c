/*
 * JSON Schemas of the objects several routes answer with: components.schemas of /api/openapi.json.
 * Routes reference them as {"$ref":"#/components/schemas/NAME"}. Objects list every field and say
 * "additionalProperties": false, so a field added to an answer without its schema fails the
 * contract test (tests/contract) instead of going undocumented. The Error schema is built in
 * res_docs.c from the error codes themselves.
 */
#include "server/server.h"

const server_schema SERVER_SCHEMAS[] = {
    /* uploads.c upload_quality_json: every measure of audio_quality; NaN/∞ become null */
    {"QualityAnalysis", SERVER_SCHEMA({
        "type": "object",
        "required": ["duration_seconds", "sample_rate", "snr_db", "voice_activity_percent", "background_noise_level",
                     "noise_floor_dbfs", "clipping_percent", "loudness_lufs", "peak_dbfs", "quality_grade", "recommendation"],
        "additionalProperties": false,
        "properties": {
            "duration_seconds": {"type": ["number", "null"]},
            "sample_rate": {"type": "integer"},
            "snr_db": {"type": ["number", "null"]},
            "voice_activity_percent": {"type": ["number", "null"]},
            "background_noise_level": {"type": "string"},
            "noise_floor_dbfs": {"type": ["number", "null"]},
            "clipping_percent": {"type": ["number", "null"]},
            "loudness_lufs": {"type": ["number", "null"]},
            "peak_dbfs": {"type": ["number", "null"]},
            "quality_grade": {"type": "string"},
            "recommendation": {"type": "string"}
        }
    })},
    /* uploads.c upload_audio_json (+ status where a route answers with one file) */
    {"AudioFile", SERVER_SCHEMA({
        "type": "object",
        "required": ["file_id", "filename", "purpose", "format", "duration_seconds", "sample_rate", "channels",
                     "file_size_mb", "created_at", "quality_analysis", "warnings"],
        "properties": {
            "status": {"const": "success"},
            "file_id": {"type": "string"},
            "filename": {"type": "string"},
            "purpose": {"type": "string", "enum": ["training", "target", "reference", "output"]},
            "format": {"type": "string"},
            "duration_seconds": {"type": ["number", "null"]},
            "sample_rate": {"type": "integer"},
            "channels": {"type": "integer"},
            "file_size_mb": {"type": ["number", "null"]},
            "created_at": {"type": "string"},
            "quality_analysis": {"oneOf": [{"$ref": "#/components/schemas/QualityAnalysis"}, {"type": "null"}]},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "upload_complete": {"const": true, "description": "only in the answer to the last chunk of an upload"}
        },
        "additionalProperties": false
    })},
    /* res_models.c model_json + add_config_facts (+ status for one model) */
    {"Model", SERVER_SCHEMA({
        "type": "object",
        "required": ["model_id", "name", "kind", "created_at", "training_duration_minutes", "quality_grade", "final_loss",
                     "training_audio_duration_seconds", "file_size_mb", "version", "sample_rate", "f0", "has_index"],
        "properties": {
            "status": {"const": "success"},
            "model_id": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "created_at": {"type": "string"},
            "training_duration_minutes": {"type": "integer"},
            "quality_grade": {"type": "string"},
            "final_loss": {"type": ["number", "null"]},
            "training_audio_duration_seconds": {"type": ["number", "null"]},
            "file_size_mb": {"type": ["number", "null"]},
            "version": {"type": ["string", "null"], "description": "RVC v1 or v2"},
            "sample_rate": {"type": ["integer", "null"]},
            "f0": {"type": "boolean"},
            "has_index": {"type": "boolean"},
            "index_rows": {"type": "integer"},
            "phone_dim": {"type": "integer"},
            "speakers": {"type": "integer"},
            "source_file": {"type": "string"},
            "training": {"type": "object", "description": "provenance of a model trained here (consent, recipe)"}
        },
        "additionalProperties": false
    })},
    /* jobs_sched.c row_json: a job as GET /api/jobs/{id} shows it */
    {"Job", SERVER_SCHEMA({
        "type": "object",
        "required": ["job_id", "kind", "status", "phase", "progress", "lane", "queue_position", "eta_seconds",
                     "created_at", "attempts", "progress_stream_url", "subject"],
        "properties": {
            "job_id": {"type": "string"},
            "kind": {"type": "string"},
            "status": {"type": "string", "enum": ["queued", "running", "complete", "failed", "cancelled"]},
            "phase": {"type": "string"},
            "progress": {"type": "number"},
            "lane": {"type": "string"},
            "queue_position": {"type": "integer", "minimum": 0},
            "eta_seconds": {"type": ["number", "null"]},
            "created_at": {"type": "string"},
            "attempts": {"type": "integer"},
            "progress_stream_url": {"type": "string"},
            "result": {"$ref": "#/components/schemas/JobResult", "description": "once complete: the kind's result (narrowed by kind below)"},
            "error": {
                "type": "object", "required": ["error_code", "message"], "additionalProperties": false,
                "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}}
            },
            "worker": {"type": "string"},
            "duration_seconds": {"type": "number"},
            "started_ms": {"type": "integer"},
            "finished_ms": {"type": "integer"},
            "subject": {
                "type": "object", "additionalProperties": false,
                "description": "what the job works on, for lists people read (fields that cannot be found are left out)",
                "properties": {
                    "model_name": {"type": "string"}, "model_id": {"type": "string"}, "audio_id": {"type": "string"},
                    "file_name": {"type": "string"}, "file_count": {"type": "integer"}, "pack": {"type": "string"},
                    "text": {"type": "string"}
                }
            }
        },
        "additionalProperties": false,
        "allOf": [
            {"if": {"required": ["kind"], "properties": {"kind": {"const": "analyze"}}},
             "then": {"properties": {"result": {"$ref": "#/components/schemas/ResultAnalyze"}}}},
            {"if": {"required": ["kind"], "properties": {"kind": {"const": "preprocess"}}},
             "then": {"properties": {"result": {"$ref": "#/components/schemas/ResultPreprocess"}}}},
            {"if": {"required": ["kind"], "properties": {"kind": {"const": "convert_f5tts"}}},
             "then": {"properties": {"result": {"$ref": "#/components/schemas/ResultConvertF5tts"}}}},
            {"if": {"required": ["kind"], "properties": {"kind": {"const": "transcribe"}}},
             "then": {"properties": {"result": {"$ref": "#/components/schemas/ResultTranscribe"}}}},
            {"if": {"required": ["kind"], "properties": {"kind": {"const": "convert_rvc"}}},
             "then": {"properties": {"result": {"$ref": "#/components/schemas/ResultConvertRvc"}}}},
            {"if": {"required": ["kind"], "properties": {"kind": {"const": "train_rvc"}}},
             "then": {"properties": {"result": {"$ref": "#/components/schemas/ResultTrainRvc"}}}},
            {"if": {"required": ["kind"], "properties": {"kind": {"const": "models_pull"}}},
             "then": {"properties": {"result": {"$ref": "#/components/schemas/ResultModelsPull"}}}},
            {"if": {"required": ["kind"], "properties": {"kind": {"const": "sleep"}}},
             "then": {"properties": {"result": {"$ref": "#/components/schemas/ResultSleep"}}}}
        ]
    })},
    /* res_jobs.c start_conversion: the brief's "conversion_started" */
    {"ConversionStarted", SERVER_SCHEMA({
        "type": "object",
        "required": ["status", "job_id", "queue_position", "estimated_duration_seconds", "progress_stream_url"],
        "additionalProperties": false,
        "properties": {
            "status": {"const": "conversion_started"},
            "job_id": {"type": "string"},
            "queue_position": {"type": "integer"},
            "estimated_duration_seconds": {"type": ["number", "null"]},
            "progress_stream_url": {"type": "string"}
        }
    })},
    /* res_voices.c server_voice_json: an instant voice (a saved quick-clone reference) */
    {"Voice", SERVER_SCHEMA({
        "type": "object",
        "required": ["voice_id", "name", "kind", "reference_audio_id", "reference_text", "duration_seconds", "created_at",
                     "audio_available"],
        "additionalProperties": false,
        "properties": {
            "status": {"const": "success"},
            "voice_id": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"const": "instant"},
            "reference_audio_id": {"type": "string", "description": "the clip; play it with GET /api/audio/{id}"},
            "reference_text": {"type": "string", "description": "what the clip says; empty = transcribed at each use"},
            "duration_seconds": {"type": ["number", "null"]},
            "created_at": {"type": "string"},
            "audio_available": {"type": "boolean"}
        }
    })},
    /* res_jobs.c: the quick clone's body, shared by POST /api/convert/f5tts, its estimate and
     * POST /api/jobs {kind: convert_f5tts, params} (voice_id is resolved by server_voice_resolve) */
    {"F5Request", SERVER_SCHEMA({
        "type": "object", "additionalProperties": false,
        "oneOf": [{"required": ["reference_audio_id"]}, {"required": ["voice_id"]}],
        "properties": {
            "reference_audio_id": {"type": "string"}, "reference_text": {"type": "string"},
            "voice_id": {"type": "string", "description": "a saved instant voice instead of reference_audio_id (its transcript is used unless reference_text is given)"},
            "text": {"type": "string", "maxLength": 5000}, "target_audio_id": {"type": "string"},
            "target_segments": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["start", "end", "text"],
                "properties": {"start": {"type": "number", "minimum": 0},
                               "end": {"type": "number", "minimum": 0},
                               "text": {"type": "string"}}}},
            "parameters": {"type": "object", "additionalProperties": false, "properties": {
                "speed": {"type": "number", "minimum": 0.3, "maximum": 3},
                "pitch_shift": {"type": "number", "minimum": -12, "maximum": 12},
                "nfe_step": {"type": "integer", "minimum": 1, "maximum": 64},
                "seed": {"type": "integer"}, "remove_silence": {"type": "boolean"}}}
        }
    })},
    {0},
};
