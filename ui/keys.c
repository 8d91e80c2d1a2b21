/* The layer in front of readline: bytes from the terminal are cut into
 * keys (one byte, or a whole escape sequence); the keys the screen owns
 * (scrolling, the mouse wheel, Ctrl-C, Esc, the reasoning toggle, Ctrl-Z,
 * Ctrl-L, bracketed paste) are handled here, every other key goes to
 * readline whole. A lone Esc is told from the start of a sequence by a
 * short wait (input_flush_pending). */
#include "ui/ui_internal.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

static char pre[256];                   /* bytes not yet cut into keys */
static size_t pre_n;

/* Length of the key at p: one byte, or a whole escape sequence (CSI with
 * its parameters, SS3 plus one byte, Alt plus one byte). 0: incomplete. */
static size_t key_len(const char *p, size_t n)
{
	size_t i;

	if (p[0] != '\033')
		return 1;
	if (n < 2)
		return 0;
	if (p[1] == '[') {
		for (i = 2; i < n && (unsigned char)p[i] >= 0x20 && (unsigned char)p[i] <= 0x3F; i++)
			;
		if (i == n)
			return i < 64 ? 0 : n;
		return (unsigned char)p[i] >= 0x40 && (unsigned char)p[i] <= 0x7E ? i + 1 : 2;
	}
	if (p[1] == 'O')
		return n >= 3 ? 3 : 0;
	if (p[1] == '\033')
		return 1;
	return 2;
}

static const char *const fn_keys[13] = {
	NULL, "\033OP", "\033OQ", "\033OR", "\033OS", "\033[15~", "\033[17~", "\033[18~",
	"\033[19~", "\033[20~", "\033[21~", "\033[23~", "\033[24~",
};

void ui_key_name(const struct ui_key *k, char *buf, size_t n)
{
	if (k->kind == UI_KEY_FN)
		snprintf(buf, n, "F%d", k->code);
	else
		snprintf(buf, n, "%s-%c", k->kind == UI_KEY_CTRL ? "Ctrl" : "Alt", k->code - 32);
}

static bool is_reasoning_key(const struct ui *ui, const char *k, size_t n)
{
	int code = ui->cfg.reasoning_key.code;

	switch (ui->cfg.reasoning_key.kind) {
	case UI_KEY_CTRL:
		return n == 1 && code >= 'a' && code <= 'z' && (unsigned char)k[0] == (unsigned char)(code - 'a' + 1);
	case UI_KEY_ALT:
		return n == 2 && k[0] == '\033' && k[1] == code;
	case UI_KEY_FN:
		return code >= 1 && code <= 12 && strlen(fn_keys[code]) == n && !memcmp(k, fn_keys[code], n);
	}
	return false;
}

static bool key_is(const char *k, size_t n, const char *seq)
{
	return strlen(seq) == n && !memcmp(k, seq, n);
}

/* SGR mouse report ESC [ < b ; x ; y M (press) or m (release): the wheel
 * scrolls, a left click on a reasoning line opens or closes it. */
static bool mouse_key(struct ui *ui, const char *k, size_t n)
{
	int b, x, y;
	char fin;

	if (n < 6 || k[2] != '<')
		return false;
	if (sscanf(k + 3, "%d;%d;%d%c", &b, &x, &y, &fin) != 4)
		return true;
	if (b == 64)
		ui_scroll(ui, -3);
	else if (b == 65)
		ui_scroll(ui, 3);
	else if (b == 0 && fin == 'M' && ui->overlay == OV_NONE)
		ui_click_row(ui, y - 1);
	return true;
}

static void ctrl_c(struct ui *ui)
{
	double now = ui_now();

	if (ui->overlay != OV_NONE) {
		ui->overlay = OV_NONE;
	} else if (ui->state == UI_GENERATING) {
		ui_cancel(ui);
	} else if (!input_line_empty()) {
		input_set_line(ui, "");
		ui->last_ctrl_c = 0;
	} else if (now - ui->last_ctrl_c < 2.0) {
		ui->quit = true;
	} else {
		ui->last_ctrl_c = now;
		ui_hint(ui, "press Ctrl-C again to leave (or Ctrl-D, /quit)");
	}
	ui->dirty = true;
}

/* Keys while /help or /stats covers the screen. */
static void overlay_key(struct ui *ui, const char *k, size_t n)
{
	if (key_is(k, n, "q") || key_is(k, n, "\033") || key_is(k, n, "\r") || key_is(k, n, " "))
		ui->overlay = OV_NONE;
	else if (key_is(k, n, "\033[5~") || key_is(k, n, "\033[A") || key_is(k, n, "k"))
		ui->overlay_top -= key_is(k, n, "\033[5~") ? 10 : 1;
	else if (key_is(k, n, "\033[6~") || key_is(k, n, "\033[B") || key_is(k, n, "j"))
		ui->overlay_top += key_is(k, n, "\033[6~") ? 10 : 1;
	if (ui->overlay_top < 0)
		ui->overlay_top = 0;
	ui->dirty = true;
}

/* A complete bracketed paste: one insertion, newlines kept, so a pasted
 * block is one message. */
static void paste_done(struct ui *ui)
{
	char *s = ui->paste;
	size_t o = 0;

	if (!s)
		return;
	s[ui->paste_n] = '\0';
	for (size_t i = 0; i < ui->paste_n; i++) {
		if (s[i] == '\r') {
			s[o++] = '\n';
			if (i + 1 < ui->paste_n && s[i + 1] == '\n')
				i++;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	if (ui->overlay == OV_NONE)
		rl_insert_text(s);
	ui->paste_n = 0;
	ui->dirty = true;
}

static void paste_add(struct ui *ui, const char *s, size_t n)
{
	if (ui->paste_n + n + 1 > ui->paste_cap) {
		size_t cap = ui->paste_cap ? ui->paste_cap : 4096;
		char *p;
		while (cap < ui->paste_n + n + 1)
			cap *= 2;
		if (cap > (64u << 20))
			return;         /* a 64 MiB paste is not a message */
		p = realloc(ui->paste, cap);
		if (!p)
			return;
		ui->paste = p;
		ui->paste_cap = cap;
	}
	memcpy(ui->paste + ui->paste_n, s, n);
	ui->paste_n += n;
}

/* Handle one key; returns false when it is readline's. */
static bool own_key(struct ui *ui, const char *k, size_t n)
{
	if (key_is(k, n, "\033[200~")) {
		ui->in_paste = true;
		ui->paste_n = 0;
		return true;
	}
	if (n >= 3 && k[0] == '\033' && k[1] == '[' && k[2] == '<')
		return mouse_key(ui, k, n);
	if (ui->overlay != OV_NONE && !key_is(k, n, "\003")) {
		overlay_key(ui, k, n);
		return true;
	}
	if (is_reasoning_key(ui, k, n)) {
		ui_toggle_reasoning(ui);
		return true;
	}
	if (key_is(k, n, "\003")) {
		ctrl_c(ui);
		return true;
	}
	if (key_is(k, n, "\032")) {                     /* Ctrl-Z */
		ui_suspend(ui);
		return true;
	}
	if (key_is(k, n, "\014")) {                     /* Ctrl-L */
		clearok(curscr, TRUE);
		ui->dirty = true;
		return true;
	}
	if (key_is(k, n, "\033[5~")) {
		ui_scroll(ui, -(ui->conv_rows > 2 ? ui->conv_rows - 1 : 1));
		return true;
	}
	if (key_is(k, n, "\033[6~")) {
		ui_scroll(ui, ui->conv_rows > 2 ? ui->conv_rows - 1 : 1);
		return true;
	}
	if (key_is(k, n, "\033[1;2A") || key_is(k, n, "\033[1;5A")) {
		ui_scroll(ui, -1);
		return true;
	}
	if (key_is(k, n, "\033[1;2B") || key_is(k, n, "\033[1;5B")) {
		ui_scroll(ui, 1);
		return true;
	}
	if (key_is(k, n, "\033[1;5H") || key_is(k, n, "\033[1;2H")) {
		ui_scroll_end(ui, true);
		return true;
	}
	if (key_is(k, n, "\033[1;5F") || key_is(k, n, "\033[1;2F")) {
		ui_forget_pick(ui);
		ui_scroll_end(ui, false);
		return true;
	}
	if (key_is(k, n, "\033[1;3A") || key_is(k, n, "\033[1;3B")) {   /* Alt-Up, Alt-Down */
		ui_pick_turn(ui, k[5] == 'A' ? -1 : 1);
		return true;
	}
	return false;
}

static void process(struct ui *ui)
{
	static const char end_mark[] = "\033[201~";
	size_t i = 0;

	while (i < pre_n && !ui->quit) {
		size_t n;

		if (ui->in_paste) {
			/* everything up to the end marker is text */
			char *m = memmem(pre + i, pre_n - i, end_mark, 6);
			size_t keep;

			if (m) {
				paste_add(ui, pre + i, (size_t)(m - (pre + i)));
				i = (size_t)(m - pre) + 6;
				ui->in_paste = false;
				paste_done(ui);
				continue;
			}
			/* keep a tail that may be the start of the marker */
			keep = 0;
			for (size_t t = 1; t < 6 && t <= pre_n - i; t++)
				if (!memcmp(pre + pre_n - t, end_mark, t))
					keep = t;
			paste_add(ui, pre + i, pre_n - i - keep);
			i = pre_n - keep;
			break;
		}
		n = key_len(pre + i, pre_n - i);
		if (n == 0)
			break;          /* wait for the rest (or the Esc timeout) */
		if (!own_key(ui, pre + i, n))
			input_to_readline(ui, pre + i, n);
		i += n;
	}
	memmove(pre, pre + i, pre_n - i);
	pre_n -= i;
}

void input_feed(struct ui *ui, const unsigned char *buf, size_t n)
{
	while (n) {
		size_t take = sizeof pre - pre_n;

		if (take > n)
			take = n;
		memcpy(pre + pre_n, buf, take);
		pre_n += take;
		buf += take;
		n -= take;
		process(ui);
		if (pre_n == sizeof pre) {      /* an absurd sequence: let it go */
			if (ui->in_paste)
				paste_add(ui, pre, pre_n);
			pre_n = 0;
		}
	}
}

bool input_pending_escape(const struct ui *ui)
{
	(void)ui;
	return pre_n > 0;
}

/* Nothing followed an Esc in time: it was the Esc key itself. */
void input_flush_pending(struct ui *ui)
{
	if (pre_n == 0)
		return;
	if (pre_n == 1 && pre[0] == '\033') {
		pre_n = 0;
		if (ui->overlay != OV_NONE) {
			ui->overlay = OV_NONE;
		} else if (ui->state == UI_GENERATING) {
			ui_cancel(ui);
		} else {
			input_to_readline(ui, "\033", 1);
		}
		ui->dirty = true;
		return;
	}
	/* an incomplete sequence: readline may make sense of it */
	input_to_readline(ui, pre, pre_n);
	pre_n = 0;
}
