/* Helpers shared by the AVX2 kernel files (quant_avx2*.c). Every function
 * that uses these carries AVX2_FN: the target attribute lets the build run
 * without -mavx2 while the code is only reached when the CPU has it. */
#ifndef GLM_QUANT_AVX2_H
#define GLM_QUANT_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define AVX2_FN __attribute__((target("avx2,fma,f16c")))

/* The integer dots of quant_avx2_q8.c, in the table of quant_avx2.c. */
float quant_avx2_dot_q8_q4_0(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_q4_1(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_q5_0(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_q5_1(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_q8_0(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_iq4_nl(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_q2_K(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_q3_K(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_q4_K(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_q5_K(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_q6_K(const void *w, const void *xq, int64_t nb);
float quant_avx2_dot_q8_iq4_xs(const void *w, const void *xq, int64_t nb);

/* Dequantization must round exactly like the scalar code: a product then
 * a sum, never a fused multiply-add. -std=c11 keeps GCC from contracting
 * (and GCC ignores this pragma); clang honours the pragma. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* 32 int8 values as 4×8 floats (always inlined: it sits in the exact
 * path's innermost loop). */
AVX2_FN static inline __attribute__((always_inline)) void avx2_widen32(__m256i q, __m256 f[4])
{
	__m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);

	f[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
	f[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
	f[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
	f[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
}

AVX2_FN static inline float avx2_h2f(uint16_t h)
{
	return _cvtsh_ss(h);
}

AVX2_FN static inline float avx2_hsum_ps(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

AVX2_FN static inline double avx2_hsum_pd(__m256d v)
{
	__m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
	return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* acc64 += the 8 float lanes of v, widened: float partial sums over one
 * chunk, float64 across chunks (as the scalar path does). */
AVX2_FN static inline __m256d avx2_add_wide(__m256d acc, __m256 v)
{
	acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
	return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

/* The 16 bytes at p as 32 nibbles: low nibbles then high nibbles. */
AVX2_FN static inline __m256i avx2_nibbles(const uint8_t *p)
{
	__m128i q = _mm_loadu_si128((const __m128i *)p);
	__m256i v = _mm256_set_m128i(_mm_srli_epi16(q, 4), q);
	return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* Byte i = 0xFF where bit i of x is set (the fifth bits of Q5_0/Q5_1). */
AVX2_FN static inline __m256i avx2_bits_to_bytes(uint32_t x)
{
	const __m256i pick = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
						0x0202020202020202, 0x0303030303030303);
	const __m256i bit = _mm256_set1_epi64x((int64_t)0x8040201008040201ull);
	__m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), pick);
	return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* The IQ4_NL levels as a byte lookup table in both 128-bit lanes. */
AVX2_FN static inline __m256i avx2_iq4nl_table(void)
{
	const __m128i t = _mm_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10,
					1, 13, 25, 38, 53, 69, 89, 113);
	return _mm256_set_m128i(t, t);
}

static inline uint32_t avx2_load_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);	/* the format is little-endian, like x86 */
	return v;
}

/* The 8 scales and 8 minimums (6 bits each) of a Q4_K/Q5_K block:
 * out[0..8) scales, out[8..16) minimums. */
static inline void avx2_k4_unpack(const uint8_t *packed, uint8_t out[16])
{
	uint32_t u[4];

	memcpy(u, packed, 12);
	u[3] = ((u[2] >> 4) & 0x0F0F0F0F) | (((u[1] >> 6) & 0x03030303) << 4);
	const uint32_t mins_lo = u[1] & 0x3F3F3F3F;
	u[1] = (u[2] & 0x0F0F0F0F) | (((u[0] >> 6) & 0x03030303) << 4);
	u[2] = mins_lo;
	u[0] &= 0x3F3F3F3F;
	memcpy(out, u, 16);
}

#endif
