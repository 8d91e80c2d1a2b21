/* Giving the terminal back on every way out: normal exit (atexit), the
 * terminating signals (INT, TERM, HUP: turned into bytes on a self-pipe,
 * acted on by the main loop), crashes (SEGV, BUS, FPE, ILL, ABRT: an
 * async-signal-safe handler on its own stack writes the reset sequences,
 * puts the saved termios back and dies of the same signal), and fatal
 * errors we control (term_restore_emergency from a fatal hook). */
#ifndef GLM_UI_TERM_RESTORE_H
#define GLM_UI_TERM_RESTORE_H

#include <stdbool.h>

/* Save the terminal state of fd and install the handlers. Call before
 * initscr, so ncurses does not install its own (unsafe) ones. 0 or -1. */
int  term_restore_init(int fd);
/* The read end of the signal self-pipe; each byte is a signal number. */
int  term_signal_fd(void);
/* Modes we switch on ourselves: mouse reporting and bracketed paste. */
void term_modes_on(bool mouse);
void term_modes_off(void);
/* The orderly path: end curses (once), reset modes, restore termios. */
void term_restore(void);
/* Async-signal-safe: reset sequences and saved termios, nothing else. */
void term_restore_emergency(void);
/* Drop the handlers again (after term_restore, before exiting). */
void term_restore_release(void);

#endif
