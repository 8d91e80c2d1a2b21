/* The user's config file; see userconfig.h and glmchat.conf(5). One table
 * lists every key with its type and range; parsing walks the file's keys
 * against it, so an unknown key or a bad value is reported by name. */
#include "config.h"
#include "src/userconfig.h"
#include "src/xdg.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct setting;
typedef int (*setter)(struct glmchat_config *c, const struct setting *s, const cJSON *v);

struct setting {
	const char *key;
	setter set;                   /* NULL: a nested object (sub) */
	size_t off;                   /* field in struct glmchat_config */
	double lo, hi;                /* numeric range */
	const char *expect;           /* for messages: "a number from 0 to 1" */
	const struct setting *sub;
};

#define FIELD(T, c, s) ((T *)((char *)(c) + (s)->off))
#define OPT(f) offsetof(struct glmchat_config, opts.f)

static const char *const color_names[] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

/* ---- setters: 0 ok, -1 the value is not what s->expect says ---- */

static int set_bool(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	if (!cJSON_IsBool(v))
		return -1;
	*FIELD(bool, c, s) = cJSON_IsTrue(v);
	return 0;
}

static int number_in(const struct setting *s, const cJSON *v, bool integer, double *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!(d >= s->lo && d <= s->hi) || (integer && d != floor(d)))
		return -1;
	*out = d;
	return 0;
}

static int set_int(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	double d;

	if (number_in(s, v, true, &d))
		return -1;
	*FIELD(int, c, s) = (int)d;
	return 0;
}

static int set_i64(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	double d;

	if (number_in(s, v, true, &d))
		return -1;
	*FIELD(int64_t, c, s) = (int64_t)d;
	return 0;
}

static int set_float(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	double d;

	if (number_in(s, v, false, &d))
		return -1;
	*FIELD(float, c, s) = (float)d;
	return 0;
}

static int set_seed(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	double d;

	if (number_in(s, v, true, &d))
		return -1;
	c->opts.seed = (uint64_t)d;
	c->opts.seed_set = true;
	return 0;
}

static int set_string(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	char **field = FIELD(char *, c, s), *copy;

	const char *home = getenv("HOME");

	if (!cJSON_IsString(v) || !v->valuestring[0])
		return -1;
	/* "~/models/x.gguf" in a config file means what it means in a shell */
	if (s->off == offsetof(struct glmchat_config, model) && !strncmp(v->valuestring, "~/", 2) &&
	    home && *home) {
		if (asprintf(&copy, "%s%s", home, v->valuestring + 1) < 0)
			return -1;
	} else if (!(copy = strdup(v->valuestring))) {
		return -1;
	}
	free(*field);
	*field = copy;
	c->opts.model = c->model;       /* opts mirrors the owned model string */
	return 0;
}

static int set_backend(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	static const char *const names[] = {
		[GLM_BACKEND_AUTO] = "auto", [GLM_BACKEND_CPU] = "cpu", [GLM_BACKEND_CUDA] = "cuda",
	};

	if (!cJSON_IsString(v))
		return -1;
	for (int i = 0; i < 3; i++)
		if (!strcmp(v->valuestring, names[i])) {
			c->opts.backend = (enum glm_backend_kind)i;
			return 0;
		}
	return -1;
}

static int set_cache_type(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	if (!cJSON_IsString(v))
		return -1;
	return glm_kv_type_parse(v->valuestring, &c->opts.kv_type);
}

static int set_key(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	if (!cJSON_IsString(v))
		return -1;
	return config_parse_key(v->valuestring, &c->reasoning_key);
}

static int set_color(struct glmchat_config *c, const struct setting *s, const cJSON *v)
{
	int n;

	if (cJSON_IsNumber(v)) {
		double d;
		if (number_in(s, v, true, &d))
			return -1;
		n = (int)d;
	} else if (cJSON_IsString(v)) {
		if ((n = config_parse_color(v->valuestring)) == -2)
			return -1;
	} else {
		return -1;
	}
	*FIELD(int, c, s) = n;
	return 0;
}

/* ---- the keys (glmchat.conf(5) documents each) ---- */

#define KEY(k, fn, o, l, h, e) {.key = k, .set = fn, .off = o, .lo = l, .hi = h, .expect = e}
static const struct setting sampling_keys[] = {
	KEY("temp", set_float, OPT(temp), 0, 100, "a number from 0 to 100"),
	KEY("top_p", set_float, OPT(top_p), 0, 1, "a number from 0 to 1"),
	KEY("top_k", set_int, OPT(top_k), 0, INT32_MAX, "a whole number, 0 or more"),
	KEY("min_p", set_float, OPT(min_p), 0, 1, "a number from 0 to 1"),
	KEY("repeat_penalty", set_float, OPT(repeat_penalty), 0, 10, "a number from 0 to 10"),
	KEY("presence_penalty", set_float, OPT(presence_penalty), -10, 10, "a number from -10 to 10"),
	KEY("seed", set_seed, 0, 0, 9007199254740991.0, "a whole number from 0 to 2^53-1"),
	{.key = NULL},
};

#define COLOR(f) KEY(#f, set_color, offsetof(struct glmchat_config, colors.f), -1, 255, \
	"a colour name (default, black, red, green, yellow, blue, magenta, cyan, white, bright-...) or 0-255")
static const struct setting color_keys[] = {
	COLOR(user), COLOR(answer), COLOR(reasoning), COLOR(status), COLOR(notice),
	{.key = NULL},
};

static const struct setting top_keys[] = {
	KEY("model", set_string, offsetof(struct glmchat_config, model), 0, 0,
	    "a GGUF file's path or hf:REPO[:QUANT]"),
	KEY("backend", set_backend, 0, 0, 0, "\"auto\", \"cpu\" or \"cuda\""),
	KEY("ctx_size", set_i64, OPT(n_ctx), 0, INT32_MAX, "a whole number of tokens, 0 for the model's"),
	KEY("cache_type", set_cache_type, 0, 0, 0, "\"f32\", \"f16\", \"bf16\" or \"q8_0\""),
	KEY("threads", set_int, OPT(n_threads), 0, 1024, "a whole number from 0 to 1024"),
	KEY("n_predict", set_int, OPT(n_predict), -1, INT32_MAX, "a whole number, -1 for no limit"),
	KEY("flash_attn", set_bool, OPT(flash_attn), 0, 0, "true or false"),
	KEY("sleep_idle_seconds", set_int, OPT(sleep_idle_seconds), 0, INT32_MAX,
	    "a whole number of seconds, 0 for never"),
	KEY("thinking", set_bool, offsetof(struct glmchat_config, thinking), 0, 0, "true or false"),
	KEY("show_reasoning", set_bool, offsetof(struct glmchat_config, show_reasoning), 0, 0, "true or false"),
	KEY("system_prompt", set_string, offsetof(struct glmchat_config, system_prompt), 0, 0,
	    "a non-empty string"),
	KEY("reasoning_key", set_key, 0, 0, 0, "a key such as \"C-t\", \"M-r\" or \"F2\""),
	{.key = "sampling", .expect = "an object", .sub = sampling_keys},
	{.key = "colors", .expect = "an object", .sub = color_keys},
	{.key = NULL},
};

void config_init(struct glmchat_config *c)
{
	memset(c, 0, sizeof *c);
	cli_common_init(&c->opts);
	c->thinking = true;
	c->show_reasoning = true;
	c->reasoning_key = (struct config_key){CONFIG_KEY_CTRL, 't'};
	c->colors = (struct config_colors){-1, -1, -1, -1, -1};
}

void config_free(struct glmchat_config *c)
{
	free(c->path);
	free(c->model);
	free(c->system_prompt);
	memset(c, 0, sizeof *c);
}

/* A setting back to its default, for "key": null. */
static void reset(struct glmchat_config *c, const struct setting *s)
{
	struct glmchat_config d;

	config_init(&d);
	if (s->set == set_string) {
		free(*FIELD(char *, c, s));
		*FIELD(char *, c, s) = NULL;
		c->opts.model = c->model;
	} else if (s->set == set_seed) {
		c->opts.seed_set = false;
	} else if (s->set == set_backend) {
		c->opts.backend = d.opts.backend;
	} else if (s->set == set_cache_type) {
		c->opts.kv_type = d.opts.kv_type;
	} else if (s->set == set_key) {
		c->reasoning_key = d.reasoning_key;
	} else if (s->set == set_bool) {
		*FIELD(bool, c, s) = *FIELD(bool, &d, s);
	} else if (s->set == set_i64) {
		*FIELD(int64_t, c, s) = *FIELD(int64_t, &d, s);
	} else if (s->set == set_float) {
		*FIELD(float, c, s) = *FIELD(float, &d, s);
	} else {
		*FIELD(int, c, s) = *FIELD(int, &d, s);
	}
}

static int parse_object(struct glmchat_config *c, const cJSON *obj, const struct setting *table,
                        const char *prefix, const char *origin, char *err, size_t errlen)
{
	for (const cJSON *it = obj->child; it; it = it->next) {
		const struct setting *s = table;
		char got[48];
		char *txt;

		for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
			if (!strcmp(prev->string, it->string)) {
				snprintf(err, errlen, "%s: key '%s%s' is given twice", origin, prefix, it->string);
				return -1;
			}
		while (s->key && strcmp(s->key, it->string))
			s++;
		if (!s->key) {
			snprintf(err, errlen, "%s: unknown key '%s%s' (glmchat.conf(5) lists the keys)",
			         origin, prefix, it->string);
			return -1;
		}
		if (cJSON_IsNull(it)) {
			if (s->sub)
				for (const struct setting *t = s->sub; t->key; t++)
					reset(c, t);
			else
				reset(c, s);
			continue;
		}
		if (s->sub && cJSON_IsObject(it)) {
			char sub[64];
			snprintf(sub, sizeof sub, "%s%s.", prefix, s->key);
			if (parse_object(c, it, s->sub, sub, origin, err, errlen))
				return -1;
			continue;
		}
		if (s->set && s->set(c, s, it) == 0)
			continue;
		txt = cJSON_PrintUnformatted(it);
		snprintf(got, sizeof got, "%s", txt ? txt : "?");
		if (txt && strlen(txt) >= sizeof got)
			strcpy(got + sizeof got - 4, "...");
		free(txt);
		snprintf(err, errlen, "%s: key '%s%s': expected %s, got %s", origin, prefix, s->key,
		         s->expect, got);
		return -1;
	}
	return 0;
}

int config_parse(const char *json, size_t len, const char *origin, struct glmchat_config *c,
                 char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
	int rc;

	if (!root) {
		/* cJSON tells where it stopped; a line number is what people need. */
		int line = 1;
		for (const char *p = json; end && p < end && p < json + len; p++)
			line += *p == '\n';
		snprintf(err, errlen, "%s: line %d: not valid JSON", origin, line);
		return -1;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "%s: expected a JSON object { ... }", origin);
		cJSON_Delete(root);
		return -1;
	}
	rc = parse_object(c, root, top_keys, "", origin, err, errlen);
	cJSON_Delete(root);
	return rc;
}

int config_load_file(const char *path, bool missing_ok, struct glmchat_config *c,
                     char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = -1;

	if (!f) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t r;
		if (len == cap) {
			char *nb;
			/* A config file is small; a huge one is a mistake, not a config. */
			if (cap >= (1u << 20)) {
				snprintf(err, errlen, "%s: larger than 1 MiB: not a config file", path);
				goto out;
			}
			cap = cap ? 2 * cap : 4096;
			if (!(nb = realloc(buf, cap))) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	if ((rc = config_parse(buf, len, path, c, err, errlen)) == 0) {
		free(c->path);
		c->path = strdup(path);
	}
out:
	free(buf);
	fclose(f);
	return rc;
}

int config_default_path(char *buf, size_t n)
{
	const char *env = getenv("GLMCHAT_CONFIG");
	char dir[4096];
	int len;

	if (env && *env)
		len = snprintf(buf, n, "%s", env);
	else if (xdg_app_dir(XDG_CONFIG, dir, sizeof dir) == 0)
		len = snprintf(buf, n, "%s/config.json", dir);
	else
		return -1;
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

void config_apply_to_cli(const struct glmchat_config *c, struct cli_common *cli)
{
	*cli = c->opts;
	cli->model = c->model;
	cli->resume = NULL;
}

int config_setup(const char *cmd, struct glmchat_config *c, struct cli_common *cli)
{
	char path[4096], err[1024];

	config_init(c);
	cli_common_init(cli);
	if (config_default_path(path, sizeof path))
		return EXIT_OK;         /* no home: nothing to read */
	/* An explicit $GLMCHAT_CONFIG must exist; the default file need not. */
	if (config_load_file(path, !getenv("GLMCHAT_CONFIG") || !*getenv("GLMCHAT_CONFIG"), c,
	                     err, sizeof err)) {
		config_free(c);
		config_init(c);
		return cli_runtime_error("%s", err);
	}
	config_apply_to_cli(c, cli);
	return EXIT_OK;
}

/* ---- keys and colours ---- */

int config_parse_key(const char *s, struct config_key *k)
{
	char *end;
	long n;

	if ((s[0] == 'C' || s[0] == 'M') && s[1] == '-' && s[2] >= 'a' && s[2] <= 'z' && !s[3]) {
		k->kind = s[0] == 'C' ? CONFIG_KEY_CTRL : CONFIG_KEY_ALT;
		k->code = s[2];
		/* C-c cancels, C-d quits, C-m/C-j are Enter, C-i is Tab, C-h is
		 * Backspace, C-[ Escape: a toggle there would take them away. */
		if (k->kind == CONFIG_KEY_CTRL && strchr("cdhijm", s[2]))
			return -1;
		return 0;
	}
	if (s[0] == 'F' && s[1] >= '1' && s[1] <= '9') {
		errno = 0;
		n = strtol(s + 1, &end, 10);
		if (!*end && !errno && n >= 1 && n <= 12) {
			k->kind = CONFIG_KEY_FN;
			k->code = (int)n;
			return 0;
		}
	}
	return -1;
}

void config_key_name(const struct config_key *k, char *buf, size_t n)
{
	if (k->kind == CONFIG_KEY_FN)
		snprintf(buf, n, "F%d", k->code);
	else
		snprintf(buf, n, "%c-%c", k->kind == CONFIG_KEY_CTRL ? 'C' : 'M', k->code);
}

int config_parse_color(const char *s)
{
	int base = 0;
	char *end;
	long n;

	if (!strcmp(s, "default"))
		return -1;
	if (!strncmp(s, "bright-", 7)) {
		base = 8;
		s += 7;
	}
	for (int i = 0; i < 8; i++)
		if (!strcmp(s, color_names[i]))
			return base + i;
	if (base || !*s || *s < '0' || *s > '9')
		return -2;
	n = strtol(s, &end, 10);
	return *end || n > 255 ? -2 : (int)n;
}

static cJSON *color_json(int n)
{
	char name[24];

	if (n < 0)
		return cJSON_CreateString("default");
	if (n < 16) {
		snprintf(name, sizeof name, "%s%s", n >= 8 ? "bright-" : "", color_names[n & 7]);
		return cJSON_CreateString(name);
	}
	return cJSON_CreateNumber(n);
}

/* ---- output ---- */

static void add_float(cJSON *o, const char *k, float v)
{
	char buf[32];

	if (isnan(v)) {
		cJSON_AddNullToObject(o, k);
		return;
	}
	/* Shortest text that reads back as the same float: 0.95, not 0.949999988. */
	snprintf(buf, sizeof buf, "%.9g", (double)v);
	for (int p = 1; p < 9; p++) {
		char t[32];
		snprintf(t, sizeof t, "%.*g", p, (double)v);
		if (strtof(t, NULL) == v) {
			strcpy(buf, t);
			break;
		}
	}
	cJSON_AddItemToObject(o, k, cJSON_CreateRaw(buf));
}

char *config_to_json(const struct glmchat_config *c, const struct cli_common *cli)
{
	static const char *const backends[] = {"auto", "cpu", "cuda"};
	cJSON *root = cJSON_CreateObject(), *s, *col;
	char key[16];
	char *out;

	if (!root)
		return NULL;
	if (cli->model)
		cJSON_AddStringToObject(root, "model", cli->model);
	else
		cJSON_AddNullToObject(root, "model");
	cJSON_AddStringToObject(root, "backend", backends[cli->backend]);
	cJSON_AddNumberToObject(root, "ctx_size", (double)cli->n_ctx);
	if (cli->kv_type == GLM_KV_DEFAULT)
		cJSON_AddNullToObject(root, "cache_type");
	else
		cJSON_AddStringToObject(root, "cache_type", glm_kv_type_name(cli->kv_type));
	cJSON_AddNumberToObject(root, "threads", cli->n_threads);
	cJSON_AddNumberToObject(root, "n_predict", cli->n_predict);
	cJSON_AddBoolToObject(root, "flash_attn", cli->flash_attn);
	cJSON_AddNumberToObject(root, "sleep_idle_seconds", cli->sleep_idle_seconds);
	cJSON_AddBoolToObject(root, "thinking", c->thinking);
	cJSON_AddBoolToObject(root, "show_reasoning", c->show_reasoning);
	if (c->system_prompt)
		cJSON_AddStringToObject(root, "system_prompt", c->system_prompt);
	else
		cJSON_AddNullToObject(root, "system_prompt");
	config_key_name(&c->reasoning_key, key, sizeof key);
	cJSON_AddStringToObject(root, "reasoning_key", key);

	s = cJSON_AddObjectToObject(root, "sampling");
	add_float(s, "temp", cli->temp);
	add_float(s, "top_p", cli->top_p);
	if (cli->top_k >= 0)
		cJSON_AddNumberToObject(s, "top_k", cli->top_k);
	else
		cJSON_AddNullToObject(s, "top_k");
	add_float(s, "min_p", cli->min_p);
	add_float(s, "repeat_penalty", cli->repeat_penalty);
	add_float(s, "presence_penalty", cli->presence_penalty);
	if (cli->seed_set)
		cJSON_AddNumberToObject(s, "seed", (double)cli->seed);
	else
		cJSON_AddNullToObject(s, "seed");

	col = cJSON_AddObjectToObject(root, "colors");
	cJSON_AddItemToObject(col, "user", color_json(c->colors.user));
	cJSON_AddItemToObject(col, "answer", color_json(c->colors.answer));
	cJSON_AddItemToObject(col, "reasoning", color_json(c->colors.reasoning));
	cJSON_AddItemToObject(col, "status", color_json(c->colors.status));
	cJSON_AddItemToObject(col, "notice", color_json(c->colors.notice));

	out = cJSON_Print(root);
	cJSON_Delete(root);
	return out;
}
