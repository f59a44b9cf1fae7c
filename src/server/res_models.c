/*
 * /api/models: the user's voice models (rows + data/models/{id}/ folders). Models are created by
 * training or import elsewhere; this resource lists, shows and deletes them.
 */
#include "server/server.h"

static json_t *model_json(const store_model *m)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o}", "model_id", m->model_id, "name", m->name,
                     "kind", m->kind, "created_at", m->created_at, "training_duration_minutes",
                     m->training_duration_minutes, "quality_grade", m->quality_grade, "final_loss",
                     server_json_number(m->final_loss), "training_audio_duration_seconds",
                     server_json_number(m->training_audio_duration_seconds), "file_size_mb",
                     server_json_number(m->file_size_mb));
}

static int append_model(const store_model *m, void *ctx)
{
    return json_array_append_new(ctx, model_json(m));
}

static int handle_list(server_request *r)
{
    json_t *list = json_array();
    vc_error err;
    if (store_model_list(r->app->store, r->user_id, append_model, list, &err)) {
        json_decref(list);
        return server_fail(r, err.code, "%s", err.message);
    }
    return server_reply_json(r, 200, json_pack("{s:s, s:o}", "status", "success", "models", list));
}

static int handle_get(server_request *r)
{
    const char *id;
    store_model m;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_MODEL_NOT_FOUND, &id)) return -1;
    if (store_model_get(r->app->store, r->user_id, id, &m, &err)) return server_fail(r, err.code, "%s", err.message);
    json_t *o = model_json(&m);
    json_object_set_new(o, "status", json_string("success"));
    return server_reply_json(r, 200, o);
}

static int handle_delete(server_request *r)
{
    const char *id;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_MODEL_NOT_FOUND, &id)) return -1;
    if (store_model_delete(r->app->store, r->user_id, id, &err)) return server_fail(r, err.code, "%s", err.message);
    return server_reply_json(r, 200, json_pack("{s:s, s:s, s:b}", "status", "success", "model_id", id, "deleted", 1));
}

const server_route SERVER_ROUTES_MODELS[] = {
    {.method = "GET", .pattern = "/api/models", .handle = handle_list, .tag = "models",
     .summary = "List the user's voice models", .responses = "200,401"},
    {.method = "GET", .pattern = "/api/models/{model_id}", .handle = handle_get, .tag = "models",
     .summary = "One model's details", .responses = "200,401,404"},
    {.method = "DELETE", .pattern = "/api/models/{model_id}", .handle = handle_delete, .tag = "models",
     .summary = "Delete a model: its row and its files", .responses = "200,401,404"},
    {0},
};
