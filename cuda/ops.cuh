// The launchers of the backend's kernels, one section per op file. Each
// launcher takes a stream, checks its arguments and returns 0, or -1 with
// a one-line message in err. Everything here runs asynchronously.
#ifndef GLM_CUDA_OPS_CUH
#define GLM_CUDA_OPS_CUH

#include "cuda/common.cuh"
#include <cublas_v2.h>

// ---- gemv.cu: quantized matrix times vectors, straight from the blocks.
// Work is split into instances: n_tok tokens × per_tok instances. Instance
// (t, j) multiplies matrix slab ids[t*n_sel + j] (or slab j when ids is NULL)
// for j < n_sel, or the extra matrix w_x for j >= n_sel (the shared expert),
// by its input vector. GLU mode multiplies a second matrix of the same shape
// (w_up) too and returns silu(gate)·up. Sum mode adds the per_tok instances
// of a token, each scaled by scale[t*n_sel + j] (j < n_sel) or 1.
struct gemv_args {
	int type;
	int ncols, nrows;
	const uint8_t *w;          // slab 0
	size_t nb1, nb2;           // row and slab strides in bytes
	const uint8_t *w_up;       // GLU second matrix (same type, rows and nb1), or NULL
	size_t nb2_up;
	const uint8_t *w_x, *w_x_up;  // the extra matrix (and its up half) for j >= n_sel
	int n_tok, per_tok, n_sel;
	const int *ids;            // device, n_tok*n_sel slab ids, or NULL
	const float *x;            // input of instance (t, j): x + t*x_tok + j*x_inst (f32)
	int64_t x_tok, x_inst;
	const int8_t *xq;          // the same inputs as int8 blocks of 32 (quantize_q8 of x,
	const float *xd;           // same indexing; xd per 32 values), or NULL: f32 path
	float *y;                  // output of (t, j): y + t*y_tok + j*y_inst (sum mode: y + t*y_tok)
	int64_t y_tok, y_inst;
	bool sum;
	const float *scale;        // sum mode weights (device), or NULL for 1
	bool accumulate;           // y += result
	bool no_fast;              // never the fast decode kernel (gemv_fast.cu): tests of the
	                           // general one, and glm_cuda_options.fast_gemv = false
	int nrows_x;               // rows of the extra matrix when they differ (0: nrows; not in sum mode)
	int warps_per_sm;          // fast kernel: the most pieces per lane that still give this
	                           // many warps per multiprocessor (0: 16; glm_cuda_options)
	bool load_early;           // fast kernel under PDL: load the weights before waiting for
	                           // the previous kernel (glm_cuda_options.pdl_early), except
	                           // rows picked by ids the previous kernel writes ...
	bool ids_early;            // ... unless ids were written two or more launches back
	bool mma;                  // Q4_K rows on tensor cores (gemv_mma.cu) where it serves,
	                           // before the others (glm_cuda_options.mma_gemv) ...
	bool mma_q6k;              // ... and Q6_K rows too (glm_cuda_options.mma_gemv_q6k)
};
int gemv_launch(const gemv_args *a, cudaStream_t s, char *err, size_t errlen);
// the fast decode kernel (gemv_fast.cu) when it serves this shape: 1 launched,
// 0 not applicable (the caller launches the general kernel)
int gemv_fast_launch(const gemv_args *a, cudaStream_t s);
// the same for the tensor-core kernel (gemv_mma.cu; a->mma set)
int gemv_mma_launch(const gemv_args *a, cudaStream_t s);


// The matrix of instance (t, j) and its up half (GLU), at row `row`.
static __device__ __forceinline__ void inst_rows(const gemv_args &a, int t, int j, int row, const uint8_t **w,
                                                 const uint8_t **wu)
{
	*wu = NULL;
	if (j < a.n_sel) {
		// (L2, not L1: read before the PDL wait when ids_early)
		const int slab = a.ids ? __ldcg(a.ids + t * a.n_sel + j) : j;
		*w = a.w + (size_t)slab * a.nb2;
		if (a.w_up)
			*wu = a.w_up + (size_t)slab * a.nb2_up;
	} else {
		*w = a.w_x;
		*wu = a.w_x_up;
	}
	*w += (size_t)row * a.nb1;
	if (*wu)
		*wu += (size_t)row * a.nb1;
}

// true when the int8-activation path exists for this type and layout
bool gemv_q8_ok(const gemv_args *a);
// x[0..n) (n a multiple of 32) to int8 blocks: d = amax/127 per 32 values
int quantize_q8(const float *x, int64_t n, int8_t *xq, float *xd, cudaStream_t s, char *err, size_t errlen);

// ---- dequant.cu
// rows [0, nrows) of a matrix (row stride nb1) to dense f16 or f32.
int dequant_rows_f16(int type, const uint8_t *w, size_t nb1, int ncols, int64_t nrows,
                     __half *dst, cudaStream_t s, char *err, size_t errlen);
int dequant_rows_f32(int type, const uint8_t *w, size_t nb1, int ncols, int64_t nrows,
                     float *dst, cudaStream_t s, char *err, size_t errlen);
// token embedding: out[i] = row ids[i] of the table, as f32
int get_rows_f32(int type, const uint8_t *w, size_t nb1, int ncols, const int *ids, int n,
                 float *out, cudaStream_t s, char *err, size_t errlen);
// f32 [n × ncols] (row stride in_stride) to f16 [n × ncols], optionally
// RMS-normalised with weight norm_w (NULL: plain conversion)
int to_f16_norm(const float *x, int64_t in_stride, int ncols, int n, const float *norm_w, float eps,
                __half *out, cudaStream_t s, char *err, size_t errlen);

// ---- norm_rope.cu
// The latent cache: rows of `row_vals` values (kv_lora_rank + n_rot padded
// to 32) in one of the glm_kv_type formats. A q8_0 row on the device is not
// GGUF's interleave of 34-byte blocks: its row_vals quants come first, each
// stored as q + 128 (the f16 conversion's bias: one byte permute, no xor),
// then the row_vals / 32 f16 scales, the row padded to 16 bytes (624 bytes
// for GLM's 576 values, 612 as blocks). The quants of a row are then 16-byte
// aligned runs that the attention kernels read as tensor-core fragments
// straight from shared memory (mla_attention.cu), with no pass that expands
// a tile into f16 first; the scales of a row are one small run beside them.
struct kv_layout {
	int type;                  // enum glm_kv_type
	int R, Dr;                 // latent and rope widths
	int row_vals;              // padded to a multiple of 32
	size_t row_bytes;
	double inv_freq[32];       // RoPE: base^(-2i/Dr), i < Dr/2
};
void kv_layout_init(kv_layout *L, int type, int R, int Dr, float rope_base);
// For n tokens at positions pos[0]+i: c = RMSNorm(ckv[0:R]) * w, k = RoPE(ckv[R:R+Dr]),
// written (converted) into cache row pos[0]+i.
int kv_store(const float *ckv, int64_t ckv_stride, const float *norm_w, float eps, int n, const int *pos,
             const kv_layout *L, uint8_t *cache, cudaStream_t s, char *err, size_t errlen);
// out[i] = RMSNorm(x[i]) * w for n rows of ncols (strides in floats; out may be
// x); with xq, also the int8 form of out (indexed like out; ncols % 32 == 0)
int rmsnorm(const float *x, int64_t x_stride, int ncols, int n, const float *w, float eps, float *out,
            int64_t out_stride, int8_t *xq, float *xd, cudaStream_t s, char *err, size_t errlen);
// out[i] = silu(gu[i][0:F]) * gu[i][F:2F], as f16 (prefill GEMM path)
int silu_mul_f16(const float *gu, int F, int n, __half *out, cudaStream_t s, char *err, size_t errlen);
// y[i] += x[i] (n values)
int add_inplace(float *y, const float *x, int64_t n, cudaStream_t s, char *err, size_t errlen);

// ---- mla_attention.cu
// Q for n query tokens × G heads: the absorbed latent part qabs[(t*G+h)*R + :R]
// and the un-roped rope part q[(t*G+h)*Dk + Dn : Dk]; keys/values are cache
// rows 0 .. pos+t. Output olat[(t*G+h)*R + :R].
struct attn_args {
	int G, R, Dr, Dk;          // heads, latent width, rope width, q head width (nope+rope)
	int n;                     // query tokens
	const int *pos;            // device: position of query token 0
	const float *qabs, *q;
	float scale;
	const kv_layout *L;
	const uint8_t *cache;
	float *out;
	float *work;               // scratch (attn_work_bytes)
	size_t work_bytes;
	int n_split;               // KV splits per query block (fused path; decode: the grid,
	                           // of which the kernel uses what the context needs)
	bool decode_legacy;        // fused path, one query token: the general kernel (q_prep,
	                           // 32-row tiles, reduce over every split) instead of the
	                           // decode kernel (glm_cuda_options.attn_decode_legacy)
	bool load_early;           // decode kernel under PDL: the first KV tile's loads before
	                           // waiting for the previous kernel (glm_cuda_options.pdl_early)
	int decode_warps;          // decode kernel: warps per block, 8, or 16 for the full GLM
	                           // shape (any other value; glm_cuda_options.attn_decode_warps)
};
size_t attn_work_bytes_fused(int G, int R, int n, int n_split);
size_t attn_work_bytes_plain(int G, int n, int64_t n_ctx);
bool attn_fused_supported(int G, int R, int Dr, int kv_type);
int attn_fused(const attn_args *a, cudaStream_t s, char *err, size_t errlen);
// the plain path: scores, softmax, weighted sum, in f32 (any cache type)
int attn_plain(const attn_args *a, int64_t max_ctx, cudaStream_t s, char *err, size_t errlen);

// ---- moe.cu
// Router: from logits [n × E] choose k experts per token: ids [n × k],
// weights [n × k] (sigmoid or softmax scores, bias for the choice only,
// normalised, scaled).
int moe_topk(const float *logits, const float *bias, int n, int E, int k, int gating, bool norm,
             float wscale, int *ids, float *weights, cudaStream_t s, char *err, size_t errlen);
// Prefill: group (token, slot) pairs by expert. counts[E], offsets[E+1],
// order[n*k] (pair index t*k+j, grouped by expert, by token within one),
// inv[t*k+j] = its place in order. Deterministic.
int moe_sort(const int *ids, int n, int k, int E, int *counts, int *offsets, int *order, int *inv,
             cudaStream_t s, char *err, size_t errlen);
// xs[r] = f16(x[order[r] / k]) for r in [0, n*k)
int moe_gather_f16(const __half *x, int D, const int *order, int nk, int k, __half *xs,
                   cudaStream_t s, char *err, size_t errlen);
// y[t] += Σ_j w[t*k+j] · ys[inv[t*k+j]]
int moe_combine(const float *ys, const int *inv, const float *w, int n, int k, int D, float *y,
                cudaStream_t s, char *err, size_t errlen);

// ---- sample.cu
// index of the largest of n values (first on ties)
int argmax_launch(const float *x, int n, int *out, cudaStream_t s, char *err, size_t errlen);

// ---- gemm.cu: C[n × rows] (f32, row stride ldc) = X[n × cols] (f16) · W^T,
// W dense f16 [rows × cols] (tensor cores through cuBLAS).
int gemm_f16(cublasHandle_t h, const __half *W, int rows, int cols, const __half *X, int64_t ldx, int n,
             float *C, int64_t ldc, bool accumulate, char *err, size_t errlen);
// batched over heads: C_b = X_b · W_b^T with strides between the batch items
int gemm_f16_batched(cublasHandle_t h, const __half *W, int rows, int cols, int64_t w_stride,
                     const __half *X, int64_t ldx, int64_t x_stride, int n, float *C, int64_t ldc,
                     int64_t c_stride, int batch, char *err, size_t errlen);

#endif
