// Host-buffer wrappers of single kernels for the per-op tests. Each call
// allocates, copies, runs on the default stream, copies back and frees.
// Last, the timing of one layer's decode attention for
// glmchat-cuda-attnbench.
#include "cuda/ops.cuh"
#include "cuda/kv_dev.cuh"
#include "cuda/cuda_testing.h"
#include <stdlib.h>
#include <string.h>

// A scoped set of device allocations, freed together.
struct dev_pool {
	void *p[16];
	int n;
	dev_pool() : n(0) {}
	~dev_pool()
	{
		for (int i = 0; i < n; i++)
			cudaFree(p[i]);
	}
	template <class T> T *up(const void *src, size_t bytes, char *err, size_t errlen)
	{
		void *d = NULL;
		if (bytes == 0)
			bytes = 16;
		if (CUDA_FAIL(cudaMalloc(&d, bytes), err, errlen))
			return NULL;
		p[n++] = d;
		if (src && CUDA_FAIL(cudaMemcpy(d, src, bytes, cudaMemcpyHostToDevice), err, errlen))
			return NULL;
		if (!src)
			cudaMemset(d, 0, bytes);
		return (T *)d;
	}
};

static int finish(void *host, const void *dev, size_t bytes, char *err, size_t errlen)
{
	if (CUDA_FAIL(cudaDeviceSynchronize(), err, errlen))
		return -1;
	if (host && CUDA_FAIL(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost), err, errlen))
		return -1;
	return 0;
}

extern "C" int glm_cuda_test_dequant(int type, const void *w, size_t nb1, int ncols, int nrows, float *out,
                                     char *err, size_t errlen)
{
	dev_pool P;
	const uint8_t *dw = P.up<uint8_t>(w, nb1 * nrows, err, errlen);
	float *dy = P.up<float>(NULL, sizeof(float) * ncols * nrows, err, errlen);
	if (!dw || !dy || dequant_rows_f32(type, dw, nb1, ncols, nrows, dy, 0, err, errlen))
		return -1;
	return finish(out, dy, sizeof(float) * ncols * nrows, err, errlen);
}

extern "C" int glm_cuda_test_gemv(const struct glm_cuda_gemv_test *t, char *err, size_t errlen)
{
	dev_pool P;
	gemv_args a;
	memset(&a, 0, sizeof a);
	a.type = t->type;
	a.ncols = t->ncols;
	a.nrows = t->nrows;
	a.nb1 = t->nb1;
	a.nb2 = t->nb2;
	a.nb2_up = t->nb2;
	a.n_tok = t->n_tok;
	a.per_tok = t->per_tok;
	a.n_sel = t->n_sel;
	a.x_tok = t->x_tok;
	a.x_inst = t->x_inst;
	a.y_tok = t->y_tok;
	a.y_inst = t->y_inst;
	a.sum = t->sum;
	a.accumulate = t->accumulate;
	a.no_fast = t->no_fast;
	a.mma = a.mma_q6k = t->mma;
	a.nrows_x = t->nrows_x;
	if (!(a.w = P.up<uint8_t>(t->w, t->w_bytes, err, errlen)))
		return -1;
	if (t->w_up && !(a.w_up = P.up<uint8_t>(t->w_up, t->w_bytes, err, errlen)))
		return -1;
	if (t->w_x && !(a.w_x = P.up<uint8_t>(t->w_x, t->wx_bytes, err, errlen)))
		return -1;
	if (t->w_x_up && !(a.w_x_up = P.up<uint8_t>(t->w_x_up, t->wx_bytes, err, errlen)))
		return -1;
	if (t->ids && !(a.ids = P.up<int>(t->ids, sizeof(int) * t->n_tok * t->n_sel, err, errlen)))
		return -1;
	float *dx = P.up<float>(t->x, sizeof(float) * t->x_count, err, errlen);
	if (!(a.x = dx))
		return -1;
	if (t->norm_w) {
		// the forward pass normalises the per-token input first
		const float *nw = P.up<float>(t->norm_w, sizeof(float) * t->ncols, err, errlen);
		if (!nw)
			return -1;
		if (rmsnorm(dx, t->x_tok, t->ncols, t->n_tok, nw, t->norm_eps, dx, t->x_tok, NULL, NULL, 0, err, errlen))
			return -1;
	}
	if (t->q8) {
		int8_t *xq = P.up<int8_t>(NULL, t->x_count, err, errlen);
		float *xd = P.up<float>(NULL, sizeof(float) * (t->x_count / 32 + 1), err, errlen);
		if (!xq || !xd || quantize_q8(dx, (int64_t)t->x_count, xq, xd, 0, err, errlen))
			return -1;
		a.xq = xq;
		a.xd = xd;
		if (!gemv_q8_ok(&a)) {
			snprintf(err, errlen, "cuda: no int8 path for this type/layout");
			return -1;
		}
	}
	if (t->scale && !(a.scale = P.up<float>(t->scale, sizeof(float) * t->n_tok * t->n_sel, err, errlen)))
		return -1;
	if (!(a.y = P.up<float>(t->y, sizeof(float) * t->y_count, err, errlen)))
		return -1;
	if (gemv_launch(&a, 0, err, errlen))
		return -1;
	return finish(t->y, a.y, sizeof(float) * t->y_count, err, errlen);
}

extern "C" int glm_cuda_test_gemm(int type, const void *w, size_t nb1, int ncols, int nrows, const float *x, int n,
                                  float *y, char *err, size_t errlen)
{
	dev_pool P;
	cublasHandle_t h;
	const uint8_t *dw = P.up<uint8_t>(w, nb1 * nrows, err, errlen);
	const float *dx = P.up<float>(x, sizeof(float) * n * ncols, err, errlen);
	__half *wh = P.up<__half>(NULL, sizeof(__half) * nrows * ncols, err, errlen);
	__half *xh = P.up<__half>(NULL, sizeof(__half) * n * ncols, err, errlen);
	float *dy = P.up<float>(NULL, sizeof(float) * n * nrows, err, errlen);
	if (!dw || !dx || !wh || !xh || !dy)
		return -1;
	if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) {
		snprintf(err, errlen, "cuda: cublas init failed");
		return -1;
	}
	int rc = dequant_rows_f16(type, dw, nb1, ncols, nrows, wh, 0, err, errlen);
	if (!rc)
		rc = to_f16_norm(dx, ncols, ncols, n, NULL, 0.0f, xh, 0, err, errlen);
	if (!rc)
		rc = gemm_f16(h, wh, nrows, ncols, xh, ncols, n, dy, nrows, false, err, errlen);
	if (!rc)
		rc = finish(y, dy, sizeof(float) * n * nrows, err, errlen);
	cublasDestroy(h);
	return rc;
}

extern "C" size_t glm_cuda_test_kv_row_bytes(int kv_type, int R, int Dr)
{
	const int rv = (R + Dr + 31) / 32 * 32;
	switch (kv_type) {
	case KV_F32: return (size_t)rv * 4;
	case KV_F16:
	case KV_BF16: return (size_t)rv * 2;
	case KV_Q8_0: return (size_t)rv / 32 * 34;
	}
	return 0;
}

extern "C" bool glm_cuda_test_fused_supported(int G, int R, int Dr, int kv_type)
{
	return attn_fused_supported(G, R, Dr, kv_type);
}

// The attention arguments the test and the bench both start from.
static attn_args attn_args_for(int G, int R, int Dr, int Dk, int n, const int *pos, const float *qabs, const float *q,
                               float scale, const kv_layout *L, float *out, int n_split)
{
	attn_args a;
	memset(&a, 0, sizeof a);
	a.G = G;
	a.R = R;
	a.Dr = Dr;
	a.Dk = Dk;
	a.n = n;
	a.pos = pos;
	a.qabs = qabs;
	a.q = q;
	a.scale = scale;
	a.L = L;
	a.out = out;
	a.n_split = n_split;
	return a;
}

static bool test_decode_legacy;
static int test_decode_warps;

extern "C" void glm_cuda_test_set_attn_decode_warps(int nw)
{
	test_decode_warps = nw;
}

extern "C" void glm_cuda_test_set_attn_decode_legacy(bool on)
{
	test_decode_legacy = on;
}

extern "C" int glm_cuda_test_attention(int G, int R, int Dr, int Dk, int kv_type, const float *ckv,
                                       const float *norm_w, float eps, int n_rows, int n, int64_t pos,
                                       const float *qabs, const float *q, float rope_base, float scale, bool fused,
                                       int n_split, float *out, void *cache_out, char *err, size_t errlen)
{
	dev_pool P;
	kv_layout L;
	kv_layout_init(&L, kv_type, R, Dr, rope_base);
	const int zero = 0, ipos = (int)pos;
	const float *dckv = P.up<float>(ckv, sizeof(float) * n_rows * (R + Dr), err, errlen);
	const float *dnw = P.up<float>(norm_w, sizeof(float) * R, err, errlen);
	uint8_t *cache = P.up<uint8_t>(NULL, L.row_bytes * (n_rows + 1), err, errlen);
	int *dzero = P.up<int>(&zero, sizeof(int), err, errlen);
	int *dpos = P.up<int>(&ipos, sizeof(int), err, errlen);
	const float *dqabs = P.up<float>(qabs, sizeof(float) * n * G * R, err, errlen);
	const float *dq = P.up<float>(q, sizeof(float) * n * G * Dk, err, errlen);
	float *dout = P.up<float>(NULL, sizeof(float) * n * G * R, err, errlen);
	if (!dckv || !dnw || !cache || !dzero || !dpos || !dqabs || !dq || !dout)
		return -1;
	if (kv_store(dckv, R + Dr, dnw, eps, n_rows, dzero, &L, cache, 0, err, errlen))
		return -1;
	attn_args a = attn_args_for(G, R, Dr, Dk, n, dpos, dqabs, dq, scale, &L, dout, n_split);
	a.cache = cache;
	a.decode_legacy = test_decode_legacy;
	a.decode_warps = test_decode_warps;
	a.work_bytes = fused ? attn_work_bytes_fused(G, R, n, n_split) : attn_work_bytes_plain(G, n, n_rows);
	if (!(a.work = P.up<float>(NULL, a.work_bytes, err, errlen)))
		return -1;
	// NaN everywhere (all bits set): a partial or an output the kernels
	// read without writing, or fail to write, shows in the result
	if (CUDA_FAIL(cudaMemset(a.work, 0xFF, a.work_bytes), err, errlen) ||
	    CUDA_FAIL(cudaMemset(dout, 0xFF, sizeof(float) * n * G * R), err, errlen))
		return -1;
	int rc = fused ? attn_fused(&a, 0, err, errlen) : attn_plain(&a, n_rows, 0, err, errlen);
	if (rc)
		return -1;
	if (finish(out, dout, sizeof(float) * n * G * R, err, errlen))
		return -1;
	if (cache_out && kv_type != KV_Q8_0 &&
	    CUDA_FAIL(cudaMemcpy(cache_out, cache, L.row_bytes * n_rows, cudaMemcpyDeviceToHost), err, errlen))
		return -1;
	if (cache_out && kv_type == KV_Q8_0) {
		// the device's rows (quants, then scales: kv_layout) as GGUF q8_0
		// blocks, the format the tests' reference reads
		uint8_t *rows = (uint8_t *)malloc(L.row_bytes * n_rows), *o = (uint8_t *)cache_out;
		if (!rows || CUDA_FAIL(cudaMemcpy(rows, cache, L.row_bytes * n_rows, cudaMemcpyDeviceToHost), err, errlen)) {
			free(rows);
			return -1;
		}
		for (int t = 0; t < n_rows; t++) {
			const uint8_t *r = rows + (size_t)t * L.row_bytes;
			for (int b = 0; b < L.row_vals / 32; b++, o += 34) {
				memcpy(o, r + L.row_vals + 2 * b, 2);
				for (int i = 0; i < 32; i++)
					o[2 + i] = r[32 * b + i] ^ 0x80;   // stored as q + 128
			}
		}
		free(rows);
	}
	return 0;
}

extern "C" int glm_cuda_test_topk(const float *logits, const float *bias, int n, int E, int k, int gating, bool norm,
                                  float scale, int *ids, float *weights, char *err, size_t errlen)
{
	dev_pool P;
	const float *dl = P.up<float>(logits, sizeof(float) * n * E, err, errlen);
	const float *db = bias ? P.up<float>(bias, sizeof(float) * E, err, errlen) : NULL;
	int *di = P.up<int>(NULL, sizeof(int) * n * k, err, errlen);
	float *dw = P.up<float>(NULL, sizeof(float) * n * k, err, errlen);
	if (!dl || (bias && !db) || !di || !dw)
		return -1;
	if (moe_topk(dl, db, n, E, k, gating, norm, scale, di, dw, 0, err, errlen))
		return -1;
	if (finish(ids, di, sizeof(int) * n * k, err, errlen))
		return -1;
	return finish(weights, dw, sizeof(float) * n * k, err, errlen);
}

extern "C" int glm_cuda_test_mem_info(size_t *free_b, size_t *total_b)
{
	return cudaMemGetInfo(free_b, total_b) == cudaSuccess ? 0 : -1;
}

// ---------------------------------------------------------------- bench
// The decode attention kernel alone, timed on the device
// (glm_cuda_bench_attention): one layer's attention at a given depth,
// without the rest of the step around it.

// x[i] = a deterministic value in [-1, 1)
static __global__ void fill_kernel(float *x, int64_t n, uint32_t seed)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
		uint32_t h = (uint32_t)i * 2654435761u ^ seed;
		h ^= h >> 15;
		h *= 2246822519u;
		h ^= h >> 13;
		x[i] = (float)(h & 0xFFFFFF) / 8388608.0f - 1.0f;
	}
}

static int fill(float *x, int64_t n, uint32_t seed, char *err, size_t errlen)
{
	fill_kernel<<<512, 256>>>(x, n, seed);
	return LAUNCH_FAIL(err, errlen) ? -1 : 0;
}

extern "C" int glm_cuda_bench_attention(int G, int R, int Dr, int kv_type, int depth, int n_split, int warps,
                                        int n_layers, int reps, double *us, char *err, size_t errlen)
{
	const int D = R + Dr, Dk = 192 + Dr, rows = depth + 1;
	kv_layout L;
	kv_layout_init(&L, kv_type, R, Dr, 1000000.0f);
	int dev = 0;
	cudaGetDevice(&dev);
	cudaDeviceProp prop;
	if (CUDA_FAIL(cudaGetDeviceProperties(&prop, dev), err, errlen))
		return -1;
	if (n_split <= 0)
		n_split = prop.multiProcessorCount;
	float *ckv = NULL, *nw = NULL, *qabs = NULL, *q = NULL, *out = NULL, *work = NULL;
	int *pos = NULL, *zero = NULL;
	uint8_t **caches = (uint8_t **)calloc((size_t)n_layers, sizeof *caches);
	cudaGraph_t graph = NULL;
	cudaGraphExec_t exec = NULL;
	cudaStream_t s = NULL;
	cudaEvent_t e0 = NULL, e1 = NULL;
	int rc = -1;
	const size_t work_bytes = attn_work_bytes_fused(G, R, 1, n_split);
	if (!caches || CUDA_FAIL(cudaMalloc(&ckv, sizeof(float) * rows * D), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&nw, sizeof(float) * R), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&qabs, sizeof(float) * G * R), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&q, sizeof(float) * G * Dk), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&out, sizeof(float) * G * R), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&work, work_bytes), err, errlen) ||
	    CUDA_FAIL(cudaMalloc(&pos, sizeof(int) * 2), err, errlen))
		goto done;
	zero = pos + 1;
	if (fill(ckv, (int64_t)rows * D, 1, err, errlen) || fill(nw, R, 2, err, errlen) ||
	    fill(qabs, (int64_t)G * R, 3, err, errlen) || fill(q, (int64_t)G * Dk, 4, err, errlen))
		goto done;
	{
		const int hp[2] = {depth, 0};
		if (CUDA_FAIL(cudaMemcpy(pos, hp, sizeof hp, cudaMemcpyHostToDevice), err, errlen))
			goto done;
	}
	for (int l = 0; l < n_layers; l++) {
		if (CUDA_FAIL(cudaMalloc(&caches[l], L.row_bytes * (rows + 1)), err, errlen) ||
		    kv_store(ckv, D, nw, 1e-5f, rows, zero, &L, caches[l], 0, err, errlen))
			goto done;
	}
	if (CUDA_FAIL(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), err, errlen) ||
	    CUDA_FAIL(cudaEventCreate(&e0), err, errlen) || CUDA_FAIL(cudaEventCreate(&e1), err, errlen) ||
	    CUDA_FAIL(cudaDeviceSynchronize(), err, errlen))
		goto done;
	{
		attn_args a = attn_args_for(G, R, Dr, Dk, 1, pos, qabs, q, 0.05f, &L, out, n_split);
		a.work = work;
		a.work_bytes = work_bytes;
		a.decode_warps = warps;
		// one untimed run of each launch configuration (attributes, modules)
		a.cache = caches[0];
		if (attn_fused(&a, s, err, errlen) || CUDA_FAIL(cudaStreamSynchronize(s), err, errlen))
			goto done;
		if (CUDA_FAIL(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), err, errlen))
			goto done;
		for (int l = 0; l < n_layers; l++) {
			a.cache = caches[l];
			if (attn_fused(&a, s, err, errlen)) {
				cudaStreamEndCapture(s, &graph);
				goto done;
			}
		}
		if (CUDA_FAIL(cudaStreamEndCapture(s, &graph), err, errlen) ||
		    CUDA_FAIL(cudaGraphInstantiate(&exec, graph, 0), err, errlen))
			goto done;
		for (int r = -1; r < reps; r++) {
			float ms = 0;
			if (CUDA_FAIL(cudaEventRecord(e0, s), err, errlen) || CUDA_FAIL(cudaGraphLaunch(exec, s), err, errlen) ||
			    CUDA_FAIL(cudaEventRecord(e1, s), err, errlen) || CUDA_FAIL(cudaEventSynchronize(e1), err, errlen) ||
			    CUDA_FAIL(cudaEventElapsedTime(&ms, e0, e1), err, errlen))
				goto done;
			if (r >= 0)
				us[r] = 1000.0 * ms / n_layers;
		}
	}
	rc = 0;
done:
	if (exec)
		cudaGraphExecDestroy(exec);
	if (graph)
		cudaGraphDestroy(graph);
	if (e0)
		cudaEventDestroy(e0);
	if (e1)
		cudaEventDestroy(e1);
	if (s)
		cudaStreamDestroy(s);
	for (int l = 0; caches && l < n_layers; l++)
		cudaFree(caches[l]);
	free(caches);
	cudaFree(ckv);
	cudaFree(nw);
	cudaFree(qabs);
	cudaFree(q);
	cudaFree(out);
	cudaFree(work);
	cudaFree(pos);
	return rc;
}
