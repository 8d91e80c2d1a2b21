/* The engine handle: opening a model (file, tokenizer, chat format,
 * backend), raw evaluation with the cached-token record, sampling
 * defaults, sleep and wake, and the fatal hook. Generation is generate.c;
 * statistics are stats.c. */
#include "config.h"
#include "engine/engine_impl.h"
#include "engine/gguf.h"
#include "engine/model.h"
#include "engine/tokenizer.h"
#include "engine/chat.h"
#ifdef HAVE_CUDA
#include "cuda/cuda_backend.h"
#endif

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Tokens per backend call: prefill runs in batches of this many. */
#define ENGINE_MAX_BATCH 512
/* The CUDA prefill dequantizes every expert once per layer per call:
 * 2048-token calls amortize that 4x (docs/PERF.md, CUDA section). */
#define ENGINE_MAX_BATCH_CUDA 2048

void glm_engine_config_default(struct glm_engine_config *c)
{
	memset(c, 0, sizeof *c);
	c->backend = GLM_BACKEND_AUTO;
	c->kv_type = GLM_KV_DEFAULT;
	c->flash_attn = true;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void progress(const struct glm_engine_config *cfg, float f)
{
	if (cfg->on_progress)
		cfg->on_progress(f, cfg->progress_user);
}

/* The end-of-generation set, by text (early files lack eot/eom ids), plus
 * whatever ids the file declares. */
static void find_special_tokens(glm_engine *e)
{
	static const char *const eog_text[] = {"<|endoftext|>", "<|user|>", "<|observation|>"};
	static const char *const eog_keys[] = {
		"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id",
	};
	int32_t nv = (int32_t)e->model->hp.n_vocab;

	e->n_eog = 0;
	for (size_t i = 0; e->tok && i < sizeof eog_text / sizeof *eog_text; i++) {
		int32_t id = glm_token_lookup(e->tok, eog_text[i]);
		if (id >= 0)
			e->eog[e->n_eog++] = id;
	}
	for (size_t i = 0; i < sizeof eog_keys / sizeof *eog_keys; i++) {
		uint32_t id;
		bool dup = false;

		if (gguf_get_u32(e->model->gguf, eog_keys[i], &id) || (int64_t)id >= nv)
			continue;
		for (int k = 0; k < e->n_eog; k++)
			dup |= e->eog[k] == (int32_t)id;
		if (!dup && e->n_eog < GLM_MAX_EOG)
			e->eog[e->n_eog++] = (int32_t)id;
	}
	e->think_open = e->tok ? glm_token_lookup(e->tok, "<think>") : -1;
	e->think_close = e->tok ? glm_token_lookup(e->tok, "</think>") : -1;
}

bool glm_engine_is_eog(const glm_engine *e, int32_t id)
{
	for (int k = 0; k < e->n_eog; k++)
		if (e->eog[k] == id)
			return true;
	return false;
}

/* AUTO: CUDA when built with it and a device is usable, else the CPU. */
static int choose_backend(const struct glm_engine_config *cfg, enum glm_backend_kind *kind,
                          char *err, size_t errlen)
{
	switch (cfg->backend) {
	case GLM_BACKEND_CPU:
		*kind = GLM_BACKEND_CPU;
		return 0;
	case GLM_BACKEND_CUDA:
#ifdef HAVE_CUDA
		if (glm_cuda_device_count() > 0) {
			*kind = GLM_BACKEND_CUDA;
			return 0;
		}
		snprintf(err, errlen, "%s: no usable CUDA device", cfg->model_path);
#else
		snprintf(err, errlen, "%s: built without CUDA", cfg->model_path);
#endif
		return -1;
	default:
#ifdef HAVE_CUDA
		*kind = glm_cuda_device_count() > 0 ? GLM_BACKEND_CUDA : GLM_BACKEND_CPU;
#else
		*kind = GLM_BACKEND_CPU;
#endif
		return 0;
	}
}

/* The model's context, or -c. With no -c on the CPU, the model's length is
 * capped to what half the free memory holds (a 202752-token f32 cache is
 * 22 GB); an explicit size is checked by the backend and fails clearly. */
static int64_t choose_n_ctx(const glm_engine *e)
{
	const struct glm_hparams *hp = &e->model->hp;
	int64_t n = e->cfg.n_ctx > 0 ? e->cfg.n_ctx : (int64_t)hp->n_ctx_train;

	if (n <= 0)
		n = 4096;
	if (e->cfg.n_ctx <= 0 && e->kind == GLM_BACKEND_CPU) {
		uint64_t per = glm_kv_bytes_per_token(hp, e->bcfg.kv_type);
		int64_t fit = per ? glm_cpu_mem_available() / 2 / (int64_t)per : n;

		if (fit < n)
			n = fit < 256 ? 256 : fit / 256 * 256;
	}
	return n;
}

static int create_backend(glm_engine *e, struct glm_backend **out, char *err, size_t errlen)
{
	if (e->kind == GLM_BACKEND_CUDA) {
#ifdef HAVE_CUDA
		return glm_backend_cuda_create(e->model, &e->bcfg, out, err, errlen);
#else
		snprintf(err, errlen, "%s: built without CUDA", e->model_path);
		return -1;
#endif
	}
	return glm_backend_cpu_create(e->model, &e->bcfg, out, err, errlen);
}

static void load_chat_format(glm_engine *e)
{
	char *tmpl = gguf_get_str(e->model->gguf, "tokenizer.chat_template");

	if (!tmpl) {
		snprintf(e->chat_err, sizeof e->chat_err, "%s: the file has no chat template", e->model_path);
		return;
	}
	if (glm_chat_format_load(tmpl, e->templates_dir, &e->chat, e->chat_err, sizeof e->chat_err))
		e->chat = NULL;
	free(tmpl);
}

int glm_engine_open(const struct glm_engine_config *cfg, glm_engine **out, char *err, size_t errlen)
{
	glm_engine *e;

	*out = NULL;
	if (!cfg->model_path || !*cfg->model_path) {
		snprintf(err, errlen, "no model file given (-m)");
		return -1;
	}
	e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "%s: out of memory", cfg->model_path);
		return -1;
	}
	pthread_mutex_init(&e->stats_mu, NULL);
	e->cfg = *cfg;
	e->model_path = dup_or_null(cfg->model_path);
	e->templates_dir = dup_or_null(cfg->templates_dir);
	e->cfg.model_path = e->model_path;
	e->cfg.templates_dir = e->templates_dir;
	if (!e->model_path || (cfg->templates_dir && !e->templates_dir)) {
		snprintf(err, errlen, "%s: out of memory", cfg->model_path);
		goto fail;
	}
	if (choose_backend(cfg, &e->kind, err, errlen))
		goto fail;
	progress(cfg, 0.0f);
	if (glm_model_load(e->model_path, &e->model, err, errlen))
		goto fail;
	progress(cfg, 0.4f);
	if (glm_tokenizer_load(e->model->gguf, &e->tok, err, errlen)) {
		e->tok = NULL;
		if (!cfg->tokenizer_optional)
			goto fail;
		snprintf(e->chat_err, sizeof e->chat_err, "%s", err);
		err[0] = '\0';
	} else if (glm_tokenizer_n_vocab(e->tok) != (int32_t)e->model->hp.n_vocab) {
		snprintf(err, errlen, "%s: the tokenizer has %" PRId32 " tokens but the model %" PRIu32,
		         e->model_path, glm_tokenizer_n_vocab(e->tok), e->model->hp.n_vocab);
		goto fail;
	}
	find_special_tokens(e);
	if (e->tok)
		load_chat_format(e);
	progress(cfg, 0.5f);

	e->bcfg.kv_type = cfg->kv_type != GLM_KV_DEFAULT ? cfg->kv_type
	                  : e->kind == GLM_BACKEND_CUDA ? GLM_KV_F16 : GLM_KV_F32;
	e->bcfg.n_threads = cfg->n_threads;
	e->bcfg.flash_attn = cfg->flash_attn;
	e->bcfg.q8_activations = cfg->q8_activations;
	e->bcfg.max_batch = e->kind == GLM_BACKEND_CUDA ? ENGINE_MAX_BATCH_CUDA : ENGINE_MAX_BATCH;
	e->n_ctx = choose_n_ctx(e);
	e->bcfg.n_ctx = e->n_ctx;
	if (create_backend(e, &e->backend, err, errlen))
		goto fail;
	e->bcfg = e->backend->cfg;        /* what the backend resolved (threads) */
	e->cached = malloc((size_t)e->n_ctx * sizeof *e->cached);
	if (!e->cached) {
		snprintf(err, errlen, "%s: out of memory", e->model_path);
		goto fail;
	}
	e->st.backend = e->backend->ops->name;
	e->st.kv_type = glm_kv_type_name(e->bcfg.kv_type);
	e->st.model_name = e->model->name;
	e->st.ctx_size = e->n_ctx;
	progress(cfg, 1.0f);
	*out = e;
	return 0;
fail:
	glm_engine_close(e);
	return -1;
}

void glm_engine_close(glm_engine *e)
{
	if (!e)
		return;
	if (e->backend)
		e->backend->ops->free(e->backend);
	glm_chat_format_free(e->chat);
	glm_tokenizer_free(e->tok);
	glm_model_free(e->model);
	free(e->cached);
	free(e->model_path);
	free(e->templates_dir);
	pthread_mutex_destroy(&e->stats_mu);
	free(e);
}

const struct glm_model *glm_engine_model(const glm_engine *e) { return e->model; }
const struct glm_tokenizer *glm_engine_tokenizer(const glm_engine *e) { return e->tok; }
const struct glm_chat_format *glm_engine_chat_format(const glm_engine *e) { return e->chat; }
int64_t glm_engine_n_ctx(const glm_engine *e) { return e->n_ctx; }

const char *glm_stop_reason_name(enum glm_stop_reason r)
{
	switch (r) {
	case GLM_STOP_EOG: return "eog";
	case GLM_STOP_LENGTH: return "length";
	case GLM_STOP_CONTEXT: return "context";
	case GLM_STOP_CANCELLED: return "cancelled";
	default: return "error";
	}
}

/* GLM's recommendation, then the file's general.sampling.* keys. */
void glm_engine_default_sampling(const glm_engine *e, struct glm_sampling *s)
{
	const struct gguf_file *f = e->model->gguf;
	float v;
	uint32_t u;

	memset(s, 0, sizeof *s);
	s->temp = 1.0f;
	s->top_p = 0.95f;
	s->top_k = 0;
	s->min_p = 0;
	s->repeat_penalty = 1.0f;
	s->presence_penalty = 0;
	s->penalty_last_n = 64;
	s->seed = GLM_SEED_RANDOM;
	if (!gguf_get_f32(f, "general.sampling.temp", &v) && v >= 0)
		s->temp = v;
	if (!gguf_get_f32(f, "general.sampling.top_p", &v) && v > 0 && v <= 1)
		s->top_p = v;
	if (!gguf_get_f32(f, "general.sampling.min_p", &v) && v >= 0 && v <= 1)
		s->min_p = v;
	if (!gguf_get_f32(f, "general.sampling.penalty_repeat", &v) && v > 0)
		s->repeat_penalty = v;
	if (!gguf_get_u32(f, "general.sampling.top_k", &u) && u < INT32_MAX)
		s->top_k = (int)u;
	if (!gguf_get_u32(f, "general.sampling.penalty_last_n", &u) && u < INT32_MAX)
		s->penalty_last_n = (int)u;
}

/* ---- evaluation ---- */

int engine_forward(glm_engine *e, const int32_t *ids, size_t n, int64_t pos, float *logits,
                   bool all_logits, glm_atomic_int *cancel, char *err, size_t errlen)
{
	const int64_t V = e->model->hp.n_vocab;
	const size_t batch = (size_t)e->bcfg.max_batch;

	if (pos < 0 || (size_t)pos > e->n_cached) {
		snprintf(err, errlen, "%s: cannot evaluate at position %" PRId64 ": only %zu positions are cached",
		         e->model_path, pos, e->n_cached);
		return -1;
	}
	if (n == 0 || (int64_t)n > e->n_ctx - pos) {
		snprintf(err, errlen, "%s: %zu tokens at position %" PRId64 " do not fit the context of %" PRId64
		         " tokens", e->model_path, n, pos, e->n_ctx);
		return -1;
	}
	e->n_cached = (size_t)pos;     /* rows from pos on are about to be overwritten */
	for (size_t off = 0; off < n; off += batch) {
		size_t cnt = n - off < batch ? n - off : batch;
		bool last = off + cnt == n;
		float *out = !logits ? NULL : all_logits ? logits + off * V : last ? logits : NULL;
		int rc = e->backend->ops->forward(e->backend, ids + off, (int)cnt, pos + (int64_t)off, out,
		                                  all_logits, cancel, err, errlen);

		if (rc)
			return rc;
		memcpy(e->cached + e->n_cached, ids + off, cnt * sizeof *ids);
		e->n_cached += cnt;
	}
	return 0;
}

int glm_engine_eval(glm_engine *e, const int32_t *ids, int n, int64_t pos,
                    float *logits, bool all_logits, char *err, size_t errlen)
{
	int rc;

	if (e->sleeping && glm_engine_wake(e, err, errlen))
		return -1;
	if (n < 1) {
		snprintf(err, errlen, "%s: nothing to evaluate", e->model_path);
		return -1;
	}
	rc = engine_forward(e, ids, (size_t)n, pos, logits, all_logits, NULL, err, errlen);
	stats_set_ctx(e);
	return rc ? -1 : 0;
}

int glm_engine_chat_prompt(glm_engine *e, const struct glm_conversation *c,
                           const struct glm_render_opts *o, int32_t **ids, size_t *n,
                           char *err, size_t errlen)
{
	struct glm_rendered r = {0};
	int rc;

	*ids = NULL;
	*n = 0;
	if (!e->chat || !e->tok) {
		snprintf(err, errlen, "%s", e->chat_err);
		return -1;
	}
	if (glm_chat_render(e->chat, c, o, &r, err, errlen))
		return -1;
	rc = glm_rendered_tokenize(&r, e->tok, ids, n);
	glm_rendered_free(&r);
	if (rc) {
		snprintf(err, errlen, "%s: out of memory tokenizing the conversation", e->model_path);
		return -1;
	}
	return 0;
}

/* ---- sleep ---- */

int glm_engine_sleep(glm_engine *e)
{
	struct glm_backend *b;

	if (e->sleeping)
		return 0;
	pthread_mutex_lock(&e->stats_mu);
	b = e->backend;
	e->backend = NULL;
	e->sleeping = true;
	e->n_cached = 0;               /* the cache goes with the backend */
	e->st.ctx_used = 0;
	pthread_mutex_unlock(&e->stats_mu);
	b->ops->free(b);
	return 0;
}

int glm_engine_wake(glm_engine *e, char *err, size_t errlen)
{
	struct glm_backend *b = NULL;

	if (!e->sleeping)
		return 0;
	if (create_backend(e, &b, err, errlen))
		return -1;
	pthread_mutex_lock(&e->stats_mu);
	e->backend = b;
	e->sleeping = false;
	pthread_mutex_unlock(&e->stats_mu);
	return 0;
}

bool glm_engine_sleeping(const glm_engine *e)
{
	return e->sleeping;
}

/* ---- fatal errors ---- */

static void (*fatal_hook)(const char *msg, void *user);
static void *fatal_user;

void glm_set_fatal_hook(void (*hook)(const char *msg, void *user), void *user)
{
	fatal_hook = hook;
	fatal_user = user;
}

/* The one place the engine ends the process: a device error inside a
 * worker cannot be returned. The hook restores the terminal first. */
void glm_fatal(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (fatal_hook)
		fatal_hook(msg, fatal_user);
	fprintf(stderr, "glmchat: %s\n", msg);
	fflush(stderr);
	_exit(1);
}
