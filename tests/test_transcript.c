/* Earlier turns' reasoning, one turn at a time (ui/transcript.c): answers
 * are numbered, each may override the global show/hide switch, and
 * Alt-Up/Alt-Down step through the answers that have reasoning. */
#include "tests/tap.h"
#include "ui/transcript.h"

/* An assistant turn as the screen builds it from streamed pieces. */
static struct tr_entry *answer(struct transcript *t, const char *reasoning, const char *text)
{
	struct tr_entry *e = transcript_add(t, TR_ASSISTANT, "", 0);

	e->t_start = 1.0;
	if (reasoning)
		tr_append(e, UI_REASONING, reasoning, strlen(reasoning), 5, 1.0);
	tr_append(e, UI_ANSWER, text, strlen(text), 3, 2.0);
	tr_finish(e, false, NULL, 3.0);
	return e;
}

/* How many lines of style st the entry has at this width and mode. */
static int count_style(struct tr_entry *e, enum tr_reasoning_mode m, enum tr_style st)
{
	int n = 0;

	tr_layout(e, 60, m);
	for (size_t i = 0; i < e->n_lines; i++)
		n += e->lines[i].style == st;
	return n;
}

int main(void)
{
	struct transcript t;
	struct tr_entry *a1, *a2, *a3, *a4;
	size_t len;
	const char *s;

	transcript_init(&t);
	transcript_add(&t, TR_USER, "first", 5);
	a1 = answer(&t, "thinking one", "one");
	transcript_add(&t, TR_USER, "second", 6);
	a2 = answer(&t, NULL, "two, without reasoning (/think off)");
	transcript_add(&t, TR_NOTICE, "a notice", 8);
	a3 = answer(&t, "thinking three\nover two lines", "three");

	is_int(t.turns, 3, "three answers");
	ok(a1->turn == 1 && a2->turn == 2 && a3->turn == 3, "answers are numbered 1, 2, 3");
	ok(transcript_turn(&t, 2) == a2 && transcript_turn(&t, 4) == NULL && transcript_turn(&t, 0) == NULL,
	   "answer N is found by its number, and only then");
	is_int(transcript_turn_index(&t, 3), 5, "answer 3 is entry 5");
	ok(tr_has_reasoning(a1) && !tr_has_reasoning(a2) && tr_has_reasoning(a3),
	   "which answers have reasoning");

	/* the global switch, and one answer overriding it */
	ok(tr_reasoning_mode(a1, true) == TR_REASONING_FULL && tr_reasoning_mode(a1, false) == TR_REASONING_SUMMARY,
	   "by default an answer follows the global switch");
	a1->show = 1;
	ok(tr_reasoning_mode(a1, false) == TR_REASONING_FULL, "an answer shown on its own stays open when all are hidden");
	ok(tr_reasoning_mode(a3, false) == TR_REASONING_SUMMARY, "...and the others stay collapsed");
	a3->show = 0;
	ok(tr_reasoning_mode(a3, true) == TR_REASONING_SUMMARY, "one hidden on its own stays closed when all are shown");
	transcript_reasoning_follow_all(&t);
	ok(a1->show == -1 && a3->show == -1, "the global switch takes every answer back");

	/* layout: a numbered line in both forms, the text only when open */
	is_int(count_style(a3, TR_REASONING_SUMMARY, TS_SUMMARY), 1, "collapsed: one summary line");
	is_int(count_style(a3, TR_REASONING_SUMMARY, TS_REASONING), 0, "...and none of the text");
	is_int(count_style(a3, TR_REASONING_FULL, TS_REASONING_HEAD), 1, "open: a head line");
	is_int(count_style(a3, TR_REASONING_FULL, TS_REASONING), 2, "...and the two lines of text");
	tr_layout(a3, 60, TR_REASONING_FULL);
	s = tr_line_text(a3, &a3->lines[1], &len);
	ok(len > 14 && !strncmp(s, "reasoning #3 · ", strlen("reasoning #3 · ")),
	   "the head line carries the answer's number (%.*s)", (int)len, s);
	is_int(count_style(a2, TR_REASONING_FULL, TS_REASONING_HEAD) + count_style(a2, TR_REASONING_SUMMARY, TS_SUMMARY),
	       0, "an answer without reasoning has no reasoning line");

	/* stepping: Alt-Up from nothing starts at the last answer with reasoning */
	is_int(transcript_step_turn(&t, 0, -1, NULL), 3, "Alt-Up picks the last answer with reasoning");
	is_int(transcript_step_turn(&t, 3, -1, NULL), 1, "...then skips the one without");
	is_int(transcript_step_turn(&t, 1, -1, NULL), 1, "...and stays on the first");
	is_int(transcript_step_turn(&t, 1, 1, NULL), 3, "Alt-Down goes forward");
	is_int(transcript_step_turn(&t, 3, 1, NULL), 0, "...and past the last lets go");
	is_int(transcript_step_turn(&t, 0, 1, NULL), 0, "Alt-Down with nothing picked does nothing");
	is_int(transcript_step_turn(&t, 0, -1, a3), 1, "the answer streaming now is skipped");

	/* /regen and /edit drop the last answer: numbers stay consistent */
	transcript_pop(&t);
	is_int(t.turns, 2, "dropping the last answer");
	a4 = answer(&t, "again", "three again");
	is_int(a4->turn, 3, "...the next one takes its number");
	transcript_clear(&t);
	is_int(t.turns, 0, "a cleared transcript has no answers");
	is_int(transcript_step_turn(&t, 0, -1, NULL), 0, "...and nothing to pick");
	transcript_free(&t);
	return done_testing();
}
