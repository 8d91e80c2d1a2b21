// The decode GEMV for the weight types GLM files are made of (Q4_K, Q5_K,
// Q6_K, Q8_0, and the f32 router), when a row's pieces split evenly over the
// lanes (or half-warps).
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
#include "cuda/quant_fast.cuh"
#include "cuda/ops.cuh"

#define FAST_MAX_WARPS 16   // warps of one row (sum mode: experts × chunks)
#define FAST_WARPS 8        // warps per block when a row needs fewer

// Σ over the LPR lanes of a row (LPR 16: each half-warp holds its own row)
template <int LPR>
static __device__ __forceinline__ float row_sum(float v)
{
#pragma unroll
	for (int o = LPR / 2; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

// The instance a warp works on: token t, instance j (an expert, a head,
// the shared expert), chunk c of its row; lim its row count. In sum mode
// the warps of a row take the instances (and their chunks) one each.
struct fast_inst {
	int t, j, c, lim;
};
static __device__ __forceinline__ fast_inst fast_inst_of(const gemv_args &a, int wr, int cpi)
{
	fast_inst I;
	if (a.sum) {
		I.t = blockIdx.y;
		I.j = wr / cpi;
		I.c = wr % cpi;
	} else {
		I.t = blockIdx.y / a.per_tok;
		I.j = blockIdx.y % a.per_tok;
		I.c = wr;
	}
	I.lim = !a.sum && I.j >= a.n_sel && a.nrows_x ? a.nrows_x : a.nrows;
	return I;
}

// Under PDL, a warp whose rows are known at launch loads them before it
// waits for the previous kernel (common.cuh says what may come before the
// wait): the weight fetch, most of a decode GEMV's time, overlaps the
// previous kernel's last blocks instead of following them. Rows chosen by
// expert ids the previous kernel wrote (the expert gate/up after top-k)
// wait first.
static __device__ __forceinline__ bool loads_early(const gemv_args &a, const fast_inst &I)
{
	return a.load_early && (!a.ids || I.j >= a.n_sel || a.ids_early);
}

// a row's result into y (GLU: silu(gate)·up; accumulate: added)
template <bool GLU>
static __device__ __forceinline__ void store_row(const gemv_args &a, const fast_inst &I, int row, float acc, float accu)
{
	const float out = GLU ? silu(acc) * accu : acc;
	float *y = a.y + (int64_t)I.t * a.y_tok + (a.sum ? 0 : (int64_t)I.j * a.y_inst) + row;
	*y = a.accumulate ? *y + out : out;
}

// Every weight load of a warp's U pieces (p0, p0 + step, ...), before any
// is used.
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

// the dot products of a warp's pieces (loaded by load_pieces) with x
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

// grid: (row groups, tokens (sum) or tokens × instances); block: rpb row
// groups × wpr warps; a warp holds WARP / LPR rows (LPR lanes each). cpi:
// chunks of U pieces per lane in one instance row.
template <int T, int U, bool GLU, int LPR>
static __global__ void __launch_bounds__(FAST_MAX_WARPS * WARP) gemv_fast_kernel(gemv_args a, int wpr, int rpb, int cpi)
{
	typedef fq<T> F;
	constexpr int RPW = WARP / LPR;
	__shared__ float red[FAST_MAX_WARPS][RPW][2];
	const int warp = threadIdx.x / WARP, lane = threadIdx.x % WARP;
	const int rl = warp / wpr, wr = warp % wpr, sub = lane / LPR, ln = lane % LPR;
	const int row = (blockIdx.x * rpb + rl) * RPW + sub;
	const fast_inst I = fast_inst_of(a, wr, cpi);
	const bool valid = row < I.lim;
	const bool early = loads_early(a, I);
	if (!early)
		pdl_begin();

	// rows past the end read the last row (never written): the warp stays
	// converged for the barrier below
	const uint8_t *w, *wu;
	inst_rows(a, I.t, I.j, valid ? row : I.lim - 1, &w, &wu);
	const float *x = a.x + (int64_t)I.t * a.x_tok + (int64_t)I.j * a.x_inst;
	const int p0 = I.c * U * LPR + ln;
	typename F::raw rw[U], ru[GLU ? U : 1];
	// every weight load first ...
	load_pieces<T, U, GLU>(w, wu, p0, LPR, rw, ru);
	if (early)
		pdl_begin();
	// (a warp barrier orders memory: no load may sink below it, so all are
	// in flight at once; with non-coherent loads ptxas re-issued them next
	// to their use to save registers, and few bytes were in flight)
	__syncwarp();
	// ... then the arithmetic
	float acc = 0.0f, accu = 0.0f;
	dot_pieces<T, U, GLU>(x, p0, LPR, rw, ru, &acc, &accu);
	if (a.sum && I.j < a.n_sel && a.scale)
		acc *= a.scale[I.t * a.n_sel + I.j];
	acc = row_sum<LPR>(acc);
	if constexpr (GLU)
		accu = row_sum<LPR>(accu);
	if (wpr > 1) {
		if (ln == 0) {
			red[warp][sub][0] = acc;
			red[warp][sub][1] = accu;
		}
		__syncthreads();
		if (wr == 0) {
			acc = accu = 0.0f;
			for (int i = 0; i < wpr; i++) {
				acc += red[rl * wpr + i][sub][0];
				accu += red[rl * wpr + i][sub][1];
			}
		}
	}
	if (valid && wr == 0 && ln == 0)
		store_row<GLU>(a, I, row, acc, accu);
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
		if (lpr == WARP)
			launch_k(gemv_fast_kernel<T, U, GLU, WARP>, grid, block, 0, s, *a, wpr, rpb, cpi);
		else if constexpr (!GLU)
			launch_k(gemv_fast_kernel<T, U, GLU, WARP / 2>, grid, block, 0, s, *a, wpr, rpb, cpi);
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
static bool fast_plan_for(const gemv_args *a, fast_plan *P)
{
	typedef fq<T> F;
	const bool glu = a->w_up != NULL;
	const int64_t npi = (int64_t)a->ncols / qt<T>::QK * F::NP;   // pieces of one instance row
	// a whole warp per row, or (rows of fewer pieces, e.g. k_b's 192
	// columns of Q8_0) a half-warp per row
	const int lpr = npi % WARP == 0 ? WARP : npi % (WARP / 2) == 0 && !glu ? WARP / 2 : 0;
	if (!lpr || !aligned_for<T>(a) || (glu && a->sum))
		return false;
	const int rpw = WARP / lpr;                                 // rows per warp
	const int ppl = (int)(npi / lpr);                           // pieces per lane in one row
	const int ninst = a->sum ? a->per_tok : 1;                  // instances one row adds up
	const int64_t ny = a->sum ? a->n_tok : (int64_t)a->n_tok * a->per_tok;
	const int nr = a->nrows_x > a->nrows ? a->nrows_x : a->nrows;
	const int64_t ngroups = ceil_div(nr, rpw);
	// the most pieces per lane (loads in flight) that still gives the GPU
	// warps_per_sm warps per multiprocessor (16 by default: fewer, fuller
	// warps measured faster than 32, tg128 +2.4%, docs/PERF.md step 10)
	static const int cand[6] = {8, 5, 4, 3, 2, 1};
	const int64_t want = (int64_t)(a->warps_per_sm > 0 ? a->warps_per_sm : 16) * cuda_sm_count();
	int U = 0;
	for (int i = 0; i < 6; i++) {
		const int u = cand[i];
		if (ppl % u || u > (glu ? (int)F::UMAX_GLU : (int)F::UMAX) || ninst * (ppl / u) > FAST_MAX_WARPS)
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

template <int T>
static int fast_run(const gemv_args *a, cudaStream_t s)
{
	fast_plan P;
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
	return !a->no_fast && !a->xq && !(a->sum && a->nrows_x);
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
