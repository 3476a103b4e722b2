/*
 * Vector kernels for the 16-bit floats (binary16 and bfloat16) on x86-64 with AVX2 and F16C,
 * chosen at run time (the build need not target the CPU). They compute exactly what the portable
 * Swift kernels compute (TorusCore, ElementOps.swift): widen to Float32, apply the op, round once
 * to nearest even; min/max with NaN winning and -0 below +0; any NaN result becomes the canonical
 * NaN (0x7E00 for binary16, 0x7FC0 for bfloat16). ReductionKernelTests compares the two paths.
 */
#ifndef TORUS_KERNELS_H
#define TORUS_KERNELS_H

#include <stddef.h>

/* Formats and ops, as the Swift side numbers them. */
enum { TORUS_HALF_BINARY16 = 0, TORUS_HALF_BFLOAT16 = 1 };
enum { TORUS_HALF_SUM = 0, TORUS_HALF_PROD = 1, TORUS_HALF_MIN = 2, TORUS_HALF_MAX = 3 };

/* Whether this CPU runs the vector kernels (AVX2 and F16C). */
int torus_half_vector_available(void);

/* dst[i] = a[i] op b[i] for i < count, elements of 2 bytes; dst may equal a or b. Processes the
 * largest multiple of 16 elements and returns how many it did: the caller finishes the rest. Does
 * nothing (returns 0) when the vector kernels are not available. */
size_t torus_half_combine(int format, int op, void *dst, const void *a, const void *b, size_t count);

/* dst = src, n bytes, not overlapping. Like memcpy, except where glibc's memcpy is slow: glibc 2.36
 * copies 2 KiB–512 KiB with `rep movsb`, which on AMD Zen (this project's EPYC VM; glibc bug 30994)
 * runs at 1.7–2.5 GB/s instead of 27–63 when (dst − src) mod 4096 is 1–31, and at up to half speed
 * when it is 32–63. There a loop of 32-byte loads and stores copies at 17–28 GB/s. Two buffers from
 * consecutive malloc calls of one size, a multiple of 4 KiB, lie exactly 16 bytes apart modulo 4096.
 * Outside that window, or above 4 MiB (memcpy no longer uses `rep movsb`), it is memcpy. */
void torus_copy(void *dst, const void *src, size_t n);

/* Whether torus_copy takes its loop for these arguments (for tests). */
int torus_copy_uses_loop(const void *dst, const void *src, size_t n);

enum { TORUS_COPY_LOOP_MIN_BYTES = 2048, TORUS_COPY_LOOP_MAX_BYTES = 4 << 20 };

#endif
