/* glmchat [chat]: the full-screen chat, or the plain line mode
 * (src/chat_plain.c) when stdin or stdout is not a terminal. This file is
 * the glue between the screen (ui/ui.h, which knows nothing of the engine)
 * and the engine's session (src/chat_session.h): it turns the session's
 * events into the screen's events and the screen's commands into session
 * calls. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/atomic_write.h"
#include "src/chat_plain.h"
#include "src/chat_session.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/model_source.h"
#include "src/session.h"
#include "src/userconfig.h"
#include "src/xdg.h"
#include "ui/commands.h"
#include "ui/ui.h"

enum { OPT_NO_MOUSE = OPT_COMMON_LAST + 1, OPT_NO_THINK, OPT_HELP };

static void usage(void)
{
	printf("Usage: glmchat [chat] [-m MODEL] [OPTIONS]\n"
	       "The full-screen chat. When stdin or stdout is not a terminal, a plain line\n"
	       "mode: each line read is a message, each answer is printed (reasoning on stderr).\n\n"
	       "Options:\n%s%s"
	       "      --no-think          answer without reasoning first (/think on|off)\n"
	       "      --no-mouse          leave the mouse to the terminal (selection)\n"
	       "  -h, --help              this help\n\n"
	       "In the chat, /help lists the keys and commands.\n",
	       cli_common_help, cli_session_help);
}

/* ---- statistics and events, engine -> screen ---- */

static void to_ui_stats(const struct glm_stats *g, const char *name, struct ui_stats *u)
{
	ui_stats_init(u);
	snprintf(u->backend, sizeof u->backend, "%s", g->backend ? g->backend : "");
	snprintf(u->kv_type, sizeof u->kv_type, "%s", g->kv_type ? g->kv_type : "");
	snprintf(u->model, sizeof u->model, "%s", name ? name : (g->model_name ? g->model_name : ""));
	u->generating = g->generating;
	u->n_prompt = g->n_prompt;
	u->n_gen = g->n_gen;
	u->n_reasoning = g->n_reasoning;
	u->n_answer = g->n_answer;
	/* a rate over nothing is unknown, not zero */
	u->prompt_tps = g->n_prompt > 0 && g->prompt_tps > 0 ? g->prompt_tps : -1;
	u->gen_tps = g->n_gen > 1 ? g->gen_tps : -1;
	u->gen_tps_recent = g->n_gen > 1 ? g->gen_tps_recent : -1;
	u->ttft_ms = g->n_gen > 0 ? g->ttft_ms : -1;
	u->ctx_used = g->ctx_used;
	u->ctx_size = g->ctx_size;
	u->mem_used = g->mem_used;
	u->mem_total = g->mem_total;
	u->mem_is_vram = g->backend && !strcmp(g->backend, "cuda");
}

struct tui {
	struct ui *ui;
	struct chat_session *cs;
	const char *name;               /* shown in the status bar */
};

static void on_event(const struct cs_event *ev, void *user)
{
	struct tui *t = user;
	struct ui_event u;

	memset(&u, 0, sizeof u);
	u.text = ev->text;
	u.len = ev->len;
	u.channel = ev->channel == GLM_CHANNEL_REASONING ? UI_REASONING : UI_ANSWER;
	switch (ev->kind) {
	case CS_LOAD_PROGRESS:
		u.kind = UI_EV_LOAD_PROGRESS;
		u.fraction = ev->fraction;
		break;
	case CS_LOADED:
		u.kind = UI_EV_LOADED;
		to_ui_stats(&ev->stats, t->name, &u.stats);
		break;
	case CS_LOAD_FAILED:
		u.kind = UI_EV_LOAD_FAILED;
		break;
	case CS_TURN_BEGIN:
		u.kind = UI_EV_TURN_BEGIN;
		break;
	case CS_PIECE:
		u.kind = UI_EV_PIECE;
		u.tokens = ev->tokens;
		break;
	case CS_TURN_END:
		u.kind = UI_EV_TURN_END;
		u.interrupted = ev->stop == GLM_STOP_CANCELLED;
		u.text = glm_stop_reason_name(ev->stop);
		u.len = strlen(u.text);
		to_ui_stats(&ev->stats, t->name, &u.stats);
		u.stats.generating = false;
		break;
	case CS_INFO:
		u.kind = UI_EV_INFO;
		break;
	case CS_ERROR:
		u.kind = UI_EV_ERROR;
		break;
	case CS_SLEEPING:
		u.kind = UI_EV_SLEEPING;
		to_ui_stats(&ev->stats, t->name, &u.stats);
		break;
	case CS_WAKING:
		u.kind = UI_EV_WAKING;
		break;
	case CS_AWAKE:
		u.kind = UI_EV_AWAKE;
		to_ui_stats(&ev->stats, t->name, &u.stats);
		break;
	}
	ui_event(t->ui, &u);
}

static void cb_wake(void *user)
{
	struct tui *t = user;

	chat_session_drain(t->cs, on_event, t);
}

static void cb_tick(void *user)
{
	struct tui *t = user;
	struct glm_stats g;
	struct ui_event u;

	if (!chat_session_stats(t->cs, &g))
		return;
	memset(&u, 0, sizeof u);
	u.kind = UI_EV_STATS;
	to_ui_stats(&g, t->name, &u.stats);
	ui_event(t->ui, &u);
}

static int cb_send(void *user, const char *text, char *msg, size_t msglen)
{
	struct tui *t = user;

	return chat_session_send(t->cs, text, msg, msglen);
}

static void cb_cancel(void *user)
{
	struct tui *t = user;

	chat_session_cancel(t->cs);
}

static int cb_idle(void *user)
{
	struct tui *t = user;

	return chat_session_sleep(t->cs);
}

/* The conversation into the screen, after /load or --resume. */
static void show_message(const struct glm_message *m, void *user)
{
	struct tui *t = user;
	struct ui_event u;

	if (m->role == GLM_ROLE_TOOL)
		return;
	memset(&u, 0, sizeof u);
	u.kind = UI_EV_HISTORY;
	u.role = m->role == GLM_ROLE_USER ? UI_ROLE_USER :
	         m->role == GLM_ROLE_SYSTEM ? UI_ROLE_SYSTEM : UI_ROLE_ASSISTANT;
	u.text = m->content ? m->content : "";
	u.len = strlen(u.text);
	u.reasoning = m->reasoning;
	ui_event(t->ui, &u);
}

/* The whole conversation and its thinking switch into the screen. */
static void show_conversation(struct tui *t)
{
	struct ui_event u = { .kind = UI_EV_CLEAR };

	ui_event(t->ui, &u);
	chat_session_for_each(t->cs, show_message, t);
	u.kind = UI_EV_THINKING;
	u.on = chat_session_thinking(t->cs);
	ui_event(t->ui, &u);
}

static int cb_command(void *user, const struct ui_command *cmd, char **text_out, char *msg, size_t msglen)
{
	struct tui *t = user;
	char path[4096];
	char *sys;
	int rc = 0;

	switch (cmd->id) {
	case UI_CMD_CLEAR:
		rc = chat_session_clear(t->cs, msg, msglen);
		if (!rc) {
			show_conversation(t);
			snprintf(msg, msglen, "a new conversation");
		}
		break;
	case UI_CMD_SYSTEM:
		if (cmd->text) {
			rc = chat_session_set_system(t->cs, cmd->text, msg, msglen);
			if (!rc)
				snprintf(msg, msglen, "system prompt set; it applies from the next message");
		} else {
			sys = chat_session_system(t->cs);
			snprintf(msg, msglen, sys ? "system prompt: %s" : "no system prompt (/system TEXT sets one)",
			         sys);
			free(sys);
		}
		break;
	case UI_CMD_THINK:
		chat_session_set_thinking(t->cs, cmd->flag);
		snprintf(msg, msglen, cmd->flag ? "thinking on: the model reasons before it answers"
		                                : "thinking off: the model answers at once "
		                                  "(to hide only the reasoning display: /reasoning hide)");
		break;
	case UI_CMD_SET:
		rc = chat_session_set_param(t->cs, ui_set_names[cmd->key], cmd->value, msg, msglen);
		if (!rc)
			snprintf(msg, msglen, "%s = %g from the next message", ui_set_names[cmd->key], cmd->value);
		break;
	case UI_CMD_REGEN:
		rc = chat_session_regen(t->cs, msg, msglen);
		break;
	case UI_CMD_EDIT:
		rc = chat_session_edit_last(t->cs, text_out, msg, msglen);
		break;
	case UI_CMD_SAVE:
		rc = chat_session_save(t->cs, cmd->text, path, sizeof path, msg, msglen);
		if (!rc)
			snprintf(msg, msglen, "saved to %s", path);
		break;
	case UI_CMD_LOAD:
		rc = chat_session_load(t->cs, cmd->text, msg, msglen);
		if (!rc) {
			show_conversation(t);
			snprintf(msg, msglen, "loaded %s", cmd->text);
		}
		break;
	case UI_CMD_EXPORT:
		rc = chat_session_export(t->cs, cmd->text, msg, msglen);
		if (!rc)
			snprintf(msg, msglen, "exported to %s", cmd->text);
		break;
	default:
		snprintf(msg, msglen, "/%s is not handled here", ui_cmd_find(cmd->id)->name);
		rc = -1;
	}
	return rc;
}

static void fatal_hook(const char *msg, void *user)
{
	(void)msg; (void)user;
	ui_emergency_restore();
}

/* A config colour (-1, its default, means "not chosen") for the screen. */
static int ui_color(int c)
{
	return c < 0 ? UI_COLOR_AUTO : c;
}

static char *history_path(void)
{
	char dir[4096], *p;

	if (xdg_app_dir(XDG_STATE, dir, sizeof dir) || mkdir_p(dir, 0700))
		return NULL;
	if (asprintf(&p, "%s/history", dir) < 0)
		return NULL;
	return p;
}

static void saved_notice(struct chat_session *cs)
{
	char saved[4096];

	chat_session_path(cs, saved, sizeof saved);
	if (saved[0])
		fprintf(stderr, "glmchat: the conversation is saved in %s (--resume continues it)\n", saved);
}

static int run_tui(struct chat_session *cs, const struct glmchat_config *cfg, int idle_seconds,
                   bool mouse, const char *name, bool demo)
{
	struct ui_config uc;
	struct ui_callbacks cb = { 0 };
	struct tui t = { .cs = cs, .name = name };
	char err[512], *hist = history_path();
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	int rc;

	ui_config_init(&uc);
	uc.model_name = name;
	uc.wake_fd = chat_session_wake_fd(cs);
	uc.history_file = hist;
	uc.thinking = chat_session_thinking(cs);
	uc.idle_seconds = idle_seconds;
	uc.status_note = demo ? model_demo_status : NULL;
	uc.show_reasoning = cfg->show_reasoning;
	uc.no_color = (nc && *nc) || (term && !strcmp(term, "dumb"));
	uc.mouse = mouse;
	uc.reasoning_key.kind = cfg->reasoning_key.kind == CONFIG_KEY_CTRL ? UI_KEY_CTRL :
	                        cfg->reasoning_key.kind == CONFIG_KEY_ALT ? UI_KEY_ALT : UI_KEY_FN;
	uc.reasoning_key.code = cfg->reasoning_key.code;
	uc.colors.user = ui_color(cfg->colors.user);
	uc.colors.answer = ui_color(cfg->colors.answer);
	uc.colors.reasoning = ui_color(cfg->colors.reasoning);
	uc.colors.status = ui_color(cfg->colors.status);
	uc.colors.notice = ui_color(cfg->colors.notice);
	cb.user = &t;
	cb.send = cb_send;
	cb.cancel = cb_cancel;
	cb.command = cb_command;
	cb.wake = cb_wake;
	cb.tick = cb_tick;
	cb.idle = cb_idle;

	if (ui_open(&uc, &cb, &t.ui, err, sizeof err)) {
		/* a terminal curses cannot drive still gets the line mode */
		free(hist);
		fprintf(stderr, "glmchat: %s: using the line mode\n", err);
		return -1;
	}
	glm_set_fatal_hook(fatal_hook, NULL);
	show_conversation(&t);
	if (demo) {
		struct ui_event u = { .kind = UI_EV_INFO, .text = model_demo_notice,
		                      .len = strlen(model_demo_notice) };
		ui_event(t.ui, &u);
	}
	rc = ui_run(t.ui);
	chat_session_cancel(cs);
	ui_close(t.ui);
	free(hist);
	saved_notice(cs);
	return rc;
}

/* ---- the command ---- */

static const char *display_name(const char *path, char *buf, size_t n)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 5 && !strcmp(base + len - 5, ".gguf"))
		len -= 5;
	snprintf(buf, n, "%.*s", (int)len, base);
	return buf;
}

int cmd_chat(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		CLI_SESSION_LONGOPTS,
		{"no-think", no_argument, 0, OPT_NO_THINK},
		{"no-mouse", no_argument, 0, OPT_NO_MOUSE},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct glmchat_config cfg;
	struct cli_common cli;
	struct chat_session_opts so;
	struct chat_session *cs = NULL;
	struct chat_plain_opts po = { 0 };
	char err[1024], name[256], *path = NULL;
	bool thinking, no_think = false, mouse = true, tty, demo;
	int opt, rc;

	if ((rc = config_setup("chat", &cfg, &cli)))
		return rc;
	thinking = cfg.thinking;
	optind = 1;
	while ((opt = cli_next_option("chat", argc, argv, CLI_COMMON_SHORTOPTS "h", longopts, &cli)) != -1) {
		switch (opt) {
		case CLI_OPT_BAD:
			config_free(&cfg);
			return EXIT_USAGE;
		case 'h':
			usage();
			config_free(&cfg);
			return EXIT_OK;
		case OPT_NO_THINK:
			thinking = false;
			no_think = true;
			break;
		case OPT_NO_MOUSE:
			mouse = false;
			break;
		default:
			config_free(&cfg);
			return cli_usage_error("chat", "unknown option");
		}
	}
	if (optind < argc) {
		rc = cli_usage_error("chat", "unexpected argument '%s'", argv[optind]);
		config_free(&cfg);
		return rc;
	}

	demo = model_source_is_demo(cli.model);
	if (model_source_resolve(cli.model, &path, err, sizeof err)) {
		config_free(&cfg);
		return cli_runtime_error("%s", err);
	}
	tty = isatty(0) && isatty(1);

	memset(&so, 0, sizeof so);
	cli_engine_config(&cli, &so.engine);
	so.engine.model_path = path;
	so.cli = &cli;
	so.system_prompt = cfg.system_prompt;
	so.thinking = thinking;
	so.autosave = true;             /* both modes: --resume finds the conversation */
	so.model_name = display_name(path, name, sizeof name);
	if (chat_session_create(&so, &cs, err, sizeof err)) {
		free(path);
		config_free(&cfg);
		return cli_runtime_error("%s", err);
	}
	if (cli.resume) {
		char last[4096];
		const char *which = cli.resume;

		if (!*which) {
			if (session_last_path(last, sizeof last)) {
				rc = cli_runtime_error("--resume: no saved session to continue");
				goto out;
			}
			which = last;
		}
		if (chat_session_load(cs, which, err, sizeof err)) {
			rc = cli_runtime_error("%s", err);
			goto out;
		}
		/* the session's own switch, unless the command line says otherwise */
		if (no_think)
			chat_session_set_thinking(cs, false);
	}
	rc = -1;
	if (tty)
		rc = run_tui(cs, &cfg, cli.sleep_idle_seconds, mouse, name, demo);
	if (rc < 0) {
		po.idle_seconds = cli.sleep_idle_seconds;
		po.demo = demo;
		rc = chat_plain_run(cs, &po);
		if (isatty(2))
			saved_notice(cs);
	}
out:
	chat_session_destroy(cs);
	free(path);
	config_free(&cfg);
	return rc;
}
