/* AVX2 + F16C kernels for binary16 and bfloat16 (see include/torus_kernels.h). */
#include "torus_kernels.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,f16c,fma")))

int torus_half_vector_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}

/* Whether any lane of f is NaN: rare, so the canonicalisation below is a predicted branch. */
TARGET static inline __m256 nan_lanes(__m256 f, int *any) {
    __m256 nan = _mm256_cmp_ps(f, f, _CMP_UNORD_Q);
    *any = _mm256_movemask_ps(nan);
    return nan;
}

/* Sixteen Float32 (two vectors, in order) → sixteen binary16, round to nearest even, NaN → 0x7E00. */
TARGET static inline __m256i narrow_f16(__m256 f0, __m256 f1) {
    int any0, any1;
    __m256 nan0 = nan_lanes(f0, &any0), nan1 = nan_lanes(f1, &any1);
    __m128i h0 = _mm256_cvtps_ph(f0, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i h1 = _mm256_cvtps_ph(f1, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i h = _mm256_set_m128i(h1, h0);
    if (__builtin_expect(any0 | any1, 0)) {
        __m256i mask = _mm256_permute4x64_epi64(_mm256_packs_epi32(_mm256_castps_si256(nan0), _mm256_castps_si256(nan1)), 0xD8);
        h = _mm256_blendv_epi8(h, _mm256_set1_epi16(0x7E00), mask);
    }
    return h;
}

/* Two vectors of Float32 in the interleaved order of the bfloat16 loop → sixteen bfloat16: add
 * 0x7FFF plus the lowest kept bit (round to nearest even), keep the top half; NaN → 0x7FC0. */
TARGET static inline __m256i narrow_bf16(__m256 f0, __m256 f1) {
    int any0, any1;
    __m256 nan0 = nan_lanes(f0, &any0), nan1 = nan_lanes(f1, &any1);
    const __m256i one = _mm256_set1_epi32(1), half = _mm256_set1_epi32(0x7FFF);
    __m256i b0 = _mm256_castps_si256(f0), b1 = _mm256_castps_si256(f1);
    __m256i r0 = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(b0, half), _mm256_and_si256(_mm256_srli_epi32(b0, 16), one)), 16);
    __m256i r1 = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(b1, half), _mm256_and_si256(_mm256_srli_epi32(b1, 16), one)), 16);
    if (__builtin_expect(any0 | any1, 0)) {
        r0 = _mm256_blendv_epi8(r0, _mm256_set1_epi32(0x7FC0), _mm256_castps_si256(nan0));
        r1 = _mm256_blendv_epi8(r1, _mm256_set1_epi32(0x7FC0), _mm256_castps_si256(nan1));
    }
    return _mm256_packus_epi32(r0, r1);   /* values < 2^16; per 128-bit lane: r0's four, then r1's four */
}

/* min and max without converting: for 16-bit floats, flipping the magnitude bits of negative
 * values (v ^ 0x7FFF where the sign is set) gives keys whose signed order is the float order, with
 * -0 (key -1) below +0 (key 0); the smaller or larger key's original bits are the result, exactly
 * what widening, comparing and narrowing gives. A NaN in either operand (magnitude above the
 * infinity's) gives the canonical NaN, as the portable loop does. `is_max` picks max; `nan_above`
 * is 0x7C00 (binary16) or 0x7F80 (bfloat16), `canonical` 0x7E00 or 0x7FC0. */
TARGET static inline __m256i order16(__m256i x, __m256i y, int is_max, __m256i nan_above, __m256i canonical) {
    const __m256i magnitude = _mm256_set1_epi16(0x7FFF);
    __m256i kx = _mm256_xor_si256(x, _mm256_and_si256(_mm256_srai_epi16(x, 15), magnitude));
    __m256i ky = _mm256_xor_si256(y, _mm256_and_si256(_mm256_srai_epi16(y, 15), magnitude));
    __m256i take_y = is_max ? _mm256_cmpgt_epi16(ky, kx) : _mm256_cmpgt_epi16(kx, ky);
    __m256i r = _mm256_blendv_epi8(x, y, take_y);
    __m256i nan = _mm256_or_si256(_mm256_cmpgt_epi16(_mm256_and_si256(x, magnitude), nan_above),
                                  _mm256_cmpgt_epi16(_mm256_and_si256(y, magnitude), nan_above));
    if (__builtin_expect(!_mm256_testz_si256(nan, nan), 0)) r = _mm256_blendv_epi8(r, canonical, nan);
    return r;
}

/* Both inputs are prefetched 1,024 elements (2 KiB) ahead: the loops do enough work per byte
 * that the hardware prefetcher alone left a 64 MiB bfloat16 sum at about 0.67 of float32's
 * bytes per second on this build machine (AMD EPYC, AVX2); with it, about 0.9. A prefetch past
 * the end of a buffer is a hint and never faults. */
#define PREFETCH 1024

#define ORDER_LOOP(IS_MAX, NAN_ABOVE, CANONICAL)                                                              \
    {                                                                                                        \
        const __m256i nan_above = _mm256_set1_epi16(NAN_ABOVE), canonical = _mm256_set1_epi16(CANONICAL);   \
        for (; i + 16 <= count; i += 16) {                                                                   \
            _mm_prefetch((const char *)(s + i + PREFETCH), _MM_HINT_T0);                                     \
            _mm_prefetch((const char *)(t + i + PREFETCH), _MM_HINT_T0);                                     \
            __m256i x = _mm256_loadu_si256((const __m256i *)(s + i)), y = _mm256_loadu_si256((const __m256i *)(t + i)); \
            _mm256_storeu_si256((__m256i *)(d + i), order16(x, y, IS_MAX, nan_above, canonical));            \
        }                                                                                                    \
    }

/* Sixteen elements per iteration, then eight. binary16 converts eight at a time in order;
 * bfloat16 interleaves a 256-bit load with zeros (lanes 0-3, 8-11 in one vector, 4-7, 12-15 in
 * the other: the value in the top half of each 32-bit lane is the Float32) and packs back in the
 * same order, so no lane crosses. */
#define LOOP(FORMAT, OP)                                                                                     \
    if (FORMAT == TORUS_HALF_BFLOAT16) {                                                                     \
        const __m256i zero = _mm256_setzero_si256();                                                         \
        for (; i + 16 <= count; i += 16) {                                                                   \
            _mm_prefetch((const char *)(s + i + PREFETCH), _MM_HINT_T0);                                     \
            _mm_prefetch((const char *)(t + i + PREFETCH), _MM_HINT_T0);                                     \
            __m256i p = _mm256_loadu_si256((const __m256i *)(s + i)), q = _mm256_loadu_si256((const __m256i *)(t + i)); \
            __m256 x0 = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, p));                                \
            __m256 x1 = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, p));                                \
            __m256 y0 = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, q));                                \
            __m256 y1 = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, q));                                \
            _mm256_storeu_si256((__m256i *)(d + i), narrow_bf16(OP(x0, y0), OP(x1, y1)));                   \
        }                                                                                                    \
    } else {                                                                                                 \
        for (; i + 16 <= count; i += 16) {                                                                   \
            _mm_prefetch((const char *)(s + i + PREFETCH), _MM_HINT_T0);                                     \
            _mm_prefetch((const char *)(t + i + PREFETCH), _MM_HINT_T0);                                     \
            __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i)));                         \
            __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i + 8)));                     \
            __m256 y0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(t + i)));                         \
            __m256 y1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(t + i + 8)));                     \
            _mm256_storeu_si256((__m256i *)(d + i), narrow_f16(OP(x0, y0), OP(x1, y1)));                    \
        }                                                                                                    \
    }

#define ADD(x, y) _mm256_add_ps(x, y)
#define MUL(x, y) _mm256_mul_ps(x, y)

#define OPS(FORMAT, NAN_ABOVE, CANONICAL)                                                                    \
    switch (op) {                                                                                            \
    case TORUS_HALF_SUM: LOOP(FORMAT, ADD) break;                                                            \
    case TORUS_HALF_PROD: LOOP(FORMAT, MUL) break;                                                           \
    case TORUS_HALF_MIN: ORDER_LOOP(0, NAN_ABOVE, CANONICAL) break;                                          \
    case TORUS_HALF_MAX: ORDER_LOOP(1, NAN_ABOVE, CANONICAL) break;                                          \
    default: return 0;                                                                                       \
    }

TARGET size_t torus_half_combine(int format, int op, void *dst, const void *a, const void *b, size_t count) {
    uint16_t *d = dst;
    const uint16_t *s = a, *t = b;
    size_t i = 0;
    /* The format is a constant in each loop, so each loop is specialised. */
    if (format == TORUS_HALF_BINARY16) {
        OPS(TORUS_HALF_BINARY16, 0x7C00, 0x7E00)
    } else {
        OPS(TORUS_HALF_BFLOAT16, 0x7F80, 0x7FC0)
    }
    return i;
}

#else

int torus_half_vector_available(void) { return 0; }

size_t torus_half_combine(int format, int op, void *dst, const void *a, const void *b, size_t count) {
    (void)format; (void)op; (void)dst; (void)a; (void)b; (void)count;
    return 0;
}

#endif
