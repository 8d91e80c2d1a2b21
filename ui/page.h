/* A page of text lines for the full-screen views (/help, /stats): built
 * once per frame, painted from a scroll offset. */
#ifndef GLM_UI_PAGE_H
#define GLM_UI_PAGE_H

#include <stddef.h>

struct page_line { unsigned attr; char *text; };
struct page { struct page_line *v; size_t n, cap; };

void page_add(struct page *p, unsigned attr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Paint rows [y, y+rows) from line *top (clamped so the page is not
 * scrolled past its end), then free the page. */
void page_show(struct page *p, int y, int rows, int width, int *top);

#endif
