/* Private to engine.c, generate.c and stats.c: the engine handle. */
#ifndef GLM_ENGINE_IMPL_H
#define GLM_ENGINE_IMPL_H

#include <pthread.h>
#include "engine/engine.h"
#include "engine/model.h"

#define GLM_MAX_EOG 8
#define GLM_RECENT 64                 /* token times kept for the ~1 s rate */

struct glm_engine {
	char *model_path, *templates_dir; /* owned copies of the configuration's strings */
	struct glm_engine_config cfg;     /* its string pointers point at the copies */
	struct glm_model *model;
	struct glm_tokenizer *tok;
	struct glm_chat_format *chat;     /* NULL when the file's template is unsupported */
	char chat_err[256];
	struct glm_backend *backend;      /* NULL while asleep */
	struct glm_backend_config bcfg;   /* kv_type and n_threads resolved */
	enum glm_backend_kind kind;       /* CPU or CUDA, resolved */
	int64_t n_ctx;
	bool sleeping;

	/* the tokens whose latent rows are in the cache, position by position */
	int32_t *cached;
	size_t n_cached;

	int32_t eog[GLM_MAX_EOG];
	int n_eog;
	int32_t think_open, think_close;  /* <think>, </think>; -1 when absent */

	/* statistics, written by the generating thread, read by any */
	pthread_mutex_t stats_mu;
	struct glm_stats st;
	double t_turn, t_first;           /* monotonic seconds: turn start, first token */
	double recent[GLM_RECENT];        /* times of the last tokens (ring) */
	int n_recent, recent_head;
};

/* Monotonic clock, seconds. */
double glm_now(void);

/* stats.c: the turn's bookkeeping (all lock stats_mu themselves). */
void stats_turn_begin(glm_engine *e, int64_t n_prompt);
void stats_prompt_done(glm_engine *e, int64_t n_evaluated, double seconds);
void stats_token(glm_engine *e, enum glm_channel ch);
void stats_turn_end(glm_engine *e);
void stats_set_ctx(glm_engine *e);

/* engine.c: evaluate through the backend in max_batch chunks, keeping the
 * cached-token record. Returns 0, 1 when cancelled, -1 on error. */
int engine_forward(glm_engine *e, const int32_t *ids, size_t n, int64_t pos, float *logits,
                   bool all_logits, glm_atomic_int *cancel, char *err, size_t errlen);

#endif
