/* AVX2 dots of weight blocks against quantized activations (Q8_0 for the
 * 32-value types, Q8_K for the K types and IQ4_XS): the decode hot path.
 * Products of bytes go through maddubs (unsigned × signed byte pairs into
 * int16) and madd (int16 pairs into int32), exact; the float scale comes
 * in once per block or super-block. Same sums as quant_q8.c, with the
 * float additions in another order. */
#include "config.h"
#ifdef HAVE_X86
#include "engine/quant.h"
#include "engine/quant_blocks.h"
#include "engine/quant_avx2.h"

/* Σ u·s over each 4 neighbouring bytes, u unsigned and s signed: 8 int32.
 * No pair may exceed 32767 (true for every use here: |u| ≤ 128, |s| ≤ 127,
 * and 2·128·127 < 32768). */
AVX2_FN static inline __m256i dot_u8s8(__m256i u, __m256i s)
{
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* The same for two signed operands: move a's sign onto b. */
AVX2_FN static inline __m256i dot_s8s8(__m256i a, __m256i b)
{
	return dot_u8s8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

AVX2_FN static inline __m256i load32(const void *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

/* 32-value blocks: one float multiply-add per block. Four accumulators,
 * so the multiply-add latency does not serialise the blocks; float sums
 * over 8 blocks, then float64. BLK(b, y, acc) returns acc plus block b's
 * contribution. */
#define DOT32(name, wtype, BLK) \
AVX2_FN float name(const void *w, const void *xq, int64_t nb) \
{ \
	const wtype *b = w; \
	const struct block_q8_0 *y = xq; \
	__m256d sum = _mm256_setzero_pd(); \
	int64_t i = 0; \
	for (; i + 8 <= nb; i += 8) { \
		__m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0; \
		a0 = BLK(b + i + 0, y + i + 0, a0); \
		a1 = BLK(b + i + 1, y + i + 1, a1); \
		a2 = BLK(b + i + 2, y + i + 2, a2); \
		a3 = BLK(b + i + 3, y + i + 3, a3); \
		a0 = BLK(b + i + 4, y + i + 4, a0); \
		a1 = BLK(b + i + 5, y + i + 5, a1); \
		a2 = BLK(b + i + 6, y + i + 6, a2); \
		a3 = BLK(b + i + 7, y + i + 7, a3); \
		sum = avx2_add_wide(sum, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))); \
	} \
	__m256 a = _mm256_setzero_ps(); \
	for (; i < nb; i++) \
		a = BLK(b + i, y + i, a); \
	sum = avx2_add_wide(sum, a); \
	return (float)avx2_hsum_pd(sum); \
}

/* acc + scale · (float) isum */
AVX2_FN static inline __m256 acc_block(__m256 acc, float scale, __m256i isum)
{
	return _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(isum), acc);
}

AVX2_FN static inline __m256 blk_q4_0(const struct block_q4_0 *b, const struct block_q8_0 *y, __m256 acc)
{
	__m256i q = _mm256_sub_epi8(avx2_nibbles(b->qs), _mm256_set1_epi8(8));
	return acc_block(acc, avx2_h2f(b->d) * avx2_h2f(y->d), dot_s8s8(q, load32(y->qs)));
}

AVX2_FN static inline __m256 blk_q8_0(const struct block_q8_0 *b, const struct block_q8_0 *y, __m256 acc)
{
	return acc_block(acc, avx2_h2f(b->d) * avx2_h2f(y->d), dot_s8s8(load32(b->qs), load32(y->qs)));
}

AVX2_FN static inline __m256 blk_iq4_nl(const struct block_iq4_nl *b, const struct block_q8_0 *y, __m256 acc)
{
	__m256i q = _mm256_shuffle_epi8(avx2_iq4nl_table(), avx2_nibbles(b->qs));
	return acc_block(acc, avx2_h2f(b->d) * avx2_h2f(y->d), dot_s8s8(q, load32(y->qs)));
}

/* The fifth bits of a Q5_0/Q5_1 block as 0x10 bytes. */
AVX2_FN static inline __m256i q5_high(const uint8_t *qh)
{
	return _mm256_and_si256(avx2_bits_to_bytes(avx2_load_u32(qh)), _mm256_set1_epi8(0x10));
}

AVX2_FN static inline __m256 blk_q5_0(const struct block_q5_0 *b, const struct block_q8_0 *y, __m256 acc)
{
	__m256i q = _mm256_sub_epi8(_mm256_or_si256(avx2_nibbles(b->qs), q5_high(b->qh)), _mm256_set1_epi8(16));
	return acc_block(acc, avx2_h2f(b->d) * avx2_h2f(y->d), dot_s8s8(q, load32(y->qs)));
}

/* Q4_1 and Q5_1 add m·Σx: the activation's block sum, times its scale. */
AVX2_FN static inline __m256 blk_q4_1(const struct block_q4_1 *b, const struct block_q8_0 *y, __m256 acc)
{
	const __m256i qy = load32(y->qs);
	const float dy = avx2_h2f(y->d);
	acc = acc_block(acc, avx2_h2f(b->d) * dy, dot_u8s8(avx2_nibbles(b->qs), qy));
	return acc_block(acc, avx2_h2f(b->m) * dy, dot_u8s8(_mm256_set1_epi8(1), qy));
}

AVX2_FN static inline __m256 blk_q5_1(const struct block_q5_1 *b, const struct block_q8_0 *y, __m256 acc)
{
	const __m256i qy = load32(y->qs);
	const float dy = avx2_h2f(y->d);
	__m256i q = _mm256_or_si256(avx2_nibbles(b->qs), q5_high(b->qh));
	acc = acc_block(acc, avx2_h2f(b->d) * dy, dot_u8s8(q, qy));
	return acc_block(acc, avx2_h2f(b->m) * dy, dot_u8s8(_mm256_set1_epi8(1), qy));
}

DOT32(quant_avx2_dot_q8_q4_0, struct block_q4_0, blk_q4_0)
DOT32(quant_avx2_dot_q8_q4_1, struct block_q4_1, blk_q4_1)
DOT32(quant_avx2_dot_q8_q5_0, struct block_q5_0, blk_q5_0)
DOT32(quant_avx2_dot_q8_q5_1, struct block_q5_1, blk_q5_1)
DOT32(quant_avx2_dot_q8_q8_0, struct block_q8_0, blk_q8_0)
DOT32(quant_avx2_dot_q8_iq4_nl, struct block_iq4_nl, blk_iq4_nl)

/* Super-blocks. Scales reach the int16 products through madd, so each
 * needs a vector of one scale repeated: shuffle masks pick it. Float sums
 * run over SB_GROUP super-blocks at a time, then go to float64. */
#define SB_GROUP 4

/* int16 lane k of a 128-bit vector (held in both halves) to all 16 lanes. */
static const uint8_t bcast16[8][32] __attribute__((aligned(32))) = {
#define B(k) { 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, \
	2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, \
	2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1, 2*k, 2*k+1 }
	B(0), B(1), B(2), B(3), B(4), B(5), B(6), B(7),
#undef B
};

/* int16 lane 2p to the low 8 lanes and 2p+1 to the high 8 (p mod 4): the
 * scales of the two 16-value sub-blocks one 32-byte vector spans. */
static const uint8_t pair16[4][32] __attribute__((aligned(32))) = {
#define P(p) { 4*p, 4*p+1, 4*p, 4*p+1, 4*p, 4*p+1, 4*p, 4*p+1, \
	4*p, 4*p+1, 4*p, 4*p+1, 4*p, 4*p+1, 4*p, 4*p+1, \
	4*p+2, 4*p+3, 4*p+2, 4*p+3, 4*p+2, 4*p+3, 4*p+2, 4*p+3, \
	4*p+2, 4*p+3, 4*p+2, 4*p+3, 4*p+2, 4*p+3, 4*p+2, 4*p+3 }
	P(0), P(1), P(2), P(3),
#undef P
};

AVX2_FN static inline __m256i bcast_scale(__m256i sc, int k)
{
	return _mm256_shuffle_epi8(sc, _mm256_load_si256((const __m256i *)bcast16[k]));
}

/* 16 int8 sub-block scales as two int16 vectors, each 8 scales in both
 * halves: half[0] for sub-blocks 0..7, half[1] for 8..15. */
AVX2_FN static inline void scales16(__m128i sc8, __m256i half[2])
{
	__m256i s = _mm256_cvtepi8_epi16(sc8);

	half[0] = _mm256_permute2x128_si256(s, s, 0x00);
	half[1] = _mm256_permute2x128_si256(s, s, 0x11);
}

/* Scales for values 32p..32p+31 (p = 0..7) of 16-value sub-blocks. */
AVX2_FN static inline __m256i pair_scales(const __m256i half[2], int p)
{
	return _mm256_shuffle_epi8(half[p / 4], _mm256_load_si256((const __m256i *)pair16[p % 4]));
}

/* d and dmin (two halves at p) times the activation scale: lanes 0, 1. */
AVX2_FN static inline __m128 two_scales(const uint16_t *p, float dy)
{
	__m128i h = _mm_cvtsi32_si128((int)avx2_load_u32((const uint8_t *)p));
	return _mm_mul_ps(_mm_cvtph_ps(h), _mm_set1_ps(dy));
}

/* The 8 scales (int16, low half) and 8 minimums (high half) of a
 * Q4_K/Q5_K block, from its 12 packed bytes. Reads 16 bytes: the block
 * goes on after them. */
AVX2_FN static inline __m256i k4_scales_mins(const uint8_t *packed)
{
	const __m128i v = _mm_loadu_si128((const __m128i *)packed);		/* u0 u1 u2 . */
	__m128i a = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 1, 0));		/* u0 u1 u2 u2 */
	a = _mm_srlv_epi32(a, _mm_setr_epi32(0, 0, 0, 4));			/* .. u2>>4 */
	__m128i b = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 1, 0));		/* u0 u1 u0 u1 */
	/* scales 0-3, mins 0-3: the low 6 bits; scales 4-7, mins 4-7: a
	 * nibble of u2 plus the top 2 bits of u0/u1 */
	__m128i lo = _mm_and_si128(a, _mm_set1_epi8(0x3F));
	__m128i hi = _mm_or_si128(_mm_and_si128(a, _mm_set1_epi8(0x0F)),
				  _mm_and_si128(_mm_srli_epi32(b, 2), _mm_set1_epi8(0x30)));
	__m128i r = _mm_blend_epi32(lo, hi, 0xC);				/* s0-3 m0-3 s4-7 m4-7 */
	return _mm256_cvtepu8_epi16(_mm_shuffle_epi32(r, _MM_SHUFFLE(3, 1, 2, 0)));
}

/* Σ over 8 sub-blocks of 32 of minimum × activation sum, as 4 int32. */
AVX2_FN static inline __m128i k4_min_sums(__m256i sm, const struct block_q8_K *y)
{
	const __m128i bs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)y->bsums),
					  _mm_loadu_si128((const __m128i *)(y->bsums + 8)));
	return _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), bs);
}

/* acc64 += acc − accm (float lanes widened) */
AVX2_FN static inline __m256d flush_k(__m256d sum, __m256 acc, __m128 accm)
{
	return _mm256_sub_pd(avx2_add_wide(sum, acc), _mm256_cvtps_pd(accm));
}

AVX2_FN float quant_avx2_dot_q8_q4_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q4_K *b = w;
	const struct block_q8_K *y = xq;
	const __m256i low = _mm256_set1_epi8(0x0F);
	__m256d sum = _mm256_setzero_pd();

	for (int64_t i = 0; i < nb;) {
		__m256 acc = _mm256_setzero_ps();
		__m128 accm = _mm_setzero_ps();
		for (const int64_t end = nb - i > SB_GROUP ? i + SB_GROUP : nb; i < end; i++, b++, y++) {
			const __m256i sm = k4_scales_mins(b->scales);
			const __m256i sc = _mm256_permute2x128_si256(sm, sm, 0x00);
			const __m128i pm = k4_min_sums(sm, y);
			__m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 4
			for (int j = 0; j < 4; j++) {
				const __m256i q = load32(b->qs + 32 * j);
				__m256i pl = _mm256_maddubs_epi16(_mm256_and_si256(q, low), load32(y->qs + 64 * j));
				__m256i ph = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low),
								  load32(y->qs + 64 * j + 32));
				isum = _mm256_add_epi32(isum, _mm256_madd_epi16(bcast_scale(sc, 2 * j), pl));
				isum = _mm256_add_epi32(isum, _mm256_madd_epi16(bcast_scale(sc, 2 * j + 1), ph));
			}
			const __m128 dd = two_scales(&b->d, y->d);
			acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(isum), acc);
			accm = _mm_fmadd_ps(_mm_permute_ps(dd, 0x55), _mm_cvtepi32_ps(pm), accm);
		}
		sum = flush_k(sum, acc, accm);
	}
	return (float)avx2_hsum_pd(sum);
}

AVX2_FN float quant_avx2_dot_q8_q5_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q5_K *b = w;
	const struct block_q8_K *y = xq;
	const __m256i low = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10);
	__m256d sum = _mm256_setzero_pd();

	for (int64_t i = 0; i < nb;) {
		__m256 acc = _mm256_setzero_ps();
		__m128 accm = _mm_setzero_ps();
		for (const int64_t end = nb - i > SB_GROUP ? i + SB_GROUP : nb; i < end; i++, b++, y++) {
			const __m256i sm = k4_scales_mins(b->scales);
			const __m256i sc = _mm256_permute2x128_si256(sm, sm, 0x00);
			const __m128i pm = k4_min_sums(sm, y);
			__m256i qh = load32(b->qh);
			__m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 4
			for (int j = 0; j < 4; j++) {
				/* fifth bits: bit 2j of qh for the low nibbles, 2j+1 for the high */
				const __m256i q = load32(b->qs + 32 * j);
				__m256i ql = _mm256_or_si256(_mm256_and_si256(q, low),
							     _mm256_and_si256(_mm256_slli_epi16(qh, 4), bit4));
				__m256i qhi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low),
							      _mm256_and_si256(_mm256_slli_epi16(qh, 3), bit4));
				qh = _mm256_srli_epi16(qh, 2);
				__m256i pl = _mm256_maddubs_epi16(ql, load32(y->qs + 64 * j));
				__m256i ph = _mm256_maddubs_epi16(qhi, load32(y->qs + 64 * j + 32));
				isum = _mm256_add_epi32(isum, _mm256_madd_epi16(bcast_scale(sc, 2 * j), pl));
				isum = _mm256_add_epi32(isum, _mm256_madd_epi16(bcast_scale(sc, 2 * j + 1), ph));
			}
			const __m128 dd = two_scales(&b->d, y->d);
			acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(isum), acc);
			accm = _mm_fmadd_ps(_mm_permute_ps(dd, 0x55), _mm_cvtepi32_ps(pm), accm);
		}
		sum = flush_k(sum, acc, accm);
	}
	return (float)avx2_hsum_pd(sum);
}

/* Q6_K: values 0..63 enter maddubs unsigned; the −32 comes back as
 * 32·Σ scale·(sum of 16 activations). */
AVX2_FN float quant_avx2_dot_q8_q6_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q6_K *b = w;
	const struct block_q8_K *y = xq;
	const __m256i low = _mm256_set1_epi8(0x0F);
	__m256d sum = _mm256_setzero_pd();

	for (int64_t i = 0; i < nb;) {
		__m256 acc = _mm256_setzero_ps();
		for (const int64_t end = nb - i > SB_GROUP ? i + SB_GROUP : nb; i < end; i++, b++, y++) {
			const __m128i sc8 = _mm_loadu_si128((const __m128i *)b->scales);
			__m256i sc[2];
			scales16(sc8, sc);
			const __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), load32(y->bsums));
			__m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 2
			for (int half = 0; half < 2; half++) {
				const __m256i ql0 = load32(b->ql + 64 * half), ql1 = load32(b->ql + 64 * half + 32);
				const __m256i qh = load32(b->qh + 32 * half);
				/* the high 2 bits of quarter k sit at bits 2k of qh: move to bits 4-5 */
				const __m256i q[4] = {
					_mm256_or_si256(_mm256_and_si256(ql0, low),
						_mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4)),
					_mm256_or_si256(_mm256_and_si256(ql1, low),
						_mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2)),
					_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low),
						_mm256_and_si256(qh, _mm256_set1_epi8(0x30))),
					_mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low),
						_mm256_srli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8((char)0xC0)), 2)),
				};
#pragma GCC unroll 4
				for (int k = 0; k < 4; k++) {
					__m256i p = _mm256_maddubs_epi16(q[k], load32(y->qs + 128 * half + 32 * k));
					isum = _mm256_add_epi32(isum, _mm256_madd_epi16(pair_scales(sc, 4 * half + k), p));
				}
			}
			isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(off, 5));
			const float d = avx2_h2f(b->d) * y->d;
			acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
		}
		sum = avx2_add_wide(sum, acc);
	}
	return (float)avx2_hsum_pd(sum);
}

/* The 16 signed scales of a Q3_K block from its 12 packed bytes (u0 u1
 * u2 as 32-bit words): low nibbles of u0, u1, then their high nibbles,
 * each with 2 more bits from u2. Loads exactly 12 bytes: the scales are
 * near the end of the block. */
AVX2_FN static inline __m128i q3k_scales(const uint8_t *packed)
{
	__m128i v = _mm_loadl_epi64((const __m128i *)packed);			/* u0 u1 */
	__m128i u2 = _mm_set1_epi32((int)avx2_load_u32(packed + 8));
	__m128i lo = _mm_srlv_epi32(_mm_unpacklo_epi64(v, v), _mm_setr_epi32(0, 0, 4, 4));
	lo = _mm_and_si128(lo, _mm_set1_epi8(0x0F));
	__m128i hi = _mm_srlv_epi32(u2, _mm_setr_epi32(0, 2, 4, 6));
	hi = _mm_slli_epi32(_mm_and_si128(hi, _mm_set1_epi8(0x03)), 4);
	return _mm_sub_epi8(_mm_or_si128(lo, hi), _mm_set1_epi8(32));
}

/* Q3_K: q + 4 (0..7: two low bits and the hmask bit) enters maddubs
 * unsigned; the −4 comes back through the activation sums. */
AVX2_FN float quant_avx2_dot_q8_q3_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q3_K *b = w;
	const struct block_q8_K *y = xq;
	const __m256i three = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
	__m256d sum = _mm256_setzero_pd();

	for (int64_t i = 0; i < nb;) {
		__m256 acc = _mm256_setzero_ps();
		for (const int64_t end = nb - i > SB_GROUP ? i + SB_GROUP : nb; i < end; i++, b++, y++) {
			const __m128i sc8 = q3k_scales(b->scales);
			__m256i sc[2];
			scales16(sc8, sc);
			const __m256i off = _mm256_madd_epi16(_mm256_cvtepi8_epi16(sc8), load32(y->bsums));
			__m256i hm = load32(b->hmask);
			__m256i isum = _mm256_setzero_si256();
			for (int half = 0; half < 2; half++) {
				__m256i qs = load32(b->qs + 32 * half);
#pragma GCC unroll 4
				for (int s = 0; s < 4; s++) {
					__m256i q = _mm256_or_si256(_mm256_and_si256(qs, three),
								    _mm256_and_si256(_mm256_slli_epi16(hm, 2), four));
					qs = _mm256_srli_epi16(qs, 2);
					hm = _mm256_srli_epi16(hm, 1);
					__m256i p = _mm256_maddubs_epi16(q, load32(y->qs + 128 * half + 32 * s));
					isum = _mm256_add_epi32(isum, _mm256_madd_epi16(pair_scales(sc, 4 * half + s), p));
				}
			}
			isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(off, 2));
			const float d = avx2_h2f(b->d) * y->d;
			acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
		}
		sum = avx2_add_wide(sum, acc);
	}
	return (float)avx2_hsum_pd(sum);
}

/* Q2_K: 2-bit values with 4-bit scales; 4-bit minimums × activation sums. */
AVX2_FN float quant_avx2_dot_q8_q2_K(const void *w, const void *xq, int64_t nb)
{
	const struct block_q2_K *b = w;
	const struct block_q8_K *y = xq;
	const __m256i three = _mm256_set1_epi8(3);
	__m256d sum = _mm256_setzero_pd();

	for (int64_t i = 0; i < nb;) {
		__m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
		for (const int64_t end = nb - i > SB_GROUP ? i + SB_GROUP : nb; i < end; i++, b++, y++) {
			const __m128i sb = _mm_loadu_si128((const __m128i *)b->scales);
			const __m128i mn = _mm_and_si128(_mm_srli_epi16(sb, 4), _mm_set1_epi8(0x0F));
			const __m256i pm = _mm256_madd_epi16(_mm256_cvtepu8_epi16(mn), load32(y->bsums));
			__m256i sc[2];
			scales16(_mm_and_si128(sb, _mm_set1_epi8(0x0F)), sc);
			__m256i isum = _mm256_setzero_si256();
			for (int half = 0; half < 2; half++) {
				__m256i qs = load32(b->qs + 32 * half);
#pragma GCC unroll 4
				for (int s = 0; s < 4; s++) {
					__m256i q = _mm256_and_si256(qs, three);
					qs = _mm256_srli_epi16(qs, 2);
					__m256i p = _mm256_maddubs_epi16(q, load32(y->qs + 128 * half + 32 * s));
					isum = _mm256_add_epi32(isum, _mm256_madd_epi16(pair_scales(sc, 4 * half + s), p));
				}
			}
			const __m128 dd = two_scales(&b->d, y->d);
			acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(isum), acc);
			accm = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_permute_ps(dd, 0x55)),
					       _mm256_cvtepi32_ps(pm), accm);
		}
		sum = avx2_add_wide(sum, _mm256_sub_ps(acc, accm));
	}
	return (float)avx2_hsum_pd(sum);
}

/* The 8 unbiased 6-bit scales of an IQ4_XS block as int16, in both
 * 128-bit halves. */
AVX2_FN static inline __m256i iq4xs_scales(const struct block_iq4_xs *b)
{
	/* low 4 bits: nibbles of scales_l, interleaved low, high */
	__m128i l = _mm_cvtsi32_si128((int)avx2_load_u32(b->scales_l));
	__m128i lo = _mm_unpacklo_epi8(_mm_and_si128(l, _mm_set1_epi8(0x0F)),
				       _mm_and_si128(_mm_srli_epi16(l, 4), _mm_set1_epi8(0x0F)));
	/* high 2 bits: lane k of the shifted copies holds sub-block k in byte
	 * 0 and sub-block k+4 in byte 1 */
	__m128i h = _mm_srlv_epi32(_mm_set1_epi32(b->scales_h), _mm_setr_epi32(0, 2, 4, 6));
	h = _mm_and_si128(h, _mm_set1_epi8(3));
	h = _mm_shuffle_epi8(h, _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, -1, -1, -1, -1, -1, -1, -1, -1));
	__m128i s = _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(h, 4)), _mm_set1_epi8(32));
	return _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(s));
}

/* IQ4_XS: two 32-value sub-blocks per 32 bytes of nibbles; the levels are
 * signed, so maddubs takes |q| and moves q's sign onto the activation. */
AVX2_FN float quant_avx2_dot_q8_iq4_xs(const void *w, const void *xq, int64_t nb)
{
	const struct block_iq4_xs *b = w;
	const struct block_q8_K *y = xq;
	const __m256i table = avx2_iq4nl_table(), low = _mm256_set1_epi8(0x0F);
	__m256d sum = _mm256_setzero_pd();

	for (int64_t i = 0; i < nb;) {
		__m256 acc = _mm256_setzero_ps();
		for (const int64_t end = nb - i > SB_GROUP ? i + SB_GROUP : nb; i < end; i++, b++, y++) {
			const __m256i sc = iq4xs_scales(b);
			__m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 4
			for (int ib = 0; ib < 8; ib += 2) {
				const __m256i raw = load32(b->qs + 16 * ib);
				const __m256i lo = _mm256_and_si256(raw, low);
				const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low);
				/* sub-block ib: low then high nibbles of its 16 bytes */
				const __m256i q1 = _mm256_shuffle_epi8(table, _mm256_permute2x128_si256(lo, hi, 0x20));
				const __m256i q2 = _mm256_shuffle_epi8(table, _mm256_permute2x128_si256(lo, hi, 0x31));
				__m256i p1 = _mm256_maddubs_epi16(_mm256_sign_epi8(q1, q1),
								  _mm256_sign_epi8(load32(y->qs + 32 * ib), q1));
				__m256i p2 = _mm256_maddubs_epi16(_mm256_sign_epi8(q2, q2),
								  _mm256_sign_epi8(load32(y->qs + 32 * ib + 32), q2));
				isum = _mm256_add_epi32(isum, _mm256_madd_epi16(bcast_scale(sc, ib), p1));
				isum = _mm256_add_epi32(isum, _mm256_madd_epi16(bcast_scale(sc, ib + 1), p2));
			}
			const float d = avx2_h2f(b->d) * y->d;
			acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
		}
		sum = avx2_add_wide(sum, acc);
	}
	return (float)avx2_hsum_pd(sum);
}
#endif
