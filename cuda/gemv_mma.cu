// The decode GEMV of Q4_K and Q6_K rows on tensor cores, with activations
// split in two halves so that the sums keep f32 precision.
//
// Why (docs/PERF.md step 11): ncu of the fast kernel (gemv_fast.cu) on the
// expert gate/up GEMV counted 9.3 instructions per weight value (9.1 M warp
// instructions for 31.5 M values) at 2.3 instructions per cycle: the
// GEMVs of a decode step were bound by instruction issue, not by bytes.
// Here a warp multiplies a 16-row tile by one Q4_K block (256 columns) of x
// with m16n8k16 MMAs, ~1.8 instructions per value:
// - A is the 4-bit quants as f16 subnormals: the quant q in a half's low
//   bits is q·2^-24, exact, so a byte permute makes two A values;
// - B is x scaled by a power of two (its largest value near 2^14) and split
//   x·S = hi + lo, both f16, in two B columns: the MMA's exact products and
//   f32 sums give Σ q·x to ~22 bits of x, near what f32 arithmetic gives;
// - a K-quant block has 8 sub-blocks with their own scales, two per byte
//   (low and high nibbles): the MMAs of sub-block pair i write B columns
//   2i (hi) and 2i + 1 (lo), zero elsewhere, so that after all 16 MMAs of
//   the block lane t of each quad holds the sums of sub-blocks 2t and
//   2t + 1 for its two rows, and applies their scales (the same decode as
//   quant_fast.cuh's, once per lane and block);
// - the A slots of an MMA are any 16 of the sub-block's 32 values as long
//   as B uses the same order: a lane's 8 consecutive quant bytes feed its
//   slots of two MMAs, one 8-byte load.
// The warps of a block take the block columns of one 16-row tile and add
// their partial sums in a fixed order (the same result on every run).
// Q6_K (the expert down, v_b, the output matrix) works the same way with
// its 16-value sub-blocks, below.
#include "cuda/quant_fast.cuh"
#include "cuda/ops.cuh"

#define MMA_WARPS 8   // warps per block at most (block columns of a tile)

// (launched on sm_80 and later, mma_ok; the Turing form only lets the
// sm_75 build compile)
static __device__ __forceinline__ void mma_f16(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1)
{
#if __CUDA_ARCH__ >= 800
	asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
	             "{%0,%1,%2,%3};"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
	asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a[0]), "r"(a[1]), "r"(b0));
	asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
	             : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	             : "r"(a[2]), "r"(a[3]), "r"(b1));
#endif
}

// bytes 0, 1 (or 2, 3) of four 4-bit quants as two f16 subnormals q·2^-24
static __device__ __forceinline__ uint32_t q_lo2(uint32_t v) { return __byte_perm(v, 0, 0x4140); }
static __device__ __forceinline__ uint32_t q_hi2(uint32_t v) { return __byte_perm(v, 0, 0x4342); }

// One matrix's part of a tile: the raw words a lane loads (rows g, g + 8 of
// the tile: the block header and 8 quant bytes of each sub-block pair).
struct q4k_tile {
	uint4 h[2];
	uint2 q[2][4];
};

static __device__ __forceinline__ void q4k_load(const uint8_t *rg, const uint8_t *rg8, int t, q4k_tile &T)
{
	T.h[0] = wld16(rg);
	T.h[1] = wld16(rg8);
#pragma unroll
	for (int i = 0; i < 4; i++) {
		T.q[0][i] = wld8(rg + 16 + 32 * i + 8 * t);
		T.q[1][i] = wld8(rg8 + 16 + 32 * i + 8 * t);
	}
}

// The 16 MMAs of one block column: cl, ch accumulate sub-blocks 2i (low
// nibbles) and 2i + 1 (high) in columns 2i, 2i + 1. b[i][0..3]: this lane's B
// words for pair i's low sub-block (zero unless the lane's column belongs
// to pair i), b[i][4..7] the high one.
static __device__ __forceinline__ void q4k_mma(const q4k_tile &T, const uint32_t (&b)[4][8], float cl[4], float ch[4])
{
#pragma unroll
	for (int i = 0; i < 4; i++) {
		const uint32_t lg0 = T.q[0][i].x & 0x0F0F0F0Fu, lg1 = T.q[0][i].y & 0x0F0F0F0Fu;
		const uint32_t l80 = T.q[1][i].x & 0x0F0F0F0Fu, l81 = T.q[1][i].y & 0x0F0F0F0Fu;
		const uint32_t hg0 = (T.q[0][i].x >> 4) & 0x0F0F0F0Fu, hg1 = (T.q[0][i].y >> 4) & 0x0F0F0F0Fu;
		const uint32_t h80 = (T.q[1][i].x >> 4) & 0x0F0F0F0Fu, h81 = (T.q[1][i].y >> 4) & 0x0F0F0F0Fu;
		// slots (2t, 2t+1) <- bytes 0, 1 of a word, (2t+8, 2t+9) <- bytes 2, 3;
		// the first MMA takes the lane's first word, the second its second
		const uint32_t a0[4] = {q_lo2(lg0), q_lo2(l80), q_hi2(lg0), q_hi2(l80)};
		const uint32_t a1[4] = {q_lo2(lg1), q_lo2(l81), q_hi2(lg1), q_hi2(l81)};
		const uint32_t a2[4] = {q_lo2(hg0), q_lo2(h80), q_hi2(hg0), q_hi2(h80)};
		const uint32_t a3[4] = {q_lo2(hg1), q_lo2(h81), q_hi2(hg1), q_hi2(h81)};
		mma_f16(cl, a0, b[i][0], b[i][1]);
		mma_f16(cl, a1, b[i][2], b[i][3]);
		mma_f16(ch, a2, b[i][4], b[i][5]);
		mma_f16(ch, a3, b[i][6], b[i][7]);
	}
}

// this lane's rows (g, g + 8) of the block column: its sub-blocks 2t, 2t+1
// scaled, summed over the quad's lanes (every lane of the quad gets it)
static __device__ __forceinline__ void q4k_rows(const q4k_tile &T, const float cl[4], const float ch[4], int t,
                                                float unscale, float sx0, float sx1, float *yg, float *yg8)
{
	float r[2];
#pragma unroll
	for (int k = 0; k < 2; k++) {
		float d0, m0, d1, m1;
		k_scales(T.h[k], t, &d0, &m0, &d1, &m1);
		const float s0 = (cl[2 * k] + cl[2 * k + 1]) * unscale, s1 = (ch[2 * k] + ch[2 * k + 1]) * unscale;
		float v = fmaf(d0, s0, fmaf(d1, s1, -fmaf(m0, sx0, m1 * sx1)));
		v += __shfl_xor_sync(0xffffffffu, v, 1);
		v += __shfl_xor_sync(0xffffffffu, v, 2);
		r[k] = v;
	}
	*yg = r[0];
	*yg8 = r[1];
}

// A lane's 8 values of x times S = 2^se (the warp's largest |x|, mx, near
// 2^14, so hi stays below f16's 65504) as f16 pairs hi and lo = x·S - hi;
// returns se.
static __device__ __forceinline__ int x_split(const float (&v)[8], float mx, uint32_t (&hi)[4], uint32_t (&lo)[4])
{
	mx = warp_max(mx);
	const int e = mx > 0.0f ? ((__float_as_int(mx) >> 23) & 0xFF) - 127 : 0;
	const int se = min(max(14 - e, -100), 100);
	const float S = ldexpf(1.0f, se);
#pragma unroll
	for (int k = 0; k < 4; k++) {
		const float a = v[2 * k] * S, b = v[2 * k + 1] * S;
		const __half2 h = __floats2half2_rn(a, b);
		const float2 hf = __half22float2(h);
		const __half2 l = __floats2half2_rn(a - hf.x, b - hf.y);
		hi[k] = *(const uint32_t *)&h;
		lo[k] = *(const uint32_t *)&l;
	}
	return se;
}

// x of block column cb as B words (see the top) in shared memory xb
// [8 sub-blocks][hi, lo][4 lanes][4 words], and the f32 sum of each
// sub-block in xs[8]; returns 1/S·2^24 (the MMA sums times it are Σ q·x).
static __device__ __forceinline__ float q4k_x(const float *x, int lane, uint4 *xb, float *xs)
{
	const int s = lane >> 2, t = lane & 3;
	const float4 v0 = __ldg((const float4 *)(x + 32 * s + 8 * t));
	const float4 v1 = __ldg((const float4 *)(x + 32 * s + 8 * t + 4));
	const float v[8] = {v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w};
	float mx = 0.0f, sum = 0.0f;
#pragma unroll
	for (int k = 0; k < 8; k++) {
		mx = fmaxf(mx, fabsf(v[k]));
		sum += v[k];
	}
	sum += __shfl_xor_sync(0xffffffffu, sum, 1);
	sum += __shfl_xor_sync(0xffffffffu, sum, 2);
	uint32_t hi[4], lo[4];
	const int se = x_split(v, mx, hi, lo);
	xb[(s * 2 + 0) * 4 + t] = make_uint4(hi[0], hi[1], hi[2], hi[3]);
	xb[(s * 2 + 1) * 4 + t] = make_uint4(lo[0], lo[1], lo[2], lo[3]);
	if (t == 0)
		xs[s] = sum;
	__syncwarp();
	return ldexpf(1.0f, 24 - se);
}

// grid: (16-row tiles, tokens × instances); block: min(8, block columns) warps
template <bool GLU>
static __global__ void __launch_bounds__(MMA_WARPS * WARP, 2) gemv_mma_q4k_kernel(gemv_args a)
{
	__shared__ uint4 xbuf[MMA_WARPS][8 * 2 * 4];
	__shared__ float xsum[MMA_WARPS][8];
	__shared__ float red[MMA_WARPS][2][16];
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP, g = lane >> 2, t = lane & 3;
	const int nw = blockDim.x / WARP, nb = a.ncols / 256;
	const int tk = blockIdx.y / a.per_tok, j = blockIdx.y % a.per_tok;
	const int lim = j >= a.n_sel && a.nrows_x ? a.nrows_x : a.nrows;
	const int r0 = blockIdx.x * 16;
	if (r0 >= lim) {
		// (the extra matrix has fewer rows: the whole block, before any
		// barrier; it still waits, which PDL's ordering needs, common.cuh)
		pdl_begin();
		return;
	}
	// Waits before its first load: with the weights loaded before the wait
	// (the fast kernel's pdl_early), the decode graph of the mla20-q4_k_m
	// fixture went wrong (rel err 0.8; test_cuda_model, "PDL without early
	// loads" and "without PDL" pass). The likely cause, not yet tested: x
	// is read with __ldg (ld.global.nc), whose contract is data that does
	// not change during the kernel, which x, written by the kernel before
	// under PDL, is not; the compiler may then schedule those loads ahead
	// of the wait, among the weight loads. Next: x by ld.global (or
	// __ldcg) and the early loads back (docs/PERF.md step 11).
	pdl_begin();
	const uint8_t *wg, *wug, *wg8, *wug8;
	inst_rows(a, tk, j, min(r0 + g, lim - 1), &wg, &wug);
	inst_rows(a, tk, j, min(r0 + g + 8, lim - 1), &wg8, &wug8);
	const float *x = a.x + (int64_t)tk * a.x_tok + (int64_t)j * a.x_inst;

	float acc[2] = {0.0f, 0.0f}, accu[2] = {0.0f, 0.0f};
	for (int cb = warp; cb < nb; cb += nw) {
		q4k_tile T, U;
		q4k_load(wg + (size_t)cb * 144, wg8 + (size_t)cb * 144, t, T);
		if constexpr (GLU)
			q4k_load(wug + (size_t)cb * 144, wug8 + (size_t)cb * 144, t, U);
		const float unscale = q4k_x(x + 256 * cb, lane, xbuf[warp], xsum[warp]);
		// B: this lane's column g belongs to pair g / 2 (hi for even g, lo
		// for odd); the other pairs see zeros from it
		uint32_t b[4][8];
		{
			const uint4 bl = xbuf[warp][((g & ~1) * 2 + (g & 1)) * 4 + t];
			const uint4 bh = xbuf[warp][(((g & ~1) + 1) * 2 + (g & 1)) * 4 + t];
#pragma unroll
			for (int i = 0; i < 4; i++) {
				const bool mine = i == (g >> 1);
				b[i][0] = mine ? bl.x : 0u;
				b[i][1] = mine ? bl.y : 0u;
				b[i][2] = mine ? bl.z : 0u;
				b[i][3] = mine ? bl.w : 0u;
				b[i][4] = mine ? bh.x : 0u;
				b[i][5] = mine ? bh.y : 0u;
				b[i][6] = mine ? bh.z : 0u;
				b[i][7] = mine ? bh.w : 0u;
			}
		}
		const float sx0 = xsum[warp][2 * t], sx1 = xsum[warp][2 * t + 1];
		float cl[4] = {0.0f, 0.0f, 0.0f, 0.0f}, ch[4] = {0.0f, 0.0f, 0.0f, 0.0f};
		q4k_mma(T, b, cl, ch);
		float y0, y1;
		q4k_rows(T, cl, ch, t, unscale, sx0, sx1, &y0, &y1);
		acc[0] += y0;
		acc[1] += y1;
		if constexpr (GLU) {
			float ul[4] = {0.0f, 0.0f, 0.0f, 0.0f}, uh[4] = {0.0f, 0.0f, 0.0f, 0.0f};
			q4k_mma(U, b, ul, uh);
			q4k_rows(U, ul, uh, t, unscale, sx0, sx1, &y0, &y1);
			accu[0] += y0;
			accu[1] += y1;
		}
		__syncwarp();   // xbuf is rewritten by the next block column
	}
	if (t == 0) {
		red[warp][0][g] = acc[0];
		red[warp][0][g + 8] = acc[1];
		red[warp][1][g] = accu[0];
		red[warp][1][g + 8] = accu[1];
	}
	__syncthreads();
	if (warp == 0 && lane < 16 && r0 + lane < lim) {
		float s = 0.0f, su = 0.0f;
		for (int w = 0; w < nw; w++) {
			s += red[w][0][lane];
			su += red[w][1][lane];
		}
		const float out = GLU ? silu(s) * su : s;
		float *y = a.y + (int64_t)tk * a.y_tok + (int64_t)j * a.y_inst + r0 + lane;
		*y = a.accumulate ? *y + out : out;
	}
}

// ---- Q6_K (210-byte blocks, 2-byte aligned): 16 sub-blocks of 16 values
// with an int8 scale each; value 128n + 32m + 16is + p of a block is
// (ql[64n + 32(m & 1) + 16is + p] >> 4(m >> 1)) & 15 | ((qh[32n + 16is + p]
// >> 2m) & 3) << 4, minus 32. A sub-block is one MMA's 16 slots: a lane's
// 4 values (p = 4t .. 4t + 3) come from one word of each array, and one
// word of ql, ql + 32 and qh gives the lane its values of four sub-blocks
// (m = 0..3). Accumulator k = 2n + is gathers the four m, each in its own B
// column pair m, so lane t ends with sub-blocks (n, t, is) of its rows.
struct q6k_tile {
	uint32_t ql[2][4], qm[2][4], qh[2][4];   // [row g, g + 8][k]: words of ql, ql + 32, qh
	uint32_t sc[2];                          // [row]: scales (n, is, t) as bytes k
	uint16_t d[2];
};

static __device__ __forceinline__ uint32_t wld4(const uint8_t *p)
{
	uint32_t v;
	asm volatile("ld.global.u32 %0, [%1];" : "=r"(v) : "l"(p));
	return v;
}
// a word at p, 4-byte aligned when al4 (else 2: two halves)
static __device__ __forceinline__ uint32_t wld4_any(const uint8_t *p, bool al4)
{
	return al4 ? wld4(p) : (uint32_t)wld2(p) | ((uint32_t)wld2(p + 2) << 16);
}

static __device__ __forceinline__ void q6k_load(const uint8_t *rg, const uint8_t *rg8, int t, q6k_tile &T)
{
	const bool al4 = !((uintptr_t)rg & 3);   // (rows are 4-byte multiples: both rows alike)
#pragma unroll
	for (int r = 0; r < 2; r++) {
		const uint8_t *b = r ? rg8 : rg;
#pragma unroll
		for (int k = 0; k < 4; k++) {
			const int n = k >> 1, is = k & 1;
			T.ql[r][k] = wld4_any(b + 64 * n + 16 * is + 4 * t, al4);
			T.qm[r][k] = wld4_any(b + 64 * n + 32 + 16 * is + 4 * t, al4);
			T.qh[r][k] = wld4_any(b + 128 + 32 * n + 16 * is + 4 * t, al4);
		}
		// scales 8n + is + 2t: bytes (is = 0, 1) at 192 + 2t (n = 0), 200 + 2t (n = 1)
		T.sc[r] = (uint32_t)wld2(b + 192 + 2 * t) | ((uint32_t)wld2(b + 200 + 2 * t) << 16);
		T.d[r] = wld2(b + 208);
	}
}

// the 6-bit quants of sub-block m from its words (4 values, one per byte)
static __device__ __forceinline__ uint32_t q6_bytes(int m, uint32_t ql, uint32_t qm, uint32_t qh)
{
	switch (m) {
	case 0: return (ql & 0x0F0F0F0Fu) | ((qh & 0x03030303u) << 4);
	case 1: return (qm & 0x0F0F0F0Fu) | ((qh & 0x0C0C0C0Cu) << 2);
	case 2: return ((ql >> 4) & 0x0F0F0F0Fu) | (qh & 0x30303030u);
	default: return ((qm >> 4) & 0x0F0F0F0Fu) | ((qh & 0xC0C0C0C0u) >> 2);
	}
}

static __device__ __forceinline__ void q6k_mma(const q6k_tile &T, const uint32_t (&b)[4][4][2], float (&c)[4][4])
{
#pragma unroll
	for (int k = 0; k < 4; k++)
#pragma unroll
		for (int m = 0; m < 4; m++) {
			const uint32_t qg = q6_bytes(m, T.ql[0][k], T.qm[0][k], T.qh[0][k]);
			const uint32_t q8 = q6_bytes(m, T.ql[1][k], T.qm[1][k], T.qh[1][k]);
			// slots (2t, 2t+1) <- p = 4t, 4t+1; (2t+8, 2t+9) <- 4t+2, 4t+3
			const uint32_t a[4] = {q_lo2(qg), q_lo2(q8), q_hi2(qg), q_hi2(q8)};
			mma_f16(c[k], a, b[k][m][0], b[k][m][1]);
		}
}

// this lane's rows of the block column (sub-blocks (n, t, is)), summed over
// the quad: d · Σ sc · (Σ q·x - 32 Σ x)
static __device__ __forceinline__ void q6k_rows(const q6k_tile &T, const float (&c)[4][4], float unscale,
                                                const float (&sx)[4], float *yg, float *yg8)
{
	float r[2];
#pragma unroll
	for (int h = 0; h < 2; h++) {
		float v = 0.0f;
#pragma unroll
		for (int k = 0; k < 4; k++) {
			const float sc = (float)(int8_t)(T.sc[h] >> (8 * k));
			v = fmaf(sc, fmaf(c[k][2 * h] + c[k][2 * h + 1], unscale, -32.0f * sx[k]), v);
		}
		v *= h2f(T.d[h]);
		v += __shfl_xor_sync(0xffffffffu, v, 1);
		v += __shfl_xor_sync(0xffffffffu, v, 2);
		r[h] = v;
	}
	*yg = r[0];
	*yg8 = r[1];
}

// x of a block column for Q6_K: B words [16 sub-blocks][hi, lo][4 lanes]
// (4 values each), the sub-blocks' sums in xs[16]; returns 2^24 / S
static __device__ __forceinline__ float q6k_x(const float *x, int lane, uint2 *xb, float *xs)
{
	const float4 v0 = __ldg((const float4 *)(x + 8 * lane));
	const float4 v1 = __ldg((const float4 *)(x + 8 * lane + 4));
	const float v[8] = {v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w};
	float mx = 0.0f, sum = 0.0f;
#pragma unroll
	for (int k = 0; k < 8; k++) {
		mx = fmaxf(mx, fabsf(v[k]));
		sum += v[k];
	}
	sum += __shfl_xor_sync(0xffffffffu, sum, 1);
	uint32_t hi[4], lo[4];
	const int se = x_split(v, mx, hi, lo);
	const int sb = lane >> 1, t0 = 2 * (lane & 1);   // values 8·lane.. = sub-block sb, p = 4t0 ..
	xb[(sb * 2 + 0) * 4 + t0] = make_uint2(hi[0], hi[1]);
	xb[(sb * 2 + 0) * 4 + t0 + 1] = make_uint2(hi[2], hi[3]);
	xb[(sb * 2 + 1) * 4 + t0] = make_uint2(lo[0], lo[1]);
	xb[(sb * 2 + 1) * 4 + t0 + 1] = make_uint2(lo[2], lo[3]);
	if (!(lane & 1))
		xs[sb] = sum;
	__syncwarp();
	return ldexpf(1.0f, 24 - se);
}

// grid: (16-row tiles, tokens (SUM) or tokens × instances); block: min(8,
// block columns) warps. SUM: the weighted sum over the per_tok instances
// (the expert down), each warp adding its instances in a fixed order.
template <bool SUM>
static __global__ void __launch_bounds__(MMA_WARPS * WARP, 2) gemv_mma_q6k_kernel(gemv_args a)
{
	__shared__ uint2 xbuf[MMA_WARPS][16 * 2 * 4];
	__shared__ float xsum[MMA_WARPS][16];
	__shared__ float red[MMA_WARPS][16];
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP, g = lane >> 2, t = lane & 3;
	const int nw = blockDim.x / WARP, nb = a.ncols / 256;
	const int tk = SUM ? blockIdx.y : blockIdx.y / a.per_tok, j0 = SUM ? 0 : blockIdx.y % a.per_tok;
	const int nj = SUM ? a.per_tok : 1;
	const int lim = !SUM && j0 >= a.n_sel && a.nrows_x ? a.nrows_x : a.nrows;
	const int r0 = blockIdx.x * 16;
	if (r0 >= lim) {
		pdl_begin();   // (see the Q4_K kernel)
		return;
	}
	pdl_begin();   // (waits first, as the Q4_K kernel)

	float acc[2] = {0.0f, 0.0f};
	for (int cb = warp; cb < nb; cb += nw)
		for (int jj = 0; jj < nj; jj++) {
			const int j = j0 + jj;
			const uint8_t *wg, *wg8, *unused;
			inst_rows(a, tk, j, min(r0 + g, lim - 1), &wg, &unused);
			inst_rows(a, tk, j, min(r0 + g + 8, lim - 1), &wg8, &unused);
			q6k_tile T;
			q6k_load(wg + (size_t)cb * 210, wg8 + (size_t)cb * 210, t, T);
			const float *x = a.x + (int64_t)tk * a.x_tok + (int64_t)j * a.x_inst + 256 * cb;
			const float unscale = q6k_x(x, lane, xbuf[warp], xsum[warp]);
			// B: this lane's column g belongs to pair m = g / 2 (hi for even
			// g, lo for odd) of every accumulator; the other pairs see zeros
			uint32_t b[4][4][2];
			float sx[4];
#pragma unroll
			for (int k = 0; k < 4; k++) {
				const int n = k >> 1, is = k & 1;
				const uint2 v = xbuf[warp][((8 * n + 2 * (g >> 1) + is) * 2 + (g & 1)) * 4 + t];
#pragma unroll
				for (int m = 0; m < 4; m++) {
					b[k][m][0] = m == (g >> 1) ? v.x : 0u;
					b[k][m][1] = m == (g >> 1) ? v.y : 0u;
				}
				sx[k] = xsum[warp][8 * n + 2 * t + is];
			}
			float c[4][4];
#pragma unroll
			for (int k = 0; k < 4; k++)
				c[k][0] = c[k][1] = c[k][2] = c[k][3] = 0.0f;
			q6k_mma(T, b, c);
			float y0, y1;
			q6k_rows(T, c, unscale, sx, &y0, &y1);
			const float f = SUM && j < a.n_sel && a.scale ? a.scale[tk * a.n_sel + j] : 1.0f;
			acc[0] = fmaf(f, y0, acc[0]);
			acc[1] = fmaf(f, y1, acc[1]);
			__syncwarp();   // xbuf is rewritten next
		}
	if (t == 0) {
		red[warp][g] = acc[0];
		red[warp][g + 8] = acc[1];
	}
	__syncthreads();
	if (warp == 0 && lane < 16 && r0 + lane < lim) {
		float s = 0.0f;
		for (int w = 0; w < nw; w++)
			s += red[w][lane];
		float *y = a.y + (int64_t)tk * a.y_tok + (SUM ? 0 : (int64_t)j0 * a.y_inst) + r0 + lane;
		*y = a.accumulate ? *y + s : s;
	}
}

// Q4_K (plain and GLU) and, when asked (a->mma_q6k: measured slower so far,
// docs/PERF.md step 11), Q6_K (plain and sum) rows on sm_80 and later;
// Q4_K wants 16-byte aligned rows (its header is one 16-byte load), Q6_K 4
static bool mma_ok(const gemv_args *a)
{
	const bool q4 = a->type == GGML_TYPE_Q4_K && !a->sum;
	const bool q6 = a->type == GGML_TYPE_Q6_K && a->mma_q6k && !a->w_up && !(a->sum && a->nrows_x);
	const uintptr_t m = q4 ? 15 : 3;
	return a->mma && !a->no_fast && !a->xq && (q4 || q6) && a->ncols % 256 == 0 && cuda_cc_major() >= 8 &&
	       !((uintptr_t)a->w & m) && !((uintptr_t)a->w_up & m) && !((uintptr_t)a->w_x & m) &&
	       !((uintptr_t)a->w_x_up & m) && !(a->nb1 & m) && !(a->nb2 & m) && !(a->nb2_up & m) &&
	       !((uintptr_t)a->x & 15) && !(a->x_tok & 3) && !(a->x_inst & 3) &&
	       (int64_t)a->n_tok * a->per_tok <= 65535;
}

int gemv_mma_launch(const gemv_args *a, cudaStream_t s)
{
	if (!mma_ok(a))
		return 0;
	const int nb = a->ncols / 256, nw = nb < MMA_WARPS ? nb : MMA_WARPS;
	const int nr = a->nrows_x > a->nrows ? a->nrows_x : a->nrows;
	const unsigned ny = (unsigned)(a->sum ? a->n_tok : a->n_tok * a->per_tok);
	const dim3 grid((unsigned)ceil_div(nr, 16), ny), block((unsigned)(nw * WARP));
	if (a->type == GGML_TYPE_Q6_K) {
		if (a->sum)
			launch_k(gemv_mma_q6k_kernel<true>, grid, block, 0, s, *a);
		else
			launch_k(gemv_mma_q6k_kernel<false>, grid, block, 0, s, *a);
	} else if (a->w_up)
		launch_k(gemv_mma_q4k_kernel<true>, grid, block, 0, s, *a);
	else
		launch_k(gemv_mma_q4k_kernel<false>, grid, block, 0, s, *a);
	return 1;
}
