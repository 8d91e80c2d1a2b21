// The GGUF block formats on the device. Every block is cut into NP
// "pieces" of a few bytes so that consecutive lanes of a warp read
// consecutive bytes (coalesced). The values of a piece form NRUN runs of 4
// consecutive values, run r starting at run_start(i, r) inside the block,
// so the matching activations are float4 loads. piece<T>(block, i, f)
// calls f(k, value) for value k%4 of run k/4.
//
// Values are computed with explicit round-to-nearest operations in the
// order the reference dequantizers use ((d*scale)*q - dmin*m), so the
// device dequantization is bit-exact with ggml (tests check it against the
// fixtures); a dot product then only adds an fma per value.
//
// Float types are cut into pseudo-blocks of 4 values so that one code path
// serves every type (rows must hold a multiple of 4 values).
#ifndef GLM_CUDA_QUANT_DEV_CUH
#define GLM_CUDA_QUANT_DEV_CUH

#include "cuda/common.cuh"

// 32-bit word from a 2-byte aligned address (blocks of 18, 22, 34, 110,
// 210 bytes leave their fields only 2-byte aligned).
static __device__ __forceinline__ uint32_t ld32a2(const uint8_t *p)
{
	const uint16_t *q = (const uint16_t *)p;
	return (uint32_t)q[0] | ((uint32_t)q[1] << 16);
}
static __device__ __forceinline__ uint32_t ld32a4(const uint8_t *p) { return *(const uint32_t *)p; }
static __device__ __forceinline__ float ldh(const uint8_t *p) { return h2f(*(const uint16_t *)p); }
static __device__ __forceinline__ uint32_t byte_of(uint32_t w, int e) { return (w >> (8 * e)) & 0xFF; }
// 4 bits (b0..b3 of v) to bit 0 of bytes 0..3 (the shifted copies never overlap)
static __device__ __forceinline__ uint32_t spread4(uint32_t v) { return ((v & 0xF) * 0x00204081u) & 0x01010101u; }

__device__ __constant__ static const int8_t kvalues_iq4nl[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

template <int T> struct qt;

// ---- float types: pseudo-blocks of 4 values, one piece each
template <> struct qt<GGML_TYPE_F32> {
	enum { QK = 4, BB = 16, NP = 1, NRUN = 1 };
	static __device__ __forceinline__ int run_start(int, int) { return 0; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int, F &&f)
	{
		float4 v = *(const float4 *)b;
		f(0, v.x); f(1, v.y); f(2, v.z); f(3, v.w);
	}
};
template <> struct qt<GGML_TYPE_F16> {
	enum { QK = 4, BB = 8, NP = 1, NRUN = 1 };
	static __device__ __forceinline__ int run_start(int, int) { return 0; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int, F &&f)
	{
		uint2 v = *(const uint2 *)b;
		f(0, h2f(v.x & 0xFFFF)); f(1, h2f(v.x >> 16)); f(2, h2f(v.y & 0xFFFF)); f(3, h2f(v.y >> 16));
	}
};
template <> struct qt<GGML_TYPE_BF16> {
	enum { QK = 4, BB = 8, NP = 1, NRUN = 1 };
	static __device__ __forceinline__ int run_start(int, int) { return 0; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int, F &&f)
	{
		uint2 v = *(const uint2 *)b;
		f(0, bf2f(v.x & 0xFFFF)); f(1, bf2f(v.x >> 16)); f(2, bf2f(v.y & 0xFFFF)); f(3, bf2f(v.y >> 16));
	}
};

// ---- 32-value blocks: 4 pieces of 4 quant bytes (8 values), Q8_0 8 pieces of 4
template <> struct qt<GGML_TYPE_Q4_0> {
	enum { QK = 32, BB = 18, NP = 4, NRUN = 2 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 4 * i + 16 * r; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b);
		uint32_t w = ld32a2(b + 2 + 4 * i);
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int q = byte_of(w, e);
			f(e, __fmul_rn(d, (float)((q & 0xF) - 8)));
			f(4 + e, __fmul_rn(d, (float)((q >> 4) - 8)));
		}
	}
};
template <> struct qt<GGML_TYPE_Q4_1> {
	enum { QK = 32, BB = 20, NP = 4, NRUN = 2 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 4 * i + 16 * r; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b), m = ldh(b + 2);
		uint32_t w = ld32a4(b + 4 + 4 * i);
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int q = byte_of(w, e);
			f(e, __fadd_rn(__fmul_rn(d, (float)(q & 0xF)), m));
			f(4 + e, __fadd_rn(__fmul_rn(d, (float)(q >> 4)), m));
		}
	}
};
template <> struct qt<GGML_TYPE_Q5_0> {
	enum { QK = 32, BB = 22, NP = 4, NRUN = 2 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 4 * i + 16 * r; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b);
		uint32_t qh = ld32a2(b + 2);
		uint32_t w = ld32a2(b + 6 + 4 * i);
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int j = 4 * i + e, q = byte_of(w, e);
			int lo = (q & 0xF) | (((qh >> j) & 1) << 4);
			int hi = (q >> 4) | (((qh >> (j + 16)) & 1) << 4);
			f(e, __fmul_rn(d, (float)(lo - 16)));
			f(4 + e, __fmul_rn(d, (float)(hi - 16)));
		}
	}
};
template <> struct qt<GGML_TYPE_Q5_1> {
	enum { QK = 32, BB = 24, NP = 4, NRUN = 2 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 4 * i + 16 * r; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b), m = ldh(b + 2);
		uint32_t qh = ld32a4(b + 4);
		uint32_t w = ld32a4(b + 8 + 4 * i);
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int j = 4 * i + e, q = byte_of(w, e);
			int lo = (q & 0xF) | (((qh >> j) & 1) << 4);
			int hi = (q >> 4) | (((qh >> (j + 16)) & 1) << 4);
			f(e, __fadd_rn(__fmul_rn(d, (float)lo), m));
			f(4 + e, __fadd_rn(__fmul_rn(d, (float)hi), m));
		}
	}
};
template <> struct qt<GGML_TYPE_Q8_0> {
	enum { QK = 32, BB = 34, NP = 8, NRUN = 1 };
	static __device__ __forceinline__ int run_start(int i, int) { return 4 * i; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b);
		uint32_t w = ld32a2(b + 2 + 4 * i);
#pragma unroll
		for (int e = 0; e < 4; e++)
			f(e, __fmul_rn(d, (float)(int8_t)byte_of(w, e)));
	}
};
template <> struct qt<GGML_TYPE_IQ4_NL> {
	enum { QK = 32, BB = 18, NP = 4, NRUN = 2 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 4 * i + 16 * r; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b);
		uint32_t w = ld32a2(b + 2 + 4 * i);
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int q = byte_of(w, e);
			f(e, __fmul_rn(d, (float)kvalues_iq4nl[q & 0xF]));
			f(4 + e, __fmul_rn(d, (float)kvalues_iq4nl[q >> 4]));
		}
	}
};

// ---- 256-value super-blocks
// Q2_K: scales[16] qs[64] d dmin. Value 128h + 32s + l sits in bits 2s of qs[32h + l].
template <> struct qt<GGML_TYPE_Q2_K> {
	enum { QK = 256, BB = 84, NP = 16, NRUN = 4 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 128 * (i >> 3) + 32 * r + (i & 7) * 4; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b + 80), dmin = ldh(b + 82);
		int h = i >> 3, l0 = (i & 7) * 4;
		uint32_t w = ld32a4(b + 16 + 32 * h + l0);
#pragma unroll
		for (int s = 0; s < 4; s++) {
			int sc = b[8 * h + 2 * s + (l0 >> 4)];
			float dl = __fmul_rn(d, (float)(sc & 0xF)), ml = __fmul_rn(dmin, (float)(sc >> 4));
#pragma unroll
			for (int e = 0; e < 4; e++) {
				int q = (byte_of(w, e) >> (2 * s)) & 3;
				f(4 * s + e, __fsub_rn(__fmul_rn(dl, (float)q), ml));
			}
		}
	}
};
// Q3_K: hmask[32] qs[64] scales[12] d. Low 2 bits as Q2_K; the high bit of
// value 128h + 32s + l is bit 4h+s of hmask[l] (clear means minus 4).
template <> struct qt<GGML_TYPE_Q3_K> {
	enum { QK = 256, BB = 110, NP = 16, NRUN = 4 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 128 * (i >> 3) + 32 * r + (i & 7) * 4; }
	static __device__ __forceinline__ int scale(const uint8_t *sc, int k)
	{
		int lo = k < 8 ? (sc[k] & 0xF) : (sc[k - 8] >> 4);
		int hi = (sc[8 + (k & 3)] >> (2 * (k >> 2))) & 3;
		return (lo | (hi << 4)) - 32;
	}
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b + 108);
		int h = i >> 3, l0 = (i & 7) * 4;
		uint32_t w = ld32a2(b + 32 + 32 * h + l0);
		uint32_t hm = ld32a2(b + l0);
#pragma unroll
		for (int s = 0; s < 4; s++) {
			float dl = __fmul_rn(d, (float)scale(b + 96, 8 * h + 2 * s + (l0 >> 4)));
#pragma unroll
			for (int e = 0; e < 4; e++) {
				int q = (byte_of(w, e) >> (2 * s)) & 3;
				if (!((byte_of(hm, e) >> (4 * h + s)) & 1))
					q -= 4;
				f(4 * s + e, __fmul_rn(dl, (float)q));
			}
		}
	}
};
// The 6-bit scale/min pairs of Q4_K and Q5_K, sub-block k of 8.
static __device__ __forceinline__ void k_scale_min(const uint8_t *s, int k, int *sc, int *mn)
{
	if (k < 4) {
		*sc = s[k] & 63;
		*mn = s[k + 4] & 63;
	} else {
		*sc = (s[k + 4] & 0xF) | ((s[k - 4] >> 6) << 4);
		*mn = (s[k + 4] >> 4) | ((s[k] >> 6) << 4);
	}
}
// Q4_K: d dmin scales[12] qs[128]; qs[32j + l] holds values 64j + l (low
// nibble, sub-block 2j) and 64j + 32 + l (high nibble, sub-block 2j+1).
template <> struct qt<GGML_TYPE_Q4_K> {
	enum { QK = 256, BB = 144, NP = 32, NRUN = 2 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 64 * (i >> 3) + 32 * r + (i & 7) * 4; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b), dmin = ldh(b + 2);
		int j = i >> 3, l0 = (i & 7) * 4, sc0, m0, sc1, m1;
		k_scale_min(b + 4, 2 * j, &sc0, &m0);
		k_scale_min(b + 4, 2 * j + 1, &sc1, &m1);
		float d0 = __fmul_rn(d, (float)sc0), dm0 = __fmul_rn(dmin, (float)m0);
		float d1 = __fmul_rn(d, (float)sc1), dm1 = __fmul_rn(dmin, (float)m1);
		uint32_t w = ld32a4(b + 16 + 32 * j + l0);
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int q = byte_of(w, e);
			f(e, __fsub_rn(__fmul_rn(d0, (float)(q & 0xF)), dm0));
			f(4 + e, __fsub_rn(__fmul_rn(d1, (float)(q >> 4)), dm1));
		}
	}
};
// Q5_K: d dmin scales[12] qh[32] qs[128]; as Q4_K plus bit k of qh[l] on top.
template <> struct qt<GGML_TYPE_Q5_K> {
	enum { QK = 256, BB = 176, NP = 32, NRUN = 2 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 64 * (i >> 3) + 32 * r + (i & 7) * 4; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b), dmin = ldh(b + 2);
		int j = i >> 3, l0 = (i & 7) * 4, sc0, m0, sc1, m1;
		k_scale_min(b + 4, 2 * j, &sc0, &m0);
		k_scale_min(b + 4, 2 * j + 1, &sc1, &m1);
		float d0 = __fmul_rn(d, (float)sc0), dm0 = __fmul_rn(dmin, (float)m0);
		float d1 = __fmul_rn(d, (float)sc1), dm1 = __fmul_rn(dmin, (float)m1);
		uint32_t w = ld32a4(b + 48 + 32 * j + l0);
		uint32_t hb = ld32a4(b + 16 + l0);
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int q = byte_of(w, e), h = byte_of(hb, e);
			int lo = (q & 0xF) | (((h >> (2 * j)) & 1) << 4);
			int hi = (q >> 4) | (((h >> (2 * j + 1)) & 1) << 4);
			f(e, __fsub_rn(__fmul_rn(d0, (float)lo), dm0));
			f(4 + e, __fsub_rn(__fmul_rn(d1, (float)hi), dm1));
		}
	}
};
// Q6_K: ql[128] qh[64] scales[16] d. In half h, ql[64h + l] and
// ql[64h + 32 + l] give the low nibbles of values 128h + {0,32,64,96} + l,
// qh[32h + l] their top two bits.
template <> struct qt<GGML_TYPE_Q6_K> {
	enum { QK = 256, BB = 210, NP = 16, NRUN = 4 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 128 * (i >> 3) + 32 * r + (i & 7) * 4; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b + 208);
		const int8_t *sc = (const int8_t *)(b + 192);
		int h = i >> 3, l0 = (i & 7) * 4;
		uint32_t wa = ld32a2(b + 64 * h + l0), wb = ld32a2(b + 64 * h + 32 + l0);
		uint32_t wh = ld32a2(b + 128 + 32 * h + l0);
		int is = 8 * h + (l0 >> 4);
		float s0 = __fmul_rn(d, (float)sc[is]), s1 = __fmul_rn(d, (float)sc[is + 2]);
		float s2 = __fmul_rn(d, (float)sc[is + 4]), s3 = __fmul_rn(d, (float)sc[is + 6]);
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int a = byte_of(wa, e), c = byte_of(wb, e), hh = byte_of(wh, e);
			f(e, __fmul_rn(s0, (float)(((a & 0xF) | ((hh & 3) << 4)) - 32)));
			f(4 + e, __fmul_rn(s1, (float)(((c & 0xF) | (((hh >> 2) & 3) << 4)) - 32)));
			f(8 + e, __fmul_rn(s2, (float)(((a >> 4) | (((hh >> 4) & 3) << 4)) - 32)));
			f(12 + e, __fmul_rn(s3, (float)(((c >> 4) | (((hh >> 6) & 3) << 4)) - 32)));
		}
	}
};
// IQ4_XS: d scales_h(u16) scales_l[4] qs[128]; sub-block ib of 32 values
// uses 6-bit scale ls, nibbles index the IQ4_NL table.
template <> struct qt<GGML_TYPE_IQ4_XS> {
	enum { QK = 256, BB = 136, NP = 32, NRUN = 2 };
	static __device__ __forceinline__ int run_start(int i, int r) { return 32 * (i >> 2) + 16 * r + (i & 3) * 4; }
	template <class F> static __device__ __forceinline__ void piece(const uint8_t *b, int i, F &&f)
	{
		float d = ldh(b);
		int ib = i >> 2, j0 = (i & 3) * 4;
		int sh = *(const uint16_t *)(b + 2);
		int ls = ((b[4 + (ib >> 1)] >> (4 * (ib & 1))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4);
		float dl = __fmul_rn(d, (float)(ls - 32));
		uint32_t w = ld32a4(b + 8 + 16 * ib + j0);
#pragma unroll
		for (int e = 0; e < 4; e++) {
			int q = byte_of(w, e);
			f(e, __fmul_rn(dl, (float)kvalues_iq4nl[q & 0xF]));
			f(4 + e, __fmul_rn(dl, (float)kvalues_iq4nl[q >> 4]));
		}
	}
};

// ---- the integer form of the pieces (decode GEMV with int8 activations):
// qpiece<T>(block, i, q, a, c) gives for run r four quant values packed as
// signed bytes in q[r] and the run's affine map: value = a[r]*q + c[r].
// Types without it (the float types) have HAS_Q == 0.
template <int T> struct qi { enum { HAS_Q = 0 }; };
#define QI_BEGIN(T) template <> struct qi<T> { enum { HAS_Q = 1 }; \
	static __device__ __forceinline__ void qpiece(const uint8_t *b, int i, int *q, float *a, float *c) {
#define QI_END } };

// IQ4 tables as packed bytes, then a lookup of four nibbles (one per byte)
static __device__ __forceinline__ uint32_t iq4_lookup(uint32_t n4)
{
	const uint32_t t0 = 0xBFAD9881u, t1 = 0xF6EADDCFu, t2 = 0x26190D01u, t3 = 0x71594535u;
	const uint32_t sel = (n4 & 7) | ((n4 >> 4) & 0x70) | ((n4 >> 8) & 0x700) | ((n4 >> 12) & 0x7000);
	const uint32_t lo = __byte_perm(t0, t1, sel), hi = __byte_perm(t2, t3, sel);
	const uint32_t m = ((n4 >> 3) & 0x01010101u) * 0xFFu;
	return (hi & m) | (lo & ~m);
}

QI_BEGIN(GGML_TYPE_Q4_0)
	const float d = ldh(b);
	const uint32_t w = ld32a2(b + 2 + 4 * i);
	q[0] = w & 0x0F0F0F0F; q[1] = (w >> 4) & 0x0F0F0F0F;
	a[0] = a[1] = d; c[0] = c[1] = -8.0f * d;
QI_END
QI_BEGIN(GGML_TYPE_Q4_1)
	const float d = ldh(b), m = ldh(b + 2);
	const uint32_t w = ld32a4(b + 4 + 4 * i);
	q[0] = w & 0x0F0F0F0F; q[1] = (w >> 4) & 0x0F0F0F0F;
	a[0] = a[1] = d; c[0] = c[1] = m;
QI_END
QI_BEGIN(GGML_TYPE_Q5_0)
	const float d = ldh(b);
	const uint32_t qh = ld32a2(b + 2), w = ld32a2(b + 6 + 4 * i);
	q[0] = (w & 0x0F0F0F0F) | (spread4(qh >> (4 * i)) << 4);
	q[1] = ((w >> 4) & 0x0F0F0F0F) | (spread4(qh >> (4 * i + 16)) << 4);
	a[0] = a[1] = d; c[0] = c[1] = -16.0f * d;
QI_END
QI_BEGIN(GGML_TYPE_Q5_1)
	const float d = ldh(b), m = ldh(b + 2);
	const uint32_t qh = ld32a4(b + 4), w = ld32a4(b + 8 + 4 * i);
	q[0] = (w & 0x0F0F0F0F) | (spread4(qh >> (4 * i)) << 4);
	q[1] = ((w >> 4) & 0x0F0F0F0F) | (spread4(qh >> (4 * i + 16)) << 4);
	a[0] = a[1] = d; c[0] = c[1] = m;
QI_END
QI_BEGIN(GGML_TYPE_Q8_0)
	q[0] = ld32a2(b + 2 + 4 * i);
	a[0] = ldh(b); c[0] = 0.0f;
QI_END
QI_BEGIN(GGML_TYPE_IQ4_NL)
	const float d = ldh(b);
	const uint32_t w = ld32a2(b + 2 + 4 * i);
	q[0] = iq4_lookup(w & 0x0F0F0F0F); q[1] = iq4_lookup((w >> 4) & 0x0F0F0F0F);
	a[0] = a[1] = d; c[0] = c[1] = 0.0f;
QI_END
QI_BEGIN(GGML_TYPE_Q2_K)
	const float d = ldh(b + 80), dmin = ldh(b + 82);
	const int h = i >> 3, l0 = (i & 7) * 4;
	const uint32_t w = ld32a4(b + 16 + 32 * h + l0);
#pragma unroll
	for (int s = 0; s < 4; s++) {
		const int sc = b[8 * h + 2 * s + (l0 >> 4)];
		q[s] = (w >> (2 * s)) & 0x03030303;
		a[s] = d * (float)(sc & 0xF);
		c[s] = -dmin * (float)(sc >> 4);
	}
QI_END
QI_BEGIN(GGML_TYPE_Q3_K)
	const float d = ldh(b + 108);
	const int h = i >> 3, l0 = (i & 7) * 4;
	const uint32_t w = ld32a2(b + 32 + 32 * h + l0), hm = ld32a2(b + l0);
#pragma unroll
	for (int s = 0; s < 4; s++) {
		const uint32_t lo = (w >> (2 * s)) & 0x03030303, hb = (~hm >> (4 * h + s)) & 0x01010101;
		q[s] = __vsub4(lo, hb << 2);
		a[s] = d * (float)qt<GGML_TYPE_Q3_K>::scale(b + 96, 8 * h + 2 * s + (l0 >> 4));
		c[s] = 0.0f;
	}
QI_END
QI_BEGIN(GGML_TYPE_Q4_K)
	const float d = ldh(b), dmin = ldh(b + 2);
	const int j = i >> 3, l0 = (i & 7) * 4;
	int sc0, m0, sc1, m1;
	k_scale_min(b + 4, 2 * j, &sc0, &m0);
	k_scale_min(b + 4, 2 * j + 1, &sc1, &m1);
	const uint32_t w = ld32a4(b + 16 + 32 * j + l0);
	q[0] = w & 0x0F0F0F0F; q[1] = (w >> 4) & 0x0F0F0F0F;
	a[0] = d * (float)sc0; c[0] = -dmin * (float)m0;
	a[1] = d * (float)sc1; c[1] = -dmin * (float)m1;
QI_END
QI_BEGIN(GGML_TYPE_Q5_K)
	const float d = ldh(b), dmin = ldh(b + 2);
	const int j = i >> 3, l0 = (i & 7) * 4;
	int sc0, m0, sc1, m1;
	k_scale_min(b + 4, 2 * j, &sc0, &m0);
	k_scale_min(b + 4, 2 * j + 1, &sc1, &m1);
	const uint32_t w = ld32a4(b + 48 + 32 * j + l0), hb = ld32a4(b + 16 + l0);
	q[0] = (w & 0x0F0F0F0F) | (((hb >> (2 * j)) & 0x01010101) << 4);
	q[1] = ((w >> 4) & 0x0F0F0F0F) | (((hb >> (2 * j + 1)) & 0x01010101) << 4);
	a[0] = d * (float)sc0; c[0] = -dmin * (float)m0;
	a[1] = d * (float)sc1; c[1] = -dmin * (float)m1;
QI_END
QI_BEGIN(GGML_TYPE_Q6_K)
	const float d = ldh(b + 208);
	const int8_t *sc = (const int8_t *)(b + 192);
	const int h = i >> 3, l0 = (i & 7) * 4, is = 8 * h + (l0 >> 4);
	const uint32_t wa = ld32a2(b + 64 * h + l0), wb = ld32a2(b + 64 * h + 32 + l0);
	const uint32_t wh = ld32a2(b + 128 + 32 * h + l0);
	q[0] = __vsub4((wa & 0x0F0F0F0F) | ((wh & 0x03030303) << 4), 0x20202020);
	q[1] = __vsub4((wb & 0x0F0F0F0F) | (((wh >> 2) & 0x03030303) << 4), 0x20202020);
	q[2] = __vsub4(((wa >> 4) & 0x0F0F0F0F) | (((wh >> 4) & 0x03030303) << 4), 0x20202020);
	q[3] = __vsub4(((wb >> 4) & 0x0F0F0F0F) | (((wh >> 6) & 0x03030303) << 4), 0x20202020);
#pragma unroll
	for (int r = 0; r < 4; r++) {
		a[r] = d * (float)sc[is + 2 * r];
		c[r] = 0.0f;
	}
QI_END
QI_BEGIN(GGML_TYPE_IQ4_XS)
	const float d = ldh(b);
	const int ib = i >> 2, j0 = (i & 3) * 4;
	const int sh = *(const uint16_t *)(b + 2);
	const int ls = ((b[4 + (ib >> 1)] >> (4 * (ib & 1))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4);
	const uint32_t w = ld32a4(b + 8 + 16 * ib + j0);
	q[0] = iq4_lookup(w & 0x0F0F0F0F); q[1] = iq4_lookup((w >> 4) & 0x0F0F0F0F);
	a[0] = a[1] = d * (float)(ls - 32); c[0] = c[1] = 0.0f;
QI_END
#undef QI_BEGIN
#undef QI_END

// Call F::template run<T>(args...) for the runtime type t; false when the
// type has no device kernels.
#define GLM_QUANT_TYPES(X) \
	X(GGML_TYPE_F32) X(GGML_TYPE_F16) X(GGML_TYPE_BF16) X(GGML_TYPE_Q4_0) X(GGML_TYPE_Q4_1) \
	X(GGML_TYPE_Q5_0) X(GGML_TYPE_Q5_1) X(GGML_TYPE_Q8_0) X(GGML_TYPE_Q2_K) X(GGML_TYPE_Q3_K) \
	X(GGML_TYPE_Q4_K) X(GGML_TYPE_Q5_K) X(GGML_TYPE_Q6_K) X(GGML_TYPE_IQ4_NL) X(GGML_TYPE_IQ4_XS)

static inline bool cuda_type_supported(int t)
{
	switch (t) {
#define CASE_(T) case T:
	GLM_QUANT_TYPES(CASE_)
#undef CASE_
		return true;
	default:
		return false;
	}
}

#endif
