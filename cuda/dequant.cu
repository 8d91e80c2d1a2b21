// Block formats to dense f16/f32 (the prefill GEMMs read dense f16 tiles;
// the tests compare the f32 form with the fixtures bit for bit), the token
// embedding lookup, and the f32 -> f16 activation conversion with an
// optional RMSNorm folded in.
#include "cuda/quant_dev.cuh"
#include "cuda/ops.cuh"

template <class O> static __device__ __forceinline__ O cvt_out(float v);
template <> __device__ __forceinline__ float cvt_out<float>(float v) { return v; }
template <> __device__ __forceinline__ __half cvt_out<__half>(float v) { return f2h_sat(v); }

// One thread per piece; blockIdx.y walks rows in a grid-stride loop.
template <int T, class O>
static __global__ void dequant_kernel(const uint8_t *w, size_t nb1, int ncols, int64_t nrows, O *dst)
{
	typedef qt<T> Q;
	const int npieces = ncols / Q::QK * Q::NP;
	const int p = blockIdx.x * blockDim.x + threadIdx.x;
	if (p >= npieces)
		return;
	const int blk = p / Q::NP, pi = p % Q::NP;
	for (int64_t r = blockIdx.y; r < nrows; r += gridDim.y) {
		O *o = dst + r * ncols + (int64_t)blk * Q::QK;
		Q::piece(w + r * nb1 + (size_t)blk * Q::BB, pi,
		         [&](int k, float v) { o[Q::run_start(pi, k >> 2) + (k & 3)] = cvt_out<O>(v); });
	}
}

template <int T>
static __global__ void get_rows_kernel(const uint8_t *w, size_t nb1, int ncols, const int *ids, float *out)
{
	typedef qt<T> Q;
	const int npieces = ncols / Q::QK * Q::NP;
	const int64_t r = ids[blockIdx.y];
	float *o = out + (int64_t)blockIdx.y * ncols;
	for (int p = blockIdx.x * blockDim.x + threadIdx.x; p < npieces; p += gridDim.x * blockDim.x) {
		const int blk = p / Q::NP, pi = p % Q::NP;
		Q::piece(w + r * nb1 + (size_t)blk * Q::BB, pi,
		         [&](int k, float v) { o[blk * Q::QK + Q::run_start(pi, k >> 2) + (k & 3)] = v; });
	}
}

struct dq_launcher {
	template <int T, class O>
	static void run(const uint8_t *w, size_t nb1, int ncols, int64_t nrows, O *dst, cudaStream_t s)
	{
		const int npieces = ncols / qt<T>::QK * qt<T>::NP;
		dim3 grid((unsigned)ceil_div(npieces, 256), (unsigned)(nrows < 16384 ? nrows : 16384));
		dequant_kernel<T, O><<<grid, 256, 0, s>>>(w, nb1, ncols, nrows, dst);
	}
};

static int check_type(int type, int ncols, char *err, size_t errlen)
{
	const struct ggml_type_traits *tr = ggml_type_traits_get(type);
	const int qk = type <= GGML_TYPE_F16 || type == GGML_TYPE_BF16 ? 4 : (tr ? (int)tr->block_elems : 0);

	if (!cuda_type_supported(type) || qk == 0 || ncols % qk) {
		snprintf(err, errlen, "cuda: dequant: type %s with %d columns is not supported",
		         ggml_type_name(type), ncols);
		return -1;
	}
	return 0;
}

template <class O>
static int dequant_rows(int type, const uint8_t *w, size_t nb1, int ncols, int64_t nrows, O *dst,
                        cudaStream_t s, char *err, size_t errlen)
{
	if (check_type(type, ncols, err, errlen))
		return -1;
	if (nrows <= 0)
		return 0;
	switch (type) {
#define CASE_(T) case T: dq_launcher::run<T, O>(w, nb1, ncols, nrows, dst, s); break;
	GLM_QUANT_TYPES(CASE_)
#undef CASE_
	}
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

int dequant_rows_f16(int type, const uint8_t *w, size_t nb1, int ncols, int64_t nrows,
                     __half *dst, cudaStream_t s, char *err, size_t errlen)
{
	return dequant_rows<__half>(type, w, nb1, ncols, nrows, dst, s, err, errlen);
}

int dequant_rows_f32(int type, const uint8_t *w, size_t nb1, int ncols, int64_t nrows,
                     float *dst, cudaStream_t s, char *err, size_t errlen)
{
	return dequant_rows<float>(type, w, nb1, ncols, nrows, dst, s, err, errlen);
}

int get_rows_f32(int type, const uint8_t *w, size_t nb1, int ncols, const int *ids, int n,
                 float *out, cudaStream_t s, char *err, size_t errlen)
{
	if (check_type(type, ncols, err, errlen))
		return -1;
	if (n <= 0)
		return 0;
	dim3 grid(4, (unsigned)n);
	switch (type) {
#define CASE_(T) case T: get_rows_kernel<T><<<grid, 256, 0, s>>>(w, nb1, ncols, ids, out); break;
	GLM_QUANT_TYPES(CASE_)
#undef CASE_
	}
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

// One block per row: sum of squares, then the scaled f16 copy.
static __global__ void to_f16_norm_kernel(const float *x, int64_t in_stride, int ncols, const float *w,
                                          float eps, __half *out)
{
	__shared__ float red[32];
	const float *xr = x + (int64_t)blockIdx.x * in_stride;
	__half *o = out + (int64_t)blockIdx.x * ncols;
	float r = 1.0f;

	if (w) {
		float ss = 0.0f;
		for (int i = threadIdx.x; i < ncols; i += blockDim.x)
			ss += xr[i] * xr[i];
		ss = warp_sum(ss);
		if (threadIdx.x % WARP == 0)
			red[threadIdx.x / WARP] = ss;
		__syncthreads();
		float tot = 0.0f;
		for (int i = 0; i < (int)(blockDim.x / WARP); i++)
			tot += red[i];
		r = rsqrtf(tot / ncols + eps);
	}
	for (int i = threadIdx.x; i < ncols; i += blockDim.x)
		o[i] = f2h_sat(w ? xr[i] * r * w[i] : xr[i]);
}

int to_f16_norm(const float *x, int64_t in_stride, int ncols, int n, const float *norm_w, float eps,
                __half *out, cudaStream_t s, char *err, size_t errlen)
{
	if (n <= 0)
		return 0;
	to_f16_norm_kernel<<<n, 256, 0, s>>>(x, in_stride, ncols, norm_w, eps, out);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}
