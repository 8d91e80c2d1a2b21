/* The conversation as the screen shows it: entries (user messages,
 * assistant turns with their reasoning and answer, notices) and their
 * layout in display lines for a given width. Pure (no curses), so the
 * layout rules are testable; the screen only paints the lines. */
#ifndef GLM_UI_TRANSCRIPT_H
#define GLM_UI_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ui/ui.h"
#include "ui/wrap.h"

enum tr_kind { TR_USER, TR_ASSISTANT, TR_SYSTEM, TR_NOTICE, TR_ERROR };

/* How a line is painted. TS_SUMMARY is a collapsed turn's reasoning in
 * one line, TS_REASONING_HEAD the line above an expanded one's. */
enum tr_style {
	TS_BLANK, TS_HEAD_USER, TS_USER, TS_HEAD_ASSISTANT, TS_ANSWER, TS_FENCE, TS_CODE,
	TS_REASONING, TS_SUMMARY, TS_HEAD_SYSTEM, TS_SYSTEM, TS_NOTICE, TS_ERROR, TS_INTERRUPTED,
	TS_REASONING_HEAD,
};
/* Where a line's text lives in its entry. */
enum tr_src { SRC_NONE, SRC_TEXT, SRC_REASONING, SRC_HEAD, SRC_SUMMARY };

struct tr_line {
	uint8_t style, src, indent;
	uint32_t off, len;
};

struct tr_buf { char *s; size_t n, cap; };

/* How an assistant entry's reasoning appears in the conversation pane. */
enum tr_reasoning_mode { TR_REASONING_NONE, TR_REASONING_SUMMARY, TR_REASONING_FULL };

struct tr_entry {
	enum tr_kind kind;
	int turn;                       /* assistant: 1 for the first answer, 2 ... */
	signed char show;               /* its reasoning: -1 as the global switch, 0 collapsed, 1 shown */
	struct tr_buf text;             /* message, answer or notice */
	struct tr_buf reasoning;        /* assistant only */
	char head[128];                 /* header line (laid out from the stats) */
	char summary[128];              /* the one-line form of the reasoning */
	int64_t n_reasoning, n_answer;  /* tokens streamed per channel */
	double t_start, t_think_end, t_end;  /* seconds; 0 = not yet */
	bool streaming, interrupted, in_reasoning;
	bool has_stats;
	struct ui_stats stats;          /* the turn's final numbers */
	/* layout cache, rebuilt when dirty or asked for another width/mode */
	struct tr_line *lines;
	size_t n_lines, cap_lines;
	int laid_width, laid_mode;
	bool dirty;
	/* the reasoning pane's wrap of the reasoning, cached the same way */
	struct wrap_lines rwrap;
	int rwrap_width;
	bool rdirty;
};

struct transcript {
	struct tr_entry **v;
	size_t n, cap;
	int turns;                      /* assistant entries */
};

void transcript_init(struct transcript *t);
void transcript_free(struct transcript *t);
void transcript_clear(struct transcript *t);

/* Append an entry with text (copied); NULL when out of memory. */
struct tr_entry *transcript_add(struct transcript *t, enum tr_kind kind, const char *text, size_t len);
/* Remove the last entry. */
void transcript_pop(struct transcript *t);
/* The last assistant entry (or NULL). */
struct tr_entry *transcript_last_assistant(struct transcript *t);

/* Earlier turns' reasoning, shown or collapsed one turn at a time. */
bool tr_has_reasoning(const struct tr_entry *e);
/* How e's reasoning is shown: its own choice, else the global switch. */
enum tr_reasoning_mode tr_reasoning_mode(const struct tr_entry *e, bool show_all);
/* Assistant turn n (1-based), or NULL. */
struct tr_entry *transcript_turn(const struct transcript *t, int n);
/* Index in t->v of turn n's entry, or t->n. */
size_t transcript_turn_index(const struct transcript *t, int n);
/* The turn with reasoning before (dir < 0) or after (dir > 0) turn
 * `from`, skipping `skip` (the one streaming): 0 for none. From 0, dir < 0
 * starts at the last turn; past the last, 0 (no turn). */
int  transcript_step_turn(const struct transcript *t, int from, int dir, const struct tr_entry *skip);
/* Every turn follows the global switch again. */
void transcript_reasoning_follow_all(struct transcript *t);

/* Streaming into an assistant entry. */
int  tr_append(struct tr_entry *e, enum ui_channel ch, const char *text, size_t len, int tokens, double now);
void tr_finish(struct tr_entry *e, bool interrupted, const struct ui_stats *final, double now);

/* Seconds the entry has been (or was) reasoning. */
double tr_think_seconds(const struct tr_entry *e, double now);

/* Lay the entry out for width cells (no-op when cached). 0, or -1 when
 * out of memory. Lines point into the entry's buffers. */
int  tr_layout(struct tr_entry *e, int width, enum tr_reasoning_mode mode);
/* The reasoning wrapped for the reasoning pane. */
int  tr_layout_reasoning(struct tr_entry *e, int width);
/* The bytes a line shows (pointer and length). */
const char *tr_line_text(const struct tr_entry *e, const struct tr_line *l, size_t *len);

#endif
