/* glmchat list: the models downloaded into the cache (and unfinished
 * downloads, which the next pull resumes). */
#include "config.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/hf_pull.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
	"Usage: glmchat list\n"
	"List the models downloaded with glmchat pull (the cache is $XDG_CACHE_HOME/glmchat).\n";

static void show(const char *dir, const char *owner, const char *name, const char *file, int *count)
{
	char path[4096 + 1024], buf[8192];
	size_t len = strlen(file), got;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s/%s/%s", dir, owner, name, file);
	if (len > 5 && !strcmp(file + len - 5, ".part") && stat(path, &st) == 0) {
		if (!(*count)++)
			printf("%-50s %12s  %s\n", "MODEL", "SIZE", "FILE");
		printf("%-50s %9.1f MB  %s  (unfinished: glmchat pull resumes it)\n", "", st.st_size / 1e6, path);
		return;
	}
	if (len <= 10 || strcmp(file + len - 10, ".gguf.json") || !(f = fopen(path, "r")))
		return;
	got = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[got] = '\0';
	{
		cJSON *root = cJSON_Parse(buf);
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "quant");
		const cJSON *sz = cJSON_GetObjectItemCaseSensitive(root, "size");
		char model[600];

		path[strlen(path) - 5] = '\0';      /* the .gguf */
		if (stat(path, &st) == 0 && cJSON_IsString(q) && cJSON_IsNumber(sz)) {
			snprintf(model, sizeof model, "%s/%s%s%s", owner, name, q->valuestring[0] ? ":" : "",
			         q->valuestring);
			if (!(*count)++)
				printf("%-50s %12s  %s\n", "MODEL", "SIZE", "FILE");
			printf("%-50s %9.1f MB  %s\n", model, st.st_size / 1e6, path);
		}
		cJSON_Delete(root);
	}
}

int cmd_list(int argc, char **argv)
{
	char dir[4096], sub[4096 + 512];
	struct dirent *o, *n, *f;
	DIR *d, *dn, *df;
	int count = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return cli_usage_error("list", "unexpected argument '%s'", argv[1]);
	if (hf_cache_dir(dir, sizeof dir))
		return cli_runtime_error("no cache directory (set HOME or XDG_CACHE_HOME)");
	/* OWNER/NAME/FILE, as hf_pull lays it out */
	if ((d = opendir(dir))) {
		while ((o = readdir(d))) {
			if (o->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof sub, "%s/%s", dir, o->d_name);
			if (!(dn = opendir(sub)))
				continue;
			while ((n = readdir(dn))) {
				char leaf[4096 + 1024];
				if (n->d_name[0] == '.')
					continue;
				snprintf(leaf, sizeof leaf, "%s/%s", sub, n->d_name);
				if (!(df = opendir(leaf)))
					continue;
				while ((f = readdir(df)))
					if (f->d_name[0] != '.')
						show(dir, o->d_name, n->d_name, f->d_name, &count);
				closedir(df);
			}
			closedir(dn);
		}
		closedir(d);
	}
	if (!count)
		fprintf(stderr, "glmchat: no models in %s yet; get one with: "
		        "glmchat pull unsloth/GLM-4.7-Flash-GGUF:UD-Q4_K_XL\n", dir);
	return EXIT_OK;
}
