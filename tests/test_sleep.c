/* --sleep-idle-seconds through the engine API on the CPU backend: sleeping
 * releases the backend's memory (the cache and scratch; on CUDA the
 * weights too), the conversation survives, and the next message reloads
 * transparently and answers exactly as a freshly opened engine does. */
#include "config.h"
#include "tests/tap.h"
#include "engine/engine.h"

static char err[512];

static glm_engine *open_tiny(const char *path)
{
	struct glm_engine_config cfg;
	glm_engine *e = NULL;
	const char *tdir = getenv("GLMCHAT_TEMPLATES");

	glm_engine_config_default(&cfg);
	cfg.model_path = path;
	cfg.backend = GLM_BACKEND_CPU;
	cfg.n_ctx = 256;
	cfg.n_threads = 2;
	cfg.templates_dir = tdir && *tdir ? tdir : NULL;
	if (glm_engine_open(&cfg, &e, err, sizeof err))
		bail_out("cannot open %s: %s", path, err);
	return e;
}

/* One greedy turn for the conversation; returns the generated ids. */
static size_t last_prompt;

static int turn(glm_engine *e, const struct glm_conversation *c, struct glm_gen_result *res)
{
	struct glm_render_opts o;
	struct glm_gen_request req = {0};
	int32_t *ids = NULL;
	size_t n = 0;
	int rc;

	glm_render_opts_default(&o);
	memset(res, 0, sizeof *res);
	if (glm_engine_chat_prompt(e, c, &o, &ids, &n, err, sizeof err))
		return -1;
	glm_engine_default_sampling(e, &req.sampling);
	req.sampling.temp = 0;
	req.prompt = ids;
	req.n_prompt = n;
	last_prompt = n;
	req.n_predict = 12;
	req.stop_at_eog = true;
	req.starts_in_reasoning = true;
	rc = glm_engine_generate(e, &req, res, err, sizeof err);
	free(ids);
	return rc;
}

static bool same_ids(const struct glm_gen_result *a, const struct glm_gen_result *b)
{
	return a->n_tokens == b->n_tokens && a->n_tokens > 0 &&
	       !memcmp(a->tokens, b->tokens, a->n_tokens * sizeof *a->tokens);
}

int main(void)
{
	const char *model = fixture_path("models/tiny-q8_0.gguf");
	struct glm_gen_result a, a2, b, z;
	struct glm_conversation c;
	struct glm_stats st;
	int64_t awake_mem, asleep_mem;
	glm_engine *e, *fresh;

	plan(16);
	e = open_tiny(model);
	glm_conversation_init(&c);
	glm_conversation_add(&c, GLM_ROLE_USER, "Hello there", NULL);

	ok(turn(e, &c, &a) == 0, "first turn (%s)", err);
	glm_engine_stats(e, &st);
	awake_mem = st.mem_used;
	ok(awake_mem > 0 && st.ctx_used > 0, "awake: %lld bytes in use, %lld tokens cached",
	   (long long)awake_mem, (long long)st.ctx_used);

	ok(glm_engine_sleep(e) == 0 && glm_engine_sleeping(e), "sleep");
	glm_engine_stats(e, &st);
	asleep_mem = st.mem_used;
	ok(asleep_mem < awake_mem, "asleep: memory in use drops from %lld to %lld bytes",
	   (long long)awake_mem, (long long)asleep_mem);
	is_int(st.ctx_used, 0, "asleep: the cache is gone");
	ok(glm_engine_sleep(e) == 0 && glm_engine_sleeping(e), "sleeping twice is harmless");

	/* the next message reloads by itself */
	ok(turn(e, &c, &a2) == 0 && !glm_engine_sleeping(e), "a turn wakes the engine (%s)", err);
	ok(same_ids(&a, &a2), "the same prompt gives the same %zu greedy tokens after the reload", a.n_tokens);
	glm_engine_stats(e, &st);
	is_int(st.mem_used, awake_mem, "memory in use is back to what it was");

	/* a conversation continued across a sleep: the whole history is
	 * evaluated again and the answer matches a freshly opened engine */
	glm_conversation_add(&c, GLM_ROLE_ASSISTANT, a.content, a.reasoning);
	glm_conversation_add(&c, GLM_ROLE_USER, "And then?", NULL);
	ok(glm_engine_sleep(e) == 0, "sleep between turns");
	ok(turn(e, &c, &b) == 0, "second turn after sleeping (%s)", err);
	ok(b.n_prompt_evaluated == last_prompt && last_prompt > a.n_prompt_evaluated,
	   "the whole conversation (%zu of %zu tokens) was evaluated again", b.n_prompt_evaluated, last_prompt);
	fresh = open_tiny(model);
	ok(turn(fresh, &c, &z) == 0, "the same turn on a fresh engine");
	ok(same_ids(&b, &z), "identical answer: nothing of the conversation was lost");
	glm_engine_close(fresh);

	/* explicit wake, as the screen may do ahead of a message */
	ok(glm_engine_sleep(e) == 0 && glm_engine_wake(e, err, sizeof err) == 0 && !glm_engine_sleeping(e),
	   "explicit wake");
	ok(glm_engine_wake(e, err, sizeof err) == 0, "waking an awake engine is harmless");

	glm_gen_result_free(&a);
	glm_gen_result_free(&a2);
	glm_gen_result_free(&b);
	glm_gen_result_free(&z);
	glm_conversation_free(&c);
	glm_engine_close(e);
	return done_testing();
}
