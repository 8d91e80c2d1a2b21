/* /copy: the last answer to the clipboard. Two ways, both tried: OSC 52
 * through the terminal (works over ssh; inside tmux it needs
 * set-clipboard), and the desktop's own tool when one is there (wl-copy
 * under Wayland, xclip or xsel under X, pbcopy on macOS), for the many
 * terminals that ignore OSC 52. */
#include "ui/ui_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOOL_WAIT_MS 2000               /* a clipboard tool that hangs is given up */

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

static int osc52(const char *s, size_t n)
{
	char *b64 = base64(s, n);
	int rc;

	if (!b64)
		return -1;
	fflush(stdout);
	rc = write(1, "\033]52;c;", 7) < 0 || write(1, b64, strlen(b64)) < 0 || write(1, "\a", 1) < 0 ? -1 : 0;
	free(b64);
	return rc;
}

/* The desktop clipboard tools, in order; each only where its display is. */
struct tool {
	const char *env;                /* must be set (NULL: no condition) */
	const char *const argv[4];
};
static const struct tool tools[] = {
	{ "WAYLAND_DISPLAY", { "wl-copy", NULL } },
	{ "DISPLAY", { "xclip", "-selection", "clipboard", NULL } },
	{ "DISPLAY", { "xsel", "--clipboard", "--input", NULL } },
	{ NULL, { "pbcopy", NULL } },
};

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		struct stat st;

		if (snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? path : ".", prog) < (int)sizeof buf &&
		    stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

static const struct tool *find_tool(void)
{
	for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
		const char *display = tools[i].env ? getenv(tools[i].env) : NULL;

		if (tools[i].env && (!display || !*display))
			continue;
		if (in_path(tools[i].argv[0]))
			return &tools[i];
	}
	return NULL;
}

static double now_ms(void)
{
	return ui_now() * 1000.0;
}

/* Feed s to the tool's stdin; its output goes nowhere (the screen is
 * ours). xclip and wl-copy fork a server that keeps the selection and
 * exit; a tool that does neither within TOOL_WAIT_MS is stopped. */
static int run_tool(const struct tool *t, const char *s, size_t n)
{
	double deadline = now_ms() + TOOL_WAIT_MS;
	int in[2], status = 0;
	size_t off = 0;
	pid_t pid, r;

	if (pipe(in))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(in[0], 0);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		close(in[0]);
		close(in[1]);
		signal(SIGPIPE, SIG_DFL);
		execvp(t->argv[0], (char *const *)t->argv);
		_exit(127);
	}
	close(in[0]);
	fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
	while (off < n && now_ms() < deadline) {
		struct pollfd p = { in[1], POLLOUT, 0 };
		ssize_t w;

		if (poll(&p, 1, 50) <= 0)
			continue;
		w = write(in[1], s + off, n - off);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			break;          /* EPIPE: it stopped reading (SIGPIPE is ignored) */
		if (w > 0)
			off += (size_t)w;
	}
	close(in[1]);
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (r == 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		return -1;
	}
	return r == pid && off == n && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

void ui_copy_last_answer(struct ui *ui)
{
	struct tr_entry *e = transcript_last_assistant(&ui->tr);
	const struct tool *t;
	bool term_ok, tool_ok = false;

	if (!e || !e->text.n) {
		ui_notice(ui, TR_ERROR, "/copy: there is no answer yet");
		return;
	}
	term_ok = osc52(e->text.s, e->text.n) == 0;
	t = find_tool();
	if (t)
		tool_ok = run_tool(t, e->text.s, e->text.n) == 0;
	if (tool_ok)
		ui_hint(ui, "copied the last answer (%zu bytes) with %s and OSC 52", e->text.n, t->argv[0]);
	else if (term_ok && t)
		ui_hint(ui, "copied the last answer (%zu bytes) with OSC 52 (%s failed)", e->text.n, t->argv[0]);
	else if (term_ok)
		ui_hint(ui, "copied the last answer (%zu bytes) with OSC 52 (your terminal must allow it)",
		        e->text.n);
	else
		ui_notice(ui, TR_ERROR, "/copy: cannot write to the terminal");
}
