/* Display width and wrapping (ui/wrap.c). Widths are the Unicode facts
 * (East Asian Width W/F = 2 cells, marks = 0); the wrapping properties are
 * checked on every line, plus random texts at many widths. */
#include "tests/tap.h"
#include "ui/wrap.h"
#include "ui/transcript.h"

#define E_ACUTE "e\xcc\x81"             /* e + COMBINING ACUTE ACCENT */
#define ZHONG "\xe4\xb8\xad"            /* U+4E2D CJK, wide */
#define WEN "\xe6\x96\x87"              /* U+6587 CJK, wide */
#define GRIN "\xf0\x9f\x98\x80"         /* U+1F600 emoji, wide */
#define WOMAN "\xf0\x9f\x91\xa9"        /* U+1F469 */
#define ZWJ "\xe2\x80\x8d"
#define LAPTOP "\xf0\x9f\x92\xbb"       /* U+1F4BB */
#define HANGUL "\xed\x95\x9c"           /* U+D55C */
#define FW_A "\xef\xbc\xa1"             /* U+FF21 FULLWIDTH LATIN CAPITAL A */

static int w(const char *s) { return text_width(s, strlen(s), 0); }

/* Bytes a wrap may drop: blanks and newlines, and marks riding on a blank. */
static int droppable(const char *s, size_t a, size_t b)
{
	while (a < b) {
		uint32_t cp;
		a += utf8_next(s + a, b - a, &cp);
		if (cp != ' ' && cp != '\t' && cp != '\n' && !(cp >= 0x300 && cp_width(cp) == 0))
			return 0;
	}
	return 1;
}

/* Clusters that take cells (a lone mark at a line's start takes none). */
static int visible_clusters(const char *s, size_t len)
{
	int n = 0, col = 0;

	for (size_t i = 0; i < len;) {
		int w;
		i += cluster_next(s + i, len - i, col, &w);
		col += w;
		n += w > 0;
	}
	return n;
}

/* Every line fits, no cluster is split, and the text minus dropped spaces
 * and newlines is exactly the lines joined. */
static int check_wrap(const char *s, int width, struct wrap_lines *l)
{
	size_t len = strlen(s), pos = 0;

	l->n = 0;
	if (wrap_text(s, len, width, l))
		return 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct wrap_line *x = &l->v[i];
		if (x->width != text_width(s + x->off, x->len, 0))
			return 0;
		if (x->width > width && visible_clusters(s + x->off, x->len) != 1)
			return 0;       /* too wide, and not a single glyph */
		if (x->off < pos)
			return 0;
		if (!droppable(s, pos, x->off))
			return 0;
		if (x->len) {
			uint32_t cp;
			utf8_next(s + x->off, x->len, &cp);
			if (x->off > 0 && s[x->off - 1] != '\n' && cp_width(cp) == 0 && cp >= 0x300)
				return 0;       /* a soft break never strands a combining mark */
		}
		pos = x->off + x->len;
	}
	return droppable(s, pos, len);
}

static const char *line_str(const char *s, const struct wrap_line *x)
{
	static char buf[256];
	snprintf(buf, sizeof buf, "%.*s", (int)x->len, s + x->off);
	return buf;
}

int main(void)
{
	struct wrap_lines l = { 0 };
	uint32_t cp;

	/* decoding */
	is_int(utf8_next(ZHONG, 3, &cp), 3, "3-byte sequence decodes in 3 bytes");
	is_int(cp, 0x4E2D, "...to U+4E2D");
	is_int(utf8_next("\xc0\xaf", 2, &cp), 1, "overlong '/' consumes one byte");
	is_int(cp, 0xFFFD, "...as U+FFFD");
	is_int(utf8_next("\xed\xa0\x80", 3, &cp), 1, "a surrogate is invalid");
	is_int(utf8_next("\xe4\xb8", 2, &cp), 1, "a truncated sequence consumes one byte");

	/* widths */
	is_int(w("hello"), 5, "ASCII: one cell each");
	is_int(w(ZHONG WEN), 4, "CJK: two cells each");
	is_int(w(GRIN), 2, "emoji: two cells");
	is_int(w(E_ACUTE), 1, "e + combining acute: one cell");
	is_int(w(HANGUL), 2, "Hangul syllable: two cells");
	is_int(w(FW_A), 2, "fullwidth A: two cells");
	is_int(w(WOMAN ZWJ LAPTOP), 2, "ZWJ sequence (woman technologist): one glyph, two cells");
	is_int(w("\xe2\x80\x8b"), 0, "zero width space: no cell");
	is_int(w("\t"), 8, "tab at column 0: 8 cells");
	is_int(text_width("\t", 1, 3), 5, "tab at column 3: to column 8");
	is_int(w("ab\tc"), 9, "ab<tab>c: 9 cells");
	is_int(w("\x1b[31m"), 5, "ESC counts one cell (drawn as a replacement glyph)");
	is_int(w("\xff"), 1, "an invalid byte: one replacement cell");
	{
		int cw;
		size_t n = cluster_next(E_ACUTE "x", 4, 0, &cw);
		is_int(n, 3, "a cluster holds the base and its combining mark");
		n = cluster_next(WOMAN ZWJ LAPTOP "x", 11, 0, &cw);
		is_int(n, 11, "a cluster holds the whole ZWJ sequence");
	}

	/* word wrap */
	ok(check_wrap("hello world foo", 11, &l) && l.n == 2, "\"hello world foo\" at 11: two lines");
	is_str(line_str("hello world foo", &l.v[0]), "hello world", "...first line");
	is_str(line_str("hello world foo", &l.v[1]), "foo", "...second line, break space dropped");
	ok(check_wrap("hello world", 5, &l) && l.n == 2, "\"hello world\" at 5: two lines");
	is_str(line_str("hello world", &l.v[1]), "world", "...the space at the break is dropped");
	ok(check_wrap("abcdefghij", 4, &l) && l.n == 3, "a long word is broken hard: 3 lines at 4");
	is_int(l.v[2].width, 2, "...the last holds 2 cells");
	ok(check_wrap(ZHONG WEN ZHONG WEN ZHONG, 5, &l) && l.n == 3, "5 CJK at width 5: 2+2+1 per line");
	is_int(l.v[0].width, 4, "...a wide char that does not fit moves down (4 cells used)");
	ok(check_wrap("a" GRIN GRIN, 4, &l) && l.n == 2 && l.v[0].width == 3, "emoji wrap by cells");
	ok(check_wrap("ab" E_ACUTE "cd", 3, &l) && l.n == 2 && l.v[0].len == 5,
	   "a combining mark stays with its base at the break");
	ok(check_wrap("one\n\ntwo", 80, &l) && l.n == 3 && l.v[1].len == 0, "an empty line between newlines is kept");
	ok(check_wrap("", 10, &l) && l.n == 1 && l.v[0].len == 0, "empty text: one empty line");
	ok(check_wrap("a\tb", 4, &l) && l.n == 2, "a tab that overflows wraps");
	ok(check_wrap("word   ", 4, &l) && l.n == 1, "trailing spaces past the edge make no extra line");
	ok(check_wrap("a   b", 2, &l) && l.n == 2 && l.v[0].len == 1, "a run of spaces is dropped at the break");
	ok(check_wrap("ab   c", 3, &l) && l.n == 2 && l.v[1].len == 1, "a space run crossing the edge is dropped whole");
	ok(check_wrap(GRIN, 1, &l) && l.n == 1, "a cluster wider than the width gets its own line");

	/* re-wrap: the same text at every width from 1 to 60 */
	{
		const char *t = "The quick " ZHONG WEN " brown fox " GRIN " jumps\tover the lazy "
		                E_ACUTE "dog. " WOMAN ZWJ LAPTOP " end\nsecond line  with  spaces";
		int good = 1;
		for (int width = 1; width <= 60; width++)
			good &= check_wrap(t, width, &l);
		ok(good, "mixed text wraps correctly at every width 1..60");
	}

	/* random texts: properties hold, nothing crashes */
	{
		static const char *const atoms[] = { "a", "bc", " ", "  ", "\n", "\t", ZHONG, GRIN,
		                                     E_ACUTE, WOMAN ZWJ LAPTOP, "\xff", "\xcc\x81", "word" };
		unsigned seed = 12345;
		int good = 1;
		for (int iter = 0; iter < 2000; iter++) {
			char t[400];
			size_t n = 0;
			int atoms_n = (int)(sizeof atoms / sizeof atoms[0]);
			for (int k = 0; k < 40; k++) {
				const char *a;
				seed = seed * 1103515245u + 12345u;
				a = atoms[(seed >> 16) % atoms_n];
				memcpy(t + n, a, strlen(a));
				n += strlen(a);
			}
			t[n] = '\0';
			seed = seed * 1103515245u + 12345u;
			if (!check_wrap(t, 1 + (int)((seed >> 16) % 30), &l) && good) {
				good = 0;
				diag("fails at width %d:", 1 + (int)((seed >> 16) % 30));
				for (size_t k = 0; k < n; k++)
					printf("%s%02x", k ? " " : "# ", (unsigned char)t[k]);
				printf("\n");
			}
		}
		ok(good, "2000 random texts keep the wrapping properties");
	}
	/* the conversation's layout: code blocks set apart, reasoning modes,
	 * re-wrapping at another width */
	{
		static const char answer[] = "Here is code:\n```c\nint main(void) { return 0; }\n```\nDone.";
		struct transcript t;
		struct tr_entry *e;
		int styles[8] = { 0 }, code_indent = -1;

		transcript_init(&t);
		e = transcript_add(&t, TR_ASSISTANT, "", 0);
		ok(e != NULL, "an assistant entry");
		e->t_start = 1.0;               /* as the screen does at the turn's start */
		e->streaming = e->in_reasoning = true;
		tr_append(e, UI_REASONING, "\nthinking it over", 17, 3, 1.0);
		tr_append(e, UI_ANSWER, "", 0, 1, 2.5);        /* </think> */
		tr_append(e, UI_ANSWER, answer, strlen(answer), 12, 3.0);
		tr_finish(e, false, NULL, 4.0);
		is_int(e->n_reasoning, 3, "reasoning tokens counted from the pieces");
		ok(tr_think_seconds(e, 9.0) > 1.49 && tr_think_seconds(e, 9.0) < 1.51,
		   "reasoning time runs from the turn's start to </think>");
		is_str(e->reasoning.s, "thinking it over", "the reasoning's leading newline is dropped");
		tr_layout(e, 40, TR_REASONING_SUMMARY);
		for (size_t i = 0; i < e->n_lines; i++) {
			if (e->lines[i].style < 8)
				styles[e->lines[i].style]++;
			if (e->lines[i].style == TS_CODE)
				code_indent = e->lines[i].indent;
		}
		is_int(styles[TS_FENCE], 2, "both fences of the code block are marked");
		is_int(styles[TS_CODE], 1, "the code line is set apart");
		ok(code_indent > 2, "code is indented beyond the answer text");
		is_int(styles[TS_ANSWER], 2, "the prose lines around it are answer text");
		ok(e->n_lines && e->lines[1].style == TS_SUMMARY, "collapsed: one summary line for the reasoning");
		tr_layout(e, 40, TR_REASONING_FULL);
		ok(e->lines[1].style == TS_REASONING_HEAD && e->lines[2].style == TS_REASONING,
		   "expanded: a head line, then the reasoning's own lines");
		tr_layout(e, 12, TR_REASONING_FULL);
		{
			int fits = 1;
			for (size_t i = 0; i < e->n_lines; i++) {
				size_t len;
				const char *s = tr_line_text(e, &e->lines[i], &len);
				if (e->lines[i].src != SRC_HEAD && e->lines[i].src != SRC_SUMMARY &&
				    e->lines[i].indent + text_width(s, len, 0) > 12)
					fits = 0;
			}
			ok(fits, "re-laid out at 12 columns, every line fits");
		}
		transcript_free(&t);
	}
	wrap_lines_free(&l);
	return done_testing();
}
