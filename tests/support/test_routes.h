/*
 * Test support: facts about the server's route tables that tests compare the OpenAPI document with.
 */
#ifndef VC_TEST_ROUTES_H
#define VC_TEST_ROUTES_H

#include <stddef.h>

/* GET routes without a HEAD route of their own: the document lists a HEAD operation for each. */
size_t test_routes_implicit_heads(void);

#endif
