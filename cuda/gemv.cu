// Matrix-vector products straight from the GGUF blocks (decode, small
// batches). Up to eight rows per block of eight warps; consecutive lanes
// take consecutive pieces of a row, so each warp load instruction reads one
// contiguous run of weight bytes, and the matching activations are float4
// loads through the read-only cache (the input vector is a few KiB that
// every block shares, so it is not staged). See ops.cuh for the instance
// scheme (heads, experts, the shared expert, weighted sums).
#include "cuda/quant_dev.cuh"
#include "cuda/ops.cuh"

#define GEMV_WARPS 8

static __device__ __forceinline__ float f4get(const float4 &v, int k)
{
	return k == 0 ? v.x : k == 1 ? v.y : k == 2 ? v.z : v.w;
}

// Σ over this warp's pieces of a row (pieces p0, p0 + stride, ...).
template <int T>
static __device__ __forceinline__ void row_dot(const uint8_t *w, const uint8_t *wu, const float *x,
                                               int npieces, int p0, int stride, float *acc, float *accu)
{
	typedef qt<T> Q;
	float a = 0.0f, u = 0.0f;
#pragma unroll 4
	for (int p = p0; p < npieces; p += stride) {
		const int blk = p / Q::NP, pi = p % Q::NP;
		const float *xb = x + blk * Q::QK;
		float4 xr[Q::NRUN];
#pragma unroll
		for (int r = 0; r < Q::NRUN; r++)
			xr[r] = __ldg((const float4 *)(xb + Q::run_start(pi, r)));
		Q::piece(w + (size_t)blk * Q::BB, pi, [&](int k, float v) { a = fmaf(v, f4get(xr[k >> 2], k & 3), a); });
		if (wu)
			Q::piece(wu + (size_t)blk * Q::BB, pi,
			         [&](int k, float v) { u = fmaf(v, f4get(xr[k >> 2], k & 3), u); });
	}
	*acc = a;
	*accu = u;
}

// The same with int8 activations: per run, one dp4a of the quant bytes and
// one of a ones vector (for the offset term), scaled in float.
template <int T>
static __device__ __forceinline__ void row_dot_q8(const uint8_t *w, const uint8_t *wu, const int8_t *xq,
                                                  const float *xd, int npieces, int p0, int stride, float *acc,
                                                  float *accu)
{
	typedef qt<T> Q;
	float a = 0.0f, u = 0.0f;
#pragma unroll 4
	for (int p = p0; p < npieces; p += stride) {
		const int blk = p / Q::NP, pi = p % Q::NP, base = blk * Q::QK;
		int xv[Q::NRUN], sx[Q::NRUN];
		float dx[Q::NRUN];
#pragma unroll
		for (int r = 0; r < Q::NRUN; r++) {
			const int off = base + Q::run_start(pi, r);
			xv[r] = __ldg((const int *)(xq + off));
			dx[r] = __ldg(xd + (off >> 5));
			sx[r] = 0;
		}
		int q[Q::NRUN];
		float qa[Q::NRUN], qc[Q::NRUN];
		qi<T>::qpiece(w + (size_t)blk * Q::BB, pi, q, qa, qc);
#pragma unroll
		for (int r = 0; r < Q::NRUN; r++) {
			float v = qa[r] * (float)__dp4a(q[r], xv[r], 0);
			if (qc[r] != 0.0f) {
				sx[r] = __dp4a(0x01010101, xv[r], 0);
				v += qc[r] * (float)sx[r];
			}
			a = fmaf(dx[r], v, a);
		}
		if (wu) {
			qi<T>::qpiece(wu + (size_t)blk * Q::BB, pi, q, qa, qc);
#pragma unroll
			for (int r = 0; r < Q::NRUN; r++) {
				float v = qa[r] * (float)__dp4a(q[r], xv[r], 0);
				if (qc[r] != 0.0f)
					v += qc[r] * (float)__dp4a(0x01010101, xv[r], 0);
				u = fmaf(dx[r], v, u);
			}
		}
	}
	*acc = a;
	*accu = u;
}

// rpb rows per block; 8/rpb warps share each row (small matrices still
// fill the machine) and add their parts through shared memory.
template <int T, bool Q8>
static __global__ void __launch_bounds__(GEMV_WARPS * WARP) gemv_kernel(gemv_args a, int rpb)
{
	pdl_begin();
	__shared__ float red[GEMV_WARPS][2];
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
	const int wpr = GEMV_WARPS / rpb, rl = warp / wpr, wr = warp % wpr;
	const int row = blockIdx.x * rpb + rl;
	const int npieces = a.ncols / qt<T>::QK * qt<T>::NP;
	const int t = a.sum ? blockIdx.y : blockIdx.y / a.per_tok;
	const int j0 = a.sum ? 0 : blockIdx.y % a.per_tok;
	const int j1 = a.sum ? a.per_tok : j0 + 1;
	const bool valid = row < (j0 >= a.n_sel && a.nrows_x ? a.nrows_x : a.nrows);

	float out = 0.0f;
	for (int j = j0; j < j1; j++) {
		const uint8_t *w, *wu = NULL;
		if (j < a.n_sel) {
			const int slab = a.ids ? a.ids[t * a.n_sel + j] : j;
			w = a.w + (size_t)slab * a.nb2;
			if (a.w_up)
				wu = a.w_up + (size_t)slab * a.nb2_up;
		} else {
			w = a.w_x;
			wu = a.w_x_up;
		}
		w += (size_t)row * a.nb1;
		if (wu)
			wu += (size_t)row * a.nb1;
		const int64_t xo = (int64_t)t * a.x_tok + (int64_t)j * a.x_inst;
		float acc = 0.0f, accu = 0.0f;
		if (valid) {
			if constexpr (Q8)
				row_dot_q8<T>(w, wu, a.xq + xo, a.xd + xo / 32, npieces, wr * WARP + lane, wpr * WARP, &acc, &accu);
			else
				row_dot<T>(w, wu, a.x + xo, npieces, wr * WARP + lane, wpr * WARP, &acc, &accu);
		}
		acc = warp_sum(acc);
		if (wu)
			accu = warp_sum(accu);
		if (wpr > 1) {
			if (lane == 0) {
				red[warp][0] = acc;
				red[warp][1] = accu;
			}
			__syncthreads();
			acc = accu = 0.0f;
			for (int i = 0; i < wpr; i++) {
				acc += red[rl * wpr + i][0];
				accu += red[rl * wpr + i][1];
			}
			__syncthreads();
		}
		const float r = wu ? silu(acc) * accu : acc;
		if (a.sum)
			out += (j < a.n_sel && a.scale ? a.scale[t * a.n_sel + j] : 1.0f) * r;
		else
			out = r;
	}
	if (valid && wr == 0 && lane == 0) {
		float *y = a.y + (int64_t)t * a.y_tok + (a.sum ? 0 : (int64_t)j0 * a.y_inst) + row;
		*y = a.accumulate ? *y + out : out;
	}
}

// ---- the multi-row kernel (an option: glm_cuda_options.gemv_rows = 2 or 4;
// correct, but measured slower on the H200: 133.9 tok/s with 4 rows, 152.0
// with 2, 162.5 with the kernel above, all with PDL). Each warp takes R
// rows of one instance at once. The activations of a piece are
// loaded once and used for all R rows (and both GLU halves), so the L1
// traffic for x falls R-fold (for a 4-bit row it was 8 bytes of x per byte
// of weights), and each lane has R (2R in GLU mode) independent weight
// loads in flight per piece instead of one or two. In sum mode (the
// weighted down projection) the lanes walk the pieces of all instances as
// one sequence, so the chosen experts are read in parallel rather than one
// after another, each piece's dot scaled by its instance's weight.
template <int T, int R>
static __global__ void __launch_bounds__(GEMV_WARPS * WARP) gemv_mr_kernel(gemv_args a, int rpb)
{
	pdl_begin();
	typedef qt<T> Q;
	__shared__ float red[GEMV_WARPS][2 * R];
	__shared__ float nred[GEMV_WARPS];
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
	const int wpr = GEMV_WARPS / rpb, rl = warp / wpr, wr = warp % wpr;
	const int row0 = (blockIdx.x * rpb + rl) * R;
	const int npr = a.ncols / Q::QK * Q::NP;   // pieces per row of one instance
	const int t = a.sum ? blockIdx.y : blockIdx.y / a.per_tok;
	const int j0 = a.sum ? 0 : blockIdx.y % a.per_tok;
	const int nj = a.sum ? a.per_tok : 1;
	const int lim = j0 >= a.n_sel && a.nrows_x ? a.nrows_x : a.nrows;
	const bool valid = row0 < lim;
	const bool glu = a.w_up != NULL;           // never with sum (the launcher checks)
	// the folded RMSNorm: every block sums the squares of its token's input
	// (a few KiB from L2) instead of a separate normalising launch
	float rinv = 1.0f;
	if (a.norm_w) {
		const float *xr = a.x + (int64_t)t * a.x_tok;
		float ss = 0.0f;
		for (int i = 4 * threadIdx.x; i < a.ncols; i += 4 * GEMV_WARPS * WARP) {
			const float4 v = __ldg((const float4 *)(xr + i));
			ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
		}
		ss = warp_sum(ss);
		if (lane == 0)
			nred[warp] = ss;
		__syncthreads();
		float tot = 0.0f;
		for (int i = 0; i < GEMV_WARPS; i++)
			tot += nred[i];
		rinv = rsqrtf(tot / a.ncols + a.norm_eps);
	}
	// rows past the end read the last row (in bounds) and are not written
	int roff[R];
#pragma unroll
	for (int r = 0; r < R; r++)
		roff[r] = min(row0 + r, lim - 1) - row0;

	float acc[R], accu[R];
#pragma unroll
	for (int r = 0; r < R; r++)
		acc[r] = accu[r] = 0.0f;
	if (valid) {
		const uint8_t *w = NULL, *wu = NULL;
		const float *x = NULL;
		float sc = 1.0f;
		int jc = -1;
#pragma unroll 2
		for (int q = wr * WARP + lane; q < nj * npr; q += wpr * WARP) {
			const int jj = q / npr, p = q - jj * npr;
			if (jj != jc) {
				// this lane's instance changed (sum mode): its matrices and input
				const int j = j0 + jj;
				jc = jj;
				if (j < a.n_sel) {
					const int slab = a.ids ? a.ids[t * a.n_sel + j] : j;
					w = a.w + (size_t)slab * a.nb2;
					wu = glu ? a.w_up + (size_t)slab * a.nb2_up : NULL;
					sc = a.sum && a.scale ? a.scale[t * a.n_sel + j] : 1.0f;
				} else {
					w = a.w_x;
					wu = a.w_x_up;
					sc = 1.0f;
				}
				w += (size_t)row0 * a.nb1;
				if (wu)
					wu += (size_t)row0 * a.nb1;
				x = a.x + (int64_t)t * a.x_tok + (int64_t)j * a.x_inst;
			}
			const int blk = p / Q::NP, pi = p % Q::NP;
			const float *xb = x + blk * Q::QK;
			float4 xr[Q::NRUN];
#pragma unroll
			for (int k = 0; k < Q::NRUN; k++)
				xr[k] = __ldg((const float4 *)(xb + Q::run_start(pi, k)));
			if (a.norm_w) {
				// as rmsnorm(): (x·r)·w
#pragma unroll
				for (int k = 0; k < Q::NRUN; k++) {
					const float4 nw = __ldg((const float4 *)(a.norm_w + blk * Q::QK + Q::run_start(pi, k)));
					xr[k].x = xr[k].x * rinv * nw.x;
					xr[k].y = xr[k].y * rinv * nw.y;
					xr[k].z = xr[k].z * rinv * nw.z;
					xr[k].w = xr[k].w * rinv * nw.w;
				}
			}
#pragma unroll
			for (int r = 0; r < R; r++) {
				float s = 0.0f;
				Q::piece(w + (size_t)roff[r] * a.nb1 + (size_t)blk * Q::BB, pi,
				         [&](int k, float v) { s = fmaf(v, f4get(xr[k >> 2], k & 3), s); });
				acc[r] = a.sum ? fmaf(sc, s, acc[r]) : acc[r] + s;
			}
			if (glu) {
#pragma unroll
				for (int r = 0; r < R; r++) {
					float s = 0.0f;
					Q::piece(wu + (size_t)roff[r] * a.nb1 + (size_t)blk * Q::BB, pi,
					         [&](int k, float v) { s = fmaf(v, f4get(xr[k >> 2], k & 3), s); });
					accu[r] += s;
				}
			}
		}
	}
#pragma unroll
	for (int r = 0; r < R; r++) {
		acc[r] = warp_sum(acc[r]);
		if (glu)
			accu[r] = warp_sum(accu[r]);
	}
	if (wpr > 1) {
		if (lane == 0) {
#pragma unroll
			for (int r = 0; r < R; r++) {
				red[warp][r] = acc[r];
				red[warp][R + r] = accu[r];
			}
		}
		__syncthreads();
#pragma unroll
		for (int r = 0; r < R; r++) {
			acc[r] = accu[r] = 0.0f;
			for (int i = 0; i < wpr; i++) {
				acc[r] += red[rl * wpr + i][r];
				accu[r] += red[rl * wpr + i][R + r];
			}
		}
	}
	if (!valid || wr != 0 || lane >= R)
		return;
	// lane r writes row row0 + r (registers indexed by a constant: a select chain)
	float v = 0.0f, u = 0.0f;
#pragma unroll
	for (int r = 0; r < R; r++)
		if (lane == r) {
			v = acc[r];
			u = accu[r];
		}
	if (row0 + lane >= lim)
		return;
	const float out = glu ? silu(v) * u : v;
	float *y = a.y + (int64_t)t * a.y_tok + (a.sum ? 0 : (int64_t)j0 * a.y_inst) + row0 + lane;
	*y = a.accumulate ? *y + out : out;
}

// ---- the staged kernel (an option: glm_cuda_options.staged_gemv; correct,
// but measured slower on the H200, 138 vs 155 tok/s). A warp copies whole blocks of its row
// (tiles of up to STAGE_BYTES) from global memory into shared memory with
// 16-byte loads, all of them issued before the first is used (and both
// matrices' in GLU mode), then decodes the pieces from shared memory. The
// legacy kernel above loaded 4 bytes per lane and used each load at once,
// so too few bytes were in flight to reach the memory bandwidth.
#define STAGE_BYTES 2048
#define STAGE_CHUNKS (STAGE_BYTES / 16 + 2)   // + a misaligned head and tail
#define STAGE_PER_LANE ((STAGE_CHUNKS + WARP - 1) / WARP)

// The 16-byte chunks covering [src, src + n) into registers. The first and
// last chunk may reach up to 15 bytes outside the span: an aligned 16-byte
// chunk that holds a valid byte never crosses a page, and the weights sit
// in one device buffer.
struct stage_regs {
	uint4 r[STAGE_PER_LANE];
};
static __device__ __forceinline__ void stage_load(const uint8_t *src, int n, int lane, stage_regs *s)
{
	const uint4 *g = (const uint4 *)((uintptr_t)src & ~(uintptr_t)15);
	const int nc = ((int)((uintptr_t)src & 15) + n + 15) >> 4;
#pragma unroll
	for (int k = 0; k < STAGE_PER_LANE; k++) {
		const int c = lane + k * WARP;
		if (c < nc)
			s->r[k] = __ldg(g + c);
	}
}
static __device__ __forceinline__ const uint8_t *stage_store(const uint8_t *src, int n, int lane,
                                                             const stage_regs *s, uint4 *dst)
{
	const int nc = ((int)((uintptr_t)src & 15) + n + 15) >> 4;
#pragma unroll
	for (int k = 0; k < STAGE_PER_LANE; k++) {
		const int c = lane + k * WARP;
		if (c < nc)
			dst[c] = s->r[k];
	}
	return (const uint8_t *)dst + ((uintptr_t)src & 15);
}

// Σ over the pieces of nb staged blocks (values of block b at x + b*QK).
template <int T>
static __device__ __forceinline__ void tile_dot(const uint8_t *sw, const uint8_t *su, const float *x, int nb,
                                                int lane, float *acc, float *accu)
{
	typedef qt<T> Q;
	float a = *acc, u = *accu;
#pragma unroll 2
	for (int p = lane; p < nb * Q::NP; p += WARP) {
		const int blk = p / Q::NP, pi = p % Q::NP;
		const float *xb = x + blk * Q::QK;
		float4 xr[Q::NRUN];
#pragma unroll
		for (int r = 0; r < Q::NRUN; r++)
			xr[r] = __ldg((const float4 *)(xb + Q::run_start(pi, r)));
		Q::piece(sw + blk * Q::BB, pi, [&](int k, float v) { a = fmaf(v, f4get(xr[k >> 2], k & 3), a); });
		if (su)
			Q::piece(su + blk * Q::BB, pi, [&](int k, float v) { u = fmaf(v, f4get(xr[k >> 2], k & 3), u); });
	}
	*acc = a;
	*accu = u;
}

// Same grid and results as gemv_kernel (f32 activations). The wpr warps of
// a row split it into tiles; in sum mode without GLU they split the
// (instance, tile) items instead, each scaled by its instance's weight, so
// the chosen experts' down rows are read in parallel. Partial sums are
// added in a fixed order: results are the same on every run.
template <int T>
static __global__ void __launch_bounds__(GEMV_WARPS * WARP) gemv_staged_kernel(gemv_args a, int rpb)
{
	pdl_begin();
	typedef qt<T> Q;
	__shared__ uint4 stage[GEMV_WARPS][2][STAGE_CHUNKS];
	__shared__ float red[GEMV_WARPS][2];
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
	const int wpr = GEMV_WARPS / rpb, rl = warp / wpr, wr = warp % wpr;
	const int row = blockIdx.x * rpb + rl;
	const int nblk = a.ncols / Q::QK;
	const int t = a.sum ? blockIdx.y : blockIdx.y / a.per_tok;
	const int j0 = a.sum ? 0 : blockIdx.y % a.per_tok;
	const int j1 = a.sum ? a.per_tok : j0 + 1;
	const bool valid = row < (j0 >= a.n_sel && a.nrows_x ? a.nrows_x : a.nrows);
	const bool items = a.sum && !a.w_up;   // warps split (instance, tile) items
	int tb = STAGE_BYTES / Q::BB;          // blocks per tile
	if (!items && tb * wpr > nblk)
		tb = (nblk + wpr - 1) / wpr;
	const int ntile = (nblk + tb - 1) / tb;
	uint4 *s0 = stage[warp][0], *s1 = stage[warp][1];

	float out = 0.0f;
	if (items) {
		float part = 0.0f;
		if (valid) {
			for (int it = wr; it < (j1 - j0) * ntile; it += wpr) {
				const int j = j0 + it / ntile, b0 = (it % ntile) * tb, nb = min(tb, nblk - b0);
				const uint8_t *w, *wu;
				inst_rows(a, t, j, row, &w, &wu);
				w += (size_t)b0 * Q::BB;
				stage_regs r0;
				stage_load(w, nb * Q::BB, lane, &r0);
				__syncwarp();
				const uint8_t *sw = stage_store(w, nb * Q::BB, lane, &r0, s0);
				__syncwarp();
				const int64_t xo = (int64_t)t * a.x_tok + (int64_t)j * a.x_inst + (int64_t)b0 * Q::QK;
				float acc = 0.0f, dummy = 0.0f;
				tile_dot<T>(sw, NULL, a.x + xo, nb, lane, &acc, &dummy);
				part += (j < a.n_sel && a.scale ? a.scale[t * a.n_sel + j] : 1.0f) * acc;
			}
		}
		part = warp_sum(part);
		if (lane == 0)
			red[warp][0] = part;
		__syncthreads();
		for (int i = 0; i < wpr; i++)
			out += red[rl * wpr + i][0];
	} else {
		for (int j = j0; j < j1; j++) {
			const uint8_t *w, *wu;
			inst_rows(a, t, j, row, &w, &wu);
			const int64_t xo = (int64_t)t * a.x_tok + (int64_t)j * a.x_inst;
			float acc = 0.0f, accu = 0.0f;
			if (valid) {
				for (int ti = wr; ti < ntile; ti += wpr) {
					const int b0 = ti * tb, nb = min(tb, nblk - b0);
					const uint8_t *tw = w + (size_t)b0 * Q::BB, *tu = wu ? wu + (size_t)b0 * Q::BB : NULL;
					stage_regs r0, r1;
					stage_load(tw, nb * Q::BB, lane, &r0);
					if (tu)
						stage_load(tu, nb * Q::BB, lane, &r1);
					__syncwarp();
					const uint8_t *sw = stage_store(tw, nb * Q::BB, lane, &r0, s0);
					const uint8_t *su = tu ? stage_store(tu, nb * Q::BB, lane, &r1, s1) : NULL;
					__syncwarp();
					tile_dot<T>(sw, su, a.x + xo + (int64_t)b0 * Q::QK, nb, lane, &acc, &accu);
				}
			}
			acc = warp_sum(acc);
			if (wu)
				accu = warp_sum(accu);
			if (wpr > 1) {
				if (lane == 0) {
					red[warp][0] = acc;
					red[warp][1] = accu;
				}
				__syncthreads();
				acc = accu = 0.0f;
				for (int i = 0; i < wpr; i++) {
					acc += red[rl * wpr + i][0];
					accu += red[rl * wpr + i][1];
				}
				__syncthreads();
			}
			const float r = wu ? silu(acc) * accu : acc;
			if (a.sum)
				out += (j < a.n_sel && a.scale ? a.scale[t * a.n_sel + j] : 1.0f) * r;
			else
				out = r;
		}
	}
	if (valid && wr == 0 && lane == 0) {
		float *y = a.y + (int64_t)t * a.y_tok + (a.sum ? 0 : (int64_t)j0 * a.y_inst) + row;
		*y = a.accumulate ? *y + out : out;
	}
}

struct gemv_launcher {
	template <int T> static void run(const gemv_args *a, int rpb, dim3 grid, cudaStream_t s)
	{
		if (a->rows_per_warp >= 2 && !a->xq && !(a->sum && a->w_up)) {
			run_mr<T>(a, grid.y, s);
			return;
		}
		if constexpr (qi<T>::HAS_Q) {
			if (a->xq) {
				launch_k(gemv_kernel<T, true>, dim3(grid), dim3(GEMV_WARPS * WARP), 0, s, *a, rpb);
				return;
			}
		}
		// float types already load 8-16 bytes per lane: the first kernel
		if constexpr (qt<T>::QK == 4)
			launch_k(gemv_kernel<T, false>, dim3(grid), dim3(GEMV_WARPS * WARP), 0, s, *a, rpb);
		else if (a->legacy)
			launch_k(gemv_kernel<T, false>, dim3(grid), dim3(GEMV_WARPS * WARP), 0, s, *a, rpb);
		else
			launch_k(gemv_staged_kernel<T>, dim3(grid), dim3(GEMV_WARPS * WARP), 0, s, *a, rpb);
	}
	template <int T> static bool has_q() { return qi<T>::HAS_Q; }
	// The multi-row kernel's grid: R rows per warp; at most as many warps per
	// row group as there are 32-piece strides to share (no idle lanes), and
	// fewer row groups per block until the grid has ~4 blocks per SM.
	template <int T> static void run_mr(const gemv_args *a, unsigned ny, cudaStream_t s)
	{
		// types with 4 runs per piece (Q2_K, Q3_K, Q6_K) need 101-128 registers
		// for 4 rows (2 blocks per SM): they take 2
		const int R = a->rows_per_warp >= 4 && qt<T>::NRUN <= 2 ? 4 : 2;
		const int nr = a->nrows_x > a->nrows ? a->nrows_x : a->nrows;
		const int64_t ng = ceil_div(nr, R);
		const int64_t pieces = (int64_t)(a->sum ? a->per_tok : 1) * (a->ncols / qt<T>::QK) * qt<T>::NP;
		int maxw = 1;
		while (maxw < GEMV_WARPS && maxw * 2 * WARP <= pieces)
			maxw *= 2;
		int rpb = GEMV_WARPS;
		while (rpb > GEMV_WARPS / maxw && ceil_div(ng, rpb) * ny < 4 * cuda_sm_count())
			rpb /= 2;
		dim3 grid((unsigned)ceil_div(ng, rpb), ny);
		if (R == 4)
			launch_k(gemv_mr_kernel<T, 4>, dim3(grid), dim3(GEMV_WARPS * WARP), 0, s, *a, rpb);
		else
			launch_k(gemv_mr_kernel<T, 2>, dim3(grid), dim3(GEMV_WARPS * WARP), 0, s, *a, rpb);
	}
};


bool gemv_q8_ok(const gemv_args *a)
{
	bool q = false;
	switch (a->type) {
#define CASE_(T) case T: q = gemv_launcher::has_q<T>(); break;
	GLM_QUANT_TYPES(CASE_)
#undef CASE_
	}
	return q && a->ncols % 32 == 0 && a->x_tok % 32 == 0 && a->x_inst % 32 == 0;
}

int gemv_launch(const gemv_args *a, cudaStream_t s, char *err, size_t errlen)
{
	const struct ggml_type_traits *tr = ggml_type_traits_get(a->type);
	const int qk = a->type <= GGML_TYPE_F16 || a->type == GGML_TYPE_BF16 ? 4 : (tr ? (int)tr->block_elems : 0);

	if (!cuda_type_supported(a->type) || qk == 0 || a->ncols % qk) {
		snprintf(err, errlen, "cuda: gemv: type %s with %d columns is not supported",
		         ggml_type_name(a->type), a->ncols);
		return -1;
	}
	if (a->norm_w && (a->xq || a->sum || a->x_inst || a->ncols % 4 || a->x_tok % 4)) {
		snprintf(err, errlen, "cuda: gemv: a folded RMSNorm needs f32 inputs shared by all instances");
		return -1;
	}
	if (a->norm_w && a->rows_per_warp < 2 && !gemv_fast_ok(a)) {
		// no kernel here normalises on the way: a separate launch first
		if (!a->norm_tmp) {
			snprintf(err, errlen, "cuda: gemv: %s rows need a scratch buffer for the RMSNorm",
			         ggml_type_name(a->type));
			return -1;
		}
		if (rmsnorm(a->x, a->x_tok, a->ncols, a->n_tok, a->norm_w, a->norm_eps, a->norm_tmp, a->x_tok, NULL, NULL,
		            s, err, errlen))
			return -1;
		gemv_args b = *a;
		b.x = a->norm_tmp;
		b.norm_w = NULL;
		return gemv_launch(&b, s, err, errlen);
	}
	if (a->xq && !gemv_q8_ok(a)) {
		snprintf(err, errlen, "cuda: gemv: no int8-activation path for %s with this layout", ggml_type_name(a->type));
		return -1;
	}
	const int64_t ny = a->sum ? a->n_tok : (int64_t)a->n_tok * a->per_tok;
	if (ny <= 0 || ny > 65535 || a->nrows <= 0 || a->nrows_x < 0 || (a->nrows_x && a->sum)) {
		snprintf(err, errlen, "cuda: gemv: bad shape (%lld instances, %d rows)", (long long)ny, a->nrows);
		return -1;
	}
	if (gemv_fast_launch(a, s))
		return LAUNCH_FAIL(err, errlen) ? -1 : 0;
	const int nr = a->nrows_x > a->nrows ? a->nrows_x : a->nrows;
	// fewer rows per block (more warps per row) until the grid fills the GPU
	int rpb = GEMV_WARPS;
	while (rpb > 1 && ceil_div(nr, rpb) * ny < 4 * cuda_sm_count())
		rpb /= 2;
	dim3 grid((unsigned)ceil_div(nr, rpb), (unsigned)ny);
	switch (a->type) {
#define CASE_(T) case T: gemv_launcher::run<T>(a, rpb, grid, s); break;
	GLM_QUANT_TYPES(CASE_)
#undef CASE_
	}
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}
