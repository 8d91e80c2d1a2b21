/* /help: the keys and the commands, from the command table. */
#include "ui/ui_internal.h"

#include <curses.h>
#include <stdio.h>

#include "ui/commands.h"
#include "ui/page.h"

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
		{ "Ctrl-Home, Ctrl-End", "to the top; back to following the answer" },
		{ "Ctrl-L, Ctrl-Z", "redraw; suspend" },
		{ "Shift-drag", "select text with the terminal (or start with --no-mouse)" },
	};
	struct page p = { 0 };
	char key[16];
	const struct ui_key *k = &ui->cfg.reasoning_key;

	if (k->kind == UI_KEY_FN)
		snprintf(key, sizeof key, "F%d", k->code);
	else
		snprintf(key, sizeof key, "%s-%c", k->kind == UI_KEY_CTRL ? "Ctrl" : "Alt", k->code - 32);

	page_add(&p, A_BOLD, "glmchat: keys and commands   (q or Esc closes; PgUp/PgDn scroll)");
	page_add(&p, A_NORMAL, "%s", "");
	page_add(&p, ui->attr[P_ANSWER] | A_BOLD, "Keys");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		page_add(&p, A_NORMAL, "  %-22s %s", keys[i][0], keys[i][1]);
	page_add(&p, A_NORMAL, "  %-22s %s", key, "show or collapse the reasoning");
	page_add(&p, A_NORMAL, "%s", "");
	page_add(&p, ui->attr[P_ANSWER] | A_BOLD, "Commands");
	for (size_t i = 0; i < ui_cmd_count; i++)
		page_add(&p, A_NORMAL, "  %-22s %s", ui_cmd_table[i].usage, ui_cmd_table[i].summary);
	page_add(&p, A_NORMAL, "%s", "");
	page_add(&p, ui->attr[P_REASONING], "Collapsing the reasoning (%s, /reasoning hide) changes only the display;", key);
	page_add(&p, ui->attr[P_REASONING], "/think off makes the model answer without reasoning at all.");
	page_add(&p, ui->attr[P_REASONING], "A message starting with '/' is sent by typing '//'.");
	page_show(&p, y, rows, width, &ui->overlay_top);
}
