/* Where glmchat keeps its files, after the XDG base directory spec:
 * config in $XDG_CONFIG_HOME/glmchat, saved sessions in
 * $XDG_DATA_HOME/glmchat/sessions, downloaded models in
 * $XDG_CACHE_HOME/glmchat. A relative XDG variable is ignored, as the spec
 * says; $HOME/.config, .local/share, .cache are the defaults. */
#ifndef GLM_XDG_H
#define GLM_XDG_H

#include <stddef.h>

enum xdg_kind { XDG_CONFIG, XDG_DATA, XDG_STATE, XDG_CACHE };

/* "$XDG_..._HOME/glmchat" into buf. 0, or -1 when neither the variable nor
 * $HOME is usable or buf is too small. Creates nothing. */
int xdg_app_dir(enum xdg_kind kind, char *buf, size_t n);

#endif
