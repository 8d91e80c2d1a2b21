/* The screen's state, shared by the files of ui/ (not by the program). */
#ifndef GLM_UI_INTERNAL_H
#define GLM_UI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include "ui/ui.h"
#include "ui/statusbar.h"
#include "ui/transcript.h"

enum ui_state { UI_LOADING, UI_IDLE, UI_GENERATING, UI_LOAD_FAILED };
enum ui_overlay { OV_NONE, OV_HELP, OV_STATS };

/* Colour pairs (attributes only under NO_COLOR). */
enum ui_pair { P_USER = 1, P_ANSWER, P_REASONING, P_STATUS, P_NOTICE, P_ERROR, P_CODE, P_RULE, P_COUNT };

/* One sample of the session's speed and memory for the /stats plot. */
struct ui_sample { double t, tps, mem; };

struct ui {
	struct ui_config cfg;
	struct ui_callbacks cb;
	char *model_name, *history_file;

	struct transcript tr;
	struct tr_entry *cur;           /* the assistant entry streaming now */
	enum ui_state state;
	float load_fraction;
	bool show_reasoning, thinking;
	int sel_turn;                   /* the answer Alt-Up/Down picked (0: none): the
	                                 * reasoning key then toggles its reasoning alone */

	/* idle sleep: the timer lives here, in the main loop */
	enum ui_model_state model_state;
	double last_active;             /* last key, or the end of the last turn or load */
	bool idle_asked;                /* idle() called since then */
	double wake_since;              /* when the reload began */

	struct ui_stats stats;          /* latest snapshot */
	double spark[SPARK_MAX];        /* one sample per ~0.5 s while generating */
	int n_spark;
	double spark_t;
	struct ui_sample *series;       /* whole session */
	size_t n_series, cap_series;

	/* conversation view: follow the end, or a fixed top line */
	bool follow;
	size_t top_entry, top_line;
	int conv_rows;                  /* rows of the conversation pane at the last draw */
	int *row_turn;                  /* per screen row at the last draw: the turn whose
	                                 * reasoning line is there (0: none), for clicks */
	int n_row_turn;

	enum ui_overlay overlay;
	int overlay_top;

	char hint[256];                 /* a transient line above the input */
	double hint_until;
	double last_ctrl_c;

	/* drawing */
	bool dirty, unicode, color;
	double last_draw;
	unsigned attr[P_COUNT];
	int input_rows;

	/* input */
	int tty;
	unsigned char inq[4096];        /* bytes waiting for readline */
	size_t inq_head, inq_tail;
	char *restore_line;             /* a line to put back after the handler */
	char *paste;                    /* bracketed paste being collected */
	size_t paste_n, paste_cap;
	bool in_paste;
	bool in_editor;

	bool quit;
	int exit_status;
};

extern struct ui *ui_active;    /* readline's callbacks carry no user pointer */

double ui_now(void);
void ui_hint(struct ui *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ui_notice(struct ui *ui, enum tr_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ui_cancel(struct ui *ui);
void ui_submit(struct ui *ui, const char *line);
void ui_touch(struct ui *ui);                   /* the user did something: the idle timer restarts */
void ui_scroll(struct ui *ui, int lines);       /* negative: up */
void ui_scroll_end(struct ui *ui, bool top);
void ui_scroll_to_entry(struct ui *ui, size_t index);   /* unless it is in view already */
void ui_pin_view(struct ui *ui);                /* stop following; keep what is shown where it is */

/* reasoning_view.c: which turns' reasoning is shown */
void ui_toggle_reasoning(struct ui *ui);        /* the key: the picked turn, else all */
int  ui_set_reasoning(struct ui *ui, bool show, int turn, char *msg, size_t msglen);  /* turn 0: all */
void ui_pick_turn(struct ui *ui, int dir);      /* Alt-Up (-1), Alt-Down (+1) */
void ui_click_row(struct ui *ui, int row);      /* a click on a reasoning line toggles it */
void ui_forget_pick(struct ui *ui);
void ui_suspend(struct ui *ui);
void ui_copy_last_answer(struct ui *ui);      /* clipboard.c */

/* screen.c */
void screen_init_colors(struct ui *ui);
void screen_draw(struct ui *ui);
void screen_put_text(int y, int x, int max_cells, const char *s, size_t len, unsigned attr);

/* input.c, keys.c */
void ui_key_name(const struct ui_key *k, char *buf, size_t n);   /* "Ctrl-T", "Alt-R", "F2" */
int  input_init(struct ui *ui);
void input_done(struct ui *ui);
void input_feed(struct ui *ui, const unsigned char *buf, size_t n);
void input_flush_pending(struct ui *ui);        /* a lone Esc after its timeout */
bool input_pending_escape(const struct ui *ui);
int  input_draw(struct ui *ui, int y, int rows, int width, bool place_cursor);
int  input_rows_needed(struct ui *ui, int width);
void input_set_line(struct ui *ui, const char *text);
void input_to_readline(struct ui *ui, const char *bytes, size_t n);
int  input_edit_in_editor(int count, int key);   /* editor.c */
bool input_line_empty(void);

/* stats_view.c, help_view.c */
void stats_view_draw(struct ui *ui, int y, int rows, int width);
void help_view_draw(struct ui *ui, int y, int rows, int width);
void ui_add_sample(struct ui *ui, const struct ui_stats *s, bool turn_end);

#endif
