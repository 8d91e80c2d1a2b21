/* One turn of generation: reuse the cached prefix, evaluate the rest of
 * the prompt in one batched pass, then sample, stream and evaluate one
 * token at a time until a stop. The channel (reasoning or answer) follows
 * the <think> and </think> token ids, never the text. */
#include "config.h"
#include "engine/engine_impl.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct strbuf { char *s; size_t len, cap; };

static int sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *ns;

		while (cap < b->len + n + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (!ns)
			return -1;
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

/* Growable token array. */
static int ids_push(int32_t **v, size_t *n, size_t *cap, int32_t id)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		int32_t *nv = realloc(*v, nc * sizeof *nv);

		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = id;
	return 0;
}

void glm_gen_result_free(struct glm_gen_result *r)
{
	if (!r)
		return;
	free(r->tokens);
	free(r->reasoning);
	free(r->content);
	memset(r, 0, sizeof *r);
}

static size_t common_prefix(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
	size_t i = 0;

	while (i < na && i < nb && a[i] == b[i])
		i++;
	return i;
}

static bool cancelled(const struct glm_gen_request *req)
{
	return req->cancel && atomic_load(req->cancel);
}

struct turn {
	glm_engine *e;
	const struct glm_gen_request *req;
	struct glm_gen_result *res;
	enum glm_channel channel;
	struct glm_utf8_stream utf8;
	struct strbuf text[2];        /* by channel */
	size_t cap_tokens;
};

static void deliver(struct turn *t, int32_t id, enum glm_channel ch, const char *text, size_t len)
{
	struct glm_piece p = {.token = id, .channel = ch, .text = text, .len = len};

	if (t->req->on_piece)
		t->req->on_piece(&p, t->req->user);
}

/* Record a sampled token: channel switch, text, callback, statistics. */
static int emit_token(struct turn *t, int32_t id)
{
	glm_engine *e = t->e;
	char buf[256];
	size_t len = 0;

	if (ids_push(&t->res->tokens, &t->res->n_tokens, &t->cap_tokens, id))
		return -1;
	if (id == e->think_close || id == e->think_open) {
		/* text still pending belongs to the channel being left */
		len = glm_utf8_stream_flush(&t->utf8, buf, sizeof buf);   /* think ids imply a tokenizer */
		if (len && sb_add(&t->text[t->channel], buf, len))
			return -1;
		if (len)
			deliver(t, -1, t->channel, buf, len);
		t->channel = id == e->think_close ? GLM_CHANNEL_ANSWER : GLM_CHANNEL_REASONING;
		len = 0;
		buf[0] = '\0';
	} else if (e->tok && !glm_token_is_control(e->tok, id)) {
		len = glm_utf8_stream_push(&t->utf8, e->tok, id, buf, sizeof buf);
		if (len && sb_add(&t->text[t->channel], buf, len))
			return -1;
	} else {
		buf[0] = '\0';
	}
	if (t->channel == GLM_CHANNEL_REASONING)
		t->res->n_reasoning_tokens++;
	else
		t->res->n_answer_tokens++;
	deliver(t, id, t->channel, buf, len);
	stats_token(e, t->channel);
	return 0;
}

static int finish(struct turn *t, int rc, char *err, size_t errlen)
{
	char buf[64];
	size_t len = t->e->tok ? glm_utf8_stream_flush(&t->utf8, buf, sizeof buf) : 0;

	if (len) {
		sb_add(&t->text[t->channel], buf, len);
		deliver(t, -1, t->channel, buf, len);
	}
	for (int c = 0; c < 2; c++)
		if (!t->text[c].s && sb_add(&t->text[c], "", 0))
			rc = -1;
	t->res->reasoning = t->text[GLM_CHANNEL_REASONING].s;
	t->res->content = t->text[GLM_CHANNEL_ANSWER].s;
	if (rc) {
		t->res->stop = GLM_STOP_ERROR;
		if (rc == -2)
			snprintf(err, errlen, "%s: out of memory", t->e->model_path);
	}
	stats_turn_end(t->e);
	return rc ? -1 : 0;
}

int glm_engine_generate(glm_engine *e, const struct glm_gen_request *req,
                        struct glm_gen_result *res, char *err, size_t errlen)
{
	const int64_t V = e->model->hp.n_vocab;
	struct turn t = {.e = e, .req = req, .res = res};
	struct glm_sampler *smp = NULL;
	float *logits = NULL;
	int32_t *hist = NULL;
	size_t n_hist = 0, cap_hist = 0, reuse;
	double t0;
	int rc = 0;

	memset(res, 0, sizeof *res);
	res->stop = GLM_STOP_ERROR;
	t.channel = req->starts_in_reasoning ? GLM_CHANNEL_REASONING : GLM_CHANNEL_ANSWER;
	if (!req->prompt || req->n_prompt == 0) {
		snprintf(err, errlen, "%s: the prompt is empty", e->model_path);
		return -1;
	}
	if ((int64_t)req->n_prompt > e->n_ctx) {
		snprintf(err, errlen, "%s: the prompt of %zu tokens does not fit the context of %" PRId64 " tokens",
		         e->model_path, req->n_prompt, e->n_ctx);
		return -1;
	}
	if (e->sleeping && glm_engine_wake(e, err, errlen))
		return -1;
	logits = malloc((size_t)V * sizeof *logits);
	if (!logits || glm_sampler_create(&req->sampling, (int32_t)V, &smp)) {
		free(logits);
		snprintf(err, errlen, "%s: out of memory", e->model_path);
		return -1;
	}
	stats_turn_begin(e, (int64_t)req->n_prompt);

	/* prefix reuse: the last prompt token is evaluated in any case, for its logits */
	reuse = common_prefix(req->prompt, req->n_prompt, e->cached, e->n_cached);
	if (reuse == req->n_prompt)
		reuse--;
	res->n_prompt_evaluated = req->n_prompt - reuse;
	t0 = glm_now();
	rc = engine_forward(e, req->prompt + reuse, req->n_prompt - reuse, (int64_t)reuse, logits, false,
	                    req->cancel, err, errlen);
	if (rc == 1) {
		res->stop = GLM_STOP_CANCELLED;
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	stats_prompt_done(e, (int64_t)res->n_prompt_evaluated, glm_now() - t0);

	for (size_t i = 0; i < req->n_prompt; i++)
		if (ids_push(&hist, &n_hist, &cap_hist, req->prompt[i])) {
			rc = -2;
			goto out;
		}
	for (;;) {
		int32_t id;
		int64_t pos;

		if (req->n_predict >= 0 && res->n_tokens >= (size_t)req->n_predict) {
			res->stop = GLM_STOP_LENGTH;
			break;
		}
		if (cancelled(req)) {
			res->stop = GLM_STOP_CANCELLED;
			break;
		}
		id = glm_sampler_sample(smp, logits, hist, n_hist);
		if (req->stop_at_eog && glm_engine_is_eog(e, id)) {
			res->stop = GLM_STOP_EOG;
			break;
		}
		if (emit_token(&t, id) || ids_push(&hist, &n_hist, &cap_hist, id)) {
			rc = -2;
			break;
		}
		if (req->n_predict >= 0 && res->n_tokens >= (size_t)req->n_predict) {
			res->stop = GLM_STOP_LENGTH;
			break;
		}
		pos = (int64_t)(req->n_prompt + res->n_tokens) - 1;   /* where the new token goes */
		if (pos >= e->n_ctx) {
			res->stop = GLM_STOP_CONTEXT;
			break;
		}
		if (cancelled(req)) {
			res->stop = GLM_STOP_CANCELLED;
			break;
		}
		rc = engine_forward(e, &id, 1, pos, logits, false, req->cancel, err, errlen);
		if (rc == 1) {
			res->stop = GLM_STOP_CANCELLED;
			rc = 0;
			break;
		}
		if (rc)
			break;
	}
out:
	free(hist);
	free(logits);
	glm_sampler_free(smp);
	return finish(&t, rc, err, errlen);
}
