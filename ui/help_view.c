/* /help: the keys and the commands, from the command table. */
#include "ui/ui_internal.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "ui/commands.h"
#include "ui/page.h"
#include "ui/wrap.h"

#define KEY_COL 24                      /* cells for the key or the usage */

/* One row: the name, then its text wrapped beside it, so nothing is cut
 * at 80 columns. A name too long for its column gets a line of its own. */
static void row(struct page *p, const char *name, const char *text, int width)
{
	struct wrap_lines wl = { 0 };
	int tw = width - 2 - (2 + KEY_COL + 1);         /* page_show keeps a cell each side */
	bool own_line = text_width(name, strlen(name), 0) > KEY_COL;

	if (own_line)
		page_add(p, A_NORMAL, "  %s", name);
	if (tw < 20 || wrap_text(text, strlen(text), tw, &wl)) {
		page_add(p, A_NORMAL, "  %-*s %s", KEY_COL, own_line ? "" : name, text);
		wrap_lines_free(&wl);
		return;
	}
	for (size_t i = 0; i < wl.n; i++)
		page_add(p, A_NORMAL, "  %-*s %.*s", KEY_COL, i == 0 && !own_line ? name : "",
		         (int)wl.v[i].len, text + wl.v[i].off);
	wrap_lines_free(&wl);
}

void help_view_draw(struct ui *ui, int y, int rows, int width)
{
	static const char *const keys[][2] = {
		{ "Enter", "send the message" },
		{ "Ctrl-J, Alt-Enter", "new line inside the message (a paste stays one message)" },
		{ "Ctrl-X Ctrl-E", "edit the message in $VISUAL / $EDITOR" },
		{ "Up, Down, Ctrl-R", "history (kept across runs), search it" },
		{ "Tab", "complete a /command and its argument" },
		{ "Esc, Ctrl-C", "stop the answer; what was generated is kept" },
		{ "Ctrl-C twice, Ctrl-D", "leave (also /quit)" },
		{ "PgUp, PgDn, wheel", "scroll the conversation" },
		{ "Alt-Up, Alt-Down", "pick an earlier answer: the reasoning key then acts on it alone" },
		{ "click", "on a reasoning line: show or hide that answer's reasoning" },
		{ "Ctrl-Home, Ctrl-End", "to the top; back to following the answer" },
		{ "Ctrl-L, Ctrl-Z", "redraw; suspend" },
		{ "Shift-drag", "select text with the terminal (or start with --no-mouse)" },
	};
	struct page p = { 0 };
	char key[16];

	ui_key_name(&ui->cfg.reasoning_key, key, sizeof key);

	page_add(&p, A_BOLD, "glmchat: keys and commands   (q or Esc closes; PgUp/PgDn scroll)");
	page_add(&p, A_NORMAL, "%s", "");
	page_add(&p, ui->attr[P_ANSWER] | A_BOLD, "Keys");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		row(&p, keys[i][0], keys[i][1], width);
	row(&p, key, "show or collapse the reasoning (of the picked answer, else of all)", width);
	page_add(&p, A_NORMAL, "%s", "");
	page_add(&p, ui->attr[P_ANSWER] | A_BOLD, "Commands");
	for (size_t i = 0; i < ui_cmd_count; i++)
		row(&p, ui_cmd_table[i].usage, ui_cmd_table[i].summary, width);
	page_add(&p, A_NORMAL, "%s", "");
	page_add(&p, ui->attr[P_REASONING], "Collapsing the reasoning (%s, /reasoning hide) changes only the display;", key);
	page_add(&p, ui->attr[P_REASONING], "/think off makes the model answer without reasoning at all.");
	page_add(&p, ui->attr[P_REASONING], "A message starting with '/' is sent by typing '//'.");
	page_show(&p, y, rows, width, &ui->overlay_top);
}
