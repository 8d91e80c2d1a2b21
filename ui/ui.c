/* The screen's life: opening the terminal, the event loop (with the idle
 * timer), and what the user's lines ask for. The glue's events are
 * events.c. */
#include "ui/ui_internal.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <readline/readline.h>

#include "ui/commands.h"
#include "ui/term_restore.h"

#define FRAME_S (1.0 / 30)              /* draw at most ~30 times a second */
#define TICK_S 0.25                     /* statistics poll while generating */
#define ESC_WAIT_S 0.03                 /* a lone Esc is the Esc key after this */
#define HINT_S 4.0

struct ui *ui_active;

double ui_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void ui_config_init(struct ui_config *c)
{
	memset(c, 0, sizeof *c);
	c->wake_fd = -1;
	c->thinking = true;
	c->show_reasoning = true;
	c->mouse = true;
	c->reasoning_key = (struct ui_key){ UI_KEY_CTRL, 't' };
	c->colors = (struct ui_colors){ UI_COLOR_AUTO, UI_COLOR_AUTO, UI_COLOR_AUTO,
	                                UI_COLOR_AUTO, UI_COLOR_AUTO };
}

void ui_hint(struct ui *ui, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->hint, sizeof ui->hint, fmt, ap);
	va_end(ap);
	ui->hint_until = ui_now() + HINT_S;
	ui->dirty = true;
}

void ui_notice(struct ui *ui, enum tr_kind kind, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	transcript_add(&ui->tr, kind, buf, strlen(buf));
	ui->dirty = true;
}

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

int ui_open(const struct ui_config *cfg, const struct ui_callbacks *cb, struct ui **out,
            char *err, size_t errlen)
{
	struct ui *ui = calloc(1, sizeof *ui);
	SCREEN *scr;

	*out = NULL;
	if (!ui) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ui->cfg = *cfg;
	ui->cb = *cb;
	ui->model_name = dup_str(cfg->model_name);
	ui->history_file = dup_str(cfg->history_file);
	ui->cfg.model_name = ui->model_name;
	ui->cfg.history_file = ui->history_file;
	transcript_init(&ui->tr);
	ui->state = UI_LOADING;
	ui->show_reasoning = cfg->show_reasoning;
	ui->thinking = cfg->thinking;
	ui->follow = true;
	ui->tty = 0;
	ui_stats_init(&ui->stats);
	snprintf(ui->stats.model, sizeof ui->stats.model, "%s", cfg->model_name ? cfg->model_name : "");
	snprintf(ui->stats.note, sizeof ui->stats.note, "%s", cfg->status_note ? cfg->status_note : "");
	ui->last_active = ui_now();

	setlocale(LC_ALL, "");
	ui->unicode = !strcmp(nl_langinfo(CODESET), "UTF-8");

	/* our handlers first, so ncurses does not install its own */
	if (term_restore_init(ui->tty)) {
		snprintf(err, errlen, "cannot set up signal handling: %s", strerror(errno));
		goto fail;
	}
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		snprintf(err, errlen, "cannot start the screen (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
		goto fail;
	}
	set_term(scr);
	{
		/* a terminal without cursor addressing (TERM=dumb) cannot hold a
		 * screen: the caller falls back to the line mode */
		char *cup = tigetstr("cup");
		if (!cup || cup == (char *)-1) {
			endwin();
			delscreen(scr);
			snprintf(err, errlen, "the terminal (TERM=%s) cannot move the cursor",
			         getenv("TERM") ? getenv("TERM") : "");
			goto fail;
		}
	}
	raw();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, FALSE);          /* readline gets the raw sequences */
	screen_init_colors(ui);
	ui_active = ui;
	input_init(ui);
	term_modes_on(cfg->mouse);
	ui->dirty = true;
	*out = ui;
	return 0;
fail:
	term_restore();
	term_restore_release();
	free(ui->model_name);
	free(ui->history_file);
	free(ui);
	return -1;
}

void ui_close(struct ui *ui)
{
	if (!ui)
		return;
	input_done(ui);
	term_restore();
	term_restore_release();
	transcript_free(&ui->tr);
	free(ui->row_turn);
	free(ui->series);
	free(ui->paste);
	free(ui->restore_line);
	free(ui->model_name);
	free(ui->history_file);
	if (ui_active == ui)
		ui_active = NULL;
	free(ui);
}

void ui_emergency_restore(void)
{
	term_restore_emergency();
}

/* ---- what the user asks for ---- */

void ui_cancel(struct ui *ui)
{
	if (ui->state != UI_GENERATING)
		return;
	if (ui->cb.cancel)
		ui->cb.cancel(ui->cb.user);
	ui_hint(ui, "stopping: what was generated is kept");
}

/* Put the refused line back into the input. */
static void keep_line(struct ui *ui, const char *line)
{
	free(ui->restore_line);
	ui->restore_line = strdup(line);
}

/* Remove entries from the end back to the last user message; with_user:
 * that message too. */
static void pop_last_exchange(struct ui *ui, bool with_user)
{
	while (ui->tr.n) {
		enum tr_kind k = ui->tr.v[ui->tr.n - 1]->kind;
		if (k == TR_USER) {
			if (with_user)
				transcript_pop(&ui->tr);
			break;
		}
		transcript_pop(&ui->tr);
	}
	if (ui->sel_turn > ui->tr.turns)
		ui->sel_turn = 0;
	ui->follow = true;
}

static void run_command(struct ui *ui, struct ui_command *cmd, const char *line)
{
	char msg[1024] = "";
	char *text = NULL;
	int rc;

	switch (cmd->id) {
	case UI_CMD_HELP:
		ui->overlay = OV_HELP;
		ui->overlay_top = 0;
		return;
	case UI_CMD_STATS:
		ui->overlay = OV_STATS;
		ui->overlay_top = 0;
		return;
	case UI_CMD_REASONING:
		if (ui_set_reasoning(ui, cmd->flag, cmd->turn, msg, sizeof msg))
			ui_notice(ui, TR_ERROR, "%s", msg);
		return;
	case UI_CMD_QUIT:
		ui->quit = true;
		return;
	case UI_CMD_COPY:
		ui_copy_last_answer(ui);
		return;
	case UI_CMD_CLEAR:
	case UI_CMD_REGEN:
	case UI_CMD_EDIT:
	case UI_CMD_LOAD:
		if (ui->state == UI_GENERATING) {
			ui_notice(ui, TR_ERROR, "/%s: stop the answer first (Esc)", ui_cmd_find(cmd->id)->name);
			keep_line(ui, line);
			return;
		}
		break;
	default:
		break;
	}
	if (!ui->cb.command)
		return;
	rc = ui->cb.command(ui->cb.user, cmd, &text, msg, sizeof msg);
	if (rc == 0 && cmd->id == UI_CMD_REGEN) {
		pop_last_exchange(ui, false);
		ui->state = UI_GENERATING;      /* its events are on their way */
	}
	if (rc == 0 && cmd->id == UI_CMD_EDIT) {
		pop_last_exchange(ui, true);
		if (text)
			keep_line(ui, text);
	}
	if (rc == 0 && cmd->id == UI_CMD_THINK)
		ui->thinking = cmd->flag;
	free(text);
	if (msg[0])
		ui_notice(ui, rc ? TR_ERROR : TR_NOTICE, "%s", msg);
}

void ui_submit(struct ui *ui, const char *line)
{
	struct ui_command cmd;
	char err[256], msg[512] = "";
	int r = ui_cmd_parse(line, &cmd, err, sizeof err);

	ui->follow = true;
	ui->last_ctrl_c = 0;
	ui_forget_pick(ui);
	if (r < 0) {
		ui_notice(ui, TR_ERROR, "%s", err);
		keep_line(ui, line);
		return;
	}
	if (r == 0) {
		run_command(ui, &cmd, line);
		ui_command_free(&cmd);
		return;
	}
	if (line[0] == '/' && line[1] == '/')
		line++;                 /* "//text" sends "/text" */
	switch (ui->state) {
	case UI_LOADING:
		ui_hint(ui, "the model is still loading: your message is kept");
		keep_line(ui, line);
		return;
	case UI_LOAD_FAILED:
		ui_hint(ui, "no model is loaded (/quit)");
		keep_line(ui, line);
		return;
	case UI_GENERATING:
		ui_hint(ui, "wait for the answer, or press Esc to stop it");
		keep_line(ui, line);
		return;
	case UI_IDLE:
		break;
	}
	if (ui->cb.send && ui->cb.send(ui->cb.user, line, msg, sizeof msg) == 0) {
		transcript_add(&ui->tr, TR_USER, line, strlen(line));
		/* busy from now: a sleeping model's reload comes before the turn */
		ui->state = UI_GENERATING;
		ui->hint_until = 0;
		ui->hint[0] = '\0';
	} else {
		ui_notice(ui, TR_ERROR, "%s", msg[0] ? msg : "cannot send the message");
		keep_line(ui, line);
	}
}

void ui_suspend(struct ui *ui)
{
	struct sigaction dfl = { 0 }, prev;

	term_modes_off();
	def_prog_mode();
	endwin();
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGTSTP, &dfl, &prev);
	raise(SIGTSTP);
	/* ... until fg */
	sigaction(SIGTSTP, &prev, NULL);
	reset_prog_mode();
	clearok(curscr, TRUE);
	refresh();
	term_modes_on(ui->cfg.mouse);
	ui->dirty = true;
}

/* ---- the loop ---- */

void ui_touch(struct ui *ui)
{
	ui->last_active = ui_now();
	ui->idle_asked = false;
}

/* Whether the idle timer runs, and in how many seconds (>= 0) it fires.
 * It runs only while the chat waits for the user with the model in
 * memory; any key, and the end of a turn, starts it again. */
static bool idle_timer(const struct ui *ui, double now, double *in)
{
	double t;

	if (ui->cfg.idle_seconds <= 0 || !ui->cb.idle || ui->idle_asked || ui->state != UI_IDLE ||
	    ui->model_state != UI_MODEL_AWAKE)
		return false;
	t = ui->last_active + ui->cfg.idle_seconds - now;
	*in = t > 0 ? t : 0;
	return true;
}

static void idle_check(struct ui *ui, double now)
{
	double in;

	if (!idle_timer(ui, now, &in) || in > 0)
		return;
	ui->idle_asked = true;
	if (ui->cb.idle(ui->cb.user))
		ui_touch(ui);           /* not now: try again after another while */
}

static void resize(struct ui *ui)
{
	struct winsize ws;

	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	rl_set_screen_size(LINES, COLS);
	clearok(curscr, TRUE);
	ui->dirty = true;
}

static void on_signals(struct ui *ui, int fd)
{
	unsigned char sigs[64];
	ssize_t n = read(fd, sigs, sizeof sigs);

	for (ssize_t i = 0; i < n; i++) {
		switch (sigs[i]) {
		case SIGWINCH:
			resize(ui);
			break;
		case SIGINT:
			/* from kill(1): the terminal's Ctrl-C is a key in raw mode */
			if (ui->state == UI_GENERATING) {
				ui_cancel(ui);
			} else {
				ui->quit = true;
				ui->exit_status = 128 + SIGINT;
			}
			break;
		default:                /* TERM, HUP */
			ui->quit = true;
			ui->exit_status = 128 + sigs[i];
			break;
		}
	}
}

/* The poll timeout is the soonest of several deadlines; wait < 0: none
 * yet. One already past means at once. */
static void sooner(double *wait, double t)
{
	if (t < 0)
		t = 0;
	if (*wait < 0 || t < *wait)
		*wait = t;
}

int ui_run(struct ui *ui)
{
	double esc_since = 0, last_tick = 0;
	int sig_fd = term_signal_fd();

	while (!ui->quit) {
		struct pollfd p[3];
		int np = 0, timeout = -1, wake_i = -1, sig_i = -1;
		double now = ui_now(), wait = -1, t;

		if (ui->dirty)
			sooner(&wait, FRAME_S - (now - ui->last_draw));
		if (ui->state == UI_GENERATING || ui->state == UI_LOADING)
			sooner(&wait, TICK_S - (now - last_tick));
		if (esc_since)
			sooner(&wait, ESC_WAIT_S - (now - esc_since));
		if (ui->hint_until > now)
			sooner(&wait, ui->hint_until - now);
		if (idle_timer(ui, now, &t))
			sooner(&wait, t);
		if (wait > 3600)
			wait = 3600;            /* a far timer (idle seconds) is waited in hours */
		if (wait >= 0)
			timeout = wait <= 0 ? 0 : (int)(wait * 1000) + 1;

		p[np++] = (struct pollfd){ ui->tty, POLLIN, 0 };
		if (ui->cfg.wake_fd >= 0) {
			wake_i = np;
			p[np++] = (struct pollfd){ ui->cfg.wake_fd, POLLIN, 0 };
		}
		if (sig_fd >= 0) {
			sig_i = np;
			p[np++] = (struct pollfd){ sig_fd, POLLIN, 0 };
		}
		if (poll(p, (nfds_t)np, timeout) < 0 && errno != EINTR)
			break;
		now = ui_now();

		if (sig_i >= 0 && (p[sig_i].revents & POLLIN))
			on_signals(ui, sig_fd);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			unsigned char buf[4096];
			ssize_t n = read(ui->tty, buf, sizeof buf);

			if (n > 0) {
				ui_touch(ui);
				input_feed(ui, buf, (size_t)n);
				esc_since = input_pending_escape(ui) ? now : 0;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				ui->quit = true;        /* the terminal is gone */
				ui->exit_status = 1;
			}
		} else if (esc_since && now - esc_since >= ESC_WAIT_S) {
			input_flush_pending(ui);
			esc_since = 0;
		}
		if (wake_i >= 0 && (p[wake_i].revents & POLLIN) && ui->cb.wake)
			ui->cb.wake(ui->cb.user);
		if ((ui->state == UI_GENERATING || ui->state == UI_LOADING) && now - last_tick >= TICK_S) {
			last_tick = now;
			if (ui->cb.tick)
				ui->cb.tick(ui->cb.user);
			ui->dirty = true;       /* the live timers move */
		}
		idle_check(ui, now);
		if (ui->hint_until && now >= ui->hint_until) {
			ui->hint_until = 0;
			ui->hint[0] = '\0';
			ui->dirty = true;
		}
		if (ui->dirty && now - ui->last_draw >= FRAME_S && !ui->quit) {
			screen_draw(ui);
			ui->last_draw = now;
			ui->dirty = false;
		}
	}
	return ui->exit_status;
}
