/* Ctrl-X Ctrl-E: the message being typed goes to $VISUAL or $EDITOR and
 * comes back, as in bash. The screen is suspended while the editor has
 * the terminal. */
#include "ui/ui_internal.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <readline/readline.h>

#include "ui/term_restore.h"

/* Ctrl-X Ctrl-E: the line goes to $VISUAL / $EDITOR and comes back. */
int input_edit_in_editor(int count, int key)
{
	struct ui *ui = ui_active;
	char path[] = "/tmp/glmchat-edit-XXXXXX.md", cmd[1024], *text = NULL;
	const char *ed = getenv("VISUAL");
	sigset_t block, old;
	struct sigaction ign = { 0 }, prev;
	int fd, status;
	pid_t pid;

	(void)count; (void)key;
	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	fd = mkstemps(path, 3);
	if (fd < 0) {
		ui_hint(ui, "editor: cannot create a temporary file: %s", strerror(errno));
		return 0;
	}
	if (write(fd, rl_line_buffer, (size_t)rl_end) != rl_end) {
		close(fd);
		unlink(path);
		ui_hint(ui, "editor: cannot write %s", path);
		return 0;
	}
	close(fd);
	snprintf(cmd, sizeof cmd, "%s \"$1\"", ed);

	/* While the editor has the terminal, Ctrl-C belongs to it. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	term_modes_off();
	def_prog_mode();
	endwin();
	ui->in_editor = true;
	pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	ui->in_editor = false;
	/* a Ctrl-C typed in the editor is not for us: discard it */
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &prev);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGINT, &prev, NULL);
	reset_prog_mode();
	clearok(curscr, TRUE);
	refresh();
	term_modes_on(ui->cfg.mouse);

	if (pid > 0) {
		FILE *f = fopen(path, "r");
		if (f) {
			size_t cap = 1 << 20, n;
			text = malloc(cap + 1);
			if (text) {
				n = fread(text, 1, cap, f);
				while (n && text[n - 1] == '\n')
					n--;
				text[n] = '\0';
			}
			fclose(f);
		}
	}
	unlink(path);
	if (text) {
		input_set_line(ui, text);
		free(text);
	} else {
		ui_hint(ui, "editor: could not run '%s'", ed);
	}
	ui->dirty = true;
	return 0;
}
