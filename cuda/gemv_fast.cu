// The decode GEMV for the weight types GLM files are made of (Q4_K, Q5_K,
// Q6_K, Q8_0, and the f32 router), when a row's pieces split evenly over the
// lanes (or half-warps), optionally with the RMSNorm of its input folded in.
//
// ncu on the H200 showed the general kernel (gemv.cu) at 0.2-0.9 TB/s: a
// lane loaded a few bytes, decoded them and only then loaded the next
// piece, so too few bytes were in flight, and every value was dequantized
// exactly (convert, multiply, subtract) before its fma. Here:
// - each warp takes U pieces per lane of one row (a compile-time count, no
//   bounds checks), so every weight load of the warp is issued before the
//   first is used; a row is split over wpr warps that add their parts in
//   shared memory in a fixed order (results are the same on every run);
// - a K-quant block's header (d, dmin, 12 scale bytes) is one 16-byte load
//   that all lanes of the block share, and a lane's piece is 16 values, so
//   one scale decode serves 16 values;
// - quants become floats by the exponent trick (2^23 + q is exact, so one
//   byte permute and one subtraction) and the block and sub-block scales
//   multiply a run's dot product once, not every value;
// - in sum mode (the weighted down projection) the warps of a row take
//   different experts, so the chosen experts are read in parallel;
// - rows of 48 pieces (k_b's 192 columns of Q8_0, q_b's 768 of Q4_K) take
//   a half-warp each.
// Measured on the H200 (docs/PERF.md step 7): expert gate/up 34 -> 17.7 µs,
// down 19 -> 13.8, decode 162 -> 243 tok/s with the attention of step 7b.
// The sums are the reference's up to rounding order (tests: rel err 1e-5).
#include "cuda/quant_dev.cuh"
#include "cuda/ops.cuh"

#define FAST_MAX_WARPS 16   // warps of one row (sum mode: experts × chunks)
#define FAST_WARPS 8        // warps per block when a row needs fewer

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
	enum { ALIGN = 16, UMAX = 5, UMAX_GLU = 2, NP = 16, NRUN = 4 };
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

// Σ over the LPR lanes of a row (LPR 16: each half-warp holds its own row)
template <int LPR>
static __device__ __forceinline__ float row_sum(float v)
{
#pragma unroll
	for (int o = LPR / 2; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

// grid: (row groups, tokens (sum) or tokens × instances); block: rpb row
// groups × wpr warps; a warp holds WARP / LPR rows (LPR lanes each). cpi:
// chunks of U pieces per lane in one instance row.
template <int T, int U, bool GLU, int LPR, bool NORM>
static __global__ void __launch_bounds__(FAST_MAX_WARPS * WARP) gemv_fast_kernel(gemv_args a, int wpr, int rpb, int cpi)
{
	pdl_begin();
	typedef fq<T> F;
	constexpr int RPW = WARP / LPR;
	__shared__ float red[FAST_MAX_WARPS][RPW][3];
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
	const int rl = warp / wpr, wr = warp % wpr, sub = lane / LPR, ln = lane % LPR;
	const int row = (blockIdx.x * rpb + rl) * RPW + sub;
	int t, j, c;
	if (a.sum) {
		t = blockIdx.y;
		j = wr / cpi;
		c = wr % cpi;
	} else {
		t = blockIdx.y / a.per_tok;
		j = blockIdx.y % a.per_tok;
		c = wr;
	}
	const int lim = !a.sum && j >= a.n_sel && a.nrows_x ? a.nrows_x : a.nrows;
	const bool valid = row < lim;

	// rows past the end read the last row (never written): the warp stays
	// converged for the barrier below
	const uint8_t *w, *wu;
	inst_rows(a, t, j, valid ? row : lim - 1, &w, &wu);
	const float *x = a.x + (int64_t)t * a.x_tok + (int64_t)j * a.x_inst;
	const int p0 = c * U * LPR + ln;
	typename F::raw rw[U], ru[GLU ? U : 1];
	// every weight load first ...
#pragma unroll
	for (int u = 0; u < U; u++) {
		const int p = p0 + u * LPR, blk = p / F::NP, pi = p % F::NP;
		F::load(w + (size_t)blk * qt<T>::BB, pi, rw[u]);
		if constexpr (GLU)
			F::load(wu + (size_t)blk * qt<T>::BB, pi, ru[u]);
	}
	// (a warp barrier orders memory: no load may sink below it, so all are
	// in flight at once; with non-coherent loads ptxas re-issued them next
	// to their use to save registers, and few bytes were in flight)
	__syncwarp();
	// ... then the arithmetic. A folded RMSNorm multiplies x by its weights
	// here and the row's Σ x² (every x once over the row's warps) scales
	// the dots at the end.
	const float *g = a.norm_w;   // NORM: not NULL
	float acc = 0.0f, accu = 0.0f, ss = 0.0f;
#pragma unroll
	for (int u = 0; u < U; u++) {
		const int p = p0 + u * LPR, blk = p / F::NP, pi = p % F::NP;
		const float *xb = x + blk * qt<T>::QK;
		float4 xr[F::NRUN];
#pragma unroll
		for (int r = 0; r < F::NRUN; r++)
			xr[r] = __ldg((const float4 *)(xb + F::run_start(pi, r)));
		if constexpr (NORM) {
#pragma unroll
			for (int r = 0; r < F::NRUN; r++) {
				const float4 gr = __ldg((const float4 *)(g + blk * qt<T>::QK + F::run_start(pi, r)));
				ss = fmaf(xr[r].x, xr[r].x, fmaf(xr[r].y, xr[r].y, fmaf(xr[r].z, xr[r].z, fmaf(xr[r].w, xr[r].w, ss))));
				xr[r] = make_float4(xr[r].x * gr.x, xr[r].y * gr.y, xr[r].z * gr.z, xr[r].w * gr.w);
			}
		}
		acc += F::dot(rw[u], pi, xr);
		if constexpr (GLU)
			accu += F::dot(ru[u], pi, xr);
	}
	if (a.sum && j < a.n_sel && a.scale)
		acc *= a.scale[t * a.n_sel + j];
	acc = row_sum<LPR>(acc);
	if constexpr (GLU)
		accu = row_sum<LPR>(accu);
	if constexpr (NORM)
		ss = row_sum<LPR>(ss);
	if (wpr > 1) {
		if (ln == 0) {
			red[warp][sub][0] = acc;
			red[warp][sub][1] = accu;
			red[warp][sub][2] = ss;
		}
		__syncthreads();
		if (wr == 0) {
			acc = accu = ss = 0.0f;
			for (int i = 0; i < wpr; i++) {
				acc += red[rl * wpr + i][sub][0];
				accu += red[rl * wpr + i][sub][1];
				ss += red[rl * wpr + i][sub][2];
			}
		}
	}
	if constexpr (NORM) {
		const float rinv = rsqrtf(ss / (float)a.ncols + a.norm_eps);
		acc *= rinv;
		accu *= rinv;
	}
	if (valid && wr == 0 && ln == 0) {
		const float out = GLU ? silu(acc) * accu : acc;
		float *y = a.y + (int64_t)t * a.y_tok + (a.sum ? 0 : (int64_t)j * a.y_inst) + row;
		*y = a.accumulate ? *y + out : out;
	}
}

// ---- the pipelined variant (option glm_cuda_options.gemv_pipe, off: not
// yet measured). The kernel above lives for one row group: a warp waits for
// its loads, computes, reduces and exits, and the ncu profile says that
// lifetime, not bytes, bounds it (1 TB/s for the expert gate/up). Here a
// block stays and walks row groups blockIdx.x, + gridDim.x, ... (the grid
// is what fits on the GPU at once), and each warp issues the loads of the
// next group before computing the current one, so its loads are in flight
// during the arithmetic; the expert id and slab pointers are resolved once
// per block. The partial sums of a row go through shared memory as above,
// double-buffered so that one barrier per group suffices. No folded norm.
template <int T, int U, bool GLU>
static __device__ __forceinline__ void load_pieces(const uint8_t *w, const uint8_t *wu, int p0, int step,
                                                   typename fq<T>::raw (&rw)[U],
                                                   typename fq<T>::raw (&ru)[GLU ? U : 1])
{
	typedef fq<T> F;
#pragma unroll
	for (int u = 0; u < U; u++) {
		const int p = p0 + u * step, blk = p / F::NP, pi = p % F::NP;
		F::load(w + (size_t)blk * qt<T>::BB, pi, rw[u]);
		if constexpr (GLU)
			F::load(wu + (size_t)blk * qt<T>::BB, pi, ru[u]);
	}
}

template <int T, int U, bool GLU>
static __device__ __forceinline__ void dot_pieces(const float *x, int p0, int step, const typename fq<T>::raw (&rw)[U],
                                                  const typename fq<T>::raw (&ru)[GLU ? U : 1], float *acc,
                                                  float *accu)
{
	typedef fq<T> F;
	float a = 0.0f, b = 0.0f;
#pragma unroll
	for (int u = 0; u < U; u++) {
		const int p = p0 + u * step, blk = p / F::NP, pi = p % F::NP;
		const float *xb = x + blk * qt<T>::QK;
		float4 xr[F::NRUN];
#pragma unroll
		for (int r = 0; r < F::NRUN; r++)
			xr[r] = __ldg((const float4 *)(xb + F::run_start(pi, r)));
		a += F::dot(rw[u], pi, xr);
		if constexpr (GLU)
			b += F::dot(ru[u], pi, xr);
	}
	*acc = a;
	*accu = b;
}

template <int T, int U, bool GLU, int LPR>
static __global__ void __launch_bounds__(FAST_MAX_WARPS * WARP)
gemv_pipe_kernel(gemv_args a, int wpr, int rpb, int cpi, int ngroups)
{
	pdl_begin();
	typedef fq<T> F;
	constexpr int RPW = WARP / LPR;
	__shared__ float red[2][FAST_MAX_WARPS][RPW][2];
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
	const int rl = warp / wpr, wr = warp % wpr, sub = lane / LPR, ln = lane % LPR;
	int t, j, c;
	if (a.sum) {
		t = blockIdx.y;
		j = wr / cpi;
		c = wr % cpi;
	} else {
		t = blockIdx.y / a.per_tok;
		j = blockIdx.y % a.per_tok;
		c = wr;
	}
	const int lim = !a.sum && j >= a.n_sel && a.nrows_x ? a.nrows_x : a.nrows;
	const uint8_t *w0, *wu0;
	inst_rows(a, t, j, 0, &w0, &wu0);
	const float *x = a.x + (int64_t)t * a.x_tok + (int64_t)j * a.x_inst;
	const float scale = a.sum && j < a.n_sel && a.scale ? a.scale[t * a.n_sel + j] : 1.0f;
	const int p0 = c * U * LPR + ln;
	// this warp's row in group g (rows past the end read the last one and
	// are not written: the warp stays converged)
	auto row_of = [&](int g) { return (g * rpb + rl) * RPW + sub; };
	auto src = [&](int g, const uint8_t *base) {
		const int r = row_of(g);
		return base + (size_t)(r < lim ? r : lim - 1) * a.nb1;
	};
	typename F::raw ra[U], rb[U], ua[GLU ? U : 1], ub[GLU ? U : 1];
	int g = blockIdx.x, k = 0;
	if (g >= ngroups)
		return;
	load_pieces<T, U, GLU>(src(g, w0), GLU ? src(g, wu0) : NULL, p0, LPR, ra, ua);
	// two groups per trip, so that the buffers alternate without copies
	for (;;) {
#pragma unroll
		for (int half = 0; half < 2; half++) {
			const int gn = g + (int)gridDim.x;
			if (gn < ngroups) {
				if (half == 0)
					load_pieces<T, U, GLU>(src(gn, w0), GLU ? src(gn, wu0) : NULL, p0, LPR, rb, ub);
				else
					load_pieces<T, U, GLU>(src(gn, w0), GLU ? src(gn, wu0) : NULL, p0, LPR, ra, ua);
			}
			// (the next group's loads stay issued before this arithmetic)
			__syncwarp();
			float acc, accu;
			if (half == 0)
				dot_pieces<T, U, GLU>(x, p0, LPR, ra, ua, &acc, &accu);
			else
				dot_pieces<T, U, GLU>(x, p0, LPR, rb, ub, &acc, &accu);
			acc = row_sum<LPR>(acc * scale);
			if constexpr (GLU)
				accu = row_sum<LPR>(accu);
			if (wpr > 1) {
				float(*rd)[RPW][2] = red[k & 1];
				if (ln == 0) {
					rd[warp][sub][0] = acc;
					rd[warp][sub][1] = accu;
				}
				__syncthreads();
				if (wr == 0) {
					acc = accu = 0.0f;
					for (int i = 0; i < wpr; i++) {
						acc += rd[rl * wpr + i][sub][0];
						accu += rd[rl * wpr + i][sub][1];
					}
				}
			}
			const int row = row_of(g);
			if (row < lim && wr == 0 && ln == 0) {
				const float out = GLU ? silu(acc) * accu : acc;
				float *y = a.y + (int64_t)t * a.y_tok + (a.sum ? 0 : (int64_t)j * a.y_inst) + row;
				*y = a.accumulate ? *y + out : out;
			}
			k++;
			g = gn;
			if (g >= ngroups)
				return;
		}
	}
}

template <int T>
static bool aligned_for(const gemv_args *a)
{
	const uintptr_t m = fq<T>::ALIGN - 1;
	return !((uintptr_t)a->w & m) && !((uintptr_t)a->w_up & m) && !((uintptr_t)a->w_x & m) &&
	       !((uintptr_t)a->w_x_up & m) && !(a->nb1 & m) && !(a->nb2 & m) && !(a->nb2_up & m);
}

// one instance per pieces-per-lane count the type allows (the others would
// spill and are never chosen)
template <int T, int U, bool GLU>
static void launch_one(int lpr, const gemv_args *a, dim3 grid, dim3 block, int wpr, int rpb, int cpi,
                       cudaStream_t s)
{
	if constexpr (U <= (GLU ? (int)fq<T>::UMAX_GLU : (int)fq<T>::UMAX)) {
		if (lpr == WARP) {
			if (a->norm_w)
				launch_k(gemv_fast_kernel<T, U, GLU, WARP, true>, grid, block, 0, s, *a, wpr, rpb, cpi);
			else
				launch_k(gemv_fast_kernel<T, U, GLU, WARP, false>, grid, block, 0, s, *a, wpr, rpb, cpi);
		} else if constexpr (!GLU) {
			if (a->norm_w)
				launch_k(gemv_fast_kernel<T, U, GLU, WARP / 2, true>, grid, block, 0, s, *a, wpr, rpb, cpi);
			else
				launch_k(gemv_fast_kernel<T, U, GLU, WARP / 2, false>, grid, block, 0, s, *a, wpr, rpb, cpi);
		}
	}
}

template <int T, bool GLU>
static void launch_u(int U, int lpr, const gemv_args *a, dim3 grid, dim3 block, int wpr, int rpb, int cpi,
                     cudaStream_t s)
{
	switch (U) {
	case 1: launch_one<T, 1, GLU>(lpr, a, grid, block, wpr, rpb, cpi, s); break;
	case 2: launch_one<T, 2, GLU>(lpr, a, grid, block, wpr, rpb, cpi, s); break;
	case 3: launch_one<T, 3, GLU>(lpr, a, grid, block, wpr, rpb, cpi, s); break;
	case 4: launch_one<T, 4, GLU>(lpr, a, grid, block, wpr, rpb, cpi, s); break;
	case 5: launch_one<T, 5, GLU>(lpr, a, grid, block, wpr, rpb, cpi, s); break;
	case 8: launch_one<T, 8, GLU>(lpr, a, grid, block, wpr, rpb, cpi, s); break;
	}
}

// How the fast kernel would take a: lanes per row, pieces per lane, warps
// per row and rows per block; false when it cannot.
struct fast_plan {
	int lpr, U, wpr, rpb, cpi;
	dim3 grid, block;
};

template <int T>
static bool fast_plan_for(const gemv_args *a, fast_plan *P, int ucap = 8)
{
	typedef fq<T> F;
	const bool glu = a->w_up != NULL;
	const int64_t npi = (int64_t)a->ncols / qt<T>::QK * F::NP;   // pieces of one instance row
	// a whole warp per row, or (rows of fewer pieces, e.g. k_b's 192
	// columns of Q8_0) a half-warp per row
	const int lpr = npi % WARP == 0 ? WARP : npi % (WARP / 2) == 0 && !glu ? WARP / 2 : 0;
	if (!lpr || !aligned_for<T>(a) || (glu && a->sum) || (a->norm_w && (a->sum || a->x_inst)))
		return false;
	const int rpw = WARP / lpr;                                 // rows per warp
	const int ppl = (int)(npi / lpr);                           // pieces per lane in one row
	const int ninst = a->sum ? a->per_tok : 1;                  // instances one row adds up
	const int64_t ny = a->sum ? a->n_tok : (int64_t)a->n_tok * a->per_tok;
	const int nr = a->nrows_x > a->nrows ? a->nrows_x : a->nrows;
	const int64_t ngroups = ceil_div(nr, rpw);
	// the most pieces per lane (loads in flight) that still gives the GPU
	// ~32 warps per multiprocessor
	static const int cand[6] = {8, 5, 4, 3, 2, 1};
	const int64_t want = (int64_t)32 * cuda_sm_count();
	int U = 0;
	for (int i = 0; i < 6; i++) {
		const int u = cand[i];
		if (ppl % u || u > ucap || u > (glu ? (int)F::UMAX_GLU : (int)F::UMAX) || ninst * (ppl / u) > FAST_MAX_WARPS)
			continue;
		if (!U)
			U = u;   // the largest that fits, if none reaches `want`
		if (ngroups * ny * ninst * (ppl / u) >= want) {
			U = u;
			break;
		}
	}
	if (!U || ny > 65535)
		return false;
	P->lpr = lpr;
	P->U = U;
	P->cpi = ppl / U;
	P->wpr = ninst * P->cpi;
	P->rpb = P->wpr >= FAST_WARPS ? 1 : FAST_WARPS / P->wpr;
	P->grid = dim3((unsigned)ceil_div(ngroups, P->rpb), (unsigned)ny);
	P->block = dim3((unsigned)(P->rpb * P->wpr * WARP));
	return true;
}

// The pipelined kernel holds two groups' loads: at most 2 pieces per lane
// (1 with two matrices); more took 100-128 registers or spilled (ptxas -v).
#define PIPE_UMAX 2

template <int T, int U, bool GLU, int LPR>
static void launch_pipe(const gemv_args *a, const fast_plan &P, cudaStream_t s)
{
	// as many blocks as fit on the GPU at once (occupancy by block size;
	// the same on every device of one architecture)
	static int occ[FAST_MAX_WARPS + 1];
	const int nw = (int)P.block.x / WARP;
	if (!occ[nw]) {
		int n = 0;
		cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, gemv_pipe_kernel<T, U, GLU, LPR>, (int)P.block.x, 0);
		occ[nw] = n > 0 ? n : 1;
	}
	const int64_t fit = (int64_t)occ[nw] * cuda_sm_count() / P.grid.y;
	const unsigned gx = (unsigned)(fit < 1 ? 1 : fit < (int64_t)P.grid.x ? fit : P.grid.x);
	launch_k(gemv_pipe_kernel<T, U, GLU, LPR>, dim3(gx, P.grid.y), P.block, 0, s, *a, P.wpr, P.rpb, P.cpi,
	         (int)P.grid.x);
}

template <int T, int U, bool GLU>
static void launch_pipe_u(const gemv_args *a, const fast_plan &P, cudaStream_t s)
{
	if constexpr (U <= (GLU ? 1 : PIPE_UMAX) && U <= (GLU ? (int)fq<T>::UMAX_GLU : (int)fq<T>::UMAX)) {
		if (P.lpr == WARP)
			launch_pipe<T, U, GLU, WARP>(a, P, s);
		else if constexpr (!GLU)
			launch_pipe<T, U, GLU, WARP / 2>(a, P, s);
	}
}

template <int T, bool GLU>
static void launch_pipe_any(const gemv_args *a, const fast_plan &P, cudaStream_t s)
{
	switch (P.U) {
	case 1: launch_pipe_u<T, 1, GLU>(a, P, s); break;
	case 2: launch_pipe_u<T, 2, GLU>(a, P, s); break;
	}
}

template <int T>
static int fast_run(const gemv_args *a, cudaStream_t s)
{
	fast_plan P;
	if (a->pipe && !a->norm_w && fast_plan_for<T>(a, &P, a->w_up ? 1 : PIPE_UMAX)) {
		if (a->w_up)
			launch_pipe_any<T, true>(a, P, s);
		else
			launch_pipe_any<T, false>(a, P, s);
		return 1;
	}
	if (!fast_plan_for<T>(a, &P))
		return 0;
	if (a->w_up)
		launch_u<T, true>(P.U, P.lpr, a, P.grid, P.block, P.wpr, P.rpb, P.cpi, s);
	else
		launch_u<T, false>(P.U, P.lpr, a, P.grid, P.block, P.wpr, P.rpb, P.cpi, s);
	return 1;
}

static bool fast_eligible(const gemv_args *a)
{
	return !a->no_fast && !a->xq && a->rows_per_warp < 2 && a->legacy && !(a->sum && a->nrows_x);
}

bool gemv_fast_ok(const gemv_args *a)
{
	fast_plan P;
	if (!fast_eligible(a))
		return false;
	switch (a->type) {
	case GGML_TYPE_F32: return fast_plan_for<GGML_TYPE_F32>(a, &P);
	case GGML_TYPE_Q4_K: return fast_plan_for<GGML_TYPE_Q4_K>(a, &P);
	case GGML_TYPE_Q5_K: return fast_plan_for<GGML_TYPE_Q5_K>(a, &P);
	case GGML_TYPE_Q6_K: return fast_plan_for<GGML_TYPE_Q6_K>(a, &P);
	case GGML_TYPE_Q8_0: return fast_plan_for<GGML_TYPE_Q8_0>(a, &P);
	default: return false;
	}
}

int gemv_fast_launch(const gemv_args *a, cudaStream_t s)
{
	if (!fast_eligible(a))
		return 0;
	switch (a->type) {
	case GGML_TYPE_F32: return fast_run<GGML_TYPE_F32>(a, s);
	case GGML_TYPE_Q4_K: return fast_run<GGML_TYPE_Q4_K>(a, s);
	case GGML_TYPE_Q5_K: return fast_run<GGML_TYPE_Q5_K>(a, s);
	case GGML_TYPE_Q6_K: return fast_run<GGML_TYPE_Q6_K>(a, s);
	case GGML_TYPE_Q8_0: return fast_run<GGML_TYPE_Q8_0>(a, s);
	default: return 0;
	}
}
