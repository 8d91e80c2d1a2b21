/* The conversation's display model and layout; see transcript.h. */
#include "ui/transcript.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/statusbar.h"

static int buf_append(struct tr_buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->n + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p)
			return -1;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
	return 0;
}

static void entry_free(struct tr_entry *e)
{
	if (!e)
		return;
	free(e->text.s);
	free(e->reasoning.s);
	free(e->lines);
	wrap_lines_free(&e->rwrap);
	free(e);
}

void transcript_init(struct transcript *t)
{
	memset(t, 0, sizeof *t);
}

void transcript_clear(struct transcript *t)
{
	for (size_t i = 0; i < t->n; i++)
		entry_free(t->v[i]);
	t->n = 0;
	t->turns = 0;
}

void transcript_free(struct transcript *t)
{
	transcript_clear(t);
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}

struct tr_entry *transcript_add(struct transcript *t, enum tr_kind kind, const char *text, size_t len)
{
	struct tr_entry *e;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		struct tr_entry **v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->kind = kind;
	e->show = -1;
	e->dirty = e->rdirty = true;
	ui_stats_init(&e->stats);
	if (buf_append(&e->text, text ? text : "", text ? len : 0)) {
		entry_free(e);
		return NULL;
	}
	if (kind == TR_ASSISTANT)
		e->turn = ++t->turns;
	t->v[t->n++] = e;
	return e;
}

void transcript_pop(struct transcript *t)
{
	if (!t->n)
		return;
	if (t->v[t->n - 1]->kind == TR_ASSISTANT)
		t->turns--;
	entry_free(t->v[--t->n]);
}

bool tr_has_reasoning(const struct tr_entry *e)
{
	return e->kind == TR_ASSISTANT && (e->n_reasoning != 0 || e->reasoning.n);
}

enum tr_reasoning_mode tr_reasoning_mode(const struct tr_entry *e, bool show_all)
{
	bool shown = e->show >= 0 ? e->show : show_all;

	return shown ? TR_REASONING_FULL : TR_REASONING_SUMMARY;
}

size_t transcript_turn_index(const struct transcript *t, int n)
{
	for (size_t i = 0; i < t->n && n > 0; i++)
		if (t->v[i]->kind == TR_ASSISTANT && t->v[i]->turn == n)
			return i;
	return t->n;
}

struct tr_entry *transcript_turn(const struct transcript *t, int n)
{
	size_t i = transcript_turn_index(t, n);

	return i < t->n ? t->v[i] : NULL;
}

int transcript_step_turn(const struct transcript *t, int from, int dir, const struct tr_entry *skip)
{
	int n = from;

	if (n <= 0 && dir > 0)
		return 0;
	if (n <= 0)
		n = t->turns + 1;
	for (n += dir > 0 ? 1 : -1; n >= 1 && n <= t->turns; n += dir > 0 ? 1 : -1) {
		const struct tr_entry *e = transcript_turn(t, n);
		if (e && e != skip && tr_has_reasoning(e))
			return n;
	}
	return dir > 0 ? 0 : from;
}

void transcript_reasoning_follow_all(struct transcript *t)
{
	for (size_t i = 0; i < t->n; i++)
		t->v[i]->show = -1;
}

struct tr_entry *transcript_last_assistant(struct transcript *t)
{
	for (size_t i = t->n; i-- > 0;)
		if (t->v[i]->kind == TR_ASSISTANT)
			return t->v[i];
	return NULL;
}

int tr_append(struct tr_entry *e, enum ui_channel ch, const char *text, size_t len, int tokens, double now)
{
	if (ch == UI_REASONING) {
		e->n_reasoning += tokens;
		e->rdirty = true;
		if (e->reasoning.n == 0)
			while (len && (*text == '\n' || *text == ' ')) {
				text++;
				len--;
			}
		if (len && buf_append(&e->reasoning, text, len))
			return -1;
	} else {
		if (e->in_reasoning || (e->n_reasoning && !e->t_think_end))
			e->t_think_end = now;
		e->in_reasoning = false;
		e->n_answer += tokens;
		/* the model's first answer token after </think> is often a
		 * newline: a leading blank line is noise */
		if (e->text.n == 0)
			while (len && (*text == '\n' || *text == ' ')) {
				text++;
				len--;
			}
		if (len && buf_append(&e->text, text, len))
			return -1;
	}
	e->dirty = true;
	return 0;
}

void tr_finish(struct tr_entry *e, bool interrupted, const struct ui_stats *final, double now)
{
	e->streaming = false;
	e->in_reasoning = false;
	e->interrupted = interrupted;
	e->t_end = now;
	if (e->n_reasoning && !e->t_think_end)
		e->t_think_end = now;
	if (final) {
		e->stats = *final;
		e->has_stats = true;
	}
	/* trailing blank lines are noise too */
	while (e->text.n && (e->text.s[e->text.n - 1] == '\n' || e->text.s[e->text.n - 1] == ' '))
		e->text.s[--e->text.n] = '\0';
	while (e->reasoning.n && (e->reasoning.s[e->reasoning.n - 1] == '\n' ||
	                          e->reasoning.s[e->reasoning.n - 1] == ' '))
		e->reasoning.s[--e->reasoning.n] = '\0';
	e->dirty = e->rdirty = true;
}

double tr_think_seconds(const struct tr_entry *e, double now)
{
	double end = e->t_think_end ? e->t_think_end : (e->streaming ? now : e->t_end);

	if (!e->t_start || end < e->t_start)
		return 0;
	return end - e->t_start;
}

static int push(struct tr_entry *e, enum tr_style st, enum tr_src src, int indent, size_t off, size_t len)
{
	if (e->n_lines == e->cap_lines) {
		size_t cap = e->cap_lines ? 2 * e->cap_lines : 16;
		struct tr_line *v = realloc(e->lines, cap * sizeof *v);
		if (!v)
			return -1;
		e->lines = v;
		e->cap_lines = cap;
	}
	e->lines[e->n_lines++] = (struct tr_line){ (uint8_t)st, (uint8_t)src, (uint8_t)indent,
	                                           (uint32_t)off, (uint32_t)len };
	return 0;
}

/* Wrap s[a..b) at width - indent and push each line with one style. */
static int push_wrapped(struct tr_entry *e, const char *base, size_t a, size_t b, int width,
                        int indent, enum tr_style st, enum tr_src src)
{
	struct wrap_lines wl = { 0 };
	int rc = 0;

	if (wrap_text(base + a, b - a, width - indent, &wl)) {
		wrap_lines_free(&wl);
		return -1;
	}
	for (size_t i = 0; i < wl.n && !rc; i++)
		rc = push(e, st, src, indent, a + wl.v[i].off, wl.v[i].len);
	wrap_lines_free(&wl);
	return rc;
}

/* A line that opens or closes a code block: ``` after optional spaces. */
static bool is_fence(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && i < 4 && s[i] == ' ')
		i++;
	return n - i >= 3 && !strncmp(s + i, "```", 3);
}

/* The answer, logical line by logical line: code blocks set apart. */
static int layout_answer(struct tr_entry *e, int width)
{
	const char *s = e->text.s ? e->text.s : "";
	size_t a = 0, n = e->text.n;
	bool code = false;

	if (n == 0)
		return 0;
	while (a <= n) {
		size_t b = a;
		int rc;

		while (b < n && s[b] != '\n')
			b++;
		if (is_fence(s + a, b - a)) {
			rc = push(e, TS_FENCE, SRC_TEXT, 2, a, b - a);
			code = !code;
		} else if (code) {
			rc = push_wrapped(e, s, a, b, width, 4, TS_CODE, SRC_TEXT);
		} else {
			rc = push_wrapped(e, s, a, b, width, 2, TS_ANSWER, SRC_TEXT);
		}
		if (rc)
			return -1;
		if (b >= n)
			break;
		a = b + 1;
	}
	return 0;
}

static void make_head(struct tr_entry *e)
{
	char rate[32], n[32];

	switch (e->kind) {
	case TR_USER:
		snprintf(e->head, sizeof e->head, "you");
		break;
	case TR_SYSTEM:
		snprintf(e->head, sizeof e->head, "system prompt");
		break;
	case TR_ASSISTANT:
		if (e->has_stats && e->stats.n_gen >= 0) {
			fmt_rate(e->stats.gen_tps, rate, sizeof rate);
			fmt_count(e->stats.n_gen, n, sizeof n);
			snprintf(e->head, sizeof e->head, "glm · %s tokens · %s t/s", n, rate);
		} else {
			snprintf(e->head, sizeof e->head, "glm");
		}
		break;
	default:
		e->head[0] = '\0';
	}
	if (e->kind == TR_ASSISTANT && e->n_reasoning < 0) {
		snprintf(e->summary, sizeof e->summary, "reasoning #%d (from the saved session)", e->turn);
	} else if (e->kind == TR_ASSISTANT) {
		fmt_count(e->n_reasoning, n, sizeof n);
		snprintf(e->summary, sizeof e->summary, "reasoning #%d · %s tokens · %.1f s", e->turn, n,
		         tr_think_seconds(e, e->t_end));
	}
}

int tr_layout(struct tr_entry *e, int width, enum tr_reasoning_mode mode)
{
	int rc = 0;

	if (width < 8)
		width = 8;
	if (!e->dirty && e->laid_width == width && e->laid_mode == (int)mode)
		return 0;
	e->n_lines = 0;
	make_head(e);
	switch (e->kind) {
	case TR_USER:
	case TR_SYSTEM:
		rc = push(e, e->kind == TR_USER ? TS_HEAD_USER : TS_HEAD_SYSTEM, SRC_HEAD, 0, 0, strlen(e->head));
		rc = rc ? rc : push_wrapped(e, e->text.s, 0, e->text.n, width, 2,
		                            e->kind == TR_USER ? TS_USER : TS_SYSTEM, SRC_TEXT);
		break;
	case TR_ASSISTANT:
		rc = push(e, TS_HEAD_ASSISTANT, SRC_HEAD, 0, 0, strlen(e->head));
		if (!rc && tr_has_reasoning(e) && mode != TR_REASONING_NONE)
			rc = push(e, mode == TR_REASONING_FULL ? TS_REASONING_HEAD : TS_SUMMARY, SRC_SUMMARY,
			          2, 0, strlen(e->summary));
		if (!rc && e->reasoning.n && mode == TR_REASONING_FULL)
			rc = push_wrapped(e, e->reasoning.s, 0, e->reasoning.n, width, 4, TS_REASONING, SRC_REASONING);
		if (!rc)
			rc = layout_answer(e, width);
		if (!rc && e->interrupted)
			rc = push(e, TS_INTERRUPTED, SRC_NONE, 2, 0, 0);
		break;
	case TR_NOTICE:
	case TR_ERROR:
		rc = push_wrapped(e, e->text.s, 0, e->text.n, width, 2,
		                  e->kind == TR_NOTICE ? TS_NOTICE : TS_ERROR, SRC_TEXT);
		break;
	}
	rc = rc ? rc : push(e, TS_BLANK, SRC_NONE, 0, 0, 0);
	if (rc)
		return -1;
	e->laid_width = width;
	e->laid_mode = (int)mode;
	e->dirty = false;
	return 0;
}

int tr_layout_reasoning(struct tr_entry *e, int width)
{
	if (width < 4)
		width = 4;
	if (!e->rdirty && e->rwrap_width == width)
		return 0;
	e->rwrap.n = 0;
	if (wrap_text(e->reasoning.s ? e->reasoning.s : "", e->reasoning.n, width, &e->rwrap))
		return -1;
	e->rwrap_width = width;
	e->rdirty = false;
	return 0;
}

const char *tr_line_text(const struct tr_entry *e, const struct tr_line *l, size_t *len)
{
	const char *base;

	switch (l->src) {
	case SRC_TEXT:
		base = e->text.s;
		break;
	case SRC_REASONING:
		base = e->reasoning.s;
		break;
	case SRC_HEAD:
		base = e->head;
		break;
	case SRC_SUMMARY:
		base = e->summary;
		break;
	default:
		*len = 0;
		return "";
	}
	*len = l->len;
	return base ? base + l->off : "";
}
