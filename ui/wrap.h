/* Display width of UTF-8 text in terminal cells, and wrapping by it. Pure:
 * no locale, no curses. The width table is our own (ui/width_table.h,
 * generated from Unicode data) because glibc's wcwidth lags Unicode and
 * depends on the locale, and the wrapper must agree with the drawer. */
#ifndef GLM_UI_WRAP_H
#define GLM_UI_WRAP_H

#include <stddef.h>
#include <stdint.h>

#define WRAP_TAB 8              /* tab stops every 8 cells */

/* Decode the UTF-8 sequence at s (len > 0): the code point in *cp, returns
 * the bytes used (>= 1). Invalid, overlong or truncated input gives U+FFFD
 * and consumes one byte, so a caller always makes progress. */
size_t utf8_next(const char *s, size_t len, uint32_t *cp);

/* Cells one code point takes: 0 (combining mark, zero-width or format
 * character), 1, or 2 (CJK, emoji, fullwidth). Control characters report 1:
 * the screen draws them as U+FFFD, never sends them to the terminal. */
int cp_width(uint32_t cp);

/* One grapheme-ish cluster starting at s: a base character followed by
 * every zero-width character, and whatever a zero-width joiner glues on.
 * Returns its length in bytes (>= 1); *width gets its cells when drawn
 * at column col (a tab reaches the next tab stop; a newline is 0). */
size_t cluster_next(const char *s, size_t len, int col, int *width);

/* Cells text[0..len) occupies when drawn from column col. */
int text_width(const char *s, size_t len, int col);

/* The visual lines of a text: byte ranges into it and their widths. */
struct wrap_line { size_t off, len; int width; };
struct wrap_lines { struct wrap_line *v; size_t n, cap; };

/* Break s[0..len) into lines of at most width cells (width < 1 counts as
 * 1): at every newline, otherwise after the last space that fits, otherwise
 * between clusters (never inside one). The spaces at a soft break are
 * dropped; an empty text or an empty line between newlines gives an empty
 * line. A single cluster wider than width gets a line of its own. Appends
 * to out; returns 0, or -1 when out of memory. */
int  wrap_text(const char *s, size_t len, int width, struct wrap_lines *out);
void wrap_lines_free(struct wrap_lines *l);

#endif
