/* Input: GNU readline through its callback interface inside ncurses.
 * Readline never touches the terminal: keys.c feeds it bytes through a
 * queue (rl_getc_function) and this file draws its line
 * (rl_redisplay_function), completes slash commands and keeps the
 * history file. */
#include "ui/ui_internal.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "ui/commands.h"
#include "ui/wrap.h"

#define PROMPT_UNICODE "› "
#define PROMPT_ASCII "> "
#define HISTORY_MAX 1000

static FILE *devnull;

/* ---- readline's side of the byte queue ---- */

static bool q_empty(const struct ui *ui) { return ui->inq_head == ui->inq_tail; }

static void q_push(struct ui *ui, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t next = (ui->inq_tail + 1) % sizeof ui->inq;
		if (next == ui->inq_head)
			return;         /* full: a paste this size goes the paste way */
		ui->inq[ui->inq_tail] = (unsigned char)s[i];
		ui->inq_tail = next;
	}
}

static int rl_getc_cb(FILE *f)
{
	struct ui *ui = ui_active;
	unsigned char c;

	(void)f;
	if (!q_empty(ui)) {
		c = ui->inq[ui->inq_head];
		ui->inq_head = (ui->inq_head + 1) % sizeof ui->inq;
		return c;
	}
	/* readline wants more of a key right now: wait for the terminal */
	for (;;) {
		struct pollfd p = { ui->tty, POLLIN, 0 };
		ssize_t r;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return EOF;
		r = read(ui->tty, &c, 1);
		if (r == 1)
			return c;
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
			return EOF;
	}
}

static int rl_avail_cb(void)
{
	struct ui *ui = ui_active;
	struct pollfd p = { ui->tty, POLLIN, 0 };

	if (!q_empty(ui))
		return 1;
	return poll(&p, 1, 0) > 0;
}

static void rl_redisplay_cb(void)
{
	if (ui_active)
		ui_active->dirty = true;
}

static void on_line(char *line)
{
	struct ui *ui = ui_active;

	if (!line) {                    /* Ctrl-D on an empty line */
		ui->quit = true;
		return;
	}
	/* trailing newlines (a pasted block often ends with one) are not text */
	for (size_t n = strlen(line); n && (line[n - 1] == '\n' || line[n - 1] == ' '); n--)
		line[n - 1] = '\0';
	if (line[strspn(line, " \t\n")] != '\0') {
		HIST_ENTRY *last = history_length ? history_get(history_base + history_length - 1) : NULL;
		if (!last || strcmp(last->line, line))
			add_history(line);
		using_history();        /* searches and Up start from the newest again */
		ui_submit(ui, line);
	}
	free(line);
}

/* Drain the queue into readline, then put back a refused line. */
static void rl_pump(struct ui *ui)
{
	while (!q_empty(ui) && !ui->quit)
		rl_callback_read_char();
	if (ui->restore_line) {
		input_set_line(ui, ui->restore_line);
		free(ui->restore_line);
		ui->restore_line = NULL;
	}
	ui->dirty = true;
}

void input_to_readline(struct ui *ui, const char *bytes, size_t n)
{
	q_push(ui, bytes, n);
	rl_pump(ui);
}

void input_set_line(struct ui *ui, const char *text)
{
	rl_replace_line(text, 0);
	rl_point = rl_end;
	ui->dirty = true;
}

bool input_line_empty(void)
{
	return rl_end == 0;
}

/* ---- commands bound in readline ---- */

static int insert_newline(int count, int key)
{
	(void)key;
	for (int i = 0; i < (count > 0 ? count : 1); i++)
		rl_insert_text("\n");
	return 0;
}

/* ---- completion ---- */

static size_t compl_start;

static char *compl_gen(const char *text, int state)
{
	static int index;
	bool files;
	const char *s;

	if (!state)
		index = 0;
	s = ui_cmd_complete(rl_line_buffer, compl_start, text, index++, &files);
	return s ? strdup(s) : NULL;
}

static char **complete_cb(const char *text, int start, int end)
{
	bool files = false;

	(void)end;
	compl_start = (size_t)start;
	ui_cmd_complete(rl_line_buffer, compl_start, text, 0, &files);
	if (files)
		return NULL;    /* readline completes file names */
	rl_attempted_completion_over = 1;
	return rl_completion_matches(text, compl_gen);
}

/* Readline would print the candidates over the screen: show them as a hint. */
static void show_matches(char **matches, int n, int max)
{
	char line[256];
	size_t o = 0;

	(void)max;
	for (int i = 1; i <= n && o < sizeof line - 1; i++)
		o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", i > 1 ? "  " : "", matches[i]);
	ui_hint(ui_active, "%s", line);
}

/* ---- set-up ---- */

int input_init(struct ui *ui)
{
	devnull = fopen("/dev/null", "w");
	rl_readline_name = "glmchat";
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_change_environment = 0;
	rl_prep_term_function = NULL;
	rl_deprep_term_function = NULL;
	rl_getc_function = rl_getc_cb;
	rl_input_available_hook = rl_avail_cb;
	rl_redisplay_function = rl_redisplay_cb;
	rl_outstream = devnull ? devnull : stderr;
	rl_attempted_completion_function = complete_cb;
	rl_completion_display_matches_hook = show_matches;
	rl_variable_bind("enable-bracketed-paste", "off");
	rl_variable_bind("bell-style", "none");
	/* an edited history line goes back to what it was once a line is sent */
	rl_variable_bind("revert-all-at-newline", "on");

	history_comment_char = '#';
	history_write_timestamps = 1;
	history_multiline_entries = 1;
	using_history();
	stifle_history(HISTORY_MAX);
	if (ui->history_file)
		read_history(ui->history_file);

	rl_callback_handler_install(ui->unicode ? PROMPT_UNICODE : PROMPT_ASCII, on_line);
	rl_bind_key('\n', insert_newline);                  /* Ctrl-J */
	rl_bind_keyseq("\\e\\r", insert_newline);           /* Alt-Enter */
	rl_bind_keyseq("\\C-x\\C-e", input_edit_in_editor);
	rl_set_screen_size(LINES, COLS);
	return 0;
}

/* The history file is replaced atomically: readline writes a temporary
 * file beside it, which is flushed to the disk before it is renamed. */
static void save_history(const char *path)
{
	char tmp[4096];
	int fd;

	if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return;
	if (write_history(tmp)) {
		unlink(tmp);
		return;
	}
	chmod(tmp, 0600);
	fd = open(tmp, O_RDONLY);
	if (fd < 0 || fsync(fd)) {
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return;
	}
	close(fd);
	if (rename(tmp, path)) {
		unlink(tmp);
		return;
	}
	{
		char dir[4096];
		char *slash;
		snprintf(dir, sizeof dir, "%s", path);
		slash = strrchr(dir, '/');
		if (slash) {
			*(slash == dir ? slash + 1 : slash) = '\0';
			fd = open(dir, O_RDONLY | O_DIRECTORY);
			if (fd >= 0) {
				fsync(fd);
				close(fd);
			}
		}
	}
}

void input_done(struct ui *ui)
{
	rl_callback_handler_remove();
	if (ui->history_file)
		save_history(ui->history_file);
	if (devnull) {
		rl_outstream = stderr;
		fclose(devnull);
		devnull = NULL;
	}
}

/* ---- drawing the input line ---- */

/* Walks prompt + buffer with hard wrapping (no word wrap: every byte keeps
 * its place, so the cursor maps exactly). Draws when draw_y >= 0; returns
 * the rows used and the cursor's row/column. */
static int walk(struct ui *ui, int width, int draw_y, int skip_rows, int max_rows,
                int *cur_row, int *cur_col)
{
	const char *prompt = rl_display_prompt ? rl_display_prompt : "";
	const char *buf = rl_line_buffer ? rl_line_buffer : "";
	size_t plen = strlen(prompt), blen = (size_t)rl_end;
	int pw = text_width(prompt, plen, 0), row = 0, col;
	int indent = pw < width / 2 ? pw : 2;

	if (draw_y >= 0 && skip_rows == 0)
		screen_put_text(draw_y, 0, width, prompt, plen, ui->attr[P_USER] | A_BOLD);
	col = pw;
	if (col >= width) {
		row++;
		col = indent;
	}
	*cur_row = row;
	*cur_col = col;
	for (size_t i = 0; i <= blen; ) {
		int w;
		size_t n;

		if (i == (size_t)rl_point) {
			*cur_row = row;
			*cur_col = col;
		}
		if (i == blen)
			break;
		if (buf[i] == '\n') {
			row++;
			col = indent;
			i++;
			continue;
		}
		n = cluster_next(buf + i, blen - i, col - indent, &w);
		if (col + w > width) {
			row++;
			col = indent;
			if (i == (size_t)rl_point) {
				*cur_row = row;
				*cur_col = col;
			}
		}
		if (draw_y >= 0 && row >= skip_rows && row - skip_rows < max_rows) {
			if (buf[i] == '\t')
				mvhline(draw_y + row - skip_rows, col, ' ', w);
			else
				screen_put_text(draw_y + row - skip_rows, col, w, buf + i, n, A_NORMAL);
		}
		col += w;
		i += n;
	}
	if (*cur_col >= width) {
		(*cur_row)++;
		*cur_col = indent;
	}
	return (row > *cur_row ? row : *cur_row) + 1;
}

int input_rows_needed(struct ui *ui, int width)
{
	int r, c;
	return walk(ui, width, -1, 0, 0, &r, &c);
}

/* Draw into rows [y, y+rows); the cursor stays visible by scrolling. */
int input_draw(struct ui *ui, int y, int rows, int width, bool place_cursor)
{
	int r, c, total, skip = 0;

	total = walk(ui, width, -1, 0, 0, &r, &c);
	if (r >= rows)
		skip = r - rows + 1;
	if (total - skip < rows && total > rows)
		skip = total - rows;
	walk(ui, width, y, skip, rows, &r, &c);
	if (place_cursor)
		move(y + r - skip, c);
	return total;
}
