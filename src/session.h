/* Saved conversations. A session file is JSON (format "glmchat-session",
 * version 1): the messages in the OpenAI shape `glmchat render` reads
 * (role, content, reasoning_content, tool_calls), the tools, the model, the
 * sampling settings and per-turn statistics. Files live in
 * $XDG_DATA_HOME/glmchat/sessions/ and every write is atomic
 * (atomic_write.h): a crash or a full disk never loses the previous file.
 *
 * The chat saves after every turn, an interrupted (Ctrl-C) one included, to
 * the session's path (session_new_path() at the first turn, or the file it
 * was loaded from); /save NAME, /load NAME, /export FILE and --resume use
 * the functions below. */
#ifndef GLM_SESSION_H
#define GLM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"

/* One assistant turn's numbers (what the status bar showed at its end). */
struct session_turn {
	int64_t n_prompt, n_gen;            /* prompt tokens evaluated, tokens generated */
	int64_t n_reasoning, n_answer;
	double prompt_tps, gen_tps, ttft_ms;
	enum glm_stop_reason stop;          /* GLM_STOP_CANCELLED for a Ctrl-C turn */
};

struct session_meta {
	char *model;                        /* model name or path (malloc'd, may be NULL) */
	bool thinking;                      /* default true */
	bool has_sampling;
	struct glm_sampling sampling;
	char *created;                      /* ISO 8601 UTC (malloc'd); NULL: set at first save */
	struct session_turn *turns;         /* malloc'd array */
	size_t n_turns;
};

void session_meta_init(struct session_meta *m);
void session_meta_free(struct session_meta *m);
int  session_meta_set_model(struct session_meta *m, const char *model);   /* copies; 0 / -1 */
int  session_meta_add_turn(struct session_meta *m, const struct session_turn *t);
/* A turn record from the engine's statistics after a turn. */
void session_turn_from_stats(struct session_turn *t, const struct glm_stats *s, enum glm_stop_reason stop);

/* Save / load. Errors: -1 and "PATH: what is wrong" in err. load fills an
 * initialised (empty) conversation and meta; on error both are left empty. */
int  session_save(const char *path, const struct glm_conversation *c, const struct session_meta *m,
                  char *err, size_t errlen);
int  session_load(const char *path, struct glm_conversation *c, struct session_meta *m,
                  char *err, size_t errlen);
/* A readable Markdown transcript (reasoning in <details> blocks). */
int  session_export_markdown(const char *path, const struct glm_conversation *c,
                             const struct session_meta *m, char *err, size_t errlen);

/* The same as text (malloc'd; NULL on allocation failure), and parsing. */
char *session_to_json(const struct glm_conversation *c, const struct session_meta *m);
char *session_to_markdown(const struct glm_conversation *c, const struct session_meta *m);
int  session_from_json(const char *json, size_t len, const char *origin, struct glm_conversation *c,
                       struct session_meta *m, char *err, size_t errlen);

/* Paths. All return 0, or -1 (no home directory, name too long, none found). */
int  session_dir(char *buf, size_t n);                 /* .../glmchat/sessions, created 0700 */
int  session_new_path(char *buf, size_t n);            /* .../sessions/YYYYMMDD-HHMMSS.json (unused) */
int  session_last_path(char *buf, size_t n);           /* the most recently written session */
/* What /save NAME and /load NAME mean: a name without '/' is
 * sessions/NAME.json (".json" added when missing); anything with a '/' is a path. */
int  session_resolve(const char *name, char *buf, size_t n);

#endif
