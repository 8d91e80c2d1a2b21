/* Layout and painting. Top to bottom: the reasoning pane (while a turn
 * thinks), the conversation, a rule line for hints and progress, the input
 * (growing with its text), the status bar. Everything is painted from the
 * transcript each frame; curses sends only what changed. */
#include "ui/ui_internal.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui/wrap.h"

/* ---- colours ---- */

static void pair(short p, int fg, int bg)
{
	init_pair(p, (short)fg, (short)bg);
}

static int pick(int configured, int fallback)
{
	return configured != UI_COLOR_AUTO ? configured : fallback;
}

void screen_init_colors(struct ui *ui)
{
	const struct ui_colors *c = &ui->cfg.colors;
	bool rich;

	ui->color = !ui->cfg.no_color && has_colors();
	if (!ui->color) {
		/* NO_COLOR: attributes only */
		ui->attr[P_USER] = A_BOLD;
		ui->attr[P_ANSWER] = A_BOLD;
		ui->attr[P_REASONING] = A_DIM;
		ui->attr[P_STATUS] = A_REVERSE;
		ui->attr[P_NOTICE] = A_NORMAL;
		ui->attr[P_ERROR] = A_BOLD;
		ui->attr[P_CODE] = A_NORMAL;
		ui->attr[P_RULE] = A_DIM;
		return;
	}
	start_color();
	use_default_colors();
	rich = COLORS >= 256;
	pair(P_USER, pick(c->user, COLOR_CYAN), -1);
	pair(P_ANSWER, pick(c->answer, COLOR_GREEN), -1);
	pair(P_REASONING, pick(c->reasoning, rich ? 245 : -1), -1);
	pair(P_STATUS, pick(c->status, rich ? 252 : COLOR_BLACK), rich ? 237 : COLOR_WHITE);
	pair(P_NOTICE, pick(c->notice, COLOR_YELLOW), -1);
	pair(P_ERROR, COLOR_RED, -1);
	pair(P_CODE, rich ? 151 : COLOR_GREEN, rich ? 235 : -1);
	pair(P_RULE, rich ? 240 : -1, -1);
	for (int p = 1; p < P_COUNT; p++)
		ui->attr[p] = COLOR_PAIR(p);
	if (!rich && c->reasoning == UI_COLOR_AUTO)
		ui->attr[P_REASONING] |= A_DIM;
	if (!rich)
		ui->attr[P_RULE] |= A_DIM;
	ui->attr[P_ERROR] |= A_BOLD;
}

/* ---- text ---- */

/* Paint s[0..len) from (y, x), at most max_cells cells, cluster by cluster
 * at the columns our width table gives, so a terminal that disagrees on a
 * glyph cannot shift the rest of the line. Controls become U+FFFD; in a
 * non-UTF-8 locale everything beyond ASCII becomes '?'. */
void screen_put_text(int y, int x, int max_cells, const char *s, size_t len, unsigned attr)
{
	bool utf8 = ui_active ? ui_active->unicode : false;
	int col = 0;

	for (size_t i = 0; i < len && col < max_cells;) {
		wchar_t wc[CCHARW_MAX + 1];
		cchar_t cc;
		int w, k = 0;
		size_t n = cluster_next(s + i, len - i, x + col, &w);

		if (col + w > max_cells)
			break;
		if (s[i] == '\t' || s[i] == '\n') {
			mvhline(y, x + col, ' ', w);
		} else if (!utf8 && (unsigned char)s[i] >= 0x80) {
			attrset(attr);
			for (int j = 0; j < w; j++)
				mvaddch(y, x + col + j, '?');
		} else {
			for (size_t j = 0; j < n && k < CCHARW_MAX;) {
				uint32_t cp;
				j += utf8_next(s + i + j, n - j, &cp);
				if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
					cp = utf8 ? 0xFFFD : '?';
				wc[k++] = (wchar_t)cp;
			}
			wc[k] = L'\0';
			/* setcchar takes the colour pair apart from the attributes */
			if (w > 0 && setcchar(&cc, wc, (attr_t)(attr & ~A_COLOR), (short)PAIR_NUMBER(attr), NULL) == OK) {
				mvadd_wch(y, x + col, &cc);
			} else if (w > 0) {
				wc[1] = L'\0';
				if (setcchar(&cc, wc, (attr_t)(attr & ~A_COLOR), (short)PAIR_NUMBER(attr), NULL) == OK)
					mvadd_wch(y, x + col, &cc);
			}
		}
		col += w;
		i += n;
	}
	attrset(A_NORMAL);
}

static void put_str(int y, int x, int max_cells, const char *s, unsigned attr)
{
	screen_put_text(y, x, max_cells, s, strlen(s), attr);
}

static void fill_line(int y, int width, unsigned attr)
{
	attrset(attr);
	mvhline(y, 0, ' ', width);
	attrset(A_NORMAL);
}

/* ---- conversation layout and scrolling ---- */

static enum tr_reasoning_mode mode_for(const struct ui *ui, const struct tr_entry *e)
{
	if (e == ui->cur)
		return TR_REASONING_NONE;       /* it streams in the reasoning pane */
	return tr_reasoning_mode(e, ui->show_reasoning);
}

static size_t layout_all(struct ui *ui, int width)
{
	size_t total = 0;

	for (size_t i = 0; i < ui->tr.n; i++) {
		struct tr_entry *e = ui->tr.v[i];
		if (tr_layout(e, width, mode_for(ui, e)))
			ui_hint(ui, "out of memory while laying out the conversation");
		total += e->n_lines;
	}
	return total;
}

static size_t anchor_abs(const struct ui *ui)
{
	size_t abs = 0;

	for (size_t i = 0; i < ui->tr.n && i < ui->top_entry; i++)
		abs += ui->tr.v[i]->n_lines;
	if (ui->top_entry < ui->tr.n) {
		size_t n = ui->tr.v[ui->top_entry]->n_lines;
		abs += ui->top_line < n ? ui->top_line : (n ? n - 1 : 0);
	}
	return abs;
}

static void set_anchor(struct ui *ui, size_t abs)
{
	for (size_t i = 0; i < ui->tr.n; i++) {
		size_t n = ui->tr.v[i]->n_lines;
		if (abs < n) {
			ui->top_entry = i;
			ui->top_line = abs;
			return;
		}
		abs -= n;
	}
	ui->top_entry = ui->tr.n;
	ui->top_line = 0;
}

/* The first line shown, for a pane of rows lines. */
static size_t view_top(struct ui *ui, size_t total, int rows)
{
	size_t bottom_top = total > (size_t)rows ? total - (size_t)rows : 0;
	size_t top;

	if (ui->follow)
		return bottom_top;
	top = anchor_abs(ui);
	if (top >= bottom_top) {
		ui->follow = true;
		return bottom_top;
	}
	return top;
}

void ui_scroll(struct ui *ui, int delta)
{
	int rows = ui->conv_rows > 0 ? ui->conv_rows : 10;
	size_t total = layout_all(ui, COLS);
	size_t bottom_top = total > (size_t)rows ? total - (size_t)rows : 0;
	long top = (long)view_top(ui, total, rows) + delta;

	if (top < 0)
		top = 0;
	if ((size_t)top >= bottom_top) {
		ui->follow = true;
	} else {
		ui->follow = false;
		set_anchor(ui, (size_t)top);
	}
	ui->dirty = true;
}

void ui_scroll_end(struct ui *ui, bool top)
{
	layout_all(ui, COLS);
	ui->follow = !top;
	if (top)
		set_anchor(ui, 0);
	ui->dirty = true;
}

void ui_pin_view(struct ui *ui)
{
	int rows = ui->conv_rows > 0 ? ui->conv_rows : 10;
	size_t total = layout_all(ui, COLS);

	set_anchor(ui, view_top(ui, total, rows));
	ui->follow = false;
}

void ui_scroll_to_entry(struct ui *ui, size_t index)
{
	int rows = ui->conv_rows > 0 ? ui->conv_rows : 10;
	size_t total = layout_all(ui, COLS), top = view_top(ui, total, rows), start = 0;

	if (index >= ui->tr.n)
		return;
	for (size_t i = 0; i < index; i++)
		start += ui->tr.v[i]->n_lines;
	ui->dirty = true;
	if (start >= top && start + ui->tr.v[index]->n_lines <= top + (size_t)rows)
		return;                 /* in view already: nothing jumps */
	ui->follow = false;
	set_anchor(ui, start);
}

static void draw_line(struct ui *ui, const struct tr_entry *e, const struct tr_line *l, int y, int width)
{
	size_t len;
	const char *s = tr_line_text(e, l, &len);
	const char *bar = ui->unicode ? "▌" : "|";
	int x = l->indent;

	switch (l->style) {
	case TS_BLANK:
		break;
	case TS_HEAD_USER:
	case TS_HEAD_ASSISTANT:
	case TS_HEAD_SYSTEM: {
		unsigned a = ui->attr[l->style == TS_HEAD_USER ? P_USER : l->style == TS_HEAD_ASSISTANT ? P_ANSWER : P_NOTICE];
		put_str(y, 0, 1, bar, a);
		screen_put_text(y, 1, width - 1, s, len, a | A_BOLD);
		break;
	}
	case TS_USER:
	case TS_ANSWER:
		screen_put_text(y, x, width - x, s, len, A_NORMAL);
		break;
	case TS_SYSTEM:
		screen_put_text(y, x, width - x, s, len, ui->attr[P_NOTICE]);
		break;
	case TS_FENCE:
		attrset(ui->attr[P_CODE]);
		mvhline(y, x, ' ', width - x);
		screen_put_text(y, x, width - x, s, len, ui->attr[P_CODE] | A_DIM);
		break;
	case TS_CODE:
		attrset(ui->attr[P_CODE]);
		mvhline(y, 2, ' ', width - 2);
		screen_put_text(y, x, width - x, s, len, ui->attr[P_CODE]);
		break;
	case TS_REASONING:
		put_str(y, 2, 1, ui->unicode ? "┊" : ":", ui->attr[P_REASONING]);
		screen_put_text(y, x, width - x, s, len, ui->attr[P_REASONING]);
		break;
	case TS_SUMMARY:
	case TS_REASONING_HEAD: {
		/* the picked turn (Alt-Up/Down) stands out: the key acts on it */
		bool open = l->style == TS_REASONING_HEAD, picked = e->turn == ui->sel_turn;
		char key[16], buf[200];

		ui_key_name(&ui->cfg.reasoning_key, key, sizeof key);
		snprintf(buf, sizeof buf, "%s %.*s  (%s %s%s)", open ? (ui->unicode ? "▾" : "v") : (ui->unicode ? "▸" : ">"),
		         (int)len, s, key, open ? "hides" : "shows", picked ? " this one" : "");
		put_str(y, x, width - x, buf, ui->attr[P_REASONING] | (picked ? A_REVERSE : 0));
		break;
	}
	case TS_NOTICE:
		screen_put_text(y, x, width - x, s, len, ui->attr[P_NOTICE]);
		break;
	case TS_ERROR:
		screen_put_text(y, x, width - x, s, len, ui->attr[P_ERROR]);
		break;
	case TS_INTERRUPTED:
		put_str(y, x, width - x, "[interrupted]", ui->attr[P_NOTICE]);
		break;
	}
	attrset(A_NORMAL);
}

static size_t draw_conversation(struct ui *ui, int y0, int rows, int width)
{
	size_t total = layout_all(ui, width), top = view_top(ui, total, rows), abs = 0;
	int y = y0;

	ui->conv_rows = rows;
	for (size_t i = 0; i < ui->tr.n && y < y0 + rows; i++) {
		const struct tr_entry *e = ui->tr.v[i];
		if (abs + e->n_lines <= top) {
			abs += e->n_lines;
			continue;
		}
		for (size_t j = top > abs ? top - abs : 0; j < e->n_lines && y < y0 + rows; j++) {
			const struct tr_line *l = &e->lines[j];
			/* remember where the reasoning lines are, for clicks */
			if (y < ui->n_row_turn && (l->style == TS_SUMMARY || l->style == TS_REASONING_HEAD))
				ui->row_turn[y] = e->turn;
			draw_line(ui, e, l, y++, width);
		}
		abs += e->n_lines;
	}
	if (ui->tr.n == 0 && rows > 2) {
		const char *s = ui->state == UI_LOADING ? "loading the model..." :
		                "Type a message and press Enter. /help lists the keys and commands.";
		put_str(y0 + rows / 2, 2, width - 4, s, ui->attr[P_RULE]);
	}
	return total > top + (size_t)rows ? total - top - (size_t)rows : 0;
}

/* ---- the reasoning pane ---- */

/* Rows the pane wants (0: no pane). */
static int reasoning_rows(struct ui *ui, int avail, int width)
{
	struct tr_entry *e = ui->cur;
	int max;

	/* no pane before the first reasoning token: an empty pane says nothing */
	if (!e || e->n_reasoning <= 0)
		return 0;
	if (!ui->show_reasoning || avail < 8)
		return 1;
	tr_layout_reasoning(e, width - 4);
	max = avail / 3 > 4 ? avail / 3 : 4;
	/* a header, the tail of the text, a rule under it */
	return 2 + ((int)e->rwrap.n < max - 2 ? (int)e->rwrap.n : max - 2);
}

static void draw_reasoning(struct ui *ui, int y0, int rows, int width)
{
	struct tr_entry *e = ui->cur;
	char head[256], count[32], key[16];
	double secs = tr_think_seconds(e, ui_now());
	bool live = e->in_reasoning;

	ui_key_name(&ui->cfg.reasoning_key, key, sizeof key);
	fmt_count(e->n_reasoning, count, sizeof count);
	if (rows == 1)
		snprintf(head, sizeof head, "%s %s %s tokens, %.1f s  (%s shows)", ui->unicode ? "▸" : ">",
		         live ? (ui->unicode ? "thinking…" : "thinking...") : "reasoning:", count, secs, key);
	else
		snprintf(head, sizeof head, "%s %s %s tokens, %.1f s  (%s hides) ", ui->unicode ? "▾" : "v",
		         live ? (ui->unicode ? "thinking…" : "thinking...") : "reasoning:", count, secs, key);
	attrset(ui->attr[P_RULE]);
	mvhline(y0, 0, ui->unicode ? ACS_HLINE : '-', width);
	put_str(y0, 0, width, head, ui->attr[P_REASONING] | A_BOLD);
	if (rows == 1)
		return;
	for (int r = 1; r < rows - 1; r++) {
		size_t back = (size_t)(rows - 1 - r);           /* the tail follows */
		const struct wrap_line *l;

		if (e->rwrap.n < back)
			continue;
		l = &e->rwrap.v[e->rwrap.n - back];
		put_str(y0 + r, 2, 1, ui->unicode ? "┊" : ":", ui->attr[P_REASONING]);
		screen_put_text(y0 + r, 4, width - 4, e->reasoning.s + l->off, l->len, ui->attr[P_REASONING]);
	}
	attrset(ui->attr[P_RULE]);
	mvhline(y0 + rows - 1, 0, ui->unicode ? ACS_HLINE : '-', width);
	attrset(A_NORMAL);
}

/* ---- rule line, status bar ---- */

static void draw_rule(struct ui *ui, int y, int width, size_t below)
{
	char text[512], right[64];
	double now = ui_now();

	attrset(ui->attr[P_RULE]);
	mvhline(y, 0, ui->unicode ? ACS_HLINE : '-', width);
	attrset(A_NORMAL);
	text[0] = '\0';
	if (ui->hint[0] && ui->hint_until > now) {
		snprintf(text, sizeof text, " %s ", ui->hint);
		put_str(y, 1, width - 2, text, ui->attr[P_NOTICE] | A_BOLD);
		return;
	}
	if (ui->state == UI_LOADING) {
		int bar = width / 3 > 60 ? 60 : width / 3, done = (int)(ui->load_fraction * (float)bar + 0.5f);
		char b[256];
		size_t o = 0;
		for (int i = 0; i < bar && o + 4 < sizeof b; i++)
			o += (size_t)snprintf(b + o, sizeof b - o, "%s",
			                     i < done ? (ui->unicode ? "█" : "#") : (ui->unicode ? "░" : "."));
		snprintf(text, sizeof text, " loading model %s %3.0f%% ", b, ui->load_fraction * 100.0);
		put_str(y, 1, width - 2, text, ui->attr[P_NOTICE]);
		return;
	}
	if (below)
		snprintf(text, sizeof text, " %s %zu more lines (PgDn; Ctrl-End follows) ", ui->unicode ? "↓" : "v", below);
	else if (ui->model_state == UI_MODEL_WAKING)
		snprintf(text, sizeof text, " loading the model again (%.1f s) ", now - ui->wake_since);
	else if (ui->state == UI_GENERATING && ui->cur && !ui->cur->n_reasoning && !ui->cur->n_answer)
		snprintf(text, sizeof text, " reading the prompt (%.1f s): Esc or Ctrl-C stops ",
		         now - ui->cur->t_start);
	else if (ui->state == UI_GENERATING)
		snprintf(text, sizeof text, " generating: Esc or Ctrl-C stops ");
	else if (ui->state == UI_LOAD_FAILED)
		snprintf(text, sizeof text, " no model: /quit ");
	else
		snprintf(text, sizeof text, " Enter sends, Ctrl-J newline, /help ");
	put_str(y, 1, width - 2, text, ui->attr[P_RULE]);
	snprintf(right, sizeof right, " think %s ", ui->thinking ? "on" : "off");
	if (width > 60)
		put_str(y, width - (int)strlen(right) - 1, (int)strlen(right), right, ui->attr[P_RULE]);
}

static void draw_status(struct ui *ui, int y, int width)
{
	struct ui_stats st = ui->stats;
	char line[2048];

	st.model_state = ui->model_state;
	statusbar_format(&st, ui->spark, ui->n_spark, width, ui->unicode, line, sizeof line);
	fill_line(y, width, ui->attr[P_STATUS]);
	put_str(y, 0, width, line, ui->attr[P_STATUS]);
}

void screen_draw(struct ui *ui)
{
	int h, w, input_rows, rule_y, input_y, conv_y, conv_rows, r_rows;
	size_t below = 0;

	getmaxyx(stdscr, h, w);
	erase();
	if (h > ui->n_row_turn) {
		int *v = realloc(ui->row_turn, (size_t)h * sizeof *v);
		if (v) {
			ui->row_turn = v;
			ui->n_row_turn = h;
		}
	}
	for (int r = 0; r < ui->n_row_turn; r++)
		ui->row_turn[r] = 0;
	if (h < 6 || w < 20) {
		put_str(0, 0, w, "terminal too small", A_BOLD);
		refresh();
		return;
	}
	input_rows = input_rows_needed(ui, w);
	if (input_rows > h / 3)
		input_rows = h / 3 > 1 ? h / 3 : 1;
	input_y = h - 1 - input_rows;
	rule_y = input_y - 1;

	if (ui->overlay == OV_HELP) {
		help_view_draw(ui, 0, rule_y, w);
	} else if (ui->overlay == OV_STATS) {
		stats_view_draw(ui, 0, rule_y, w);
	} else {
		r_rows = reasoning_rows(ui, rule_y, w);
		conv_y = r_rows;
		conv_rows = rule_y - r_rows;
		if (r_rows)
			draw_reasoning(ui, 0, r_rows, w);
		below = draw_conversation(ui, conv_y, conv_rows, w);
	}
	draw_rule(ui, rule_y, w, below);
	draw_status(ui, h - 1, w);
	input_draw(ui, input_y, input_rows, w, ui->overlay == OV_NONE);
	curs_set(ui->overlay == OV_NONE ? 1 : 0);
	if (ui->overlay != OV_NONE)
		move(h - 1, 0);
	refresh();
}
