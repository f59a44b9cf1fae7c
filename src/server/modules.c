/*
 * Modules that start and stop with the server (see server_module in server.h). Empty until the
 * jobs module lands; it adds e.g. `&JOBS_SERVER_MODULE,` below.
 */
#include "server/server.h"

const server_module *const SERVER_MODULES[] = {
    &JOBS_SERVER_MODULE,
    &RETENTION_SERVER_MODULE,
    NULL,
};
