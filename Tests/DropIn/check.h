/*
 * The check macro of the drop-in's C test programs: counts checks, and on a failure counts it and
 * prints the rank and the message. The including file defines `rank`, `failures` and `checks`.
 */
#ifndef TORUS_TESTS_CHECK_H
#define TORUS_TESTS_CHECK_H

#include <stdio.h>

#define CHECK(condition, ...)                                                                                \
    do {                                                                                                     \
        checks++;                                                                                            \
        if (!(condition)) {                                                                                  \
            failures++;                                                                                      \
            fprintf(stderr, "rank %d: FAIL ", rank);                                                         \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fprintf(stderr, "\n");                                                                           \
        }                                                                                                    \
    } while (0)

#endif
