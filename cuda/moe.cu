// Mixture-of-experts routing on the device: the router's choice (sigmoid
// or softmax scores, the selection-only bias, normalisation and scale), and
// for prefill the grouping of (token, slot) pairs by expert so that each
// expert's rows go through one GEMM.
#include "cuda/ops.cuh"
#include <math.h>

#define TOPK_MAX 16

// One warp per token; each lane keeps the scores of experts lane, lane+32,
// ... in registers. Ties go to the lower expert index.
#define TOPK_EPL 8        // experts per lane: up to 256 experts
// The choice for token t by one warp from its E logits lg.
static __device__ __forceinline__ void topk_warp(const float *lg, const float *bias, int t, int E, int k, int gating,
                                                 bool norm, float wscale, int *ids, float *weights, int lane)
{
	float sc[TOPK_EPL], sel[TOPK_EPL];
	float mx = -INFINITY, sum = 0.0f;
	if (gating == 1) {                 // softmax over all experts
		for (int e = lane; e < E; e += WARP)
			mx = fmaxf(mx, lg[e]);
		mx = warp_max(mx);
		for (int e = lane; e < E; e += WARP)
			sum += expf(lg[e] - mx);
		sum = warp_sum(sum);
	}
#pragma unroll
	for (int i = 0; i < TOPK_EPL; i++) {
		const int e = lane + WARP * i;
		sc[i] = 0.0f;
		sel[i] = -INFINITY;
		if (e < E) {
			sc[i] = gating == 1 ? expf(lg[e] - mx) / sum : 1.0f / (1.0f + expf(-lg[e]));
			sel[i] = sc[i] + (bias ? bias[e] : 0.0f);
		}
	}
	float wsel[TOPK_MAX], wsum = 0.0f;
	int chosen[TOPK_MAX];
	for (int j = 0; j < k; j++) {
		float best = -INFINITY, bs = 0.0f;
		int bi = E;
#pragma unroll
		for (int i = 0; i < TOPK_EPL; i++)
			if (sel[i] > best) {          // ascending e within a lane: first wins ties
				best = sel[i];
				bi = lane + WARP * i;
				bs = sc[i];
			}
		for (int o = 16; o > 0; o >>= 1) {
			const float ob = __shfl_xor_sync(0xffffffffu, best, o);
			const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
			const float os = __shfl_xor_sync(0xffffffffu, bs, o);
			if (ob > best || (ob == best && oi < bi)) {
				best = ob;
				bi = oi;
				bs = os;
			}
		}
#pragma unroll
		for (int i = 0; i < TOPK_EPL; i++)
			if (lane + WARP * i == bi)
				sel[i] = -INFINITY;
		chosen[j] = bi;
		wsel[j] = bs;
		wsum += bs;
	}
	if (lane == 0) {
		const float inv = norm ? 1.0f / fmaxf(wsum, 6.103515625e-5f) : 1.0f;
		for (int j = 0; j < k; j++) {
			ids[(int64_t)t * k + j] = chosen[j];
			weights[(int64_t)t * k + j] = wsel[j] * inv * wscale;
		}
	}
}

static __global__ void topk_kernel(const float *logits, const float *bias, int n, int E, int k, int gating,
                                   bool norm, float wscale, int *ids, float *weights)
{
	pdl_begin();
	const int t = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP, lane = threadIdx.x % WARP;
	if (t >= n)
		return;
	topk_warp(logits + (int64_t)t * E, bias, t, E, k, gating, norm, wscale, ids, weights, lane);
}

int moe_topk(const float *logits, const float *bias, int n, int E, int k, int gating, bool norm,
             float wscale, int *ids, float *weights, cudaStream_t s, char *err, size_t errlen)
{
	if (k < 1 || k > TOPK_MAX || k > E || E > TOPK_EPL * WARP) {
		snprintf(err, errlen, "cuda: moe: %d of %d experts per token is not supported", k, E);
		return -1;
	}
	if (n <= 0)
		return 0;
	launch_k(topk_kernel, dim3((unsigned)ceil_div(n, 4)), dim3(4 * WARP), 0, s, logits, bias, n, E, k, gating, norm,
	         wscale, ids, weights);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

// One warp per expert: how many pairs chose it.
static __global__ void count_kernel(const int *ids, int nk, int *counts)
{
	const int e = blockIdx.x, lane = threadIdx.x;
	int c = 0;
	for (int i = lane; i < nk; i += WARP)
		c += ids[i] == e;
	for (int o = 16; o > 0; o >>= 1)
		c += __shfl_xor_sync(0xffffffffu, c, o);
	if (lane == 0)
		counts[e] = c;
}

// One warp per expert: its offset, then its pairs in index order.
static __global__ void fill_kernel(const int *ids, int nk, int E, const int *counts, int *offsets, int *order, int *inv)
{
	const int e = blockIdx.x, lane = threadIdx.x;
	int off = 0;
	for (int i = 0; i < e; i++)
		off += counts[i];
	if (lane == 0) {
		offsets[e] = off;
		if (e == E - 1)
			offsets[E] = off + counts[e];
	}
	for (int base = 0; base < nk; base += WARP) {
		const int i = base + lane;
		const bool hit = i < nk && ids[i] == e;
		const unsigned m = __ballot_sync(0xffffffffu, hit);
		if (hit) {
			const int r = off + __popc(m & ((1u << lane) - 1));
			order[r] = i;
			inv[i] = r;
		}
		off += __popc(m);
	}
}

int moe_sort(const int *ids, int n, int k, int E, int *counts, int *offsets, int *order, int *inv,
             cudaStream_t s, char *err, size_t errlen)
{
	count_kernel<<<E, WARP, 0, s>>>(ids, n * k, counts);
	fill_kernel<<<E, WARP, 0, s>>>(ids, n * k, E, counts, offsets, order, inv);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

static __global__ void gather_kernel(const __half *x, int D, const int *order, int k, __half *xs)
{
	const int r = blockIdx.x;
	const __half *src = x + (int64_t)(order[r] / k) * D;
	for (int d = threadIdx.x; d < D; d += blockDim.x)
		xs[(int64_t)r * D + d] = src[d];
}

int moe_gather_f16(const __half *x, int D, const int *order, int nk, int k, __half *xs,
                   cudaStream_t s, char *err, size_t errlen)
{
	if (nk <= 0)
		return 0;
	gather_kernel<<<nk, 256, 0, s>>>(x, D, order, k, xs);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

// Slots in order j = 0..k-1, so the sum is the same on every run.
static __global__ void combine_kernel(const float *ys, const int *inv, const float *w, int k, int D, float *y)
{
	const int t = blockIdx.x;
	for (int d = threadIdx.x; d < D; d += blockDim.x) {
		float acc = 0.0f;
		for (int j = 0; j < k; j++)
			acc += w[(int64_t)t * k + j] * ys[(int64_t)inv[t * k + j] * D + d];
		y[(int64_t)t * D + d] += acc;
	}
}

int moe_combine(const float *ys, const int *inv, const float *w, int n, int k, int D, float *y,
                cudaStream_t s, char *err, size_t errlen)
{
	if (n <= 0)
		return 0;
	combine_kernel<<<n, 256, 0, s>>>(ys, inv, w, k, D, y);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}
