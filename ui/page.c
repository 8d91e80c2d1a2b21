/* Pages for the full-screen views; see page.h. */
#include "ui/page.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/ui_internal.h"

void page_add(struct page *p, unsigned attr, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		struct page_line *v = realloc(p->v, cap * sizeof *v);
		if (!v)
			return;
		p->v = v;
		p->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		p->v[p->n++] = (struct page_line){ attr, s };
}

void page_show(struct page *p, int y, int rows, int width, int *top)
{
	int max_top = (int)p->n > rows ? (int)p->n - rows : 0;

	if (*top > max_top)
		*top = max_top;
	if (*top < 0)
		*top = 0;
	for (int r = 0; r < rows && (size_t)(*top + r) < p->n; r++) {
		const struct page_line *l = &p->v[*top + r];
		screen_put_text(y + r, 1, width - 2, l->text, strlen(l->text), l->attr);
	}
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].text);
	free(p->v);
	memset(p, 0, sizeof *p);
}
