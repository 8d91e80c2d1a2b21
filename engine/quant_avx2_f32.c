/* AVX2 float-activation dots that dequantize in registers: each group of
 * 32 weights is decoded to int8, widened to float and multiply-added
 * against x; the block and sub-block scales are applied once per 16
 * values (see FUSED). Nothing goes through memory. Three forms: one row ·
 * one vector (quant_dot_f32), two rows · one vector (decode's matvec: the
 * x loads shared) and one row · up to four vectors (prefill of a few
 * tokens: each block decoded once for all of them).
 *
 * Sums: float per 256 values, float64 across them, per row and vector,
 * in the same order in every form, so all three give the same bits. */
#include "config.h"
#ifdef HAVE_X86
#include "engine/quant.h"
#include "engine/quant_blocks.h"
#include "engine/quant_avx2.h"

#define ALWAYS_INLINE __attribute__((always_inline)) inline

/* Per block of one row: group g of 32 values has scale d1[g] for its
 * first 16 values, d2[g] for the rest, and minimum m[g]. */
struct fst {
	float d1[8] __attribute__((aligned(32)));
	float d2[8] __attribute__((aligned(32)));
	float m[8] __attribute__((aligned(32)));
};

/* ---- per type: prep (scales of one block) and dec (group g as int8) ---- */

static ALWAYS_INLINE void fill2(struct fst *s, float d)
{
	s->d1[0] = s->d2[0] = d;
}

AVX2_FN static ALWAYS_INLINE void prep_q4_0(const struct block_q4_0 *b, struct fst *s)
{
	fill2(s, avx2_h2f(b->d));
}

AVX2_FN static ALWAYS_INLINE __m256i dec_q4_0(const struct block_q4_0 *b, int g)
{
	return _mm256_sub_epi8(avx2_nibbles(b->qs), _mm256_set1_epi8(8));
}

AVX2_FN static ALWAYS_INLINE void prep_q4_1(const struct block_q4_1 *b, struct fst *s)
{
	fill2(s, avx2_h2f(b->d));
	s->m[0] = avx2_h2f(b->m);
}

AVX2_FN static ALWAYS_INLINE __m256i dec_q4_1(const struct block_q4_1 *b, int g)
{
	return avx2_nibbles(b->qs);
}

/* The 5-bit values 0..31 of a Q5_0/Q5_1 block. */
AVX2_FN static ALWAYS_INLINE __m256i q5_values(const uint8_t *qh, const uint8_t *qs)
{
	__m256i hi = _mm256_and_si256(avx2_bits_to_bytes(avx2_load_u32(qh)), _mm256_set1_epi8(0x10));
	return _mm256_or_si256(avx2_nibbles(qs), hi);
}

AVX2_FN static ALWAYS_INLINE void prep_q5_0(const struct block_q5_0 *b, struct fst *s)
{
	fill2(s, avx2_h2f(b->d));
}

AVX2_FN static ALWAYS_INLINE __m256i dec_q5_0(const struct block_q5_0 *b, int g)
{
	return _mm256_sub_epi8(q5_values(b->qh, b->qs), _mm256_set1_epi8(16));
}

AVX2_FN static ALWAYS_INLINE void prep_q5_1(const struct block_q5_1 *b, struct fst *s)
{
	fill2(s, avx2_h2f(b->d));
	s->m[0] = avx2_h2f(b->m);
}

AVX2_FN static ALWAYS_INLINE __m256i dec_q5_1(const struct block_q5_1 *b, int g)
{
	return q5_values(b->qh, b->qs);
}

AVX2_FN static ALWAYS_INLINE void prep_q8_0(const struct block_q8_0 *b, struct fst *s)
{
	fill2(s, avx2_h2f(b->d));
}

AVX2_FN static ALWAYS_INLINE __m256i dec_q8_0(const struct block_q8_0 *b, int g)
{
	return _mm256_loadu_si256((const __m256i *)b->qs);
}

AVX2_FN static ALWAYS_INLINE void prep_iq4_nl(const struct block_iq4_nl *b, struct fst *s)
{
	fill2(s, avx2_h2f(b->d));
}

AVX2_FN static ALWAYS_INLINE __m256i dec_iq4_nl(const struct block_iq4_nl *b, int g)
{
	return _mm256_shuffle_epi8(avx2_iq4nl_table(), avx2_nibbles(b->qs));
}

/* Q4_K/Q5_K: sub-block g has scale d·sc[g] and minimum dmin·m[g]. */
AVX2_FN static ALWAYS_INLINE void prep_k4(uint16_t dh, uint16_t mh, const uint8_t *packed, struct fst *s)
{
	const float d = avx2_h2f(dh), dmin = avx2_h2f(mh);
	uint8_t sm[16];

	avx2_k4_unpack(packed, sm);
	__m128i v = _mm_loadu_si128((const __m128i *)sm);
	__m256 sc = _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)));
	__m256 mn = _mm256_mul_ps(_mm256_set1_ps(dmin),
				  _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(v, 8))));
	_mm256_store_ps(s->d1, sc);
	_mm256_store_ps(s->d2, sc);
	_mm256_store_ps(s->m, mn);
}

AVX2_FN static ALWAYS_INLINE void prep_q4_K(const struct block_q4_K *b, struct fst *s)
{
	prep_k4(b->d, b->dmin, b->scales, s);
}

/* Sub-blocks 2j and 2j + 1 are the low and high nibbles of qs[32j..32j+32). */
AVX2_FN static ALWAYS_INLINE __m256i dec_q4_K(const struct block_q4_K *b, int g)
{
	__m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * (g / 2)));

	if (g & 1)
		q = _mm256_srli_epi16(q, 4);
	return _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
}

AVX2_FN static ALWAYS_INLINE void prep_q5_K(const struct block_q5_K *b, struct fst *s)
{
	prep_k4(b->d, b->dmin, b->scales, s);
}

/* The fifth bit of sub-block g is bit g of qh[0..32). */
AVX2_FN static ALWAYS_INLINE __m256i dec_q5_K(const struct block_q5_K *b, int g)
{
	const __m256i bit = _mm256_set1_epi8((char)(1 << g));
	__m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * (g / 2)));
	__m256i qh = _mm256_loadu_si256((const __m256i *)b->qh);

	if (g & 1)
		q = _mm256_srli_epi16(q, 4);
	q = _mm256_and_si256(q, _mm256_set1_epi8(0x0F));
	__m256i hi = _mm256_cmpeq_epi8(_mm256_and_si256(qh, bit), bit);
	return _mm256_or_si256(q, _mm256_and_si256(hi, _mm256_set1_epi8(0x10)));
}

AVX2_FN static ALWAYS_INLINE void prep_q6_K(const struct block_q6_K *b, struct fst *s)
{
	const float d = avx2_h2f(b->d);

	__m128i v = _mm_loadu_si128((const __m128i *)b->scales);
	__m256 lo = _mm256_mul_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)));
	__m256 hi = _mm256_mul_ps(_mm256_set1_ps(d),
				  _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8))));
	/* even scales (first halves) and odd ones, back in group order */
	__m256 ev = _mm256_shuffle_ps(lo, hi, 0x88), od = _mm256_shuffle_ps(lo, hi, 0xDD);
	_mm256_store_ps(s->d1, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xD8)));
	_mm256_store_ps(s->d2, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(od), 0xD8)));
}

/* Group g = 4·half + k: low 4 bits from ql (k even: low nibbles, odd: of
 * the second 32 bytes; k ≥ 2: high nibbles), 2 high bits from qh. */
AVX2_FN static ALWAYS_INLINE __m256i dec_q6_K(const struct block_q6_K *b, int g)
{
	const int half = g / 4, k = g % 4;
	__m256i ql = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * half + 32 * (k & 1)));
	__m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * half));

	if (k >= 2)
		ql = _mm256_srli_epi16(ql, 4);
	ql = _mm256_and_si256(ql, _mm256_set1_epi8(0x0F));
	__m256i h = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), _mm256_set1_epi8(3));
	return _mm256_sub_epi8(_mm256_or_si256(ql, _mm256_slli_epi16(h, 4)), _mm256_set1_epi8(32));
}

AVX2_FN static ALWAYS_INLINE void prep_iq4_xs(const struct block_iq4_xs *b, struct fst *s)
{
	const float d = avx2_h2f(b->d);

	for (int ib = 0; ib < 8; ib++)
		s->d1[ib] = s->d2[ib] = d * quant_iq4xs_scale(b, ib);
}

AVX2_FN static ALWAYS_INLINE __m256i dec_iq4_xs(const struct block_iq4_xs *b, int g)
{
	return _mm256_shuffle_epi8(avx2_iq4nl_table(), avx2_nibbles(b->qs + 16 * g));
}

/* ---- the generic kernel ----
 * R rows (1 or 2) of nb blocks of GROUPS×32 values against T vectors
 * (1-4; R·T ≤ 4 in use) ldx floats apart, results y[t·ldy + r]. MINS: 0 none, -1 the
 * minimum is subtracted (K types), +1 added (Q4_1, Q5_1); SPLIT: the two
 * 16-value halves of a group have different scales (Q6_K).
 *
 * The scales are applied per 16 values rather than per weight:
 * Σ (q·d − m)·x = d·Σ q·x − m·Σ x, with q·x in float (q is a small
 * integer, exact as a float). That is the same sum up to float32
 * rounding, and half the vector work of scaling each weight first, which
 * made the kernel compute-bound at a fifth of the read bandwidth.
 * Per row and vector: two float accumulators (the halves of a group, or
 * alternate groups) and one for the minimums, summed per 256 values and
 * then in float64. The next blocks of each row are prefetched well
 * ahead: the hardware prefetcher loses two interleaved rows of small
 * blocks (half speed from DRAM without). */
#define PF_AHEAD 16	/* chunks of 256 values: 2-4 KB */
#define FUSED(name, blk_t, GROUPS, MINS, SPLIT) \
AVX2_FN static ALWAYS_INLINE void rows_##name(const uint8_t *w, size_t stride, const float *x, \
					      size_t ldx, int64_t nb, float *y, size_t ldy, \
					      const int R, const int T) \
{ \
	const int per = GROUPS == 8 ? 1 : 8;	/* blocks per 256 values */ \
	__m256d sum[2][4]; \
	struct fst st[2]; \
	_Pragma("GCC unroll 2") \
	for (int r = 0; r < R; r++) \
		_Pragma("GCC unroll 4") \
		for (int t = 0; t < T; t++) \
			sum[r][t] = _mm256_setzero_pd(); \
	for (int64_t i = 0; i < nb; i += per, x += 256) { \
		const int k = nb - i < per ? (int)(nb - i) : per; \
		__m256 acc[2][4][3]; \
		_Pragma("GCC unroll 2") \
		for (int r = 0; r < R; r++) { \
			const char *ahead = (const char *)((const blk_t *)(w + r * stride) + i + PF_AHEAD * per); \
			for (int o = 0; o < (int)sizeof(blk_t) * per; o += 64) \
				_mm_prefetch(ahead + o, _MM_HINT_T0); \
			_Pragma("GCC unroll 4") \
			for (int t = 0; t < T; t++) \
				for (int q = 0; q < 3; q++) \
					acc[r][t][q] = _mm256_setzero_ps(); \
		} \
		for (int kb = 0; kb < k; kb++) { \
			_Pragma("GCC unroll 2") \
			for (int r = 0; r < R; r++) \
				prep_##name((const blk_t *)(w + r * stride) + i + kb, &st[r]); \
			/* broadcast the scales from memory (one load each), not \
			 * out of a register (two shuffles each) */ \
			__asm__("" : "+m"(st)); \
			_Pragma("GCC unroll 8") \
			for (int g = 0; g < GROUPS; g++) { \
				const size_t xo = 32 * (size_t)(kb * GROUPS + g); \
				_Pragma("GCC unroll 2") \
				for (int r = 0; r < R; r++) { \
					__m256 f[4]; \
					avx2_widen32(dec_##name((const blk_t *)(w + r * stride) + i + kb, g), f); \
					_Pragma("GCC unroll 4") \
					for (int t = 0; t < T; t++) { \
						const float *xg = x + t * ldx + xo; \
						const __m256 x0 = _mm256_loadu_ps(xg), x1 = _mm256_loadu_ps(xg + 8); \
						const __m256 x2 = _mm256_loadu_ps(xg + 16), x3 = _mm256_loadu_ps(xg + 24); \
						__m256 *a = acc[r][t]; \
						__m256 ta = _mm256_fmadd_ps(f[1], x1, _mm256_mul_ps(f[0], x0)); \
						__m256 tb = _mm256_fmadd_ps(f[3], x3, _mm256_mul_ps(f[2], x2)); \
						if (SPLIT) { \
							a[0] = _mm256_fmadd_ps(_mm256_broadcast_ss(&st[r].d1[g]), ta, a[0]); \
							a[1] = _mm256_fmadd_ps(_mm256_broadcast_ss(&st[r].d2[g]), tb, a[1]); \
						} else { \
							a[g & 1] = _mm256_fmadd_ps(_mm256_broadcast_ss(&st[r].d1[g]), \
										   _mm256_add_ps(ta, tb), a[g & 1]); \
						} \
						if (MINS) { \
							__m256 sx = _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)); \
							a[2] = _mm256_fmadd_ps(_mm256_broadcast_ss(&st[r].m[g]), sx, a[2]); \
						} \
					} \
				} \
			} \
		} \
		_Pragma("GCC unroll 2") \
		for (int r = 0; r < R; r++) \
			_Pragma("GCC unroll 4") \
			for (int t = 0; t < T; t++) { \
				__m256 v = _mm256_add_ps(acc[r][t][0], acc[r][t][1]); \
				if (MINS) \
					v = MINS < 0 ? _mm256_sub_ps(v, acc[r][t][2]) : _mm256_add_ps(v, acc[r][t][2]); \
				sum[r][t] = avx2_add_wide(sum[r][t], v); \
			} \
	} \
	_Pragma("GCC unroll 2") \
	for (int r = 0; r < R; r++) \
		_Pragma("GCC unroll 4") \
		for (int t = 0; t < T; t++) \
			y[t * ldy + r] = (float)avx2_hsum_pd(sum[r][t]); \
} \
AVX2_FN static float fdot_##name(const void *w, const float *x, int64_t nb) \
{ \
	float y; \
	rows_##name(w, 0, x, 0, nb, &y, 0, 1, 1); \
	return y; \
} \
AVX2_FN __attribute__((unused)) static void fmv2_##name(const void *w, size_t stride, const float *x, \
							 int64_t nb, float y[2]) \
{ \
	rows_##name(w, stride, x, 0, nb, y, 0, 2, 1); \
} \
/* One row against n_x ≤ 4 vectors ldx apart: y[t] = row · x_t. */ \
AVX2_FN static void fdotn_##name(const void *w, const float *x, size_t ldx, int n_x, int64_t nb, float *y) \
{ \
	if (MINS && n_x > 2) {	/* 3-4 vectors with minimums spill registers */ \
		rows_##name(w, 0, x, ldx, nb, y, 1, 1, 2); \
		x += 2 * ldx; \
		y += 2; \
		n_x -= 2; \
	} \
	switch (n_x) { \
	case 1: rows_##name(w, 0, x, ldx, nb, y, 1, 1, 1); break; \
	case 2: rows_##name(w, 0, x, ldx, nb, y, 1, 1, 2); break; \
	case 3: rows_##name(w, 0, x, ldx, nb, y, 1, 1, 3); break; \
	default: rows_##name(w, 0, x, ldx, nb, y, 1, 1, 4); break; \
	} \
}

FUSED(q4_0, struct block_q4_0, 1, 0, 0)
FUSED(q4_1, struct block_q4_1, 1, 1, 0)
FUSED(q5_0, struct block_q5_0, 1, 0, 0)
FUSED(q5_1, struct block_q5_1, 1, 1, 0)
FUSED(q8_0, struct block_q8_0, 1, 0, 0)
FUSED(iq4_nl, struct block_iq4_nl, 1, 0, 0)
FUSED(q4_K, struct block_q4_K, 8, -1, 0)
FUSED(q5_K, struct block_q5_K, 8, -1, 0)
FUSED(q6_K, struct block_q6_K, 8, 0, 1)
FUSED(iq4_xs, struct block_iq4_xs, 8, 0, 0)

#define F(t, name) [GGML_TYPE_##t] = { fdot_##name, fmv2_##name, fdotn_##name }

const struct quant_fused_kernels quant_avx2_fused[GGML_TYPE_COUNT] = {
	F(Q4_0, q4_0), F(Q4_1, q4_1), F(Q5_0, q5_0), F(Q5_1, q5_1), F(Q8_0, q8_0),
	F(IQ4_NL, iq4_nl), F(Q4_K, q4_K), F(Q5_K, q5_K), F(Q6_K, q6_K),
	/* two IQ4_XS rows at once measured slower than one (7.0 against 5.6
	 * GB/s, in L2 too): its table lookups and scalar scales crowd out the
	 * second row */
	[GGML_TYPE_IQ4_XS] = { fdot_iq4_xs, NULL, fdotn_iq4_xs },
};
#endif
