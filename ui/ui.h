/* The chat screen's interface to the program. The screen knows nothing of
 * the engine: the glue in src/ feeds it events as plain structs of its own
 * and hears about what the user does through callbacks. Every function
 * here runs on the main thread; the glue's worker only writes to the wake
 * fd, and the screen calls back `wake` to have the events drained. */
#ifndef GLM_UI_H
#define GLM_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ui_command;              /* ui/commands.h */

enum ui_channel { UI_REASONING = 0, UI_ANSWER = 1 };
enum ui_role { UI_ROLE_USER, UI_ROLE_ASSISTANT, UI_ROLE_SYSTEM };

/* Where the model's memory is: idle sleep releases it (--sleep-idle-seconds). */
enum ui_model_state { UI_MODEL_AWAKE, UI_MODEL_SLEEPING, UI_MODEL_WAKING };

/* A statistics snapshot, as the status bar shows it. Unknown numbers are
 * negative (or empty strings). */
struct ui_stats {
	char backend[16], kv_type[16], model[64];
	bool generating;
	int64_t n_prompt, n_gen, n_reasoning, n_answer;
	double prompt_tps;              /* prompt tokens/s, current or last turn */
	double gen_tps;                 /* generation tokens/s, turn average */
	double gen_tps_recent;          /* over the last second or so */
	double ttft_ms;
	int64_t ctx_used, ctx_size;
	int64_t mem_used, mem_total;    /* bytes */
	bool mem_is_vram;               /* VRAM (CUDA) rather than RAM (CPU) */
	enum ui_model_state model_state;        /* the screen fills this in */
	char note[80];                  /* a standing note (the demo model's); may be empty */
};
void ui_stats_init(struct ui_stats *s);

enum ui_event_kind {
	UI_EV_LOAD_PROGRESS,    /* fraction */
	UI_EV_LOADED,           /* stats (names, sizes) */
	UI_EV_LOAD_FAILED,      /* text: the error */
	UI_EV_TURN_BEGIN,       /* channel: where the output starts */
	UI_EV_PIECE,            /* channel, text/len */
	UI_EV_STATS,            /* stats */
	UI_EV_TURN_END,         /* interrupted, text: stop reason, stats: final */
	UI_EV_INFO,             /* text: a line for the user */
	UI_EV_ERROR,            /* text */
	UI_EV_CLEAR,            /* forget the transcript (/clear, /load) */
	UI_EV_HISTORY,          /* role, text, reasoning: an earlier message (/load) */
	UI_EV_THINKING,         /* on: the template's thinking switch changed (/load) */
	UI_EV_SLEEPING,         /* the model's memory is released; text: a note or empty; stats */
	UI_EV_WAKING,           /* a turn reloads it */
	UI_EV_AWAKE,            /* reloaded; text: how long it took; stats */
};

struct ui_event {
	enum ui_event_kind kind;
	float fraction;
	enum ui_channel channel;
	enum ui_role role;
	const char *text;               /* not owned; UTF-8 */
	size_t len;
	int tokens;                     /* PIECE: tokens the text holds (pieces come batched) */
	const char *reasoning;          /* HISTORY only; may be NULL */
	bool interrupted;
	bool on;                        /* THINKING */
	struct ui_stats stats;
};

struct ui_callbacks {
	void *user;
	/* Send a message (a turn starts; its events follow). 0, or -1 with a
	 * reason in msg (e.g. the model is still loading). */
	int  (*send)(void *user, const char *text, char *msg, size_t msglen);
	/* Stop the current generation, keeping what was generated. */
	void (*cancel)(void *user);
	/* Slash commands the screen does not handle itself: /clear /system
	 * /think /set /regen /edit /save /load /export. 0 ok, -1 error; a
	 * non-empty msg is shown either way. /edit returns the message to edit
	 * in *text_out (malloc'd, the screen frees it). */
	int  (*command)(void *user, const struct ui_command *cmd, char **text_out,
	                char *msg, size_t msglen);
	/* The wake fd is readable: drain it and feed the events to ui_event(). */
	void (*wake)(void *user);
	/* A few times a second while a turn runs: a chance to poll statistics. */
	void (*tick)(void *user);
	/* The user has been idle for idle_seconds: release the model's memory.
	 * 0 when it will be (an UI_EV_SLEEPING follows), -1 when not now. */
	int  (*idle)(void *user);
};

/* A key the user may choose for the reasoning toggle (default Ctrl-T). */
enum ui_key_kind { UI_KEY_CTRL, UI_KEY_ALT, UI_KEY_FN };
struct ui_key {
	enum ui_key_kind kind;
	int code;                       /* 'a'..'z' for CTRL/ALT; 1..12 for FN */
};

/* Terminal colour numbers (-1: the terminal's default; UI_COLOR_AUTO: ours). */
#define UI_COLOR_AUTO (-2)
struct ui_colors { int user, answer, reasoning, status, notice; };

struct ui_config {
	const char *model_name;
	int wake_fd;                    /* readable when events wait; -1: none */
	const char *history_file;       /* NULL: history kept for the session only */
	bool thinking;                  /* the template's thinking switch, for display */
	bool show_reasoning;            /* the reasoning pane starts open */
	bool no_color;                  /* NO_COLOR or the like */
	bool mouse;                     /* capture the wheel (off: terminal selection) */
	int idle_seconds;               /* > 0: call idle() after this long without activity */
	const char *status_note;        /* always in the status bar (the demo's warning); NULL: none */
	struct ui_key reasoning_key;
	struct ui_colors colors;
};
/* Defaults: Ctrl-T, our colours, mouse on, reasoning shown, thinking on. */
void ui_config_init(struct ui_config *c);

struct ui;

/* Takes over the terminal (ncurses, readline, signal handlers that restore
 * the terminal on any exit). 0 or -1 with err. */
int  ui_open(const struct ui_config *cfg, const struct ui_callbacks *cb, struct ui **out,
             char *err, size_t errlen);
/* Feed one event; the screen copies what it keeps. */
void ui_event(struct ui *ui, const struct ui_event *ev);
/* The event loop: returns the exit status when the user quits (0) or a
 * signal ends it (128 + signal). */
int  ui_run(struct ui *ui);
/* Gives the terminal back (idempotent) and frees the screen. */
void ui_close(struct ui *ui);
/* For fatal paths (the engine's fatal hook): restore the terminal now. */
void ui_emergency_restore(void);

#endif
