/* Terminal restore on every exit path; see term_restore.h. */
#include "ui/term_restore.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Mouse off (SGR and X10), bracketed paste off, keypad transmit off,
 * cursor visible, attributes reset, leave the alternate screen. Written
 * blind: each is harmless when the mode was not on. */
static const char reset_seq[] =
	"\033[?1006l\033[?1000l\033[?2004l\033[?1l\033>\033[?25h\033[0m\033[?1049l";

static struct termios saved_tio;
static int saved_fd = -1;
static bool saved_ok, installed;
static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t crash_entered;
static char altstack[1 << 16];

static const int term_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void term_restore_emergency(void)
{
	if (saved_fd < 0)
		return;
	write_all(saved_fd == 0 ? 1 : saved_fd, reset_seq, sizeof reset_seq - 1);
	if (saved_ok)
		tcsetattr(saved_fd, TCSANOW, &saved_tio);
}

/* Only a byte into the pipe: the main loop does the work. */
static void on_signal(int sig)
{
	int saved_errno = errno;
	unsigned char b = (unsigned char)sig;

	if (sig_pipe[1] >= 0)
		(void)!write(sig_pipe[1], &b, 1);
	errno = saved_errno;
}

static void on_crash(int sig)
{
	/* a second fault while restoring: give up at once */
	if (crash_entered++)
		_exit(128 + sig);
	term_restore_emergency();
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(128 + sig);
}

static void at_exit(void)
{
	term_restore();
}

int term_restore_init(int fd)
{
	struct sigaction sa;
	stack_t ss;

	if (installed)
		return 0;
	saved_fd = fd;
	saved_ok = tcgetattr(fd, &saved_tio) == 0;
	if (pipe(sig_pipe))
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(sig_pipe[i], F_SETFL, fcntl(sig_pipe[i], F_GETFL) | O_NONBLOCK);
		fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
	}

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++)
		sigaction(term_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	ss.ss_sp = altstack;
	ss.ss_size = sizeof altstack;
	ss.ss_flags = 0;
	sigaltstack(&ss, NULL);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER;
	for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
		sigaction(crash_signals[i], &sa, NULL);
	atexit(at_exit);
	installed = true;
	return 0;
}

int term_signal_fd(void)
{
	return sig_pipe[0];
}

static bool modes_on;

void term_modes_on(bool mouse)
{
	const char *s = mouse ? "\033[?2004h\033[?1000h\033[?1006h" : "\033[?2004h";

	fflush(stdout);
	write_all(1, s, strlen(s));
	modes_on = true;
}

void term_modes_off(void)
{
	static const char s[] = "\033[?1006l\033[?1000l\033[?2004l";

	if (!modes_on)
		return;
	fflush(stdout);
	write_all(1, s, sizeof s - 1);
	modes_on = false;
}

void term_restore(void)
{
	if (saved_fd < 0)
		return;
	term_modes_off();
	if (stdscr && !isendwin())
		endwin();
	if (saved_ok)
		tcsetattr(saved_fd, TCSANOW, &saved_tio);
}

void term_restore_release(void)
{
	struct sigaction sa;

	if (!installed)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++)
		sigaction(term_signals[i], &sa, NULL);
}
