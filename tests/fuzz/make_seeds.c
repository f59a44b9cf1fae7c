/* Writes every generated hostile file (tests/support/hostile.c) into the folder given: the
 * fuzzers' seeds. Usage: make_seeds DIR */
#include <stdio.h>

#include "support/hostile.h"

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: make_seeds DIR\n"); return 2; }
    return hostile_write_all(argv[1]) == 0 ? 0 : 1;
}
