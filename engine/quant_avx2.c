/* AVX2 + FMA + F16C kernels, chosen at run time (engine/quant.c):
 * dequantization (bit-exact with quant_ref.c), float-activation dots and
 * the activation quantizers (bit-exact with quant_q8.c). The integer dots
 * against quantized activations are in quant_avx2_q8.c. */
#include "config.h"
#ifdef HAVE_X86
#include "engine/quant.h"
#include "engine/quant_blocks.h"
#include "engine/quant_avx2.h"

/* y[0..32) = q·d, d1 for the first 16 values and d2 for the rest. */
AVX2_FN static inline void put32(float *y, __m256i q, __m256 d1, __m256 d2)
{
	__m256 f[4];

	avx2_widen32(q, f);
	for (int k = 0; k < 4; k++)
		_mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(f[k], k < 2 ? d1 : d2));
}

/* y[0..32) = q·d − m (the K types' minimums), per half as put32. */
AVX2_FN static inline void put32_sub(float *y, __m256i q, __m256 d1, __m256 m1, __m256 d2, __m256 m2)
{
	__m256 f[4];

	avx2_widen32(q, f);
	for (int k = 0; k < 4; k++)
		_mm256_storeu_ps(y + 8 * k, _mm256_sub_ps(_mm256_mul_ps(f[k], k < 2 ? d1 : d2),
							  k < 2 ? m1 : m2));
}

/* y[0..32) = q·d + m (Q4_1, Q5_1). */
AVX2_FN static inline void put32_add(float *y, __m256i q, __m256 d, __m256 m)
{
	__m256 f[4];

	avx2_widen32(q, f);
	for (int k = 0; k < 4; k++)
		_mm256_storeu_ps(y + 8 * k, _mm256_add_ps(_mm256_mul_ps(f[k], d), m));
}

AVX2_FN static void deq_f16(const void *w, float *y, int64_t n)
{
	const uint16_t *h = w;
	int64_t i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
	for (; i < n; i++)
		y[i] = avx2_h2f(h[i]);
}

AVX2_FN static void deq_bf16(const void *w, float *y, int64_t n)
{
	const uint16_t *h = w;
	int64_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(h + i)));
		_mm256_storeu_si256((__m256i *)(y + i), _mm256_slli_epi32(v, 16));
	}
	for (; i < n; i++)
		y[i] = glm_bf16_to_f32(h[i]);
}

AVX2_FN static void deq_q4_0(const void *w, float *y, int64_t nb)
{
	const struct block_q4_0 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		__m256 d = _mm256_set1_ps(avx2_h2f(b->d));
		put32(y, _mm256_sub_epi8(avx2_nibbles(b->qs), _mm256_set1_epi8(8)), d, d);
	}
}

AVX2_FN static void deq_q4_1(const void *w, float *y, int64_t nb)
{
	const struct block_q4_1 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32)
		put32_add(y, avx2_nibbles(b->qs), _mm256_set1_ps(avx2_h2f(b->d)),
			  _mm256_set1_ps(avx2_h2f(b->m)));
}

/* The 5-bit values 0..31 of a Q5_0/Q5_1 block. */
AVX2_FN static inline __m256i q5_values(const uint8_t *qh, const uint8_t *qs)
{
	__m256i hi = _mm256_and_si256(avx2_bits_to_bytes(avx2_load_u32(qh)), _mm256_set1_epi8(0x10));
	return _mm256_or_si256(avx2_nibbles(qs), hi);
}

AVX2_FN static void deq_q5_0(const void *w, float *y, int64_t nb)
{
	const struct block_q5_0 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		__m256 d = _mm256_set1_ps(avx2_h2f(b->d));
		put32(y, _mm256_sub_epi8(q5_values(b->qh, b->qs), _mm256_set1_epi8(16)), d, d);
	}
}

AVX2_FN static void deq_q5_1(const void *w, float *y, int64_t nb)
{
	const struct block_q5_1 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32)
		put32_add(y, q5_values(b->qh, b->qs), _mm256_set1_ps(avx2_h2f(b->d)),
			  _mm256_set1_ps(avx2_h2f(b->m)));
}

AVX2_FN static void deq_q8_0(const void *w, float *y, int64_t nb)
{
	const struct block_q8_0 *b = w;

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		__m256 d = _mm256_set1_ps(avx2_h2f(b->d));
		put32(y, _mm256_loadu_si256((const __m256i *)b->qs), d, d);
	}
}

AVX2_FN static void deq_iq4_nl(const void *w, float *y, int64_t nb)
{
	const struct block_iq4_nl *b = w;
	const __m256i table = avx2_iq4nl_table();

	for (int64_t i = 0; i < nb; i++, b++, y += 32) {
		__m256 d = _mm256_set1_ps(avx2_h2f(b->d));
		put32(y, _mm256_shuffle_epi8(table, avx2_nibbles(b->qs)), d, d);
	}
}

AVX2_FN static void deq_q2_K(const void *w, float *y, int64_t nb)
{
	const struct block_q2_K *b = w;
	const __m256i three = _mm256_set1_epi8(3);

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = avx2_h2f(b->d), dmin = avx2_h2f(b->dmin);
		for (int half = 0; half < 2; half++) {
			__m256i qs = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * half));
			for (int s = 0; s < 4; s++, y += 32) {
				const uint8_t s1 = b->scales[8 * half + 2 * s], s2 = b->scales[8 * half + 2 * s + 1];
				__m256i q = _mm256_and_si256(qs, three);
				qs = _mm256_srli_epi16(qs, 2);
				put32_sub(y, q, _mm256_set1_ps(d * (s1 & 0xF)), _mm256_set1_ps(dmin * (s1 >> 4)),
					  _mm256_set1_ps(d * (s2 & 0xF)), _mm256_set1_ps(dmin * (s2 >> 4)));
			}
		}
	}
}

AVX2_FN static void deq_q3_K(const void *w, float *y, int64_t nb)
{
	const struct block_q3_K *b = w;
	const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = avx2_h2f(b->d);
		int8_t sc[16];
		quant_q3k_scales(b->scales, sc);
		__m256i hm = _mm256_loadu_si256((const __m256i *)b->hmask);
		for (int half = 0; half < 2; half++) {
			__m256i qs = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * half));
			for (int s = 0; s < 4; s++, y += 32) {
				const int g = 8 * half + 2 * s;
				/* 4 off where the high bit is clear */
				__m256i clear = _mm256_cmpeq_epi8(_mm256_and_si256(hm, _mm256_set1_epi8(1)),
								  _mm256_setzero_si256());
				__m256i q = _mm256_sub_epi8(_mm256_and_si256(qs, three),
							    _mm256_and_si256(clear, four));
				qs = _mm256_srli_epi16(qs, 2);
				hm = _mm256_srli_epi16(hm, 1);
				put32(y, q, _mm256_set1_ps(d * sc[g]), _mm256_set1_ps(d * sc[g + 1]));
			}
		}
	}
}

AVX2_FN static void deq_q4_K(const void *w, float *y, int64_t nb)
{
	const struct block_q4_K *b = w;
	const __m256i low = _mm256_set1_epi8(0x0F);

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = avx2_h2f(b->d), dmin = avx2_h2f(b->dmin);
		uint8_t sm[16];
		avx2_k4_unpack(b->scales, sm);
		for (int j = 0; j < 8; j += 2, y += 64) {
			__m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 16 * j));
			__m256 d1 = _mm256_set1_ps(d * sm[j]), m1 = _mm256_set1_ps(dmin * sm[8 + j]);
			__m256 d2 = _mm256_set1_ps(d * sm[j + 1]), m2 = _mm256_set1_ps(dmin * sm[9 + j]);
			put32_sub(y, _mm256_and_si256(q, low), d1, m1, d1, m1);
			put32_sub(y + 32, _mm256_and_si256(_mm256_srli_epi16(q, 4), low), d2, m2, d2, m2);
		}
	}
}

AVX2_FN static void deq_q5_K(const void *w, float *y, int64_t nb)
{
	const struct block_q5_K *b = w;
	const __m256i low = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10);

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = avx2_h2f(b->d), dmin = avx2_h2f(b->dmin);
		uint8_t sm[16];
		avx2_k4_unpack(b->scales, sm);
		__m256i qh = _mm256_loadu_si256((const __m256i *)b->qh);
		for (int j = 0; j < 8; j += 2, y += 64) {
			__m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 16 * j));
			__m256i ql = _mm256_or_si256(_mm256_and_si256(q, low),
						     _mm256_and_si256(_mm256_slli_epi16(qh, 4), bit4));
			__m256i qhi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low),
						      _mm256_and_si256(_mm256_slli_epi16(qh, 3), bit4));
			qh = _mm256_srli_epi16(qh, 2);
			__m256 d1 = _mm256_set1_ps(d * sm[j]), m1 = _mm256_set1_ps(dmin * sm[8 + j]);
			__m256 d2 = _mm256_set1_ps(d * sm[j + 1]), m2 = _mm256_set1_ps(dmin * sm[9 + j]);
			put32_sub(y, ql, d1, m1, d1, m1);
			put32_sub(y + 32, qhi, d2, m2, d2, m2);
		}
	}
}

AVX2_FN static void deq_q6_K(const void *w, float *y, int64_t nb)
{
	const struct block_q6_K *b = w;
	const __m256i low = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
	const __m256i m32 = _mm256_set1_epi8(32);

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = avx2_h2f(b->d);
		for (int half = 0; half < 2; half++, y += 128) {
			const int8_t *sc = b->scales + 8 * half;
			__m256i ql0 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * half));
			__m256i ql1 = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * half + 32));
			__m256i qh = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * half));
			__m256i lo[4] = {
				_mm256_and_si256(ql0, low), _mm256_and_si256(ql1, low),
				_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low),
				_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low),
			};
			for (int k = 0; k < 4; k++) {
				__m256i h = _mm256_and_si256(qh, three);
				qh = _mm256_srli_epi16(qh, 2);
				__m256i q = _mm256_sub_epi8(_mm256_or_si256(lo[k], _mm256_slli_epi16(h, 4)), m32);
				put32(y + 32 * k, q, _mm256_set1_ps(d * sc[2 * k]), _mm256_set1_ps(d * sc[2 * k + 1]));
			}
		}
	}
}

AVX2_FN static void deq_iq4_xs(const void *w, float *y, int64_t nb)
{
	const struct block_iq4_xs *b = w;
	const __m256i table = avx2_iq4nl_table();

	for (int64_t i = 0; i < nb; i++, b++) {
		const float d = avx2_h2f(b->d);
		for (int ib = 0; ib < 8; ib++, y += 32) {
			__m256 dl = _mm256_set1_ps(d * quant_iq4xs_scale(b, ib));
			put32(y, _mm256_shuffle_epi8(table, avx2_nibbles(b->qs + 16 * ib)), dl, dl);
		}
	}
}

/* Float-activation dots. The float types read the row directly; the block
 * types dequantize 256 values into an L1-resident buffer and multiply-add
 * from there. Float sums within each 256 values, float64 across them. */

AVX2_FN static inline __m256 fma_chunk(const float *a, const float *x, int n)
{
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	int j = 0;

	for (; j + 16 <= n; j += 16) {
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(x + j), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(x + j + 8), acc1);
	}
	for (; j + 8 <= n; j += 8)
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(x + j), acc0);
	return _mm256_add_ps(acc0, acc1);
}

AVX2_FN static float dot_f32_f32(const void *w, const float *x, int64_t n)
{
	const float *a = w;
	__m256d sum = _mm256_setzero_pd();
	double tail = 0;
	int64_t i = 0;

	for (; i + 256 <= n; i += 256)
		sum = avx2_add_wide(sum, fma_chunk(a + i, x + i, 256));
	int rest = (int)(n - i) & ~7;
	sum = avx2_add_wide(sum, fma_chunk(a + i, x + i, rest));
	for (i += rest; i < n; i++)
		tail += (double)(a[i] * x[i]);
	return (float)(avx2_hsum_pd(sum) + tail);
}

/* F16 and BF16 widen 8 at a time straight into the multiply-add. */
AVX2_FN static inline __m256 load_f16(const uint16_t *p)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

AVX2_FN static inline __m256 load_bf16(const uint16_t *p)
{
	__m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
	return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

#define DOT_HALF(name, load, widen1) \
AVX2_FN static float name(const void *w, const float *x, int64_t n) \
{ \
	const uint16_t *h = w; \
	__m256d sum = _mm256_setzero_pd(); \
	double tail = 0; \
	int64_t i = 0; \
	while (i + 8 <= n) { \
		__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(); \
		int64_t end = n - i >= 256 ? i + 256 : i + ((n - i) & ~(int64_t)7); \
		for (; i + 16 <= end; i += 16) { \
			acc0 = _mm256_fmadd_ps(load(h + i), _mm256_loadu_ps(x + i), acc0); \
			acc1 = _mm256_fmadd_ps(load(h + i + 8), _mm256_loadu_ps(x + i + 8), acc1); \
		} \
		for (; i < end; i += 8) \
			acc0 = _mm256_fmadd_ps(load(h + i), _mm256_loadu_ps(x + i), acc0); \
		sum = avx2_add_wide(sum, _mm256_add_ps(acc0, acc1)); \
	} \
	for (; i < n; i++) \
		tail += (double)(widen1(h[i]) * x[i]); \
	return (float)(avx2_hsum_pd(sum) + tail); \
}

DOT_HALF(dot_f32_f16, load_f16, avx2_h2f)
DOT_HALF(dot_f32_bf16, load_bf16, glm_bf16_to_f32)

#define DOT_VIA_BUFFER(name, deq, type, elems) \
AVX2_FN static float name(const void *w, const float *x, int64_t nb) \
{ \
	const int per = 256 / (elems); \
	const type *b = w; \
	float buf[256] __attribute__((aligned(32))); \
	__m256d sum = _mm256_setzero_pd(); \
	for (int64_t i = 0; i < nb; i += per) { \
		int k = nb - i < per ? (int)(nb - i) : per; \
		deq(b + i, buf, k); \
		sum = avx2_add_wide(sum, fma_chunk(buf, x + i * (elems), k * (elems))); \
	} \
	return (float)avx2_hsum_pd(sum); \
}

DOT_VIA_BUFFER(dot_f32_q2_K, deq_q2_K, struct block_q2_K, QK_K)
DOT_VIA_BUFFER(dot_f32_q3_K, deq_q3_K, struct block_q3_K, QK_K)

/* Activation quantizers: the same float operations as quant_q8.c, eight
 * at a time, so the bytes are identical. */

/* Largest |x| of n (a multiple of 8) values; NaNs never win, as in C. */
AVX2_FN static inline float amax8(const float *x, int n)
{
	const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
	__m256 m = _mm256_setzero_ps();

	for (int j = 0; j < n; j += 8)	/* max_ps returns its second operand on NaN */
		m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), abs_mask), m);
	__m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
	s = _mm_max_ps(s, _mm_movehl_ps(s, s));
	s = _mm_max_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* round(clamp(x·id, ±127)) half away from zero, as int32 lanes. */
AVX2_FN static inline __m256i round8(const float *x, __m256 id)
{
	const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
	__m256 v = _mm256_mul_ps(_mm256_loadu_ps(x), id);
	v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
	__m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	__m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
	__m256 away = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
	__m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
	return _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_and_ps(up, away)));
}

/* 32 values at x to int8 at q. */
AVX2_FN static inline void quantize32(const float *x, __m256 id, int8_t *q)
{
	__m256i a = round8(x, id), b = round8(x + 8, id), c = round8(x + 16, id), d = round8(x + 24, id);
	__m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
	__m256i v = _mm256_packs_epi16(ab, cd);
	/* the packs work per 128-bit lane: put the 4-byte groups back in order */
	v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
	_mm256_storeu_si256((__m256i *)q, v);
}

AVX2_FN void quant_avx2_quantize_q8_0(const float *x, struct block_q8_0 *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, x += 32, y++) {
		const float d = amax8(x, 32) / 127.0f;
		const float id = d != 0 ? 1.0f / d : 0.0f;
		quantize32(x, _mm256_set1_ps(id), y->qs);
		y->d = (uint16_t)_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
	}
}

AVX2_FN void quant_avx2_quantize_q8_K(const float *x, struct block_q8_K *y, int64_t nb)
{
	for (int64_t i = 0; i < nb; i++, x += QK_K, y++) {
		const float d = amax8(x, QK_K) / 127.0f;
		const float id = d != 0 ? 1.0f / d : 0.0f;
		const __m256 vid = _mm256_set1_ps(id);
		for (int j = 0; j < QK_K; j += 32)
			quantize32(x + j, vid, y->qs + j);
		for (int g = 0; g < QK_K / 16; g++) {	/* once per row: plain C */
			int sum = 0;
			for (int j = 0; j < 16; j++)
				sum += y->qs[16 * g + j];
			y->bsums[g] = (int16_t)sum;
		}
		y->d = d;
	}
}

/* Float weights: the activation stays float, so dot_q8 is dot_f32. */
AVX2_FN static float dot_q8_f32(const void *w, const void *xq, int64_t n) { return dot_f32_f32(w, xq, n); }
AVX2_FN static float dot_q8_f16(const void *w, const void *xq, int64_t n) { return dot_f32_f16(w, xq, n); }
AVX2_FN static float dot_q8_bf16(const void *w, const void *xq, int64_t n) { return dot_f32_bf16(w, xq, n); }

#define K(t, name) [GGML_TYPE_##t] = { deq_##name, dot_f32_##name, quant_avx2_dot_q8_##name }
/* Types whose float-activation dots decode in registers (quant_avx2_f32.c,
 * installed by quant.c over this table) need none here. */
#define KF(t, name) [GGML_TYPE_##t] = { deq_##name, NULL, quant_avx2_dot_q8_##name }

const struct quant_kernels quant_avx2_kernels[GGML_TYPE_COUNT] = {
	[GGML_TYPE_F32] = { NULL, dot_f32_f32, dot_q8_f32 },
	[GGML_TYPE_F16] = { deq_f16, dot_f32_f16, dot_q8_f16 },
	[GGML_TYPE_BF16] = { deq_bf16, dot_f32_bf16, dot_q8_bf16 },
	KF(Q4_0, q4_0), KF(Q4_1, q4_1), KF(Q5_0, q5_0), KF(Q5_1, q5_1), KF(Q8_0, q8_0),
	K(Q2_K, q2_K), K(Q3_K, q3_K), KF(Q4_K, q4_K), KF(Q5_K, q5_K), KF(Q6_K, q6_K),
	KF(IQ4_NL, iq4_nl), KF(IQ4_XS, iq4_xs),
};
#endif
