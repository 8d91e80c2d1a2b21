/* Display width and wrapping; see wrap.h. */
#include "ui/wrap.h"

#include <stdbool.h>
#include <stdlib.h>

#include "ui/width_table.h"

#define REPLACEMENT 0xFFFD
#define ZWJ 0x200D

size_t utf8_next(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2; c &= 0x1F; min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3; c &= 0x0F; min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		goto bad;
	}
	if (len < n)
		goto bad;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3F);
	}
	/* overlong forms, surrogates and beyond U+10FFFF are not characters */
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = REPLACEMENT;
	return 1;
}

static bool in_table(const struct width_range *t, size_t n, uint32_t cp)
{
	size_t lo = 0, hi = n;

	if (n == 0 || cp < t[0].lo || cp > t[n - 1].hi)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp > t[mid].hi)
			lo = mid + 1;
		else if (cp < t[mid].lo)
			hi = mid;
		else
			return true;
	}
	return false;
}

int cp_width(uint32_t cp)
{
	if (cp >= 0x20 && cp < 0x7F)
		return 1;
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
		return 1;       /* drawn as U+FFFD */
	if (in_table(width_zero, sizeof width_zero / sizeof width_zero[0], cp))
		return 0;
	if (in_table(width_wide, sizeof width_wide / sizeof width_wide[0], cp))
		return 2;
	return 1;
}

size_t cluster_next(const char *s, size_t len, int col, int *width)
{
	uint32_t cp;
	size_t i = utf8_next(s, len, &cp);

	if (cp == '\n') {
		*width = 0;
		return i;
	}
	*width = cp == '\t' ? WRAP_TAB - col % WRAP_TAB : cp_width(cp);
	/* Zero-width characters ride on the base; a joiner takes the next
	 * character along too (emoji ZWJ sequences are one glyph). A control
	 * character stands alone: it is drawn as a replacement glyph. */
	if ((cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp < 0xA0))
		return i;
	while (i < len) {
		uint32_t next;
		size_t n = utf8_next(s + i, len - i, &next);

		if (next == ZWJ) {
			i += n;
			if (i < len) {
				n = utf8_next(s + i, len - i, &next);
				if (next < 0x20 || next == 0x7F)
					break;
				i += n;
			}
			continue;
		}
		if (next < 0xA0 || cp_width(next) != 0)
			break;
		i += n;
	}
	return i;
}

int text_width(const char *s, size_t len, int col)
{
	int start = col;

	for (size_t i = 0; i < len;) {
		int w;
		i += cluster_next(s + i, len - i, col, &w);
		col += w;
	}
	return col - start;
}

static int push(struct wrap_lines *out, size_t off, size_t len, int width)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? 2 * out->cap : 16;
		struct wrap_line *v = realloc(out->v, cap * sizeof *v);
		if (!v)
			return -1;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = (struct wrap_line){ off, len, width };
	return 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One logical line (no newline inside) s[a..b), greedy. Blanks (spaces,
 * tabs) are where a line may break, and are dropped there. */
static int wrap_logical(const char *s, size_t a, size_t b, int width, struct wrap_lines *out)
{
	size_t start = a, i = a;
	size_t brk = 0;                 /* where the last soft break may go */
	int brk_col = 0, col = 0;
	bool have_brk = false;

	while (i < b) {
		int w;
		size_t n = cluster_next(s + i, b - i, col, &w);

		if (col + w > width && col > 0) {
			size_t next;

			if (blank(s[i])) {
				/* the overflow is a blank: break where its run began */
				size_t r = i;
				while (r > start && blank(s[r - 1]))
					r--;
				if (r > start) {
					brk = r;
					brk_col = text_width(s + start, r - start, 0);
					have_brk = true;
				}
			}
			if (have_brk) {
				if (push(out, start, brk - start, brk_col))
					return -1;
				next = brk;
				while (next < b && blank(s[next])) {
					int cw;
					next += cluster_next(s + next, b - next, 0, &cw);
				}
			} else {
				if (push(out, start, i - start, col))
					return -1;
				next = i;
			}
			if (next >= b)
				return 0;       /* only blanks were left */
			start = next;
			have_brk = false;
			if (i < start)          /* the break skipped blanks past i */
				i = start;
			col = text_width(s + start, i - start, 0);
			continue;
		}
		if (blank(s[i]) && col > 0 && (i == start || !blank(s[i - 1]))) {
			brk = i;
			brk_col = col;
			have_brk = true;
		}
		col += w;
		i += n;
	}
	return push(out, start, b - start, col);
}

int wrap_text(const char *s, size_t len, int width, struct wrap_lines *out)
{
	size_t a = 0;

	if (width < 1)
		width = 1;
	for (;;) {
		size_t b = a;

		while (b < len && s[b] != '\n')
			b++;
		if (wrap_logical(s, a, b, width, out))
			return -1;
		if (b >= len)
			return 0;
		a = b + 1;
	}
}

void wrap_lines_free(struct wrap_lines *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
