/* The chat's engine side, shared by the full screen and the plain line
 * mode: the conversation, a worker thread that loads the model and runs
 * glm_engine_generate, and a queue of events for the main thread. The
 * worker never touches the terminal: it appends to a lock-protected queue
 * and writes a byte to a wake pipe; the main thread drains the queue.
 *
 * Every engine call happens on the worker. The idle timer does not: the
 * main loop knows when the user was last active and asks for sleep
 * (chat_session_sleep); the next turn wakes the model first and reports
 * how long the reload took. */
#ifndef GLM_CHAT_SESSION_H
#define GLM_CHAT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include "engine/engine.h"
#include "src/cli.h"

struct chat_session_opts {
	struct glm_engine_config engine;   /* model_path must stay valid */
	const struct cli_common *cli;      /* sampling overrides and -n */
	const char *system_prompt;         /* NULL: none */
	bool thinking;
	bool autosave;                     /* save the session after every turn */
	const char *model_name;            /* for the session file */
};

enum cs_event_kind {
	CS_LOAD_PROGRESS, CS_LOADED, CS_LOAD_FAILED, CS_TURN_BEGIN, CS_PIECE, CS_TURN_END,
	CS_INFO, CS_ERROR,
	CS_SLEEPING,                       /* the model's memory is released; text: a first-time note or "" */
	CS_WAKING,                         /* a turn is reloading it */
	CS_AWAKE,                          /* reloaded; text: "the model is loaded again in 1.2 s" */
};

struct cs_event {
	enum cs_event_kind kind;
	enum glm_channel channel;          /* TURN_BEGIN, PIECE */
	char *text;                        /* PIECE, LOAD_FAILED, INFO, ERROR, SLEEPING, AWAKE (owned) */
	size_t len;
	int tokens;                        /* PIECE: tokens in the batch */
	float fraction;                    /* LOAD_PROGRESS */
	enum glm_stop_reason stop;         /* TURN_END */
	struct glm_stats stats;            /* LOADED, TURN_END, SLEEPING, AWAKE */
	struct cs_event *next;
};

struct chat_session;

/* Starts the worker, which begins loading the model at once. */
int  chat_session_create(const struct chat_session_opts *o, struct chat_session **out,
                         char *err, size_t errlen);
/* Stops a running turn, joins the worker, frees everything. */
void chat_session_destroy(struct chat_session *s);

int  chat_session_wake_fd(const struct chat_session *s);
/* Hand every queued event to fn, oldest first (the events are freed
 * after the call). Returns how many. */
size_t chat_session_drain(struct chat_session *s, void (*fn)(const struct cs_event *, void *), void *user);

bool chat_session_loaded(struct chat_session *s);
bool chat_session_busy(struct chat_session *s);
/* The template's thinking switch now (a loaded session sets it too). */
bool chat_session_thinking(struct chat_session *s);
/* Statistics now; false before the model is loaded. */
bool chat_session_stats(struct chat_session *s, struct glm_stats *out);

/* Add a user message and start a turn. -1 with a reason when the model is
 * not loaded or a turn is running. */
int  chat_session_send(struct chat_session *s, const char *text, char *err, size_t errlen);
/* Drop the last answer and answer the last user message again. */
int  chat_session_regen(struct chat_session *s, char *err, size_t errlen);
/* Remove the last user message (and its answer); its text in *text
 * (malloc'd) to be edited and sent again. */
int  chat_session_edit_last(struct chat_session *s, char **text, char *err, size_t errlen);
void chat_session_cancel(struct chat_session *s);
/* Release the model's memory (weights on the GPU and the cache; the
 * conversation stays) until the next turn. The main loop calls it when the
 * user has been idle long enough. 0, or -1 when there is nothing to do
 * now (loading, a turn running, already asleep). */
int  chat_session_sleep(struct chat_session *s);

/* Settings (take effect at the next turn). */
int  chat_session_clear(struct chat_session *s, char *err, size_t errlen);
int  chat_session_set_system(struct chat_session *s, const char *text, char *err, size_t errlen);
/* The system prompt (malloc'd copy, NULL when none). */
char *chat_session_system(struct chat_session *s);
void chat_session_set_thinking(struct chat_session *s, bool on);
/* name: temp, top_p, top_k, min_p, max_tokens (range-checked by the caller). */
int  chat_session_set_param(struct chat_session *s, const char *name, double v, char *err, size_t errlen);

/* Session files (src/session.h). save: path NULL = the session's own path. */
int  chat_session_save(struct chat_session *s, const char *path, char *saved, size_t savedlen,
                       char *err, size_t errlen);
int  chat_session_load(struct chat_session *s, const char *path, char *err, size_t errlen);
int  chat_session_export(struct chat_session *s, const char *path, char *err, size_t errlen);
/* The file the session is saved in ("" until the first save). */
void chat_session_path(struct chat_session *s, char *buf, size_t n);
/* Walk the conversation (under the session's lock). */
void chat_session_for_each(struct chat_session *s,
                           void (*fn)(const struct glm_message *m, void *user), void *user);

#endif
