/* The chat's plain line mode; see chat_plain.h. Standard input is read
 * with poll and read, not stdio, so that the idle timer can run in the
 * same loop while no line comes. */
#include "config.h"
#include "src/chat_plain.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/model_source.h"
#include "ui/commands.h"

#define LINE_MAX_BYTES (16u << 20)      /* a 16 MiB line is not a message */

struct plain {
	bool out_tty, err_tty;
	bool done, failed, loaded;
	int last_channel;
};

/* Model text to a terminal loses its control characters, so it cannot
 * move the cursor or change the terminal; to a pipe it goes as it is. */
static void emit(FILE *f, const char *s, size_t n, bool tty)
{
	if (!tty) {
		fwrite(s, 1, n, f);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F)
			continue;
		fputc(c, f);
	}
}

static void note(const struct cs_event *ev)
{
	if (ev->text && ev->text[0])
		fprintf(stderr, "glmchat: %s\n", ev->text);
}

static void plain_event(const struct cs_event *ev, void *user)
{
	struct plain *p = user;
	const char *text = ev->text ? ev->text : "";

	switch (ev->kind) {
	case CS_LOADED:
		p->loaded = true;
		p->done = true;
		break;
	case CS_LOAD_FAILED:
		cli_runtime_error("%s", ev->text ? ev->text : "cannot load the model");
		p->failed = p->done = true;
		break;
	case CS_PIECE:
		if (p->last_channel == GLM_CHANNEL_REASONING && ev->channel == GLM_CHANNEL_ANSWER)
			fputc('\n', stderr);
		if (ev->channel == GLM_CHANNEL_ANSWER) {
			emit(stdout, text, ev->len, p->out_tty);
			fflush(stdout);
		} else {
			emit(stderr, text, ev->len, p->err_tty);
		}
		p->last_channel = (int)ev->channel;
		break;
	case CS_TURN_END:
		if (p->last_channel == GLM_CHANNEL_REASONING)
			fputc('\n', stderr);
		fputc('\n', stdout);
		fflush(stdout);
		p->done = true;
		break;
	case CS_INFO:
	case CS_SLEEPING:
	case CS_AWAKE:
		note(ev);
		break;
	case CS_ERROR:
		cli_runtime_error("%s", ev->text ? ev->text : "generation failed");
		p->failed = true;
		break;
	default:
		break;
	}
}

/* Until the turn (or the load) is over. */
static void plain_wait(struct chat_session *cs, struct plain *p)
{
	p->done = false;
	while (!p->done) {
		struct pollfd pf = { chat_session_wake_fd(cs), POLLIN, 0 };
		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			break;
		chat_session_drain(cs, plain_event, p);
	}
}

/* ---- standard input, line by line ---- */

struct line_in {
	char *buf;
	size_t start, n, cap;           /* unread bytes: buf[start..n) */
	bool eof, too_long;
};

/* The next whole line (its newline and any CR removed; valid until the
 * next call), or NULL when none is complete yet. At the end of the input
 * an unterminated last line counts. */
static char *next_line(struct line_in *in)
{
	char *s = in->buf + in->start, *nl;
	size_t len;

	if (in->start >= in->n)
		return NULL;
	nl = memchr(s, '\n', in->n - in->start);
	if (!nl && !in->eof)
		return NULL;
	len = nl ? (size_t)(nl - s) : in->n - in->start;
	in->start += len + (nl != NULL);
	s[len] = '\0';                  /* over the newline, or the spare byte */
	while (len && s[len - 1] == '\r')
		s[--len] = '\0';
	return s;
}

/* Read what stdin has now; sets eof at its end or on an error. */
static void fill(struct line_in *in)
{
	ssize_t r;

	if (in->start) {
		memmove(in->buf, in->buf + in->start, in->n - in->start);
		in->n -= in->start;
		in->start = 0;
	}
	if (in->n + 4096 + 1 > in->cap) {
		size_t cap = in->cap ? 2 * in->cap : 65536;
		char *b;

		if (cap > LINE_MAX_BYTES) {
			in->too_long = in->eof = true;
			return;
		}
		b = realloc(in->buf, cap);
		if (!b) {
			in->too_long = in->eof = true;
			return;
		}
		in->buf = b;
		in->cap = cap;
	}
	do
		r = read(0, in->buf + in->n, in->cap - in->n - 1);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		in->eof = true;
	else
		in->n += (size_t)r;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for input; meanwhile the idle timer runs and the worker's notes
 * (the model going to sleep) are printed. */
static void wait_input(struct chat_session *cs, struct plain *p, struct line_in *in,
                       int idle_seconds, double *last_active, bool *asked)
{
	for (;;) {
		struct pollfd pf[2] = { { 0, POLLIN, 0 }, { chat_session_wake_fd(cs), POLLIN, 0 } };
		bool timer = idle_seconds > 0 && !*asked;
		double left = timer ? *last_active + idle_seconds - now_s() : 0;
		int timeout = -1;

		if (timer && left <= 0) {
			*asked = chat_session_sleep(cs) == 0;
			if (!*asked)
				*last_active = now_s();         /* not now: another while */
			continue;
		}
		if (timer)              /* a far timer is waited in hours */
			timeout = left > 3600 ? 3600 * 1000 : (int)(left * 1000) + 1;
		if (poll(pf, 2, timeout) < 0 && errno != EINTR) {
			in->eof = true;
			return;
		}
		if (pf[1].revents & POLLIN)
			chat_session_drain(cs, plain_event, p);
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
			fill(in);
			return;
		}
	}
}

/* ---- commands ---- */

/* Commands that mean something without a screen. */
static int plain_command(struct chat_session *cs, const struct ui_command *cmd, bool *quit)
{
	char msg[512] = "", path[4096];
	int rc = 0;

	switch (cmd->id) {
	case UI_CMD_QUIT:
		*quit = true;
		break;
	case UI_CMD_CLEAR:
		rc = chat_session_clear(cs, msg, sizeof msg);
		break;
	case UI_CMD_SYSTEM:
		if (cmd->text)
			rc = chat_session_set_system(cs, cmd->text, msg, sizeof msg);
		break;
	case UI_CMD_THINK:
		chat_session_set_thinking(cs, cmd->flag);
		break;
	case UI_CMD_SET:
		rc = chat_session_set_param(cs, ui_set_names[cmd->key], cmd->value, msg, sizeof msg);
		break;
	case UI_CMD_SAVE:
		rc = chat_session_save(cs, cmd->text, path, sizeof path, msg, sizeof msg);
		if (!rc)
			fprintf(stderr, "glmchat: saved to %s\n", path);
		break;
	case UI_CMD_LOAD:
		rc = chat_session_load(cs, cmd->text, msg, sizeof msg);
		break;
	case UI_CMD_EXPORT:
		rc = chat_session_export(cs, cmd->text, msg, sizeof msg);
		break;
	default:
		snprintf(msg, sizeof msg, "/%s needs the full-screen chat", ui_cmd_find(cmd->id)->name);
		rc = -1;
	}
	if (rc)
		fprintf(stderr, "glmchat: %s\n", msg);
	return rc;
}

int chat_plain_run(struct chat_session *cs, const struct chat_plain_opts *o)
{
	struct plain p = { 0 };
	struct line_in in = { 0 };
	double last_active;
	bool quit = false, asked = false;
	char *line;

	p.out_tty = isatty(1);
	p.err_tty = isatty(2);
	p.last_channel = -1;
	if (o->demo)
		fprintf(stderr, "glmchat: %s\n", model_demo_notice);
	plain_wait(cs, &p);
	if (!p.loaded) {
		free(in.buf);
		return EXIT_RUNTIME;
	}
	last_active = now_s();
	while (!quit) {
		struct ui_command cmd;
		char err[512];

		if (in.too_long)
			break;
		line = next_line(&in);
		if (!line) {
			if (in.eof)
				break;
			wait_input(cs, &p, &in, o->idle_seconds, &last_active, &asked);
			continue;
		}
		if (line[strspn(line, " \t")] == '\0')
			continue;
		if (ui_cmd_parse(line, &cmd, err, sizeof err) == 0) {
			plain_command(cs, &cmd, &quit);
			ui_command_free(&cmd);
			continue;
		}
		/* an unknown /word is a message: line mode reads text, not keys */
		if (chat_session_send(cs, line[0] == '/' && line[1] == '/' ? line + 1 : line, err, sizeof err)) {
			cli_runtime_error("%s", err);
			p.failed = true;
			break;
		}
		p.last_channel = -1;
		plain_wait(cs, &p);
		last_active = now_s();
		asked = false;
	}
	if (in.too_long) {
		cli_runtime_error("standard input: a line longer than %u bytes, or out of memory",
		                  LINE_MAX_BYTES);
		p.failed = true;
	}
	free(in.buf);
	return p.failed ? EXIT_RUNTIME : EXIT_OK;
}
