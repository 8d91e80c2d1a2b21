/* Which turns' reasoning the conversation shows. One switch for all turns
 * (the reasoning key, /reasoning show|hide) and, on top of it, a choice per
 * turn: Alt-Up and Alt-Down pick an earlier answer, after which the key
 * opens or closes that one alone; /reasoning show|hide N and a click on a
 * reasoning line do the same for one answer. Display only: the model's
 * thinking switch is /think. */
#include "ui/ui_internal.h"

#include <stdio.h>

static void flip(struct ui *ui, struct tr_entry *e)
{
	e->show = tr_reasoning_mode(e, ui->show_reasoning) != TR_REASONING_FULL;
	ui->dirty = true;
}

void ui_forget_pick(struct ui *ui)
{
	if (ui->sel_turn) {
		ui->sel_turn = 0;
		ui->dirty = true;
	}
}

void ui_toggle_reasoning(struct ui *ui)
{
	struct tr_entry *e = ui->sel_turn ? transcript_turn(&ui->tr, ui->sel_turn) : NULL;

	if (e) {
		flip(ui, e);
		ui_scroll_to_entry(ui, transcript_turn_index(&ui->tr, ui->sel_turn));
		return;
	}
	ui->sel_turn = 0;
	ui->show_reasoning = !ui->show_reasoning;
	transcript_reasoning_follow_all(&ui->tr);
	ui->dirty = true;
}

int ui_set_reasoning(struct ui *ui, bool show, int turn, char *msg, size_t msglen)
{
	struct tr_entry *e;

	ui->dirty = true;
	if (turn == 0) {
		ui->show_reasoning = show;
		transcript_reasoning_follow_all(&ui->tr);
		return 0;
	}
	e = transcript_turn(&ui->tr, turn);
	if (!e) {
		snprintf(msg, msglen, "/reasoning: there is no answer #%d", turn);
		return -1;
	}
	if (!tr_has_reasoning(e)) {
		snprintf(msg, msglen, "/reasoning: answer #%d has no reasoning", turn);
		return -1;
	}
	e->show = show;
	ui_scroll_to_entry(ui, transcript_turn_index(&ui->tr, turn));
	return 0;
}

void ui_pick_turn(struct ui *ui, int dir)
{
	int n = transcript_step_turn(&ui->tr, ui->sel_turn, dir, ui->cur);
	char key[16];

	ui_key_name(&ui->cfg.reasoning_key, key, sizeof key);
	if (n == 0 && ui->sel_turn == 0) {
		if (dir < 0)
			ui_hint(ui, "no earlier answer has reasoning to show");
		return;
	}
	ui->sel_turn = n;
	ui->dirty = true;
	if (n == 0) {
		ui_scroll_end(ui, false);
		ui_hint(ui, "%s shows or hides the reasoning of every answer again", key);
		return;
	}
	ui_scroll_to_entry(ui, transcript_turn_index(&ui->tr, n));
	ui_hint(ui, "answer #%d picked: %s shows or hides its reasoning (Alt-Down past the last lets go)",
	        n, key);
}

void ui_click_row(struct ui *ui, int row)
{
	struct tr_entry *e;

	if (row < 0 || row >= ui->n_row_turn || ui->row_turn[row] == 0)
		return;
	e = transcript_turn(&ui->tr, ui->row_turn[row]);
	if (!e)
		return;
	/* the lines above stay where they are, so the clicked line does too */
	ui_pin_view(ui);
	flip(ui, e);
}
