/*
 * /api/voices: instant voices, quick-clone reference clips saved under a name with their
 * transcript (store_voices.c) and reused by POST /api/convert/f5tts {voice_id} without uploading
 * again. The clip is the audio file the user already uploaded as a reference; saving copies
 * nothing.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "server/server.h"

#define VOICE_TEXT_MAX 2000 /* a transcript of a ≤ 30 s clip; F5-TTS uses ≤ 12 s of it */

json_t *server_voice_json(const store_voice *v)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b}", "voice_id", v->voice_id, "name", v->name, "kind",
                          "instant", "reference_audio_id", v->audio_id, "reference_text", v->reference_text,
                          "duration_seconds", server_json_number(v->duration_seconds), "created_at", v->created_at,
                          "audio_available", v->audio_present);
    return o;
}

/* name trimmed of surrounding spaces into out; -1 (r->err set) when empty, too long or not a string. */
static int clean_name(server_request *r, const json_t *j, char out[128])
{
    const char *name = json_string_value(j);
    size_t a = 0, n = name ? strlen(name) : 0;
    if (name) {
        while (a < n && isspace((unsigned char)name[a])) a++;
        while (n > a && isspace((unsigned char)name[n - 1])) n--;
    }
    if (!name || n == a || strlen(name) > 100)
        return server_fail(r, VC_ERR_INVALID_REQUEST, "name must be a string of 1 to 100 characters (not only spaces)");
    snprintf(out, 128, "%.*s", (int)(n - a), name + a);
    return 0;
}

static int check_text(server_request *r, const json_t *j)
{
    if (j && (!json_is_string(j) || strlen(json_string_value(j)) > VOICE_TEXT_MAX))
        return server_fail(r, VC_ERR_INVALID_REQUEST, "reference_text must be a string of at most %d bytes", VOICE_TEXT_MAX);
    return 0;
}

static int reply_voice(server_request *r, int status, const char *id)
{
    store_voice v;
    vc_error err;
    if (store_voice_get(r->app->store, r->user_id, id, &v, &err)) return server_fail(r, err.code, "%s", err.message);
    json_t *o = server_voice_json(&v);
    store_voice_free(&v);
    json_object_set_new(o, "status", json_string("success"));
    return server_reply_json(r, status, o);
}

/* POST /api/voices {name, reference_audio_id, reference_text?} */
static int handle_create(server_request *r)
{
    static const char *const FIELDS[] = {"name", "reference_audio_id", "reference_text", NULL};
    json_t *body;
    vc_error err;
    if (server_json_body(r, FIELDS, &body)) return -1;
    store_voice v = {0};
    const char *audio = json_string_value(json_object_get(body, "reference_audio_id"));
    int rc = clean_name(r, json_object_get(body, "name"), v.name) || check_text(r, json_object_get(body, "reference_text"));
    if (!rc && !audio) rc = server_fail(r, VC_ERR_INVALID_REQUEST, "reference_audio_id (string) is required");
    if (!rc && !store_id_valid(audio)) rc = server_fail(r, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", audio);
    if (!rc) {
        snprintf(v.user_id, sizeof v.user_id, "%s", r->user_id);
        snprintf(v.audio_id, sizeof v.audio_id, "%s", audio);
        v.reference_text = (char *)json_string_value(json_object_get(body, "reference_text")); /* borrowed */
        if (store_new_id("voice", v.voice_id, &err) || store_voice_insert(r->app->store, &v, &err))
            rc = server_fail(r, err.code, "%s", err.message);
    }
    json_decref(body);
    return rc ? -1 : reply_voice(r, 201, v.voice_id);
}

typedef struct list_ctx { json_t *list; } list_ctx;

static int append_voice(const store_voice *v, void *ctx)
{
    return json_array_append_new(((list_ctx *)ctx)->list, server_voice_json(v));
}

static int handle_list(server_request *r)
{
    list_ctx c = {json_array()};
    vc_error err;
    if (store_voice_list(r->app->store, r->user_id, append_voice, &c, &err)) {
        json_decref(c.list);
        return server_fail(r, err.code, "%s", err.message);
    }
    return server_reply_json(r, 200, json_pack("{s:s, s:o}", "status", "success", "voices", c.list));
}

static int handle_get(server_request *r)
{
    const char *id;
    if (server_param_id(r, 0, VC_ERR_MODEL_NOT_FOUND, &id)) return -1;
    return reply_voice(r, 200, id);
}

/* PATCH /api/voices/{id} {name?, reference_text?}: rename, or correct the transcript. */
static int handle_update(server_request *r)
{
    static const char *const FIELDS[] = {"name", "reference_text", NULL};
    const char *id;
    json_t *body;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_MODEL_NOT_FOUND, &id) || server_json_body(r, FIELDS, &body)) return -1;
    char name[128];
    const json_t *jn = json_object_get(body, "name"), *jt = json_object_get(body, "reference_text");
    int rc = 0;
    if (!jn && !jt) rc = server_fail(r, VC_ERR_INVALID_REQUEST, "give name and/or reference_text to change");
    if (!rc && jn) rc = clean_name(r, jn, name);
    if (!rc) rc = check_text(r, jt);
    if (!rc && store_voice_update(r->app->store, r->user_id, id, jn ? name : NULL, json_string_value(jt), &err))
        rc = server_fail(r, err.code, "%s", err.message);
    json_decref(body);
    return rc ? -1 : reply_voice(r, 200, id);
}

static int handle_delete(server_request *r)
{
    const char *id;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_MODEL_NOT_FOUND, &id)) return -1;
    if (store_voice_delete(r->app->store, r->user_id, id, &err)) return server_fail(r, err.code, "%s", err.message);
    return server_reply_json(r, 200, json_pack("{s:s, s:s, s:b}", "status", "success", "voice_id", id, "deleted", 1));
}

int server_voice_resolve(server_request *r, json_t *body)
{
    json_t *jv = json_object_get(body, "voice_id");
    if (!jv) return 0;
    const char *id = json_string_value(jv);
    if (json_object_get(body, "reference_audio_id"))
        return server_fail(r, VC_ERR_INVALID_REQUEST, "give voice_id or reference_audio_id, not both");
    if (!id) return server_fail(r, VC_ERR_INVALID_REQUEST, "voice_id must be a string");
    if (!store_id_valid(id)) return server_fail(r, VC_ERR_MODEL_NOT_FOUND, "voice %s not found", id);
    store_voice v;
    vc_error err;
    if (store_voice_get(r->app->store, r->user_id, id, &v, &err)) return server_fail(r, err.code, "%s", err.message);
    json_object_set_new(body, "reference_audio_id", json_string(v.audio_id));
    if (!json_object_get(body, "reference_text") && v.reference_text[0]) /* one given in the request wins */
        json_object_set_new(body, "reference_text", json_string(v.reference_text));
    store_voice_free(&v);
    json_object_del(body, "voice_id");
    return 0;
}

#define VOICE_SCHEMA SERVER_SCHEMA({"$ref": "#/components/schemas/Voice"})

const server_route SERVER_ROUTES_VOICES[] = {
    {.method = "POST", .pattern = "/api/voices", .handle = handle_create, .body = SERVER_BODY_BUFFER, .max_body = 16384,
     .tag = "voices", .request_type = "application/json",
     .summary = "Save a quick-clone reference clip as an instant voice {name, reference_audio_id, reference_text?}: reused "
                "by POST /api/convert/f5tts {voice_id} without uploading again (the clip is kept while the voice exists)",
     .responses = "201,400,401,404",
     .request_schema = SERVER_SCHEMA({"type": "object", "required": ["name", "reference_audio_id"], "additionalProperties": false,
                                      "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
                                                     "reference_audio_id": {"type": "string"},
                                                     "reference_text": {"type": "string", "maxLength": 2000}}}),
     .response_schema = VOICE_SCHEMA},
    {.method = "GET", .pattern = "/api/voices", .handle = handle_list, .tag = "voices",
     .summary = "List the user's instant voices, newest first", .responses = "200,401",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "voices"], "additionalProperties": false,
                                       "properties": {"status": {"const": "success"},
                                                      "voices": {"type": "array", "items": {"$ref": "#/components/schemas/Voice"}}}})},
    {.method = "GET", .pattern = "/api/voices/{voice_id}", .handle = handle_get, .tag = "voices",
     .summary = "One instant voice", .responses = "200,401,404", .response_schema = VOICE_SCHEMA},
    {.method = "PATCH", .pattern = "/api/voices/{voice_id}", .handle = handle_update, .body = SERVER_BODY_BUFFER,
     .max_body = 16384, .tag = "voices", .request_type = "application/json",
     .summary = "Rename an instant voice or correct its transcript {name?, reference_text?}: answers with the voice",
     .responses = "200,400,401,404",
     .request_schema = SERVER_SCHEMA({"type": "object", "minProperties": 1, "additionalProperties": false,
                                      "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
                                                     "reference_text": {"type": "string", "maxLength": 2000}}}),
     .response_schema = VOICE_SCHEMA},
    {.method = "DELETE", .pattern = "/api/voices/{voice_id}", .handle = handle_delete, .tag = "voices",
     .summary = "Delete an instant voice (its clip becomes an ordinary upload again)", .responses = "200,401,404",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "voice_id", "deleted"], "additionalProperties": false,
                                       "properties": {"status": {"const": "success"}, "voice_id": {"type": "string"},
                                                      "deleted": {"const": true}}})},
    {0},
};
