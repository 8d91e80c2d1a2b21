/* The engine's public API: everything the screen and the subcommands use.
 * Opaque handle, create/free pairs, errors as return codes plus a one-line
 * message. The engine never prints and never exits. Streaming is a
 * callback from the calling (worker) thread; cancellation is a flag polled
 * between tokens and between layers; statistics can be read from any
 * thread at any time. */
#ifndef GLM_ENGINE_H
#define GLM_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "engine/backend.h"
#include "engine/chat.h"
#include "engine/tokenizer.h"

enum glm_backend_kind { GLM_BACKEND_AUTO = 0, GLM_BACKEND_CPU, GLM_BACKEND_CUDA };

struct glm_engine_config {
	const char *model_path;
	enum glm_backend_kind backend;
	int64_t n_ctx;                /* 0: the model's context length (on the CPU capped to what half
	                               * the free memory holds); a size that cannot fit is an error */
	enum glm_kv_type kv_type;     /* GLM_KV_DEFAULT: f16 on CUDA, f32 on CPU */
	int n_threads;                /* 0: all online CPUs */
	bool flash_attn;              /* CUDA attention path; default true */
	bool q8_activations;          /* CPU: the faster q8-activation dot products instead of the
	                               * f32 reference (default false; see backend.h) */
	const char *templates_dir;    /* NULL: default lookup (see chat.h) */
	/* Open even when the file's tokenizer cannot be loaded (raw-id work:
	 * logits, generate, bench on benchmark-only files). Then
	 * glm_engine_tokenizer() is NULL, pieces carry no text, and
	 * glm_engine_chat_prompt fails with the tokenizer's error. */
	bool tokenizer_optional;
	/* Called during loading with 0..1; may be NULL. */
	void (*on_progress)(float fraction, void *user);
	void *progress_user;
};
void glm_engine_config_default(struct glm_engine_config *c);

typedef struct glm_engine glm_engine;

int  glm_engine_open(const struct glm_engine_config *cfg, glm_engine **out, char *err, size_t errlen);
void glm_engine_close(glm_engine *e);

const struct glm_model     *glm_engine_model(const glm_engine *e);
const struct glm_tokenizer *glm_engine_tokenizer(const glm_engine *e);   /* see tokenizer_optional */
const struct glm_chat_format *glm_engine_chat_format(const glm_engine *e);
int64_t glm_engine_n_ctx(const glm_engine *e);
/* true for the end-of-generation tokens (<|endoftext|>, <|user|>, <|observation|>). */
bool glm_engine_is_eog(const glm_engine *e, int32_t id);

/* ---- sampling ---- */
struct glm_sampling {
	float temp;                   /* 0: greedy */
	float top_p;                  /* 1: off */
	int   top_k;                  /* 0: off */
	float min_p;                  /* 0: off */
	float repeat_penalty;         /* 1: off */
	float presence_penalty;       /* 0: off */
	int   penalty_last_n;         /* tokens considered by the penalties */
	uint64_t seed;                /* GLM_SEED_RANDOM: one from the clock per turn */
};
#define GLM_SEED_RANDOM UINT64_MAX
/* GLM's recommendation (temp 1.0, top_p 0.95), overridden by the file's
 * general.sampling.* keys when present. */
void glm_engine_default_sampling(const glm_engine *e, struct glm_sampling *s);

/* ---- raw evaluation (logits command, tests) ---- */
/* Evaluate ids at positions pos.. (the cache keeps the rows). logits: n ×
 * n_vocab when all_logits, else n_vocab for the last token; may be NULL. */
int glm_engine_eval(glm_engine *e, const int32_t *ids, int n, int64_t pos,
                    float *logits, bool all_logits, char *err, size_t errlen);

/* ---- generation ---- */
enum glm_channel { GLM_CHANNEL_REASONING = 0, GLM_CHANNEL_ANSWER = 1 };

struct glm_piece {
	int32_t token;
	enum glm_channel channel;     /* switched by the </think> token id */
	const char *text;             /* complete UTF-8 (may be empty for a control token) */
	size_t len;
};
typedef void (*glm_piece_fn)(const struct glm_piece *piece, void *user);

enum glm_stop_reason {
	GLM_STOP_EOG = 0,             /* an end-of-generation token */
	GLM_STOP_LENGTH,              /* n_predict reached */
	GLM_STOP_CONTEXT,             /* the context is full */
	GLM_STOP_CANCELLED,
	GLM_STOP_ERROR,
};
const char *glm_stop_reason_name(enum glm_stop_reason r);

struct glm_gen_request {
	const int32_t *prompt;        /* the whole conversation's tokens; the engine */
	size_t n_prompt;              /* evaluates only what follows the cached prefix */
	struct glm_sampling sampling;
	int n_predict;                /* -1: until a stop token or the context is full */
	bool stop_at_eog;
	bool starts_in_reasoning;     /* the prompt ended with <think> */
	glm_piece_fn on_piece;        /* may be NULL */
	void *user;
	glm_atomic_int *cancel;           /* may be NULL */
};

struct glm_gen_result {
	enum glm_stop_reason stop;
	int32_t *tokens;              /* generated ids (malloc'd; caller frees) */
	size_t n_tokens;
	char *reasoning;              /* decoded text per channel (malloc'd; caller frees) */
	char *content;
	size_t n_reasoning_tokens, n_answer_tokens;
	size_t n_prompt_evaluated;    /* prompt tokens actually computed (after prefix reuse) */
};
void glm_gen_result_free(struct glm_gen_result *r);

int glm_engine_generate(glm_engine *e, const struct glm_gen_request *req,
                        struct glm_gen_result *res, char *err, size_t errlen);

/* Render a conversation with the model's chat format and tokenize it the
 * safe way (user text never becomes control tokens). */
int glm_engine_chat_prompt(glm_engine *e, const struct glm_conversation *c,
                           const struct glm_render_opts *o, int32_t **ids, size_t *n,
                           char *err, size_t errlen);

/* ---- statistics ---- */
struct glm_stats {
	const char *backend;          /* "cpu" / "cuda" */
	const char *kv_type;          /* "f16" ... */
	const char *model_name;
	bool generating;
	int64_t n_prompt, n_gen;      /* last (or current) turn */
	int64_t n_reasoning, n_answer;
	double prompt_tps;            /* prompt tokens/s, last turn */
	double gen_tps;               /* generation tokens/s, turn average */
	double gen_tps_recent;        /* over the last ~1 s */
	double ttft_ms;               /* time to first token, last turn */
	int64_t ctx_used, ctx_size;
	int64_t mem_used, mem_total;  /* VRAM on CUDA, RAM on CPU */
};
void glm_engine_stats(glm_engine *e, struct glm_stats *s);

/* ---- idle sleep: release weights and cache, keep everything else ---- */
int  glm_engine_sleep(glm_engine *e);
int  glm_engine_wake(glm_engine *e, char *err, size_t errlen);
bool glm_engine_sleeping(const glm_engine *e);

/* A device error that cannot be returned (inside a worker) calls this hook
 * first, so the UI can restore the terminal, then the process ends. */
void glm_set_fatal_hook(void (*hook)(const char *msg, void *user), void *user);
void glm_fatal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
