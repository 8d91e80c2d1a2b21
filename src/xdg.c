/* XDG base directories for glmchat's files; see xdg.h. */
#include "config.h"
#include "src/xdg.h"

#include <stdio.h>
#include <stdlib.h>

int xdg_app_dir(enum xdg_kind kind, char *buf, size_t n)
{
	static const struct { const char *var, *fallback; } dirs[] = {
		[XDG_CONFIG] = {"XDG_CONFIG_HOME", ".config"},
		[XDG_DATA]   = {"XDG_DATA_HOME",   ".local/share"},
		[XDG_STATE]  = {"XDG_STATE_HOME",  ".local/state"},
		[XDG_CACHE]  = {"XDG_CACHE_HOME",  ".cache"},
	};
	const char *v = getenv(dirs[kind].var), *home = getenv("HOME");
	int len;

	/* The spec: "If an implementation encounters a relative path in any of
	 * these variables it should consider the path invalid and ignore it." */
	if (v && v[0] == '/')
		len = snprintf(buf, n, "%s/glmchat", v);
	else if (home && home[0] == '/')
		len = snprintf(buf, n, "%s/%s/glmchat", home, dirs[kind].fallback);
	else
		return -1;
	return len < 0 || (size_t)len >= n ? -1 : 0;
}
