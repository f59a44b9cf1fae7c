/*
 * The jobs scheduler as a server module (see server_module in server.h): started after the store
 * opened (recovering interrupted jobs), quiesced before MHD stops so suspended SSE streams end and
 * running jobs are re-queued, stopped (threads joined) before the store closes.
 */
#include "jobs/jobs.h"
#include "server/server.h"

static int module_start(server_app *app, vc_error *err)
{
    jobs_config cfg;
    jobs_config_defaults(&cfg);
    jobs_config_from_env(&cfg);
    jobs *j = NULL;
    int rc = jobs_start(&j, app->store, &cfg, !app->config.no_workers, err);
    if (rc) {
        jobs_stop(j);
        return -1;
    }
    app->jobs = j;
    return 0;
}

static void module_quiesce(server_app *app) { jobs_quiesce(app->jobs); }

static void module_stop(server_app *app)
{
    jobs_stop(app->jobs);
    app->jobs = NULL;
}

const server_module JOBS_SERVER_MODULE = {"jobs", module_start, module_quiesce, module_stop};
