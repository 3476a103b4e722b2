/* Byte copies that avoid a slow case of glibc's memcpy (see include/torus_kernels.h). */
#include "torus_kernels.h"

#include <stdint.h>
#include <string.h>

/* 32 bytes, moved by value: the loop below is plain loads and stores. */
typedef struct { uint64_t w[4]; } torus_chunk32;

/* no_builtin keeps the compiler from turning the loop back into a call to memcpy. */
__attribute__((no_builtin("memcpy")))
static void copy_by_loop(unsigned char *d, const unsigned char *s, size_t n) {
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        torus_chunk32 a, b, c, e;
        __builtin_memcpy(&a, s + i, 32);
        __builtin_memcpy(&b, s + i + 32, 32);
        __builtin_memcpy(&c, s + i + 64, 32);
        __builtin_memcpy(&e, s + i + 96, 32);
        __builtin_memcpy(d + i, &a, 32);
        __builtin_memcpy(d + i + 32, &b, 32);
        __builtin_memcpy(d + i + 64, &c, 32);
        __builtin_memcpy(d + i + 96, &e, 32);
    }
    for (; i < n; i++) d[i] = s[i];
}

int torus_copy_uses_loop(const void *dst, const void *src, size_t n) {
    size_t distance = ((uintptr_t)dst - (uintptr_t)src) & 4095;
    return n >= TORUS_COPY_LOOP_MIN_BYTES && n <= TORUS_COPY_LOOP_MAX_BYTES && distance >= 1 && distance < 64;
}

void torus_copy(void *dst, const void *src, size_t n) {
    if (torus_copy_uses_loop(dst, src, n)) copy_by_loop(dst, src, n);
    else if (n > 0) memcpy(dst, src, n);
}
