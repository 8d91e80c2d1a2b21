/* The chat without a screen (stdin or stdout is not a terminal): each
 * line read is a message, each answer goes to stdout as it streams (the
 * reasoning to stderr), so `echo hi | glmchat -m M` works. */
#ifndef GLM_CHAT_PLAIN_H
#define GLM_CHAT_PLAIN_H

#include <stdbool.h>
#include "src/chat_session.h"

struct chat_plain_opts {
	int idle_seconds;       /* > 0: release the model after this long without a line */
	bool demo;              /* the demo model: say so on stderr */
};

/* Runs until the input ends or /quit; the exit status (EXIT_OK or
 * EXIT_RUNTIME). */
int chat_plain_run(struct chat_session *cs, const struct chat_plain_opts *o);

#endif
