// Weight upload: every tensor the forward pass reads goes to the device
// once, in its file block format, into one allocation. Tensors are found
// through the bound model (so next-token-prediction layers the model skips
// are never uploaded); views that share storage (the fused gate_up expert
// tensor) are detected by overlapping byte ranges and uploaded once.
#include "cuda/cuda_internal.cuh"
#include <stdlib.h>
#include <string.h>

struct span {
	const uint8_t *lo, *hi;    // host byte range [lo, hi)
	size_t dev_off;            // where lo lands in the device buffer
};

// Last byte + 1 of a tensor, from its strides (views are not contiguous).
static const uint8_t *tensor_end(const struct glm_tensor *t)
{
	size_t end = ggml_row_bytes(t->type, t->ne[0]);
	for (int d = 1; d < 4; d++)
		end += (size_t)(t->ne[d] - 1) * t->nb[d];
	return (const uint8_t *)t->data + end;
}

static int for_each_tensor(const struct glm_model *m, void (*fn)(const struct glm_tensor *, void *), void *u)
{
	const struct glm_tensor *g[] = {m->token_embd, m->output_norm, m->output};
	for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
		if (g[i])
			fn(g[i], u);
	for (uint32_t l = 0; l < m->hp.n_layer; l++) {
		const struct glm_layer *L = &m->layers[l];
		const struct glm_tensor *t[] = {
			L->attn_norm, L->attn_q_a, L->attn_q_a_norm, L->attn_q_b, L->attn_kv_a_mqa, L->attn_kv_a_norm,
			L->attn_k_b, L->attn_v_b, L->attn_output, L->ffn_norm, L->ffn_gate, L->ffn_up, L->ffn_down,
			L->ffn_gate_inp, L->exp_probs_b, L->ffn_gate_exps, L->ffn_up_exps, L->ffn_down_exps,
			L->ffn_gate_shexp, L->ffn_up_shexp, L->ffn_down_shexp,
		};
		for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
			if (t[i])
				fn(t[i], u);
	}
	return 0;
}

struct span_list {
	struct span *v;
	size_t n, cap;
	bool oom;
};

static void add_span(const struct glm_tensor *t, void *u)
{
	struct span_list *L = (struct span_list *)u;
	if (L->n == L->cap) {
		size_t cap = L->cap ? 2 * L->cap : 256;
		struct span *v = (struct span *)realloc(L->v, cap * sizeof *v);
		if (!v) {
			L->oom = true;
			return;
		}
		L->v = v;
		L->cap = cap;
	}
	L->v[L->n].lo = (const uint8_t *)t->data;
	L->v[L->n].hi = tensor_end(t);
	L->n++;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = (const struct span *)a, *y = (const struct span *)b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

// Sorted, merged spans with their device offsets (alignment mod 256 kept,
// so 16-byte loads stay aligned on the device). Returns total bytes.
static size_t plan_spans(const struct glm_model *m, struct span_list *L)
{
	memset(L, 0, sizeof *L);
	for_each_tensor(m, add_span, L);
	if (L->oom)
		return 0;
	qsort(L->v, L->n, sizeof *L->v, cmp_span);
	size_t k = 0;
	for (size_t i = 0; i < L->n; i++) {
		if (k && L->v[i].lo <= L->v[k - 1].hi) {
			if (L->v[i].hi > L->v[k - 1].hi)
				L->v[k - 1].hi = L->v[i].hi;
		} else {
			L->v[k++] = L->v[i];
		}
	}
	L->n = k;
	size_t off = 0;
	for (size_t i = 0; i < L->n; i++) {
		off = (off + 255) / 256 * 256 + ((uintptr_t)L->v[i].lo & 255);
		L->v[i].dev_off = off;
		off += (size_t)(L->v[i].hi - L->v[i].lo);
	}
	return off;
}

size_t cuda_weight_bytes(const struct glm_model *m)
{
	struct span_list L;
	size_t n = plan_spans(m, &L);
	free(L.v);
	return n;
}

static const struct span *find_span(const struct span_list *L, const void *p)
{
	size_t lo = 0, hi = L->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if ((const uint8_t *)p < L->v[mid].lo)
			hi = mid;
		else if ((const uint8_t *)p >= L->v[mid].hi)
			lo = mid + 1;
		else
			return &L->v[mid];
	}
	return NULL;
}

static dtensor map_tensor(const cuda_backend *b, const struct span_list *L, const struct glm_tensor *t)
{
	dtensor d;
	memset(&d, 0, sizeof d);
	if (!t)
		return d;
	const struct span *s = find_span(L, t->data);
	d.d = (const uint8_t *)b->wbuf + s->dev_off + ((const uint8_t *)t->data - s->lo);
	d.type = t->type;
	for (int i = 0; i < 4; i++) {
		d.ne[i] = t->ne[i];
		d.nb[i] = t->nb[i];
	}
	return d;
}

// Norm weights and the router bias are read as plain floats.
static int check_f32(const struct glm_tensor *t, char *err, size_t errlen)
{
	if (t && t->type != GGML_TYPE_F32) {
		snprintf(err, errlen, "cuda: tensor %s is %s, expected F32", t->name, ggml_type_name(t->type));
		return -1;
	}
	return 0;
}

static int check_matrix(const struct glm_tensor *t, char *err, size_t errlen)
{
	if (t && !cuda_type_supported(t->type)) {
		snprintf(err, errlen, "cuda: tensor %s: type %s has no CUDA kernels", t->name, ggml_type_name(t->type));
		return -1;
	}
	return 0;
}

static int check_model(const struct glm_model *m, char *err, size_t errlen)
{
	if (check_f32(m->output_norm, err, errlen) || check_matrix(m->token_embd, err, errlen) ||
	    check_matrix(m->output, err, errlen))
		return -1;
	for (uint32_t l = 0; l < m->hp.n_layer; l++) {
		const struct glm_layer *L = &m->layers[l];
		const struct glm_tensor *f32s[] = {L->attn_norm, L->attn_q_a_norm, L->attn_kv_a_norm, L->ffn_norm,
		                                   L->exp_probs_b};
		const struct glm_tensor *mats[] = {L->attn_q_a, L->attn_q_b, L->attn_kv_a_mqa, L->attn_k_b, L->attn_v_b,
		                                   L->attn_output, L->ffn_gate, L->ffn_up, L->ffn_down, L->ffn_gate_inp,
		                                   L->ffn_gate_exps, L->ffn_up_exps, L->ffn_down_exps,
		                                   L->ffn_gate_shexp, L->ffn_up_shexp, L->ffn_down_shexp};
		for (size_t i = 0; i < sizeof f32s / sizeof f32s[0]; i++)
			if (check_f32(f32s[i], err, errlen))
				return -1;
		for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++)
			if (check_matrix(mats[i], err, errlen))
				return -1;
		if (L->is_moe && L->ffn_gate_exps && L->ffn_up_exps &&
		    (L->ffn_gate_exps->type != L->ffn_up_exps->type || L->ffn_gate_exps->nb[1] != L->ffn_up_exps->nb[1])) {
			snprintf(err, errlen, "cuda: layer %u: expert gate and up differ in type", l);
			return -1;
		}
		if (!L->is_moe && L->ffn_gate && L->ffn_up && L->ffn_gate->type != L->ffn_up->type) {
			snprintf(err, errlen, "cuda: layer %u: ffn gate and up differ in type", l);
			return -1;
		}
		if (L->is_moe && L->ffn_gate_shexp && L->ffn_up_shexp && L->ffn_gate_shexp->type != L->ffn_up_shexp->type) {
			snprintf(err, errlen, "cuda: layer %u: shared expert gate and up differ in type", l);
			return -1;
		}
	}
	return 0;
}

int cuda_upload_weights(cuda_backend *b, const struct glm_model *m, char *err, size_t errlen)
{
	struct span_list L;
	if (check_model(m, err, errlen))
		return -1;
	size_t total = plan_spans(m, &L);
	if (!total) {
		free(L.v);
		snprintf(err, errlen, "cuda: out of host memory planning the upload");
		return -1;
	}
	if (CUDA_FAIL(cudaMalloc(&b->wbuf, total), err, errlen)) {
		free(L.v);
		return -1;
	}
	b->wbytes = total;
	for (size_t i = 0; i < L.n; i++)
		if (CUDA_FAIL(cudaMemcpy((uint8_t *)b->wbuf + L.v[i].dev_off, L.v[i].lo, (size_t)(L.v[i].hi - L.v[i].lo),
		                         cudaMemcpyHostToDevice), err, errlen)) {
			free(L.v);
			return -1;
		}
	b->token_embd = map_tensor(b, &L, m->token_embd);
	b->output_norm = map_tensor(b, &L, m->output_norm);
	b->output = map_tensor(b, &L, m->output ? m->output : m->token_embd);
	b->layers = (dlayer *)calloc(m->hp.n_layer, sizeof *b->layers);
	if (!b->layers) {
		free(L.v);
		snprintf(err, errlen, "cuda: out of host memory");
		return -1;
	}
	for (uint32_t l = 0; l < m->hp.n_layer; l++) {
		const struct glm_layer *s = &m->layers[l];
		dlayer *d = &b->layers[l];
		d->attn_norm = map_tensor(b, &L, s->attn_norm);
		d->attn_q_a = map_tensor(b, &L, s->attn_q_a);
		d->attn_q_a_norm = map_tensor(b, &L, s->attn_q_a_norm);
		d->attn_q_b = map_tensor(b, &L, s->attn_q_b);
		d->attn_kv_a_mqa = map_tensor(b, &L, s->attn_kv_a_mqa);
		d->attn_kv_a_norm = map_tensor(b, &L, s->attn_kv_a_norm);
		d->attn_k_b = map_tensor(b, &L, s->attn_k_b);
		d->attn_v_b = map_tensor(b, &L, s->attn_v_b);
		d->attn_output = map_tensor(b, &L, s->attn_output);
		d->ffn_norm = map_tensor(b, &L, s->ffn_norm);
		d->is_moe = s->is_moe;
		d->ffn_gate = map_tensor(b, &L, s->ffn_gate);
		d->ffn_up = map_tensor(b, &L, s->ffn_up);
		d->ffn_down = map_tensor(b, &L, s->ffn_down);
		d->ffn_gate_inp = map_tensor(b, &L, s->ffn_gate_inp);
		d->exp_probs_b = map_tensor(b, &L, s->exp_probs_b);
		d->ffn_gate_exps = map_tensor(b, &L, s->ffn_gate_exps);
		d->ffn_up_exps = map_tensor(b, &L, s->ffn_up_exps);
		d->ffn_down_exps = map_tensor(b, &L, s->ffn_down_exps);
		d->ffn_gate_shexp = map_tensor(b, &L, s->ffn_gate_shexp);
		d->ffn_up_shexp = map_tensor(b, &L, s->ffn_up_shexp);
		d->ffn_down_shexp = map_tensor(b, &L, s->ffn_down_shexp);
	}
	free(L.v);
	return 0;
}
