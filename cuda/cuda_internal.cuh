// The CUDA backend's state: device copies of the weights (in their file
// formats), the latent cache, the scratch buffers of a forward pass and
// the decode-step CUDA graph. Shared by cuda_weights.cu, cuda_forward.cu
// and cuda_backend.cu only.
#ifndef GLM_CUDA_INTERNAL_CUH
#define GLM_CUDA_INTERNAL_CUH

#include "cuda/ops.cuh"
#include "cuda/quant_dev.cuh"
#include "cuda/kv_dev.cuh"
#include <atomic>          // before the C headers: backend.h includes it for C++
extern "C" {
#include "engine/backend.h"
#include "engine/model.h"
#include "engine/engine.h"
}
#include "cuda/cuda_backend.h"

// A weight on the device: same type and strides as in the file.
struct dtensor {
	const uint8_t *d;          // device pointer, NULL when absent
	int type;
	int64_t ne[4];
	size_t nb[4];
};

struct dlayer {
	dtensor attn_norm, attn_q_a, attn_q_a_norm, attn_q_b, attn_kv_a_mqa, attn_kv_a_norm;
	dtensor attn_k_b, attn_v_b, attn_output, ffn_norm;
	bool is_moe;
	dtensor ffn_gate, ffn_up, ffn_down;
	dtensor ffn_gate_inp, exp_probs_b, ffn_gate_exps, ffn_up_exps, ffn_down_exps;
	dtensor ffn_gate_shexp, ffn_up_shexp, ffn_down_shexp;
};

// Scratch for one chunk of up to nb tokens (f32 unless noted).
struct scratch {
	int nb;                    // tokens per chunk
	int *ids;                  // [nb] token ids
	int *pos;                  // [1] position of the chunk's first token
	float *x;                  // [nb × D] residual stream
	float *h;                  // [nb × D] its RMS-normalised copy
	int8_t *xq;                // int8 form of the current GEMV input
	float *xd;                 // and its block scales
	float *cq;                 // [nb × Rq]
	float *ckv;                // [nb × (R+Dr)]
	float *q;                  // [nb × H × Dk]
	float *qabs;               // [nb × H × R]
	float *olat;               // [nb × H × R]
	float *o;                  // [nb × H × Dv]
	float *act;                // [nb × max(F, (k+1)·Fe)] GLU outputs (decode / gemv path)
	float *rlog;               // [nb × E] router logits
	int *eids;                 // [nb × k]
	float *ew;                 // [nb × k]
	float *logits;             // [max(1, nbl) × V]
	float *attn_work;          // attention scratch
	size_t attn_work_bytes;
	// prefill GEMM path
	__half *wdq;               // dequantized weight tile
	size_t wdq_elems;
	__half *xh;                // [nb × max(D, Rq, H·Dv, F)] f16 activations
	__half *xh2;               // [nb·k × max(D, Fe)] gathered / expert activations
	float *gu;                 // [max(nb·F? , nb·k·2Fe)] f32 GEMM outputs
	float *ys;                 // [nb·k × D]
	int *counts, *offsets, *order, *inv;
	size_t gu_elems;
};

struct cuda_backend {
	struct glm_backend base;
	struct glm_cuda_options opt;
	int device;
	int n_sm;
	cudaStream_t stream;
	cublasHandle_t cublas;
	struct glm_hparams hp;
	// weights
	void *wbuf;                // one allocation holding every tensor
	size_t wbytes;
	dtensor token_embd, output_norm, output;
	dlayer *layers;            // hp.n_layer
	// the latent cache: n_layer × n_ctx rows
	kv_layout kv;
	uint8_t *cache;
	int64_t n_ctx;
	bool fused;                // fused attention in use
	int n_split;               // decode KV splits (the grid; the kernel uses what the context needs)
	// scratch
	void *sbuf;
	size_t sbytes;
	scratch s;
	// pinned host staging for ids/pos/logits
	int *h_ids;                // [nb]
	int *h_pos;                // [1]
	float *h_logits;           // [V]
	// the decode step as a graph (n == 1, last-token logits)
	cudaGraphExec_t graph;
	bool graph_ok, graph_tried;
	int64_t used_bytes;
	char errbuf[256];
};

// cuda_weights.cu
int cuda_upload_weights(cuda_backend *b, const struct glm_model *m, char *err, size_t errlen);
size_t cuda_weight_bytes(const struct glm_model *m);
// cuda_forward.cu
size_t cuda_scratch_bytes(const cuda_backend *b, int nb);
int cuda_scratch_init(cuda_backend *b, int nb, char *err, size_t errlen);
int cuda_forward(cuda_backend *b, const int32_t *ids, int n, int64_t pos, float *logits, bool all_logits,
                 glm_atomic_int *cancel, char *err, size_t errlen);

#endif
