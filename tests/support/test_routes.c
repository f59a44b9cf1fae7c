#include "test_routes.h"

#include <string.h>

#include "server/server.h"

size_t test_routes_implicit_heads(void)
{
    size_t n = 0;
    for (size_t t = 0; SERVER_ROUTE_TABLES[t]; t++)
        for (const server_route *rt = SERVER_ROUTE_TABLES[t]; rt->method; rt++) {
            if (strcmp(rt->method, "GET")) continue;
            int has_head = 0;
            for (size_t u = 0; SERVER_ROUTE_TABLES[u]; u++)
                for (const server_route *q = SERVER_ROUTE_TABLES[u]; q->method; q++)
                    has_head |= !strcmp(q->method, "HEAD") && !strcmp(q->pattern, rt->pattern);
            n += !has_head;
        }
    return n;
}
