/* The glue's events (ui_event): the model loading, turns streaming,
 * statistics, the model sleeping and waking, an earlier conversation. The
 * screen copies what it keeps and redraws at its own pace. */
#include "ui/ui_internal.h"

#include <stdlib.h>
#include <string.h>

/* New numbers; the names and the standing note stay unless given. */
static void merge_stats(struct ui *ui, const struct ui_stats *s)
{
	char model[sizeof ui->stats.model], note[sizeof ui->stats.note];

	memcpy(model, ui->stats.model, sizeof model);
	memcpy(note, ui->stats.note, sizeof note);
	ui->stats = *s;
	if (!ui->stats.model[0])
		memcpy(ui->stats.model, model, sizeof model);
	if (!ui->stats.note[0])
		memcpy(ui->stats.note, note, sizeof note);
}

void ui_add_sample(struct ui *ui, const struct ui_stats *s, bool turn_end)
{
	double now = ui_now();
	double tps = turn_end ? s->gen_tps : s->gen_tps_recent;

	/* one sample per half second while generating, and one per turn, so
	 * that turns too short to sample still show */
	if (tps < 0 || (!turn_end && (!s->generating || now - ui->spark_t < 0.5)))
		return;
	ui->spark_t = now;
	if (ui->n_spark == SPARK_MAX) {
		memmove(ui->spark, ui->spark + 1, (SPARK_MAX - 1) * sizeof ui->spark[0]);
		ui->n_spark--;
	}
	ui->spark[ui->n_spark++] = tps;
	if (ui->n_series == ui->cap_series) {
		size_t cap = ui->cap_series ? 2 * ui->cap_series : 256;
		struct ui_sample *v = realloc(ui->series, cap * sizeof *v);
		if (!v)
			return;
		ui->series = v;
		ui->cap_series = cap;
	}
	ui->series[ui->n_series++] = (struct ui_sample){ now, tps, (double)s->mem_used };
}

static void add_history_entry(struct ui *ui, const struct ui_event *ev)
{
	struct tr_entry *e;

	switch (ev->role) {
	case UI_ROLE_USER:
		transcript_add(&ui->tr, TR_USER, ev->text, ev->len);
		break;
	case UI_ROLE_SYSTEM:
		transcript_add(&ui->tr, TR_SYSTEM, ev->text, ev->len);
		break;
	case UI_ROLE_ASSISTANT:
		/* appended as if streamed, so it is trimmed the same way */
		e = transcript_add(&ui->tr, TR_ASSISTANT, "", 0);
		if (!e)
			break;
		if (ev->reasoning && ev->reasoning[0])
			tr_append(e, UI_REASONING, ev->reasoning, strlen(ev->reasoning), 0, 0);
		tr_append(e, UI_ANSWER, ev->text, ev->len, 0, 0);
		if (e->reasoning.n)
			e->n_reasoning = -1;    /* not known: the tokens are gone */
		tr_finish(e, false, NULL, 0);
		break;
	}
}

void ui_event(struct ui *ui, const struct ui_event *ev)
{
	double now = ui_now();

	switch (ev->kind) {
	case UI_EV_LOAD_PROGRESS:
		ui->load_fraction = ev->fraction;
		break;
	case UI_EV_LOADED:
		merge_stats(ui, &ev->stats);
		ui->state = UI_IDLE;
		ui_touch(ui);
		ui_hint(ui, "model loaded: type a message and press Enter");
		break;
	case UI_EV_LOAD_FAILED:
		ui->state = UI_LOAD_FAILED;
		ui_notice(ui, TR_ERROR, "cannot load the model: %.*s", (int)ev->len, ev->text ? ev->text : "");
		break;
	case UI_EV_TURN_BEGIN:
		ui->cur = transcript_add(&ui->tr, TR_ASSISTANT, "", 0);
		if (ui->cur) {
			ui->cur->streaming = true;
			ui->cur->t_start = now;
			ui->cur->in_reasoning = ev->channel == UI_REASONING;
		}
		ui->state = UI_GENERATING;
		ui->stats.generating = true;
		break;
	case UI_EV_PIECE:
		if (ui->cur && tr_append(ui->cur, ev->channel, ev->text, ev->len, ev->tokens, now))
			ui_hint(ui, "out of memory: the answer is cut short");
		break;
	case UI_EV_STATS:
		merge_stats(ui, &ev->stats);
		ui_add_sample(ui, &ev->stats, false);
		break;
	case UI_EV_TURN_END:
		merge_stats(ui, &ev->stats);
		ui_add_sample(ui, &ev->stats, true);
		ui->stats.generating = false;
		if (ui->cur)
			tr_finish(ui->cur, ev->interrupted, &ev->stats, now);
		ui->cur = NULL;
		if (ui->state == UI_GENERATING)
			ui->state = UI_IDLE;
		if (ui->model_state == UI_MODEL_WAKING)         /* the reload failed */
			ui->model_state = UI_MODEL_SLEEPING;
		ui_touch(ui);
		break;
	case UI_EV_INFO:
		ui_notice(ui, TR_NOTICE, "%.*s", (int)ev->len, ev->text ? ev->text : "");
		break;
	case UI_EV_ERROR:
		ui_notice(ui, TR_ERROR, "%.*s", (int)ev->len, ev->text ? ev->text : "");
		break;
	case UI_EV_CLEAR:
		transcript_clear(&ui->tr);
		ui->cur = NULL;
		ui->sel_turn = 0;
		ui->follow = true;
		break;
	case UI_EV_HISTORY:
		add_history_entry(ui, ev);
		break;
	case UI_EV_THINKING:
		ui->thinking = ev->on;
		break;
	case UI_EV_SLEEPING:
		merge_stats(ui, &ev->stats);
		ui->model_state = UI_MODEL_SLEEPING;
		if (ev->len)
			ui_notice(ui, TR_NOTICE, "%.*s", (int)ev->len, ev->text);
		break;
	case UI_EV_WAKING:
		ui->model_state = UI_MODEL_WAKING;
		ui->wake_since = now;
		ui->state = UI_GENERATING;      /* a turn is on its way */
		break;
	case UI_EV_AWAKE:
		merge_stats(ui, &ev->stats);
		ui->model_state = UI_MODEL_AWAKE;
		ui_touch(ui);
		if (ev->len)
			ui_notice(ui, TR_NOTICE, "%.*s", (int)ev->len, ev->text);
		break;
	}
	ui->dirty = true;
}
