// The forward pass on the device, read top to bottom like the math of
// glm47flash-spec.md §2 (absorbed MLA, sigmoid-routed MoE). Two paths share
// the structure:
//  - GEMV (decode and small batches): every projection reads the weight
//    blocks directly (f32 activations, or int8 ones with dp4a when
//    glm_cuda_options.exact is off), routing and expert choice on the
//    device, the four chosen experts plus the shared one in one launch per
//    projection. With n == 1 the whole step is captured once as a CUDA
//    graph and replayed: nothing waits on the host inside a step.
//  - GEMM (prefill batches of gemm_min_batch tokens or more): weights are
//    dequantized to f16 tiles and multiplied on the tensor cores through
//    cuBLAS; MoE tokens are grouped by expert so each expert is one GEMM.
#include "cuda/cuda_internal.cuh"
#include <string.h>

#define TRY(x) do { if (x) return -1; } while (0)

struct dims {
	int D, H, Rq, R, Dr, Dn, Dk, Dv, F, Fe, E, K, V, P;
};

static dims dims_of(const cuda_backend *b)
{
	const struct glm_hparams *hp = &b->hp;
	dims d;
	d.D = hp->n_embd;
	d.H = hp->n_head;
	d.Rq = hp->q_lora_rank;
	d.R = hp->kv_lora_rank;
	d.Dr = hp->n_rot;
	d.Dn = hp->n_embd_head_qk_nope;
	d.Dk = hp->n_embd_head_k;
	d.Dv = hp->n_embd_head_v;
	d.F = hp->n_ff;
	d.Fe = hp->n_ff_exp;
	d.E = hp->n_expert;
	d.K = hp->n_expert_used;
	d.V = hp->n_vocab;
	d.P = d.K + (hp->n_expert_shared > 0 ? 1 : 0);
	return d;
}

static int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

// ---------------------------------------------------------------- scratch

// Lays the scratch buffers out from base (or only measures with base NULL).
static size_t scratch_layout(const cuda_backend *b, int nb, uint8_t *base, scratch *s)
{
	const dims d = dims_of(b);
	size_t off = 0;
	auto take = [&](size_t bytes) -> void * {
		off = (off + 255) / 256 * 256;
		void *p = base ? base + off : NULL;
		off += bytes;
		return p;
	};
	const bool gemm = b->opt.gemm_min_batch <= nb;
	const int nbl = nb < 64 ? nb : 64;
	memset(s, 0, sizeof *s);
	s->nb = nb;
	s->ids = (int *)take(sizeof(int) * nb);
	s->pos = (int *)take(sizeof(int) * 4);
	s->x = (float *)take(sizeof(float) * nb * d.D);
	s->h = (float *)take(sizeof(float) * nb * d.D);
	{
		int64_t qw = imax(imax(d.D, d.Rq), imax((int64_t)d.H * d.Dk, (int64_t)d.H * d.R));
		qw = imax(qw, imax((int64_t)d.H * d.Dv, imax(d.F, (int64_t)d.P * d.Fe)));
		s->xq = (int8_t *)take((size_t)nb * qw);
		s->xd = (float *)take(sizeof(float) * ((size_t)nb * qw / 32 + 1));
	}
	s->cq = (float *)take(sizeof(float) * nb * d.Rq);
	s->ckv = (float *)take(sizeof(float) * nb * (d.R + d.Dr));
	s->q = (float *)take(sizeof(float) * nb * d.H * d.Dk);
	s->qabs = (float *)take(sizeof(float) * nb * d.H * d.R);
	s->olat = (float *)take(sizeof(float) * nb * d.H * d.R);
	s->o = (float *)take(sizeof(float) * nb * d.H * d.Dv);
	s->act = (float *)take(sizeof(float) * nb * imax(d.F, (int64_t)d.P * d.Fe));
	s->rlog = (float *)take(sizeof(float) * nb * imax(d.E, 1));
	s->eids = (int *)take(sizeof(int) * nb * imax(d.K, 1));
	s->ew = (float *)take(sizeof(float) * nb * imax(d.K, 1));
	s->logits = (float *)take(sizeof(float) * (size_t)nbl * d.V);
	// attention: the fused kernel's split partials, or the plain path's score rows
	size_t aw;
	if (b->fused) {
		// decode splits; batches pick as many splits as fit in 64 MiB
		aw = (size_t)imax(attn_work_bytes_fused(d.H, d.R, 1, b->n_split), 64 << 20);
	} else {
		aw = attn_work_bytes_plain(d.H, nb, b->n_ctx);
	}
	s->attn_work = (float *)take(aw);
	s->attn_work_bytes = aw;
	if (gemm) {
		// the largest matrix that is not tiled: dense gate+up, or the attention output
		int64_t w = imax(2LL * d.F * d.D, (int64_t)d.D * d.H * d.Dv);
		w = imax(w, 2LL * d.Fe * d.D);
		w = imax(w, (int64_t)d.H * d.R * d.Dn);
		w = imax(w, (int64_t)d.H * d.Dv * d.R);
		w = imax(w, (int64_t)d.Rq * d.H * d.Dk);
		w = imax(w, 4096LL * d.D);      // output tiles
		s->wdq_elems = (size_t)w;
		s->wdq = (__half *)take(sizeof(__half) * w);
		int64_t xw = imax(imax(d.D, d.Rq), imax(imax((int64_t)d.H * d.Dk, (int64_t)d.H * d.R), imax((int64_t)d.H * d.Dv, d.F)));
		s->xh = (__half *)take(sizeof(__half) * nb * xw);
		const int64_t nk = (int64_t)nb * imax(d.K, 1);
		s->xh2 = (__half *)take(sizeof(__half) * imax(nk, nb) * imax(d.D, d.Fe));
		s->gu_elems = (size_t)imax(imax((int64_t)nb * 2 * d.F, nk * 2 * d.Fe), (int64_t)nb * 2 * d.Fe);
		s->gu = (float *)take(sizeof(float) * s->gu_elems);
		s->ys = (float *)take(sizeof(float) * nk * d.D);
		s->counts = (int *)take(sizeof(int) * (d.E + 1));
		s->offsets = (int *)take(sizeof(int) * (d.E + 1));
		s->order = (int *)take(sizeof(int) * nk);
		s->inv = (int *)take(sizeof(int) * nk);
	}
	return off + 256;
}

size_t cuda_scratch_bytes(const cuda_backend *b, int nb)
{
	scratch s;
	return scratch_layout(b, nb, NULL, &s);
}

int cuda_scratch_init(cuda_backend *b, int nb, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	b->sbytes = cuda_scratch_bytes(b, nb);
	if (CUDA_FAIL(cudaMalloc(&b->sbuf, b->sbytes), err, errlen))
		return -1;
	scratch_layout(b, nb, (uint8_t *)b->sbuf, &b->s);
	if (CUDA_FAIL(cudaMallocHost((void **)&b->h_ids, sizeof(int) * (nb + 4)), err, errlen) ||
	    CUDA_FAIL(cudaMallocHost((void **)&b->h_pos, sizeof(int) * 4), err, errlen) ||
	    CUDA_FAIL(cudaMallocHost((void **)&b->h_logits, sizeof(float) * d.V), err, errlen))
		return -1;
	return 0;
}

// ---------------------------------------------------------------- GEMV path

static gemv_args gv(const cuda_backend *b, const dtensor *W, int n, const float *x, int64_t x_tok, float *y,
                    int64_t y_tok)
{
	gemv_args a;
	memset(&a, 0, sizeof a);
	a.no_fast = !b->opt.fast_gemv;
	a.load_early = b->opt.pdl && b->opt.pdl_early;
	a.warps_per_sm = b->opt.gemv_warps_per_sm;
	a.mma = b->opt.mma_gemv;   // (no_fast turns it off too)
	a.mma_q6k = a.mma && b->opt.mma_gemv_q6k;
	a.type = W->type;
	a.ncols = (int)W->ne[0];
	a.nrows = (int)W->ne[1];
	a.w = W->d;
	a.nb1 = W->nb[1];
	a.nb2 = W->nb[2];
	a.n_tok = n;
	a.per_tok = 1;
	a.n_sel = 1;
	a.x = x;
	a.x_tok = x_tok;
	a.y = y;
	a.y_tok = y_tok;
	return a;
}

// Use the int8 activations (already quantized from a->x into s->xq) when
// allowed; exact mode keeps f32.
static void use_q8(const cuda_backend *b, gemv_args *a)
{
	if (!b->opt.exact && gemv_q8_ok(a)) {
		a->xq = b->s.xq;
		a->xd = b->s.xd;
	}
}

// Quantize a whole f32 buffer of n values for the next GEMV (when used).
static int q8_input(cuda_backend *b, const float *x, int64_t n, char *err, size_t errlen)
{
	if (b->opt.exact || n % 32)
		return 0;
	return quantize_q8(x, n, b->s.xq, b->s.xd, b->stream, err, errlen);
}

static int attention_gemv(cuda_backend *b, const dlayer *L, uint8_t *cache, int n, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	scratch *s = &b->s;
	cudaStream_t st = b->stream;
	const float eps = b->hp.rms_eps, eps_in = b->hp.rms_eps_inner;

	const bool q8 = !b->opt.exact && d.D % 32 == 0 && d.Rq % 32 == 0;
	TRY(rmsnorm(s->x, d.D, d.D, n, (const float *)L->attn_norm.d, eps, s->h, d.D, q8 ? s->xq : NULL, s->xd, st, err,
	            errlen));
	gemv_args a = gv(b, &L->attn_q_a, n, s->h, d.D, s->cq, d.Rq);
	if (n == 1 && L->attn_kv_a_mqa.type == L->attn_q_a.type &&
	    L->attn_kv_a_mqa.nb[1] == L->attn_q_a.nb[1]) {
		// decode: q_a and kv_a read the same input, so one launch does both
		// (instance 1 is the extra matrix, its output at ckv)
		a.per_tok = 2;
		a.w_x = L->attn_kv_a_mqa.d;
		a.nrows_x = d.R + d.Dr;
		a.y_inst = s->ckv - s->cq;
		if (q8)
			use_q8(b, &a);
		TRY(gemv_launch(&a, st, err, errlen));
	} else {
		if (q8)
			use_q8(b, &a);
		TRY(gemv_launch(&a, st, err, errlen));
		a = gv(b, &L->attn_kv_a_mqa, n, s->h, d.D, s->ckv, d.R + d.Dr);
		if (q8)
			use_q8(b, &a);
		TRY(gemv_launch(&a, st, err, errlen));
	}
	TRY(kv_store(s->ckv, d.R + d.Dr, (const float *)L->attn_kv_a_norm.d, eps_in, n, s->pos, &b->kv, cache, st,
	             err, errlen));
	TRY(rmsnorm(s->cq, d.Rq, d.Rq, n, (const float *)L->attn_q_a_norm.d, eps_in, s->cq, d.Rq, q8 ? s->xq : NULL,
	            s->xd, st, err, errlen));
	a = gv(b, &L->attn_q_b, n, s->cq, d.Rq, s->q, (int64_t)d.H * d.Dk);
	if (q8)
		use_q8(b, &a);
	TRY(gemv_launch(&a, st, err, errlen));
	// q_abs[h] = W_kb[h]^T q_nope[h]: one instance per head
	a = gv(b, &L->attn_k_b, n, s->q, (int64_t)d.H * d.Dk, s->qabs, (int64_t)d.H * d.R);
	a.per_tok = a.n_sel = d.H;
	a.x_inst = d.Dk;
	a.y_inst = d.R;
	if (!b->opt.exact && gemv_q8_ok(&a)) {
		TRY(q8_input(b, s->q, (int64_t)n * d.H * d.Dk, err, errlen));
		use_q8(b, &a);
	}
	TRY(gemv_launch(&a, st, err, errlen));
	return 0;
}

static int attention_core(cuda_backend *b, uint8_t *cache, int n, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	scratch *s = &b->s;
	attn_args at;
	memset(&at, 0, sizeof at);
	at.G = d.H;
	at.R = d.R;
	at.Dr = d.Dr;
	at.Dk = d.Dk;
	at.n = n;
	at.pos = s->pos;
	at.qabs = s->qabs;
	at.q = s->q;
	at.scale = 1.0f / sqrtf((float)d.Dk);
	at.L = &b->kv;
	at.cache = cache;
	at.out = s->olat;
	at.work = s->attn_work;
	at.work_bytes = s->attn_work_bytes;
	at.decode_legacy = b->opt.attn_decode_legacy;
	at.decode_warps = b->opt.attn_decode_warps;
	at.load_early = b->opt.pdl && b->opt.pdl_early;
	// fa off keeps the plain path for decode; batches always take the
	// fused kernel when it exists (the plain score matrix is quadratic)
	const bool fused = b->fused && (b->base.cfg.flash_attn || n > 1);
	if (!fused)
		return attn_plain(&at, b->n_ctx, b->stream, err, errlen);
	if (n == 1) {
		at.n_split = b->n_split;
	} else {
		const int64_t nq = ceil_div(n, d.H >= 64 ? 1 : 64 / d.H);
		int64_t ns = ceil_div(2 * b->n_sm, nq);
		while (ns > 1 && attn_work_bytes_fused(d.H, d.R, n, (int)ns) > s->attn_work_bytes)
			ns--;
		at.n_split = (int)ns;
	}
	return attn_fused(&at, b->stream, err, errlen);
}

static int attention_out_gemv(cuda_backend *b, const dlayer *L, int n, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	scratch *s = &b->s;
	gemv_args a = gv(b, &L->attn_v_b, n, s->olat, (int64_t)d.H * d.R, s->o, (int64_t)d.H * d.Dv);
	a.per_tok = a.n_sel = d.H;
	a.x_inst = d.R;
	a.y_inst = d.Dv;
	if (!b->opt.exact && gemv_q8_ok(&a)) {
		TRY(q8_input(b, s->olat, (int64_t)n * d.H * d.R, err, errlen));
		use_q8(b, &a);
	}
	TRY(gemv_launch(&a, b->stream, err, errlen));
	a = gv(b, &L->attn_output, n, s->o, (int64_t)d.H * d.Dv, s->x, d.D);
	a.accumulate = true;
	if (!b->opt.exact && gemv_q8_ok(&a)) {
		TRY(q8_input(b, s->o, (int64_t)n * d.H * d.Dv, err, errlen));
		use_q8(b, &a);
	}
	return gemv_launch(&a, b->stream, err, errlen);
}

static int ffn_gemv(cuda_backend *b, const dlayer *L, int n, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	scratch *s = &b->s;
	cudaStream_t st = b->stream;
	const float eps = b->hp.rms_eps;

	const bool q8 = !b->opt.exact && d.D % 32 == 0;
	TRY(rmsnorm(s->x, d.D, d.D, n, (const float *)L->ffn_norm.d, eps, s->h, d.D, q8 ? s->xq : NULL, s->xd, st, err,
	            errlen));
	if (!L->is_moe) {
		gemv_args a = gv(b, &L->ffn_gate, n, s->h, d.D, s->act, d.F);
		a.w_up = L->ffn_up.d;
		a.nb2_up = L->ffn_up.nb[2];
		if (q8)
			use_q8(b, &a);
		TRY(gemv_launch(&a, st, err, errlen));
		a = gv(b, &L->ffn_down, n, s->act, d.F, s->x, d.D);
		a.accumulate = true;
		if (!b->opt.exact && gemv_q8_ok(&a)) {
			TRY(q8_input(b, s->act, (int64_t)n * d.F, err, errlen));
			use_q8(b, &a);
		}
		return gemv_launch(&a, st, err, errlen);
	}
	gemv_args a = gv(b, &L->ffn_gate_inp, n, s->h, d.D, s->rlog, d.E);
	TRY(gemv_launch(&a, st, err, errlen));
	TRY(moe_topk(s->rlog, (const float *)L->exp_probs_b.d, n, d.E, d.K, b->hp.gating, b->hp.expert_weights_norm,
	             b->hp.expert_weights_scale, s->eids, s->ew, st, err, errlen));

	// gate/up of the chosen experts (and the shared one when it has the same type)
	const bool sh = L->ffn_gate_shexp.d != NULL;
	const bool sh_fused = sh && L->ffn_gate_shexp.type == L->ffn_gate_exps.type &&
	                      L->ffn_gate_shexp.nb[1] == L->ffn_gate_exps.nb[1];
	const int64_t act_tok = (int64_t)d.P * d.Fe;
	a = gv(b, &L->ffn_gate_exps, n, s->h, d.D, s->act, act_tok);
	a.w_up = L->ffn_up_exps.d;
	a.nb2_up = L->ffn_up_exps.nb[2];
	a.per_tok = sh_fused ? d.K + 1 : d.K;
	a.n_sel = d.K;
	a.ids = s->eids;
	a.w_x = L->ffn_gate_shexp.d;
	a.w_x_up = L->ffn_up_shexp.d;
	a.y_inst = d.Fe;
	if (q8)
		use_q8(b, &a);
	TRY(gemv_launch(&a, st, err, errlen));
	if (sh && !sh_fused) {
		a = gv(b, &L->ffn_gate_shexp, n, s->h, d.D, s->act + (int64_t)d.K * d.Fe, act_tok);
		a.w_up = L->ffn_up_shexp.d;
		if (q8)
			use_q8(b, &a);
		TRY(gemv_launch(&a, st, err, errlen));
	}
	// down: weighted sum of the chosen experts (+ shared), added to the stream
	const bool shd_fused = sh && L->ffn_down_shexp.type == L->ffn_down_exps.type &&
	                       L->ffn_down_shexp.nb[1] == L->ffn_down_exps.nb[1];
	a = gv(b, &L->ffn_down_exps, n, s->act, act_tok, s->x, d.D);
	a.per_tok = shd_fused ? d.K + 1 : d.K;
	a.n_sel = d.K;
	a.ids = s->eids;
	a.w_x = L->ffn_down_shexp.d;
	a.x_inst = d.Fe;
	a.sum = true;
	a.scale = s->ew;
	a.accumulate = true;
	a.ids_early = true;   // top-k ran before the gate/up launch
	const bool q8d = !b->opt.exact && gemv_q8_ok(&a);
	if (q8d) {
		TRY(q8_input(b, s->act, (int64_t)n * act_tok, err, errlen));
		use_q8(b, &a);
	}
	TRY(gemv_launch(&a, st, err, errlen));
	if (sh && !shd_fused) {
		a = gv(b, &L->ffn_down_shexp, n, s->act + (int64_t)d.K * d.Fe, act_tok, s->x, d.D);
		a.accumulate = true;
		if (q8d && gemv_q8_ok(&a)) {
			// the shared expert's inputs sit at an offset inside the quantized buffer
			a.xq = s->xq + (int64_t)d.K * d.Fe;
			a.xd = s->xd + (int64_t)d.K * d.Fe / 32;
		}
		TRY(gemv_launch(&a, st, err, errlen));
	}
	return 0;
}

// ---------------------------------------------------------------- GEMM path

// C[n × rows] (+)= X[n × cols] · W^T, W dequantized in row tiles.
static int mm(cuda_backend *b, const dtensor *W, const __half *X, int64_t ldx, int n, float *C, int64_t ldc,
              bool acc, char *err, size_t errlen)
{
	const int cols = (int)W->ne[0];
	const int64_t rows = W->ne[1] * W->ne[2];
	int64_t tile = (int64_t)(b->s.wdq_elems / cols);
	if (tile > rows)
		tile = rows;
	for (int64_t r0 = 0; r0 < rows; r0 += tile) {
		const int rt = (int)(rows - r0 < tile ? rows - r0 : tile);
		TRY(dequant_rows_f16(W->type, W->d + r0 * W->nb[1], W->nb[1], cols, rt, b->s.wdq, b->stream, err, errlen));
		TRY(gemm_f16(b->cublas, b->s.wdq, rt, cols, X, ldx, n, C + r0, ldc, acc, err, errlen));
	}
	return 0;
}

static int attention_gemm(cuda_backend *b, const dlayer *L, uint8_t *cache, int n, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	scratch *s = &b->s;
	cudaStream_t st = b->stream;
	const float eps = b->hp.rms_eps, eps_in = b->hp.rms_eps_inner;

	TRY(to_f16_norm(s->x, d.D, d.D, n, (const float *)L->attn_norm.d, eps, s->xh, st, err, errlen));
	TRY(mm(b, &L->attn_q_a, s->xh, d.D, n, s->cq, d.Rq, false, err, errlen));
	TRY(mm(b, &L->attn_kv_a_mqa, s->xh, d.D, n, s->ckv, d.R + d.Dr, false, err, errlen));
	TRY(kv_store(s->ckv, d.R + d.Dr, (const float *)L->attn_kv_a_norm.d, eps_in, n, s->pos, &b->kv, cache, st,
	             err, errlen));
	TRY(to_f16_norm(s->cq, d.Rq, d.Rq, n, (const float *)L->attn_q_a_norm.d, eps_in, s->xh, st, err, errlen));
	TRY(mm(b, &L->attn_q_b, s->xh, d.Rq, n, s->q, (int64_t)d.H * d.Dk, false, err, errlen));
	// q_abs per head: the nope part of q (stride Dk inside each token row)
	const int64_t qw = (int64_t)d.H * d.Dk;
	TRY(to_f16_norm(s->q, qw, (int)qw, n, NULL, 0.0f, s->xh, st, err, errlen));
	const dtensor *kb = &L->attn_k_b;
	TRY(dequant_rows_f16(kb->type, kb->d, kb->nb[1], (int)kb->ne[0], kb->ne[1] * kb->ne[2], s->wdq, st, err, errlen));
	TRY(gemm_f16_batched(b->cublas, s->wdq, d.R, d.Dn, (int64_t)d.R * d.Dn, s->xh, qw, d.Dk, n,
	                     s->qabs, (int64_t)d.H * d.R, d.R, d.H, err, errlen));
	return 0;
}

static int attention_out_gemm(cuda_backend *b, const dlayer *L, int n, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	scratch *s = &b->s;
	cudaStream_t st = b->stream;
	const int64_t lw = (int64_t)d.H * d.R, ow = (int64_t)d.H * d.Dv;
	TRY(to_f16_norm(s->olat, lw, (int)lw, n, NULL, 0.0f, s->xh, st, err, errlen));
	const dtensor *vb = &L->attn_v_b;
	TRY(dequant_rows_f16(vb->type, vb->d, vb->nb[1], (int)vb->ne[0], vb->ne[1] * vb->ne[2], s->wdq, st, err, errlen));
	TRY(gemm_f16_batched(b->cublas, s->wdq, d.Dv, d.R, (int64_t)d.Dv * d.R, s->xh, lw, d.R, n,
	                     s->o, ow, d.Dv, d.H, err, errlen));
	TRY(to_f16_norm(s->o, ow, (int)ow, n, NULL, 0.0f, s->xh, st, err, errlen));
	return mm(b, &L->attn_output, s->xh, ow, n, s->x, d.D, true, err, errlen);
}

// gate and up of one matrix pair into wdq as [2·rows × cols], then one GEMM
static int mm_glu(cuda_backend *b, const dtensor *g, const dtensor *u, int64_t slab, const __half *X, int64_t ldx,
                  int n, float *C, char *err, size_t errlen)
{
	const int cols = (int)g->ne[0], rows = (int)g->ne[1];
	cudaStream_t st = b->stream;
	TRY(dequant_rows_f16(g->type, g->d + slab * g->nb[2], g->nb[1], cols, rows, b->s.wdq, st, err, errlen));
	TRY(dequant_rows_f16(u->type, u->d + slab * u->nb[2], u->nb[1], cols, rows, b->s.wdq + (size_t)rows * cols, st,
	                     err, errlen));
	return gemm_f16(b->cublas, b->s.wdq, 2 * rows, cols, X, ldx, n, C, 2 * rows, false, err, errlen);
}

static int ffn_gemm(cuda_backend *b, const dlayer *L, int n, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	scratch *s = &b->s;
	cudaStream_t st = b->stream;
	const float eps = b->hp.rms_eps;

	TRY(to_f16_norm(s->x, d.D, d.D, n, (const float *)L->ffn_norm.d, eps, s->xh, st, err, errlen));
	if (!L->is_moe) {
		TRY(mm_glu(b, &L->ffn_gate, &L->ffn_up, 0, s->xh, d.D, n, s->gu, err, errlen));
		TRY(silu_mul_f16(s->gu, d.F, n, s->xh, st, err, errlen));
		return mm(b, &L->ffn_down, s->xh, d.F, n, s->x, d.D, true, err, errlen);
	}
	// routing in f32 (a near tie must choose as the reference does)
	TRY(rmsnorm(s->x, d.D, d.D, n, (const float *)L->ffn_norm.d, eps, s->h, d.D, NULL, NULL, st, err, errlen));
	gemv_args a = gv(b, &L->ffn_gate_inp, n, s->h, d.D, s->rlog, d.E);
	TRY(gemv_launch(&a, st, err, errlen));
	TRY(moe_topk(s->rlog, (const float *)L->exp_probs_b.d, n, d.E, d.K, b->hp.gating, b->hp.expert_weights_norm,
	             b->hp.expert_weights_scale, s->eids, s->ew, st, err, errlen));
	TRY(moe_sort(s->eids, n, d.K, d.E, s->counts, s->offsets, s->order, s->inv, st, err, errlen));
	int off[1025];
	if (d.E > 1024) {
		snprintf(err, errlen, "cuda: %d experts is more than this backend handles", d.E);
		return -1;
	}
	// the host needs the group sizes to shape the GEMMs: one small copy
	if (CUDA_FAIL(cudaMemcpyAsync(off, s->offsets, sizeof(int) * (d.E + 1), cudaMemcpyDeviceToHost, st), err, errlen) ||
	    CUDA_FAIL(cudaStreamSynchronize(st), err, errlen))
		return -1;
	const int nk = n * d.K;
	TRY(moe_gather_f16(s->xh, d.D, s->order, nk, d.K, s->xh2, st, err, errlen));
	for (int e = 0; e < d.E; e++) {
		const int c = off[e + 1] - off[e];
		if (c > 0)
			TRY(mm_glu(b, &L->ffn_gate_exps, &L->ffn_up_exps, e, s->xh2 + (size_t)off[e] * d.D, d.D, c,
			           s->gu + (size_t)off[e] * 2 * d.Fe, err, errlen));
	}
	TRY(silu_mul_f16(s->gu, d.Fe, nk, s->xh2, st, err, errlen));
	const dtensor *dn = &L->ffn_down_exps;
	for (int e = 0; e < d.E; e++) {
		const int c = off[e + 1] - off[e];
		if (c <= 0)
			continue;
		TRY(dequant_rows_f16(dn->type, dn->d + (size_t)e * dn->nb[2], dn->nb[1], d.Fe, d.D, s->wdq, st, err, errlen));
		TRY(gemm_f16(b->cublas, s->wdq, d.D, d.Fe, s->xh2 + (size_t)off[e] * d.Fe, d.Fe, c,
		             s->ys + (size_t)off[e] * d.D, d.D, false, err, errlen));
	}
	TRY(moe_combine(s->ys, s->inv, s->ew, n, d.K, d.D, s->x, st, err, errlen));
	if (L->ffn_gate_shexp.d) {
		TRY(mm_glu(b, &L->ffn_gate_shexp, &L->ffn_up_shexp, 0, s->xh, d.D, n, s->gu, err, errlen));
		TRY(silu_mul_f16(s->gu, d.Fe, n, s->xh2, st, err, errlen));
		TRY(mm(b, &L->ffn_down_shexp, s->xh2, d.Fe, n, s->x, d.D, true, err, errlen));
	}
	return 0;
}

// ---------------------------------------------------------------- the step

static bool cancelled(glm_atomic_int *c) { return c && c->load() != 0; }

// Logits of the chunk's tokens: the last one (f32 GEMV) or all of them, to the host buffer out (row stride V floats).
static int output_logits(cuda_backend *b, int n, bool all, bool use_gemm, float *out, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	scratch *s = &b->s;
	cudaStream_t st = b->stream;
	if (!all) {
		const bool q8 = !b->opt.exact && d.D % 32 == 0;
		TRY(rmsnorm(s->x + (int64_t)(n - 1) * d.D, d.D, d.D, 1, (const float *)b->output_norm.d, b->hp.rms_eps, s->h,
		            d.D, q8 ? s->xq : NULL, s->xd, st, err, errlen));
		gemv_args a = gv(b, &b->output, 1, s->h, d.D, s->logits, d.V);
		if (q8)
			use_q8(b, &a);
		TRY(gemv_launch(&a, st, err, errlen));
		return CUDA_FAIL(cudaMemcpyAsync(out, s->logits, sizeof(float) * d.V, cudaMemcpyDeviceToHost, st), err, errlen)
			? -1 : 0;
	}
	if (!use_gemm) {
		const int nbl = s->nb < 64 ? s->nb : 64;
		for (int t0 = 0; t0 < n; t0 += nbl) {
			const int nt = n - t0 < nbl ? n - t0 : nbl;
			TRY(rmsnorm(s->x + (int64_t)t0 * d.D, d.D, d.D, nt, (const float *)b->output_norm.d, b->hp.rms_eps, s->h,
			            d.D, NULL, NULL, st, err, errlen));
			gemv_args a = gv(b, &b->output, nt, s->h, d.D, s->logits, d.V);
			TRY(gemv_launch(&a, st, err, errlen));
			if (CUDA_FAIL(cudaMemcpyAsync(out + (size_t)t0 * d.V, s->logits, sizeof(float) * nt * d.V,
			                              cudaMemcpyDeviceToHost, st), err, errlen))
				return -1;
		}
		return 0;
	}
	TRY(to_f16_norm(s->x, d.D, d.D, n, (const float *)b->output_norm.d, b->hp.rms_eps, s->xh, st, err, errlen));
	const int nbl = s->nb < 64 ? s->nb : 64;
	int64_t rt = (int64_t)nbl * d.V / n;          // vocab rows per tile that fit the logits buffer
	if (rt > (int64_t)(s->wdq_elems / d.D))
		rt = (int64_t)(s->wdq_elems / d.D);
	if (rt < 1) {
		snprintf(err, errlen, "cuda: logits buffer too small");
		return -1;
	}
	for (int64_t r0 = 0; r0 < d.V; r0 += rt) {
		const int r = (int)(d.V - r0 < rt ? d.V - r0 : rt);
		TRY(dequant_rows_f16(b->output.type, b->output.d + r0 * b->output.nb[1], b->output.nb[1], d.D, r, s->wdq, st,
		                     err, errlen));
		TRY(gemm_f16(b->cublas, s->wdq, r, d.D, s->xh, d.D, n, s->logits, r, false, err, errlen));
		if (CUDA_FAIL(cudaMemcpy2DAsync(out + r0, sizeof(float) * d.V, s->logits, sizeof(float) * r,
		                                sizeof(float) * r, n, cudaMemcpyDeviceToHost, st), err, errlen))
			return -1;
	}
	return 0;
}

// Enqueue one chunk (ids and position already in the pinned staging
// buffers). Returns 1 when cancelled between layers.
static int enqueue_chunk(cuda_backend *b, int n, bool all, float *out, glm_atomic_int *cancel, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	scratch *s = &b->s;
	cudaStream_t st = b->stream;
	const bool use_gemm = n >= b->opt.gemm_min_batch && s->wdq;

	if (CUDA_FAIL(cudaMemcpyAsync(s->ids, b->h_ids, sizeof(int) * n, cudaMemcpyHostToDevice, st), err, errlen) ||
	    CUDA_FAIL(cudaMemcpyAsync(s->pos, b->h_pos, sizeof(int), cudaMemcpyHostToDevice, st), err, errlen))
		return -1;
	TRY(get_rows_f32(b->token_embd.type, b->token_embd.d, b->token_embd.nb[1], d.D, s->ids, n, s->x, st, err, errlen));
	for (uint32_t l = 0; l < b->hp.n_layer; l++) {
		if (cancelled(cancel))
			return 1;
		const dlayer *L = &b->layers[l];
		uint8_t *cache = b->cache + (size_t)l * b->n_ctx * b->kv.row_bytes;
		if (use_gemm) {
			TRY(attention_gemm(b, L, cache, n, err, errlen));
			TRY(attention_core(b, cache, n, err, errlen));
			TRY(attention_out_gemm(b, L, n, err, errlen));
			TRY(ffn_gemm(b, L, n, err, errlen));
		} else {
			TRY(attention_gemv(b, L, cache, n, err, errlen));
			TRY(attention_core(b, cache, n, err, errlen));
			TRY(attention_out_gemv(b, L, n, err, errlen));
			TRY(ffn_gemv(b, L, n, err, errlen));
		}
	}
	if (out)
		TRY(output_logits(b, n, all, use_gemm, out, err, errlen));
	return 0;
}

// The decode step as a graph: captured on the second n == 1 call (the
// first runs eagerly and sets kernel attributes), replayed afterwards.
static int decode_graph(cuda_backend *b, char *err, size_t errlen)
{
	cudaGraph_t g = NULL;
	if (CUDA_FAIL(cudaStreamBeginCapture(b->stream, cudaStreamCaptureModeThreadLocal), err, errlen))
		return -1;
	int rc = enqueue_chunk(b, 1, false, b->h_logits, NULL, err, errlen);
	cudaError_t e = cudaStreamEndCapture(b->stream, &g);
	if (rc == 0 && CUDA_FAIL(e, err, errlen))
		rc = -1;
	if (rc == 0 && CUDA_FAIL(cudaGraphInstantiate(&b->graph, g, 0), err, errlen))
		rc = -1;
	if (g)
		cudaGraphDestroy(g);
	if (rc == 0)
		b->graph_ok = true;
	return rc;
}

int cuda_forward(cuda_backend *b, const int32_t *ids, int n, int64_t pos, float *logits, bool all_logits,
                 glm_atomic_int *cancel, char *err, size_t errlen)
{
	const dims d = dims_of(b);
	if (n <= 0) {
		snprintf(err, errlen, "cuda: forward: no tokens");
		return -1;
	}
	if (pos < 0 || pos + n > b->n_ctx) {
		snprintf(err, errlen, "cuda: forward: positions %lld..%lld are outside the context of %lld",
		         (long long)pos, (long long)(pos + n - 1), (long long)b->n_ctx);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (ids[i] < 0 || ids[i] >= d.V) {
			snprintf(err, errlen, "cuda: forward: token id %d is outside the vocabulary (%d)", ids[i], d.V);
			return -1;
		}
	if (cancelled(cancel))
		return 1;
	glm_cuda_pdl_on = b->opt.pdl;

	static_assert(sizeof(int) == sizeof(int32_t), "token ids are int32");
	if (n == 1 && b->opt.use_graph) {
		b->h_ids[0] = ids[0];
		b->h_pos[0] = (int)pos;
		if (!b->graph_ok && b->graph_tried) {
			if (decode_graph(b, err, errlen))
				return -1;
		}
		if (b->graph_ok) {
			if (CUDA_FAIL(cudaGraphLaunch(b->graph, b->stream), err, errlen) ||
			    CUDA_FAIL(cudaStreamSynchronize(b->stream), err, errlen))
				return -1;
			if (logits)
				memcpy(logits, b->h_logits, sizeof(float) * d.V);
			return 0;
		}
		b->graph_tried = true;
	}

	for (int c0 = 0; c0 < n; c0 += b->s.nb) {
		const int nc = n - c0 < b->s.nb ? n - c0 : b->s.nb;
		const bool last = c0 + nc == n;
		memcpy(b->h_ids, ids + c0, sizeof(int) * nc);
		b->h_pos[0] = (int)(pos + c0);
		float *out = NULL;
		if (logits && all_logits)
			out = logits + (size_t)c0 * d.V;
		else if (logits && last)
			out = b->h_logits;
		int rc = enqueue_chunk(b, nc, all_logits, out, cancel, err, errlen);
		cudaError_t e = cudaStreamSynchronize(b->stream);
		if (rc)
			return rc;
		if (CUDA_FAIL(e, err, errlen))
			return -1;
		if (logits && !all_logits && last)
			memcpy(logits, b->h_logits, sizeof(float) * d.V);
	}
	return 0;
}
