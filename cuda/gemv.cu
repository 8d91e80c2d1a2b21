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

struct gemv_launcher {
	template <int T> static void run(const gemv_args *a, int rpb, dim3 grid, cudaStream_t s)
	{
		if constexpr (qi<T>::HAS_Q) {
			if (a->xq) {
				launch_k(gemv_kernel<T, true>, dim3(grid), dim3(GEMV_WARPS * WARP), 0, s, *a, rpb);
				return;
			}
		}
		launch_k(gemv_kernel<T, false>, dim3(grid), dim3(GEMV_WARPS * WARP), 0, s, *a, rpb);
	}
	template <int T> static bool has_q() { return qi<T>::HAS_Q; }
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
	if (a->xq && !gemv_q8_ok(a)) {
		snprintf(err, errlen, "cuda: gemv: no int8-activation path for %s with this layout", ggml_type_name(a->type));
		return -1;
	}
	const int64_t ny = a->sum ? a->n_tok : (int64_t)a->n_tok * a->per_tok;
	if (ny <= 0 || ny > 65535 || a->nrows <= 0 || a->nrows_x < 0 || (a->nrows_x && a->sum)) {
		snprintf(err, errlen, "cuda: gemv: bad shape (%lld instances, %d rows)", (long long)ny, a->nrows);
		return -1;
	}
	if (gemv_mma_launch(a, s) || gemv_fast_launch(a, s))
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
