/* The chat's engine side: conversation, worker thread, event queue; see
 * chat_session.h. One lock (mu) guards the conversation and settings,
 * another (qmu) the event queue, so the worker streaming tokens never
 * waits for the main thread's use of the conversation. */
#include "config.h"
#include "src/chat_session.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/session.h"

enum job { JOB_NONE, JOB_GENERATE };

struct chat_session {
	struct chat_session_opts opts;
	struct cli_common over;         /* the command line's sampling, then /set */
	char *model_path, *templates_dir, *model_name;

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	enum job job;
	bool loaded, busy, quitting;
	bool sleep_wanted, sleeping;    /* asked by the main loop; done by the worker */
	bool slept_before;              /* the first sleep explains itself */
	bool thinking;
	struct glm_conversation conv;
	struct session_meta meta;
	char path[4096];                /* autosave target; "" until the first save */
	glm_engine *engine;             /* set once by the worker */

	pthread_mutex_t qmu;
	struct cs_event *qhead, *qtail; /* under qmu */
	bool wake_pending;
	int wake[2];

	glm_atomic_int cancel;
	int delay_ms;                   /* test hook: GLMCHAT_TEST_TOKEN_DELAY_MS */
	int load_delay_ms;              /* test hook: GLMCHAT_TEST_LOAD_DELAY_MS, per progress step */
	float last_progress;
};

/* ---- the event queue ---- */

static void post(struct chat_session *s, struct cs_event *ev)
{
	bool wake;

	pthread_mutex_lock(&s->qmu);
	ev->next = NULL;
	if (s->qtail)
		s->qtail->next = ev;
	else
		s->qhead = ev;
	s->qtail = ev;
	wake = !s->wake_pending;
	s->wake_pending = true;
	pthread_mutex_unlock(&s->qmu);
	if (wake)
		(void)!write(s->wake[1], "", 1);
}

static struct cs_event *event_new(enum cs_event_kind kind, const char *text)
{
	struct cs_event *ev = calloc(1, sizeof *ev);

	if (!ev)
		return NULL;
	ev->kind = kind;
	if (text) {
		ev->text = strdup(text);
		ev->len = ev->text ? strlen(ev->text) : 0;
	}
	return ev;
}

static void post_text(struct chat_session *s, enum cs_event_kind kind, const char *text)
{
	struct cs_event *ev = event_new(kind, text ? text : "");

	if (ev)
		post(s, ev);
}

/* An event carrying the engine's statistics now (worker only). */
static void post_stats(struct chat_session *s, enum cs_event_kind kind, const char *text)
{
	struct cs_event *ev = event_new(kind, text);

	if (!ev)
		return;
	glm_engine_stats(s->engine, &ev->stats);
	post(s, ev);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

size_t chat_session_drain(struct chat_session *s, void (*fn)(const struct cs_event *, void *), void *user)
{
	struct cs_event *ev;
	char buf[64];
	size_t n = 0;

	while (read(s->wake[0], buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&s->qmu);
	ev = s->qhead;
	s->qhead = s->qtail = NULL;
	s->wake_pending = false;
	pthread_mutex_unlock(&s->qmu);
	while (ev) {
		struct cs_event *next = ev->next;
		if (fn)
			fn(ev, user);
		free(ev->text);
		free(ev);
		ev = next;
		n++;
	}
	return n;
}

int chat_session_wake_fd(const struct chat_session *s)
{
	return s->wake[0];
}

/* Streamed text joins the last queued piece of the same channel, so a
 * fast model costs the screen one event per frame, not one per token. */
static void on_piece(const struct glm_piece *p, void *user)
{
	struct chat_session *s = user;
	struct cs_event *ev;
	bool wake;

	if (s->delay_ms > 0)
		sleep_ms(s->delay_ms);
	pthread_mutex_lock(&s->qmu);
	ev = s->qtail;
	if (!ev || ev->kind != CS_PIECE || ev->channel != p->channel) {
		ev = calloc(1, sizeof *ev);
		if (!ev) {
			pthread_mutex_unlock(&s->qmu);
			return;
		}
		ev->kind = CS_PIECE;
		ev->channel = p->channel;
		if (s->qtail)
			s->qtail->next = ev;
		else
			s->qhead = ev;
		s->qtail = ev;
	}
	if (p->len) {
		char *t = realloc(ev->text, ev->len + p->len + 1);
		if (t) {
			memcpy(t + ev->len, p->text, p->len);
			ev->len += p->len;
			t[ev->len] = '\0';
			ev->text = t;
		}
	}
	if (p->token >= 0)
		ev->tokens++;
	wake = !s->wake_pending;
	s->wake_pending = true;
	pthread_mutex_unlock(&s->qmu);
	if (wake)
		(void)!write(s->wake[1], "", 1);
}

/* ---- the worker ---- */

static void on_progress(float f, void *user)
{
	struct chat_session *s = user;
	struct cs_event *ev;

	if (f < 1.0f && f - s->last_progress < 0.01f)
		return;
	s->last_progress = f;
	ev = event_new(CS_LOAD_PROGRESS, NULL);
	if (!ev)
		return;
	ev->fraction = f;
	post(s, ev);
	/* the test hook holds each step on the screen, as a big file would */
	if (s->load_delay_ms > 0 && f < 1.0f)
		sleep_ms(s->load_delay_ms);
}

static void load(struct chat_session *s)
{
	struct glm_engine_config cfg = s->opts.engine;
	glm_engine *e = NULL;
	char err[1024];

	cfg.on_progress = on_progress;
	cfg.progress_user = s;
	if (glm_engine_open(&cfg, &e, err, sizeof err)) {
		post_text(s, CS_LOAD_FAILED, err);
		pthread_mutex_lock(&s->mu);
		s->busy = false;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	pthread_mutex_lock(&s->mu);
	s->engine = e;
	s->loaded = true;
	s->busy = false;
	pthread_mutex_unlock(&s->mu);
	post_stats(s, CS_LOADED, NULL);
}

/* The main loop found the user idle: release the model's memory. */
static void do_sleep(struct chat_session *s)
{
	const char *note = s->slept_before ? "" :
		"idle: the model's memory is released; the next message loads it again";

	glm_engine_sleep(s->engine);
	pthread_mutex_lock(&s->mu);
	s->sleeping = true;
	pthread_mutex_unlock(&s->mu);
	s->slept_before = true;
	post_stats(s, CS_SLEEPING, note);
}

/* Before a turn: reload a sleeping model, timing it for the user. */
static int wake_up(struct chat_session *s, char *err, size_t errlen)
{
	struct timespec t0, t1;
	char msg[128];
	double secs;
	bool asleep;

	pthread_mutex_lock(&s->mu);
	asleep = s->sleeping;
	pthread_mutex_unlock(&s->mu);
	if (!asleep)
		return 0;
	post_text(s, CS_WAKING, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (s->load_delay_ms > 0)
		sleep_ms(s->load_delay_ms);     /* test hook: a reload that takes a while */
	if (glm_engine_wake(s->engine, err, errlen))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	pthread_mutex_lock(&s->mu);
	s->sleeping = false;
	pthread_mutex_unlock(&s->mu);
	snprintf(msg, sizeof msg, "the model is loaded again in %.1f s", secs);
	post_stats(s, CS_AWAKE, msg);
	return 0;
}

static void sampling_now(struct chat_session *s, struct glm_sampling *smp)
{
	glm_engine_default_sampling(s->engine, smp);
	cli_apply_sampling(&s->over, smp);
	if (!s->over.seed_set)
		smp->seed = GLM_SEED_RANDOM;
}

/* Under mu: save the conversation to the session's file. A failure is
 * told, not fatal: the answer itself is there. */
static void autosave(struct chat_session *s)
{
	char err[512], msg[600];

	if (!s->opts.autosave)
		return;
	if (!s->path[0] && session_new_path(s->path, sizeof s->path)) {
		s->path[0] = '\0';
		return;
	}
	s->meta.thinking = s->thinking;
	if (session_save(s->path, &s->conv, &s->meta, err, sizeof err)) {
		snprintf(msg, sizeof msg, "the conversation is not saved: %s", err);
		post_text(s, CS_INFO, msg);
	}
}

static void generate(struct chat_session *s)
{
	struct glm_gen_request req = { 0 };
	struct glm_gen_result res = { 0 };
	struct glm_render_opts ro;
	struct cs_event *ev;
	int32_t *ids = NULL;
	size_t n_ids = 0;
	char err[1024] = "";
	int rc;

	if (wake_up(s, err, sizeof err)) {
		post_text(s, CS_ERROR, err);
		pthread_mutex_lock(&s->mu);
		s->busy = false;
		pthread_mutex_unlock(&s->mu);
		ev = event_new(CS_TURN_END, NULL);
		if (ev) {
			ev->stop = GLM_STOP_ERROR;
			glm_engine_stats(s->engine, &ev->stats);
			post(s, ev);
		}
		return;
	}
	pthread_mutex_lock(&s->mu);
	glm_render_opts_default(&ro);
	ro.enable_thinking = s->thinking;
	sampling_now(s, &req.sampling);
	req.n_predict = s->over.n_predict;
	rc = glm_engine_chat_prompt(s->engine, &s->conv, &ro, &ids, &n_ids, err, sizeof err);
	pthread_mutex_unlock(&s->mu);

	ev = event_new(CS_TURN_BEGIN, NULL);
	if (ev) {
		ev->channel = ro.enable_thinking ? GLM_CHANNEL_REASONING : GLM_CHANNEL_ANSWER;
		post(s, ev);
	}
	if (rc == 0) {
		req.prompt = ids;
		req.n_prompt = n_ids;
		req.stop_at_eog = true;
		req.starts_in_reasoning = ro.enable_thinking;
		req.on_piece = on_piece;
		req.user = s;
		req.cancel = &s->cancel;
		rc = glm_engine_generate(s->engine, &req, &res, err, sizeof err);
	}
	free(ids);

	ev = event_new(CS_TURN_END, NULL);
	pthread_mutex_lock(&s->mu);
	if (res.content || res.reasoning) {
		struct session_turn turn;
		struct glm_stats st;

		glm_conversation_add(&s->conv, GLM_ROLE_ASSISTANT, res.content ? res.content : "",
		                     res.reasoning && res.reasoning[0] ? res.reasoning : NULL);
		glm_engine_stats(s->engine, &st);
		session_turn_from_stats(&turn, &st, rc ? GLM_STOP_ERROR : res.stop);
		session_meta_add_turn(&s->meta, &turn);
		autosave(s);
	}
	s->busy = false;
	pthread_mutex_unlock(&s->mu);
	if (rc)
		post_text(s, CS_ERROR, err[0] ? err : "generation failed");
	if (ev) {
		ev->stop = rc ? GLM_STOP_ERROR : res.stop;
		glm_engine_stats(s->engine, &ev->stats);
		post(s, ev);
	}
	glm_gen_result_free(&res);
}

static void *worker(void *arg)
{
	struct chat_session *s = arg;

	load(s);
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->job == JOB_NONE && !s->sleep_wanted && !s->quitting)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->quitting)
			break;
		if (s->job == JOB_GENERATE) {
			s->job = JOB_NONE;
			s->sleep_wanted = false;        /* the user is back */
			pthread_mutex_unlock(&s->mu);
			generate(s);
		} else {
			s->sleep_wanted = false;
			pthread_mutex_unlock(&s->mu);
			do_sleep(s);
		}
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* ---- the main thread's side ---- */

int chat_session_create(const struct chat_session_opts *o, struct chat_session **out,
                        char *err, size_t errlen)
{
	struct chat_session *s = calloc(1, sizeof *s);
	const char *delay = getenv("GLMCHAT_TEST_TOKEN_DELAY_MS");
	const char *load_delay = getenv("GLMCHAT_TEST_LOAD_DELAY_MS");

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->opts = *o;
	s->over = *o->cli;
	s->model_path = strdup(o->engine.model_path ? o->engine.model_path : "");
	s->templates_dir = o->engine.templates_dir ? strdup(o->engine.templates_dir) : NULL;
	s->model_name = strdup(o->model_name ? o->model_name : s->model_path);
	s->opts.engine.model_path = s->model_path;
	s->opts.engine.templates_dir = s->templates_dir;
	s->opts.model_name = s->model_name;
	s->opts.cli = &s->over;
	s->thinking = o->thinking;
	s->wake[0] = s->wake[1] = -1;
	if (delay)
		s->delay_ms = atoi(delay);
	if (load_delay)
		s->load_delay_ms = atoi(load_delay);
	atomic_init(&s->cancel, 0);
	glm_conversation_init(&s->conv);
	session_meta_init(&s->meta);
	session_meta_set_model(&s->meta, s->model_name);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->qmu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (o->system_prompt && *o->system_prompt)
		glm_conversation_add(&s->conv, GLM_ROLE_SYSTEM, o->system_prompt, NULL);
	if (!s->model_path || !s->model_name || pipe(s->wake)) {
		snprintf(err, errlen, "cannot start the chat: %s", strerror(errno ? errno : ENOMEM));
		chat_session_destroy(s);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		/* with stdin closed the pipe would be fd 0, which the line mode
		 * reads for messages: keep it above the standard three */
		if (s->wake[i] <= 2) {
			int fd = fcntl(s->wake[i], F_DUPFD_CLOEXEC, 3);
			if (fd >= 0) {
				close(s->wake[i]);
				s->wake[i] = fd;
			}
		}
		fcntl(s->wake[i], F_SETFL, fcntl(s->wake[i], F_GETFL) | O_NONBLOCK);
		fcntl(s->wake[i], F_SETFD, FD_CLOEXEC);
	}
	s->busy = true;                 /* loading */
	if (pthread_create(&s->thread, NULL, worker, s)) {
		snprintf(err, errlen, "cannot start the engine thread");
		chat_session_destroy(s);
		return -1;
	}
	s->thread_started = true;
	*out = s;
	return 0;
}

void chat_session_destroy(struct chat_session *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		atomic_store(&s->cancel, 1);
		pthread_mutex_lock(&s->mu);
		s->quitting = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	chat_session_drain(s, NULL, NULL);
	if (s->engine)
		glm_engine_close(s->engine);
	glm_conversation_free(&s->conv);
	session_meta_free(&s->meta);
	for (int i = 0; i < 2; i++)
		if (s->wake[i] >= 0)
			close(s->wake[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->qmu);
	pthread_cond_destroy(&s->cv);
	free(s->model_path);
	free(s->templates_dir);
	free(s->model_name);
	free(s);
}

bool chat_session_loaded(struct chat_session *s)
{
	bool r;

	pthread_mutex_lock(&s->mu);
	r = s->loaded;
	pthread_mutex_unlock(&s->mu);
	return r;
}

bool chat_session_busy(struct chat_session *s)
{
	bool r;

	pthread_mutex_lock(&s->mu);
	r = s->busy;
	pthread_mutex_unlock(&s->mu);
	return r;
}

bool chat_session_thinking(struct chat_session *s)
{
	bool r;

	pthread_mutex_lock(&s->mu);
	r = s->thinking;
	pthread_mutex_unlock(&s->mu);
	return r;
}

bool chat_session_stats(struct chat_session *s, struct glm_stats *out)
{
	glm_engine *e;

	pthread_mutex_lock(&s->mu);
	e = s->loaded ? s->engine : NULL;
	pthread_mutex_unlock(&s->mu);
	if (!e)
		return false;
	glm_engine_stats(e, out);       /* readable from any thread */
	return true;
}

/* Under mu: a turn is running, so the conversation must not change. (A
 * model still loading does not stop /clear, /system or /load.) */
static int refuse_while_generating(struct chat_session *s, char *err, size_t errlen)
{
	if (s->busy && s->loaded) {
		snprintf(err, errlen, "an answer is being generated (Esc stops it)");
		return -1;
	}
	return 0;
}

/* Under mu: can a turn start now? */
static int check_idle(struct chat_session *s, char *err, size_t errlen)
{
	if (!s->loaded) {
		snprintf(err, errlen, s->busy ? "the model is still loading" : "no model is loaded");
		return -1;
	}
	return refuse_while_generating(s, err, errlen);
}

static void start_turn(struct chat_session *s)
{
	atomic_store(&s->cancel, 0);
	s->busy = true;
	s->job = JOB_GENERATE;
	pthread_cond_signal(&s->cv);
}

int chat_session_send(struct chat_session *s, const char *text, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = check_idle(s, err, errlen);
	if (!rc && !glm_conversation_add(&s->conv, GLM_ROLE_USER, text, NULL)) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (!rc)
		start_turn(s);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Keep the first n messages. The rest move into a conversation of their
 * own, which frees them the way the engine's conversation code does. */
static void truncate_conv(struct glm_conversation *c, size_t n)
{
	struct glm_conversation tail;

	if (n >= c->n)
		return;
	glm_conversation_init(&tail);
	tail.msgs = malloc((c->n - n) * sizeof *tail.msgs);
	if (!tail.msgs)
		return;         /* keeps them: better than losing the thread */
	memcpy(tail.msgs, c->msgs + n, (c->n - n) * sizeof *tail.msgs);
	tail.n = tail.cap = c->n - n;
	c->n = n;
	glm_conversation_free(&tail);
}

/* Under mu: the last user message's index, or -1 when there is none. */
static long last_user(const struct chat_session *s)
{
	for (size_t i = s->conv.n; i-- > 0;)
		if (s->conv.msgs[i].role == GLM_ROLE_USER)
			return (long)i;
	return -1;
}

int chat_session_regen(struct chat_session *s, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = check_idle(s, err, errlen);
	if (!rc && last_user(s) < 0) {
		snprintf(err, errlen, "/regen: there is no message to answer again");
		rc = -1;
	}
	if (!rc) {
		truncate_conv(&s->conv, (size_t)last_user(s) + 1);
		start_turn(s);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int chat_session_edit_last(struct chat_session *s, char **text, char *err, size_t errlen)
{
	long u;
	int rc;

	*text = NULL;
	pthread_mutex_lock(&s->mu);
	rc = check_idle(s, err, errlen);
	u = rc ? -1 : last_user(s);
	if (!rc && u < 0) {
		snprintf(err, errlen, "/edit: there is no message to edit");
		rc = -1;
	}
	if (!rc && !(*text = strdup(s->conv.msgs[u].content ? s->conv.msgs[u].content : ""))) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (!rc)
		truncate_conv(&s->conv, (size_t)u);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void chat_session_cancel(struct chat_session *s)
{
	atomic_store(&s->cancel, 1);
}

int chat_session_sleep(struct chat_session *s)
{
	int rc = -1;

	pthread_mutex_lock(&s->mu);
	if (s->loaded && !s->busy && !s->sleeping && !s->quitting) {
		s->sleep_wanted = true;
		pthread_cond_signal(&s->cv);
		rc = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int chat_session_clear(struct chat_session *s, char *err, size_t errlen)
{
	struct glm_conversation fresh;
	char *system = NULL;

	pthread_mutex_lock(&s->mu);
	if (refuse_while_generating(s, err, errlen)) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (s->conv.n && s->conv.msgs[0].role == GLM_ROLE_SYSTEM && s->conv.msgs[0].content)
		system = strdup(s->conv.msgs[0].content);
	glm_conversation_free(&s->conv);
	glm_conversation_init(&fresh);
	s->conv = fresh;
	if (system)
		glm_conversation_add(&s->conv, GLM_ROLE_SYSTEM, system, NULL);
	free(system);
	/* a new conversation is a new session file */
	s->path[0] = '\0';
	session_meta_free(&s->meta);
	session_meta_init(&s->meta);
	session_meta_set_model(&s->meta, s->model_name);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int chat_session_set_system(struct chat_session *s, const char *text, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (refuse_while_generating(s, err, errlen)) {
		rc = -1;
	} else if (s->conv.n && s->conv.msgs[0].role == GLM_ROLE_SYSTEM) {
		char *copy = strdup(text);
		if (!copy) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		} else {
			free(s->conv.msgs[0].content);
			s->conv.msgs[0].content = copy;
		}
	} else {
		/* the system message goes first: append, then rotate it there */
		if (!glm_conversation_add(&s->conv, GLM_ROLE_SYSTEM, text, NULL)) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		} else {
			struct glm_message m = s->conv.msgs[s->conv.n - 1];
			memmove(s->conv.msgs + 1, s->conv.msgs, (s->conv.n - 1) * sizeof m);
			s->conv.msgs[0] = m;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

char *chat_session_system(struct chat_session *s)
{
	char *r = NULL;

	pthread_mutex_lock(&s->mu);
	if (s->conv.n && s->conv.msgs[0].role == GLM_ROLE_SYSTEM && s->conv.msgs[0].content)
		r = strdup(s->conv.msgs[0].content);
	pthread_mutex_unlock(&s->mu);
	return r;
}

void chat_session_set_thinking(struct chat_session *s, bool on)
{
	pthread_mutex_lock(&s->mu);
	s->thinking = on;
	pthread_mutex_unlock(&s->mu);
}

int chat_session_set_param(struct chat_session *s, const char *name, double v, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (!strcmp(name, "temp"))
		s->over.temp = (float)v;
	else if (!strcmp(name, "top_p"))
		s->over.top_p = (float)v;
	else if (!strcmp(name, "min_p"))
		s->over.min_p = (float)v;
	else if (!strcmp(name, "top_k"))
		s->over.top_k = (int)v;
	else if (!strcmp(name, "max_tokens"))
		s->over.n_predict = (int)v;
	else {
		snprintf(err, errlen, "/set: unknown setting %s", name);
		rc = -1;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int chat_session_save(struct chat_session *s, const char *path, char *saved, size_t savedlen,
                      char *err, size_t errlen)
{
	char buf[4096];
	int rc;

	pthread_mutex_lock(&s->mu);
	if (path) {
		if (session_resolve(path, buf, sizeof buf)) {
			snprintf(err, errlen, "%s: not a usable session name", path);
			pthread_mutex_unlock(&s->mu);
			return -1;
		}
	} else if (s->path[0]) {
		snprintf(buf, sizeof buf, "%s", s->path);
	} else if (session_new_path(buf, sizeof buf)) {
		snprintf(err, errlen, "no place for sessions (set HOME or XDG_DATA_HOME)");
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	s->meta.thinking = s->thinking;
	rc = session_save(buf, &s->conv, &s->meta, err, errlen);
	if (!rc) {
		snprintf(s->path, sizeof s->path, "%s", buf);   /* later turns go there too */
		snprintf(saved, savedlen, "%s", buf);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int chat_session_load(struct chat_session *s, const char *path, char *err, size_t errlen)
{
	struct glm_conversation c;
	struct session_meta m;
	char buf[4096];

	if (session_resolve(path, buf, sizeof buf)) {
		snprintf(err, errlen, "%s: not a usable session name", path);
		return -1;
	}
	glm_conversation_init(&c);
	session_meta_init(&m);
	if (session_load(buf, &c, &m, err, errlen))
		return -1;
	pthread_mutex_lock(&s->mu);
	if (refuse_while_generating(s, err, errlen)) {
		pthread_mutex_unlock(&s->mu);
		glm_conversation_free(&c);
		session_meta_free(&m);
		return -1;
	}
	glm_conversation_free(&s->conv);
	session_meta_free(&s->meta);
	s->conv = c;
	s->meta = m;
	s->thinking = m.thinking;
	snprintf(s->path, sizeof s->path, "%s", buf);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int chat_session_export(struct chat_session *s, const char *path, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = session_export_markdown(path, &s->conv, &s->meta, err, errlen);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void chat_session_for_each(struct chat_session *s,
                           void (*fn)(const struct glm_message *m, void *user), void *user)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->conv.n; i++)
		fn(&s->conv.msgs[i], user);
	pthread_mutex_unlock(&s->mu);
}

void chat_session_path(struct chat_session *s, char *buf, size_t n)
{
	pthread_mutex_lock(&s->mu);
	snprintf(buf, n, "%s", s->path);
	pthread_mutex_unlock(&s->mu);
}
