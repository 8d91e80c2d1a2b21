/* /copy: the last answer to the clipboard through the terminal (OSC 52),
 * which works over ssh too; inside tmux it needs set-clipboard on. */
#include "ui/ui_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Base64 for OSC 52. */
static char *base64(const char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = malloc(4 * ((n + 2) / 3) + 1), *p = o;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		*p++ = tab[(v >> 18) & 63];
		*p++ = tab[(v >> 12) & 63];
		*p++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*p++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*p = '\0';
	return o;
}

void ui_copy_last_answer(struct ui *ui)
{
	struct tr_entry *e = transcript_last_assistant(&ui->tr);
	char *b64;

	if (!e || !e->text.n) {
		ui_notice(ui, TR_ERROR, "/copy: there is no answer yet");
		return;
	}
	b64 = base64(e->text.s, e->text.n);
	if (!b64) {
		ui_notice(ui, TR_ERROR, "/copy: out of memory");
		return;
	}
	/* OSC 52 goes to the terminal, which puts it on the clipboard (over
	 * ssh too; inside tmux it needs set-clipboard on). */
	fflush(stdout);
	if (write(1, "\033]52;c;", 7) < 0 || write(1, b64, strlen(b64)) < 0 || write(1, "\a", 1) < 0)
		ui_notice(ui, TR_ERROR, "/copy: cannot write to the terminal");
	else
		ui_hint(ui, "copied the last answer (%zu bytes) with OSC 52", e->text.n);
	free(b64);
}
