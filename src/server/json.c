/*
 * Small JSON helpers shared by resources.
 */
#include <math.h>

#include "server/server.h"

json_t *server_json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}
