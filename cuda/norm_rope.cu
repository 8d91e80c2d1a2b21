// Writing the latent cache (kv_a_norm + RoPE of the shared key, converted
// to the cache type, q8_0 quantized per 32 values as ggml does), and the
// small element-wise steps of the prefill path.
#include "cuda/ops.cuh"
#include "cuda/kv_dev.cuh"
#include <math.h>
#include <string.h>

// One block per token: the row is built in shared memory (normalised
// latent, roped key, zero padding), then converted.
static __global__ void kv_store_kernel(const float *ckv, int64_t ckv_stride, const float *w, float eps,
                                       const int *pos, kv_layout L, uint8_t *cache)
{
	pdl_begin();
	extern __shared__ float row[];
	__shared__ float red[32];
	const int i = blockIdx.x, lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
	const float *x = ckv + (int64_t)i * ckv_stride;
	const int64_t p = (int64_t)pos[0] + i;

	float ss = 0.0f;
	for (int k = threadIdx.x; k < L.R; k += blockDim.x)
		ss += x[k] * x[k];
	ss = warp_sum(ss);
	if (lane == 0)
		red[warp] = ss;
	__syncthreads();
	float tot = 0.0f;
	for (int k = 0; k < (int)(blockDim.x / WARP); k++)
		tot += red[k];
	const float r = rsqrtf(tot / L.R + eps);
	for (int k = threadIdx.x; k < L.R; k += blockDim.x)
		row[k] = x[k] * r * w[k];
	for (int k = threadIdx.x; k < L.Dr / 2; k += blockDim.x) {
		float a = x[L.R + 2 * k], b = x[L.R + 2 * k + 1];
		rope_pair(&a, &b, L.inv_freq[k], (double)p);
		row[L.R + 2 * k] = a;
		row[L.R + 2 * k + 1] = b;
	}
	for (int k = L.R + L.Dr + threadIdx.x; k < L.row_vals; k += blockDim.x)
		row[k] = 0.0f;
	__syncthreads();

	uint8_t *dst = cache + p * L.row_bytes;
	switch (L.type) {
	case KV_F32:
		for (int k = threadIdx.x; k < L.row_vals; k += blockDim.x)
			((float *)dst)[k] = row[k];
		break;
	case KV_F16:
		for (int k = threadIdx.x; k < L.row_vals; k += blockDim.x)
			((__half *)dst)[k] = f2h_sat(row[k]);
		break;
	case KV_BF16:
		for (int k = threadIdx.x; k < L.row_vals; k += blockDim.x)
			((__nv_bfloat16 *)dst)[k] = __float2bfloat16_rn(row[k]);
		break;
	case KV_Q8_0:
		// one warp per 32-value block: amax/127 as the scale, round half away
		// (quants + 128 first, then the scales: see kv_layout)
		for (int b = warp; b < L.row_vals / 32; b += blockDim.x / WARP) {
			const float v = row[32 * b + lane];
			const float amax = warp_max(fabsf(v));
			const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
			if (lane == 0)
				((__half *)(dst + L.row_vals))[b] = __float2half_rn(d);
			dst[32 * b + lane] = (uint8_t)((int)roundf(v * id) + 128);
		}
		// the padding, so that a row's bytes are all defined
		for (size_t k = L.row_vals + L.row_vals / 16 + threadIdx.x; k < L.row_bytes; k += blockDim.x)
			dst[k] = 0;
		break;
	}
}

int kv_store(const float *ckv, int64_t ckv_stride, const float *norm_w, float eps, int n, const int *pos,
             const kv_layout *L, uint8_t *cache, cudaStream_t s, char *err, size_t errlen)
{
	if (n <= 0)
		return 0;
	launch_k(kv_store_kernel, dim3(n), dim3(256), L->row_vals * sizeof(float), s, ckv, ckv_stride, norm_w, eps, pos,
	         *L, cache);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

void kv_layout_init(kv_layout *L, int type, int R, int Dr, float rope_base)
{
	memset(L, 0, sizeof *L);
	L->type = type;
	L->R = R;
	L->Dr = Dr;
	L->row_vals = (R + Dr + 31) / 32 * 32;
	switch (type) {
	case KV_F32: L->row_bytes = (size_t)L->row_vals * 4; break;
	case KV_F16:
	case KV_BF16: L->row_bytes = (size_t)L->row_vals * 2; break;
	case KV_Q8_0: L->row_bytes = ((size_t)L->row_vals + L->row_vals / 16 + 15) / 16 * 16; break;
	}
	for (int i = 0; i < Dr / 2 && i < 32; i++)
		L->inv_freq[i] = pow((double)rope_base, -2.0 * i / Dr);
}

// int8 form of one 32-value block held by a warp (lane = value)
static __device__ __forceinline__ void q8_store(float v, int8_t *q, float *d)
{
	const float amax = warp_max(fabsf(v));
	const float dd = amax / 127.0f, id = dd > 0.0f ? 1.0f / dd : 0.0f;
	q[threadIdx.x % WARP] = (int8_t)__float2int_rn(v * id);
	if (threadIdx.x % WARP == 0)
		*d = dd;
}

// One block of 1024 threads per row, single pass: each thread keeps its
// values in registers (rows up to 4096 values), so the row is read once and
// the reduction is the only wait; with xq, each warp also quantizes its
// 32-value blocks.
#define RMS_THREADS 1024
#define RMS_PER_THREAD 4
static __global__ void __launch_bounds__(RMS_THREADS) rmsnorm_kernel(const float *x, int64_t xs, int ncols,
                                                                     const float *w, float eps, float *out,
                                                                     int64_t os, int8_t *xq, float *xd)
{
	pdl_begin();
	__shared__ float red[32];
	const float *xr = x + (int64_t)blockIdx.x * xs;
	float *o = out + (int64_t)blockIdx.x * os;
	const int lane = threadIdx.x % WARP;
	float v[RMS_PER_THREAD], ss = 0.0f;
#pragma unroll
	for (int k = 0; k < RMS_PER_THREAD; k++) {
		const int i = threadIdx.x + k * RMS_THREADS;
		v[k] = i < ncols ? xr[i] : 0.0f;
		ss += v[k] * v[k];
	}
	for (int i = threadIdx.x + RMS_PER_THREAD * RMS_THREADS; i < ncols; i += RMS_THREADS)
		ss += xr[i] * xr[i];
	ss = warp_sum(ss);
	if (lane == 0)
		red[threadIdx.x / WARP] = ss;
	__syncthreads();
	float tot = 0.0f;
	for (int i = 0; i < RMS_THREADS / WARP; i++)
		tot += red[i];
	const float r = rsqrtf(tot / ncols + eps);
	__syncthreads();                   // out may be x: every read is done
#pragma unroll
	for (int k = 0; k < RMS_PER_THREAD; k++) {
		const int i0 = threadIdx.x - lane + k * RMS_THREADS;    // warp-uniform
		if (i0 >= ncols)
			break;
		const int i = i0 + lane;
		const float y = i < ncols ? v[k] * r * w[i] : 0.0f;
		if (i < ncols)
			o[i] = y;
		if (xq) {
			const int64_t qi = (int64_t)blockIdx.x * os + i0;
			q8_store(y, xq + qi, xd + qi / 32);
		}
	}
	for (int i = threadIdx.x + RMS_PER_THREAD * RMS_THREADS; i < ncols; i += RMS_THREADS)
		o[i] = xr[i] * r * w[i];
}

static __global__ void quantize_q8_kernel(const float *x, int64_t nblk, int8_t *xq, float *xd)
{
	const int64_t b = (int64_t)blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
	if (b >= nblk)
		return;
	q8_store(x[b * 32 + threadIdx.x % WARP], xq + b * 32, xd + b);
}

int quantize_q8(const float *x, int64_t n, int8_t *xq, float *xd, cudaStream_t s, char *err, size_t errlen)
{
	const int64_t nblk = n / 32;
	if (nblk <= 0)
		return 0;
	quantize_q8_kernel<<<(unsigned)ceil_div(nblk, 8), 256, 0, s>>>(x, nblk, xq, xd);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

int rmsnorm(const float *x, int64_t x_stride, int ncols, int n, const float *w, float eps, float *out,
            int64_t out_stride, int8_t *xq, float *xd, cudaStream_t s, char *err, size_t errlen)
{
	if (n <= 0)
		return 0;
	if (xq && (ncols % 32 || out_stride % 32 || ncols > RMS_PER_THREAD * RMS_THREADS)) {
		snprintf(err, errlen, "cuda: rmsnorm: int8 output needs rows of 32-value blocks (at most 4096)");
		return -1;
	}
	launch_k(rmsnorm_kernel, dim3(n), dim3(RMS_THREADS), 0, s, x, x_stride, ncols, w, eps, out, out_stride, xq, xd);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

static __global__ void silu_mul_kernel(const float *gu, int F, int64_t total, __half *out)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
		const int64_t t = i / F, f = i % F;
		const float g = gu[t * 2 * F + f], u = gu[t * 2 * F + F + f];
		out[i] = f2h_sat(silu(g) * u);
	}
}

int silu_mul_f16(const float *gu, int F, int n, __half *out, cudaStream_t s, char *err, size_t errlen)
{
	const int64_t total = (int64_t)n * F;
	if (total <= 0)
		return 0;
	silu_mul_kernel<<<(unsigned)(ceil_div(total, 256) < 65536 ? ceil_div(total, 256) : 65536), 256, 0, s>>>(gu, F, total, out);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

static __global__ void add_kernel(float *y, const float *x, int64_t n)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
		y[i] += x[i];
}

int add_inplace(float *y, const float *x, int64_t n, cudaStream_t s, char *err, size_t errlen)
{
	if (n <= 0)
		return 0;
	add_kernel<<<(unsigned)(ceil_div(n, 256) < 65536 ? ceil_div(n, 256) : 65536), 256, 0, s>>>(y, x, n);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}
