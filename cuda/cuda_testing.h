/* Single device ops for tests/test_cuda_ops.c: host buffers in, host
 * buffers out, each call synchronous. Not part of the backend's API. */
#ifndef GLM_CUDA_TESTING_H
#define GLM_CUDA_TESTING_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* nrows rows of ncols values (row stride nb1 bytes) dequantized to f32. */
int glm_cuda_test_dequant(int type, const void *w, size_t nb1, int ncols, int nrows, float *out,
                          char *err, size_t errlen);

/* The GEMV kernel (cuda/ops.cuh, struct gemv_args) on host buffers:
 * matrices of w_bytes (all slabs), extra matrices of wx_bytes, inputs of
 * x_count floats, outputs of y_count floats (read first when accumulate). */
struct glm_cuda_gemv_test {
	int type, ncols, nrows;
	const void *w, *w_up;
	size_t w_bytes, nb1, nb2;
	const void *w_x, *w_x_up;
	size_t wx_bytes;
	int n_tok, per_tok, n_sel;
	const int *ids;                 /* n_tok * n_sel, or NULL */
	const float *x;
	size_t x_count;
	int64_t x_tok, x_inst;
	const float *norm_w;            /* ncols, or NULL: the input RMS-normalised first */
	float norm_eps;
	float *y;
	size_t y_count;
	int64_t y_tok, y_inst;
	bool sum, accumulate;
	const float *scale;             /* n_tok * n_sel, or NULL */
	bool q8;                        /* int8 activations (x_count % 32 == 0) */
	int nrows_x;                    /* rows of w_x when they differ (0: nrows) */
	bool no_fast;                   /* never the fast decode kernel (gemv_fast.cu) */
	bool mma;                       /* the tensor-core kernel (gemv_mma.cu) where it serves,
	                                   Q6_K included */
};
int glm_cuda_test_gemv(const struct glm_cuda_gemv_test *t, char *err, size_t errlen);

/* y[n × nrows] = x[n × ncols] · W^T through the prefill path (f16 tiles,
 * tensor cores). */
int glm_cuda_test_gemm(int type, const void *w, size_t nb1, int ncols, int nrows, const float *x, int n,
                       float *y, char *err, size_t errlen);

/* Bytes of one cache row. */
size_t glm_cuda_test_kv_row_bytes(int kv_type, int R, int Dr);

/* Writes n_rows latent rows (ckv: n_rows × (R+Dr), raw, before
 * kv_a_norm and RoPE) at positions 0.. into a cache of kv_type, then
 * attends n query tokens at positions pos.. (pos + n <= n_rows) over it.
 * qabs: n × G × R; q: n × G × Dk (the rope part is the last Dr of each
 * head); out: n × G × R. fused: the flash kernel (else the plain path);
 * n_split: its KV splits. cache_out (n_rows × row bytes) receives the
 * cache for the reference. */
int glm_cuda_test_attention(int G, int R, int Dr, int Dk, int kv_type, const float *ckv, const float *norm_w,
                            float eps, int n_rows, int n, int64_t pos, const float *qabs, const float *q,
                            float rope_base, float scale, bool fused, int n_split, float *out,
                            void *cache_out, char *err, size_t errlen);
/* Later glm_cuda_test_attention calls with fused and one query token:
 * the general kernel (option attn_decode_legacy) instead of the decode one. */
void glm_cuda_test_set_attn_decode_legacy(bool on);
/* Warps per block of the decode kernel from now on (0: the default). */
void glm_cuda_test_set_attn_decode_warps(int nw);
/* true when the fused kernel exists for this shape, cache type and device */
bool glm_cuda_test_fused_supported(int G, int R, int Dr, int kv_type);

/* The decode attention kernel alone (one query token at position depth,
 * G heads of R + Dr over a kv_type cache), for the performance log:
 * n_layers distinct caches (so that none sits in L2), one launch per cache
 * in a CUDA graph replayed reps times; us[r] = µs per launch of replay r.
 * n_split 0: the backend's default (the device's SM count); warps 0: the
 * default. */
int glm_cuda_bench_attention(int G, int R, int Dr, int kv_type, int depth, int n_split, int warps,
                             int n_layers, int reps, double *us, char *err, size_t errlen);

/* Router choice: ids and weights (n × k) from logits (n × E). */
int glm_cuda_test_topk(const float *logits, const float *bias, int n, int E, int k, int gating, bool norm,
                       float scale, int *ids, float *weights, char *err, size_t errlen);

/* Free and total memory of the current device (cudaMemGetInfo). */
int glm_cuda_test_mem_info(size_t *free_b, size_t *total_b);

#ifdef __cplusplus
}
#endif
#endif
