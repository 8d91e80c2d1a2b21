/* What -m (or the config's "model") names, turned into a file to open:
 * a path as it is; hf:REPO[:QUANT] from the download cache, downloading it
 * first when needed; nothing at all: the bundled demo model (random
 * weights), installed as $(pkgdatadir)/demo.gguf. */
#ifndef GLM_MODEL_SOURCE_H
#define GLM_MODEL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

/* What the screen and the first message say when the demo is running. */
extern const char model_demo_notice[];
extern const char model_demo_status[];    /* short, for the status bar */

/* True when no model was named: the demo will be used. */
bool model_source_is_demo(const char *model);

/* The demo model's path: $GLMCHAT_DEMO_MODEL, else the installed one. */
const char *model_demo_path(void);

/* Resolve model into a path (malloc'd, the caller owns it). A download
 * shows its progress on stderr when stderr is a terminal. 0, or -1 with a
 * one-line message. */
int model_source_resolve(const char *model, char **path, char *err, size_t errlen);

#endif
