// The weight formats as the fast decode GEMV (gemv_fast.cu) reads them:
// per type a "piece" of a block (the words one lane loads), how to load it
// (all loads first, as coherent asm loads), and its dot product with the
// matching activations, with the block and sub-block scales applied once
// per run of values rather than per value. See gemv_fast.cu for why.
#ifndef GLM_CUDA_QUANT_FAST_CUH
#define GLM_CUDA_QUANT_FAST_CUH

#include "cuda/quant_dev.cuh"

// Weight loads as coherent ld.global in asm: ptxas may re-issue a
// non-coherent (ld.global.nc / __ldg) load next to its use to save
// registers, which it did, and then few bytes were in flight; a coherent
// load before a __syncwarp() cannot be moved past it.
static __device__ __forceinline__ uint4 wld16(const uint8_t *p)
{
	uint4 v;
	asm volatile("ld.global.v4.u32 {%0,%1,%2,%3}, [%4];"
	             : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
	return v;
}
static __device__ __forceinline__ uint2 wld8(const uint8_t *p)
{
	uint2 v;
	asm volatile("ld.global.v2.u32 {%0,%1}, [%2];" : "=r"(v.x), "=r"(v.y) : "l"(p));
	return v;
}
static __device__ __forceinline__ uint16_t wld2(const uint8_t *p)
{
	uint16_t v;
	asm volatile("ld.global.u16 %0, [%1];" : "=h"(v) : "l"(p));
	return v;
}
// a 32-bit word from a 2-byte aligned address
static __device__ __forceinline__ uint32_t wld4a2(const uint8_t *p)
{
	return (uint32_t)wld2(p) | ((uint32_t)wld2(p + 2) << 16);
}

// byte e of w as a float, exactly: 2^23 + byte built by a permute, minus
// 2^23 + off (off folds a quant offset into the same subtraction)
template <int E>
static __device__ __forceinline__ float bytef(uint32_t w, float off)
{
	return __int_as_float(__byte_perm(w, 0x4B000000u, 0x7540u | E)) - off;
}

// Σ of 4 quants (bytes of v, minus off) times the 4 values of x
static __device__ __forceinline__ float dot4(uint32_t v, const float4 &x, float off)
{
	float s = bytef<0>(v, off) * x.x;
	s = fmaf(bytef<1>(v, off), x.y, s);
	s = fmaf(bytef<2>(v, off), x.z, s);
	return fmaf(bytef<3>(v, off), x.w, s);
}
static __device__ __forceinline__ float sum4(const float4 &x) { return (x.x + x.y) + (x.z + x.w); }

// Per type: the raw words of a piece (load), their dot product with the
// piece's x runs (dot), the alignment the loads need, and the most pieces
// per lane (UMAX, UMAX_GLU with two matrices) that fit in registers
// without spilling (ptxas -v).
template <int T> struct fq;

// the block and min scales of sub-blocks 2j and 2j + 1 of a K-quant block
// (header h: d, dmin, 12 bytes of packed 6-bit scales)
static __device__ __forceinline__ void k_scales(const uint4 &h, int j, float *d0, float *m0, float *d1, float *m1)
{
	const float d = h2f((uint16_t)(h.x & 0xFFFF)), dmin = h2f((uint16_t)(h.x >> 16));
	// scale bytes 0-3 in h.y, 4-7 in h.z, 8-11 in h.w; sub-blocks 2j, 2j + 1
	const int sh = 16 * (j & 1);
	const uint32_t a = (h.y >> sh) & 0xFFFF, b = (h.z >> sh) & 0xFFFF, c = (h.w >> sh) & 0xFFFF;
	uint32_t sc, mn;   // two 6-bit values each, one per byte
	if (j < 2) {
		sc = a & 0x3F3F;
		mn = b & 0x3F3F;
	} else {
		sc = (c & 0x0F0F) | ((a >> 2) & 0x3030);
		mn = ((c >> 4) & 0x0F0F) | ((b >> 2) & 0x3030);
	}
	*d0 = d * (float)(sc & 0xFF);
	*d1 = d * (float)(sc >> 8);
	*m0 = dmin * (float)(mn & 0xFF);
	*m1 = dmin * (float)(mn >> 8);
}

// Q4_K and Q5_K pieces are 16 values: 8 of sub-block 2j and 8 of 2j + 1
// (j = i / 4), so one scale decode serves 16 values; x runs 0, 1 (low
// nibbles) and 2, 3 (high nibbles).
static __device__ __forceinline__ int k_run_start(int i, int r)
{
	return 64 * (i >> 2) + 8 * (i & 3) + 32 * (r >> 1) + 4 * (r & 1);
}

template <> struct fq<GGML_TYPE_Q4_K> {
	// UMAX_GLU 4: a whole 2048-wide expert gate/up row pair per warp (128
	// registers, no spill), more bytes in flight than 2 with 80 (docs/PERF.md
	// step 10: tg128 +3.4%)
	enum { ALIGN = 16, UMAX = 5, UMAX_GLU = 4, NP = 16, NRUN = 4 };
	static __device__ __forceinline__ int run_start(int i, int r) { return k_run_start(i, r); }
	struct raw {
		uint4 h;
		uint2 q;
	};
	static __device__ __forceinline__ void load(const uint8_t *b, int i, raw &r)
	{
		r.h = wld16(b);
		r.q = wld8(b + 16 + 32 * (i >> 2) + 8 * (i & 3));
	}
	static __device__ __forceinline__ float dot(const raw &r, int i, const float4 *x)
	{
		float d0, m0, d1, m1;
		k_scales(r.h, i >> 2, &d0, &m0, &d1, &m1);
		const float s0 = dot4(r.q.x & 0x0F0F0F0F, x[0], 8388608.0f) + dot4(r.q.y & 0x0F0F0F0F, x[1], 8388608.0f);
		const float s1 = dot4((r.q.x >> 4) & 0x0F0F0F0F, x[2], 8388608.0f) +
		                 dot4((r.q.y >> 4) & 0x0F0F0F0F, x[3], 8388608.0f);
		const float x0 = sum4(x[0]) + sum4(x[1]), x1 = sum4(x[2]) + sum4(x[3]);
		return fmaf(d0, s0, fmaf(d1, s1, -fmaf(m0, x0, m1 * x1)));
	}
};

template <> struct fq<GGML_TYPE_Q5_K> {
	enum { ALIGN = 16, UMAX = 4, UMAX_GLU = 2, NP = 16, NRUN = 4 };
	static __device__ __forceinline__ int run_start(int i, int r) { return k_run_start(i, r); }
	struct raw {
		uint4 h;
		uint2 q, qh;
	};
	static __device__ __forceinline__ void load(const uint8_t *b, int i, raw &r)
	{
		r.h = wld16(b);
		r.qh = wld8(b + 16 + 8 * (i & 3));
		r.q = wld8(b + 48 + 32 * (i >> 2) + 8 * (i & 3));
	}
	static __device__ __forceinline__ float dot(const raw &r, int i, const float4 *x)
	{
		const int j = i >> 2;
		float d0, m0, d1, m1;
		k_scales(r.h, j, &d0, &m0, &d1, &m1);
		const uint32_t l0 = (r.q.x & 0x0F0F0F0F) | (((r.qh.x >> (2 * j)) & 0x01010101) << 4);
		const uint32_t l1 = (r.q.y & 0x0F0F0F0F) | (((r.qh.y >> (2 * j)) & 0x01010101) << 4);
		const uint32_t h0 = ((r.q.x >> 4) & 0x0F0F0F0F) | (((r.qh.x >> (2 * j + 1)) & 0x01010101) << 4);
		const uint32_t h1 = ((r.q.y >> 4) & 0x0F0F0F0F) | (((r.qh.y >> (2 * j + 1)) & 0x01010101) << 4);
		const float s0 = dot4(l0, x[0], 8388608.0f) + dot4(l1, x[1], 8388608.0f);
		const float s1 = dot4(h0, x[2], 8388608.0f) + dot4(h1, x[3], 8388608.0f);
		const float x0 = sum4(x[0]) + sum4(x[1]), x1 = sum4(x[2]) + sum4(x[3]);
		return fmaf(d0, s0, fmaf(d1, s1, -fmaf(m0, x0, m1 * x1)));
	}
};

// f32 rows (the router): pieces of 4 values, one 16-byte load each
template <> struct fq<GGML_TYPE_F32> {
	enum { ALIGN = 16, UMAX = 8, UMAX_GLU = 4, NP = 1, NRUN = 1 };
	static __device__ __forceinline__ int run_start(int, int) { return 0; }
	struct raw {
		uint4 w;
	};
	static __device__ __forceinline__ void load(const uint8_t *b, int, raw &r) { r.w = wld16(b); }
	static __device__ __forceinline__ float dot(const raw &r, int, const float4 *x)
	{
		float s = __uint_as_float(r.w.x) * x[0].x;
		s = fmaf(__uint_as_float(r.w.y), x[0].y, s);
		s = fmaf(__uint_as_float(r.w.z), x[0].z, s);
		return fmaf(__uint_as_float(r.w.w), x[0].w, s);
	}
};

// Q6_K (210-byte blocks: fields only 2-byte aligned): piece i covers
// half h = i / 8, 4 values in each of x runs 0-3.
template <> struct fq<GGML_TYPE_Q6_K> {
	enum { ALIGN = 2, UMAX = 5, UMAX_GLU = 2, NP = qt<GGML_TYPE_Q6_K>::NP, NRUN = qt<GGML_TYPE_Q6_K>::NRUN };
	static __device__ __forceinline__ int run_start(int i, int r) { return qt<GGML_TYPE_Q6_K>::run_start(i, r); }
	struct raw {
		uint32_t a, c, hb, sc01, sc23;
		uint16_t d;
	};
	static __device__ __forceinline__ void load(const uint8_t *b, int i, raw &r)
	{
		const int h = i >> 3, l0 = 4 * (i & 7);
		r.a = wld4a2(b + 64 * h + l0);
		r.c = wld4a2(b + 64 * h + 32 + l0);
		r.hb = wld4a2(b + 128 + 32 * h + l0);
		// scales 8h .. 8h + 7; this piece uses (l0 / 16) + 0, 2, 4, 6
		r.sc01 = wld4a2(b + 192 + 8 * h);
		r.sc23 = wld4a2(b + 196 + 8 * h);
		r.d = wld2(b + 208);
	}
	static __device__ __forceinline__ float dot(const raw &r, int i, const float4 *x)
	{
		const int o = 8 * ((i & 7) >> 2);   // 0 or 8: bit offset of scale (l0 / 16)
		const float s0 = (float)(int8_t)(r.sc01 >> o), s1 = (float)(int8_t)(r.sc01 >> (16 + o));
		const float s2 = (float)(int8_t)(r.sc23 >> o), s3 = (float)(int8_t)(r.sc23 >> (16 + o));
		const uint32_t v0 = (r.a & 0x0F0F0F0F) | ((r.hb & 0x03030303) << 4);
		const uint32_t v1 = (r.c & 0x0F0F0F0F) | (((r.hb >> 2) & 0x03030303) << 4);
		const uint32_t v2 = ((r.a >> 4) & 0x0F0F0F0F) | (((r.hb >> 4) & 0x03030303) << 4);
		const uint32_t v3 = ((r.c >> 4) & 0x0F0F0F0F) | (((r.hb >> 6) & 0x03030303) << 4);
		// quants are 6-bit minus 32: 2^23 + 32 folded into the subtraction
		const float off = 8388640.0f;
		float s = s0 * dot4(v0, x[0], off);
		s = fmaf(s1, dot4(v1, x[1], off), s);
		s = fmaf(s2, dot4(v2, x[2], off), s);
		s = fmaf(s3, dot4(v3, x[3], off), s);
		return h2f(r.d) * s;
	}
};

template <> struct fq<GGML_TYPE_Q8_0> {
	enum { ALIGN = 2, UMAX = 8, UMAX_GLU = 4, NP = qt<GGML_TYPE_Q8_0>::NP, NRUN = qt<GGML_TYPE_Q8_0>::NRUN };
	static __device__ __forceinline__ int run_start(int i, int r) { return qt<GGML_TYPE_Q8_0>::run_start(i, r); }
	struct raw {
		uint32_t q;
		uint16_t d;
	};
	static __device__ __forceinline__ void load(const uint8_t *b, int i, raw &r)
	{
		r.d = wld2(b);
		r.q = wld4a2(b + 2 + 4 * i);
	}
	static __device__ __forceinline__ float dot(const raw &r, int, const float4 *x)
	{
		// signed bytes: flip the sign bit, 2^23 + 128 folded into the subtraction
		return h2f(r.d) * dot4(r.q ^ 0x80808080u, x[0], 8388736.0f);
	}
};

#endif
