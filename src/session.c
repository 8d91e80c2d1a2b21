/* Saved conversations: JSON files written atomically, and Markdown
 * transcripts; see session.h. */
#include "config.h"
#include "src/session.h"
#include "src/atomic_write.h"
#include "src/xdg.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SESSION_FORMAT  "glmchat-session"
#define SESSION_VERSION 1
/* Sessions are text people typed and read; 256 MiB is far past any real one. */
#define SESSION_MAX_BYTES (256u << 20)

static const char *const role_names[] = {
	[GLM_ROLE_SYSTEM] = "system", [GLM_ROLE_USER] = "user",
	[GLM_ROLE_ASSISTANT] = "assistant", [GLM_ROLE_TOOL] = "tool",
};

static const char *const stop_names[] = {
	[GLM_STOP_EOG] = "eog", [GLM_STOP_LENGTH] = "length", [GLM_STOP_CONTEXT] = "context",
	[GLM_STOP_CANCELLED] = "cancelled", [GLM_STOP_ERROR] = "error",
};

void session_meta_init(struct session_meta *m)
{
	memset(m, 0, sizeof *m);
	m->thinking = true;
}

void session_meta_free(struct session_meta *m)
{
	free(m->model);
	free(m->created);
	free(m->turns);
	session_meta_init(m);
}

int session_meta_set_model(struct session_meta *m, const char *model)
{
	char *copy = model ? strdup(model) : NULL;

	if (model && !copy)
		return -1;
	free(m->model);
	m->model = copy;
	return 0;
}

int session_meta_add_turn(struct session_meta *m, const struct session_turn *t)
{
	struct session_turn *nt = realloc(m->turns, (m->n_turns + 1) * sizeof *nt);

	if (!nt)
		return -1;
	m->turns = nt;
	m->turns[m->n_turns++] = *t;
	return 0;
}

void session_turn_from_stats(struct session_turn *t, const struct glm_stats *s, enum glm_stop_reason stop)
{
	t->n_prompt = s->n_prompt;
	t->n_gen = s->n_gen;
	t->n_reasoning = s->n_reasoning;
	t->n_answer = s->n_answer;
	t->prompt_tps = s->prompt_tps;
	t->gen_tps = s->gen_tps;
	t->ttft_ms = s->ttft_ms;
	t->stop = stop;
}

static void iso8601_now(char *buf, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- JSON out ---- */

static cJSON *tool_calls_json(const struct glm_message *msg)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < msg->n_tool_calls; i++) {
		const struct glm_tool_call *tc = &msg->tool_calls[i];
		cJSON *call = cJSON_CreateObject(), *fn, *args;

		cJSON_AddItemToArray(arr, call);
		cJSON_AddStringToObject(call, "type", "function");
		fn = cJSON_AddObjectToObject(call, "function");
		cJSON_AddStringToObject(fn, "name", tc->name ? tc->name : "");
		/* An object when the arguments parse as one (what the chat
		 * template iterates); otherwise the text as the model wrote it. */
		args = tc->arguments_json ? cJSON_Parse(tc->arguments_json) : cJSON_CreateObject();
		if (args && !cJSON_IsObject(args)) {
			cJSON_Delete(args);
			args = NULL;
		}
		if (!args)
			args = cJSON_CreateString(tc->arguments_json);
		cJSON_AddItemToObject(fn, "arguments", args);
	}
	return arr;
}

static void add_number(cJSON *o, const char *k, double v)
{
	/* JSON has no NaN or infinity; a speed not measured is 0. */
	cJSON_AddNumberToObject(o, k, isfinite(v) ? v : 0);
}

char *session_to_json(const struct glm_conversation *c, const struct session_meta *m)
{
	cJSON *root = cJSON_CreateObject(), *msgs, *stats, *turns;
	char now[32];
	char *out;

	if (!root)
		return NULL;
	iso8601_now(now, sizeof now);
	cJSON_AddStringToObject(root, "format", SESSION_FORMAT);
	cJSON_AddNumberToObject(root, "version", SESSION_VERSION);
	cJSON_AddStringToObject(root, "created", m->created ? m->created : now);
	cJSON_AddStringToObject(root, "updated", now);
	if (m->model)
		cJSON_AddStringToObject(root, "model", m->model);
	cJSON_AddBoolToObject(root, "enable_thinking", m->thinking);
	if (m->has_sampling) {
		cJSON *s = cJSON_AddObjectToObject(root, "sampling");
		add_number(s, "temp", m->sampling.temp);
		add_number(s, "top_p", m->sampling.top_p);
		cJSON_AddNumberToObject(s, "top_k", m->sampling.top_k);
		add_number(s, "min_p", m->sampling.min_p);
		add_number(s, "repeat_penalty", m->sampling.repeat_penalty);
		add_number(s, "presence_penalty", m->sampling.presence_penalty);
		cJSON_AddNumberToObject(s, "penalty_last_n", m->sampling.penalty_last_n);
		cJSON_AddNumberToObject(s, "seed", (double)m->sampling.seed);
	}
	if (c->tools_json) {
		cJSON *tools = cJSON_Parse(c->tools_json);
		if (tools)
			cJSON_AddItemToObject(root, "tools", tools);
	}
	msgs = cJSON_AddArrayToObject(root, "messages");
	for (size_t i = 0; msgs && i < c->n; i++) {
		const struct glm_message *msg = &c->msgs[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToArray(msgs, o);
		cJSON_AddStringToObject(o, "role", role_names[msg->role]);
		if (msg->content_list) {
			cJSON *parts = cJSON_AddArrayToObject(o, "content");
			for (size_t k = 0; k < msg->n_parts; k++) {
				cJSON *part = cJSON_CreateObject();
				cJSON_AddItemToArray(parts, part);
				cJSON_AddStringToObject(part, "type", "text");
				cJSON_AddStringToObject(part, "text", msg->parts[k] ? msg->parts[k] : "");
			}
		} else if (msg->content) {
			cJSON_AddStringToObject(o, "content", msg->content);
		}
		if (msg->reasoning)
			cJSON_AddStringToObject(o, "reasoning_content", msg->reasoning);
		if (msg->n_tool_calls)
			cJSON_AddItemToObject(o, "tool_calls", tool_calls_json(msg));
	}
	stats = cJSON_AddObjectToObject(root, "stats");
	turns = cJSON_AddArrayToObject(stats, "turns");
	for (size_t i = 0; turns && i < m->n_turns; i++) {
		const struct session_turn *t = &m->turns[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToArray(turns, o);
		cJSON_AddNumberToObject(o, "prompt_tokens", (double)t->n_prompt);
		cJSON_AddNumberToObject(o, "generated_tokens", (double)t->n_gen);
		cJSON_AddNumberToObject(o, "reasoning_tokens", (double)t->n_reasoning);
		cJSON_AddNumberToObject(o, "answer_tokens", (double)t->n_answer);
		add_number(o, "prompt_tps", t->prompt_tps);
		add_number(o, "gen_tps", t->gen_tps);
		add_number(o, "ttft_ms", t->ttft_ms);
		cJSON_AddStringToObject(o, "stop", (unsigned)t->stop <= GLM_STOP_ERROR ? stop_names[t->stop] : "error");
	}
	out = cJSON_Print(root);
	cJSON_Delete(root);
	return out;
}

/* ---- JSON in ---- */

struct reader {
	const char *origin;
	char *err;
	size_t errlen;
};

static int bad(struct reader *r, const char *fmt, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof msg, fmt, what);
	snprintf(r->err, r->errlen, "%s: %s", r->origin, msg);
	return -1;
}

/* A string member: NULL when absent; -1 when present with another type. */
static int opt_string(struct reader *r, const cJSON *o, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return bad(r, "'%s' is not a string", key);
	*out = v->valuestring;
	return 0;
}

static int opt_number(struct reader *r, const cJSON *o, const char *key, double lo, double hi, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
		return bad(r, "'%s' is not a number in range", key);
	*out = v->valuedouble;
	return 0;
}

static int read_sampling(struct reader *r, const cJSON *s, struct session_meta *m)
{
	double temp = 1, top_p = 1, top_k = 0, min_p = 0, rp = 1, pp = 0, last_n = 64, seed = 0;

	if (!cJSON_IsObject(s))
		return bad(r, "'%s' is not an object", "sampling");
	if (opt_number(r, s, "temp", 0, 100, &temp) || opt_number(r, s, "top_p", 0, 1, &top_p) ||
	    opt_number(r, s, "top_k", 0, INT32_MAX, &top_k) || opt_number(r, s, "min_p", 0, 1, &min_p) ||
	    opt_number(r, s, "repeat_penalty", 0, 10, &rp) ||
	    opt_number(r, s, "presence_penalty", -10, 10, &pp) ||
	    opt_number(r, s, "penalty_last_n", 0, INT32_MAX, &last_n) ||
	    opt_number(r, s, "seed", 0, 18446744073709551615.0, &seed))
		return -1;
	m->has_sampling = true;
	m->sampling = (struct glm_sampling){
		.temp = (float)temp, .top_p = (float)top_p, .top_k = (int)top_k, .min_p = (float)min_p,
		.repeat_penalty = (float)rp, .presence_penalty = (float)pp, .penalty_last_n = (int)last_n,
		.seed = (uint64_t)seed,
	};
	return 0;
}

static int read_turn(struct reader *r, const cJSON *o, struct session_meta *m)
{
	double np = 0, ng = 0, nr = 0, na = 0, ptps = 0, gtps = 0, ttft = 0;
	struct session_turn t;
	const char *stop;

	if (!cJSON_IsObject(o))
		return bad(r, "%s", "a turn in stats.turns is not an object");
	if (opt_number(r, o, "prompt_tokens", 0, 1e15, &np) ||
	    opt_number(r, o, "generated_tokens", 0, 1e15, &ng) ||
	    opt_number(r, o, "reasoning_tokens", 0, 1e15, &nr) ||
	    opt_number(r, o, "answer_tokens", 0, 1e15, &na) ||
	    opt_number(r, o, "prompt_tps", 0, 1e12, &ptps) ||
	    opt_number(r, o, "gen_tps", 0, 1e12, &gtps) ||
	    opt_number(r, o, "ttft_ms", 0, 1e12, &ttft) || opt_string(r, o, "stop", &stop))
		return -1;
	t = (struct session_turn){(int64_t)np, (int64_t)ng, (int64_t)nr, (int64_t)na, ptps, gtps, ttft,
	                          GLM_STOP_EOG};
	for (int i = 0; stop && i <= GLM_STOP_ERROR; i++)
		if (!strcmp(stop, stop_names[i]))
			t.stop = (enum glm_stop_reason)i;
	if (session_meta_add_turn(m, &t))
		return bad(r, "%s", "out of memory");
	return 0;
}

/* The messages and tools are exactly what `glmchat render` reads: the chat
 * format's own parser takes them, so every message shape it knows (tool
 * calls, list contents) comes back as it was saved. */
static int read_messages(struct reader *r, const cJSON *root, struct glm_conversation *c)
{
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
	const cJSON *tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
	struct glm_render_opts opts;
	cJSON *sub;
	char *text, why[512];
	int rc;

	if (!cJSON_IsArray(msgs))
		return bad(r, "%s", "no \"messages\" array");
	if (!(sub = cJSON_CreateObject()))
		return bad(r, "%s", "out of memory");
	cJSON_AddItemReferenceToObject(sub, "messages", (cJSON *)msgs);
	if (tools && !cJSON_IsNull(tools))
		cJSON_AddItemReferenceToObject(sub, "tools", (cJSON *)tools);
	text = cJSON_PrintUnformatted(sub);
	cJSON_Delete(sub);
	if (!text)
		return bad(r, "%s", "out of memory");
	glm_render_opts_default(&opts);
	why[0] = '\0';
	rc = glm_conversation_from_json(text, strlen(text), c, &opts, why, sizeof why);
	free(text);
	return rc ? bad(r, "%s", why[0] ? why : "bad messages") : 0;
}

static int read_session(struct reader *r, const cJSON *root, struct glm_conversation *c,
                        struct session_meta *m)
{
	const cJSON *v, *it;
	const char *s;

	if (!cJSON_IsObject(root))
		return bad(r, "%s", "not a glmchat session (expected a JSON object)");
	if (opt_string(r, root, "format", &s))
		return -1;
	if (!s || strcmp(s, SESSION_FORMAT))
		return bad(r, "not a glmchat session (\"format\" is not \"%s\")", SESSION_FORMAT);
	v = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsNumber(v) || v->valuedouble != SESSION_VERSION)
		return bad(r, "%s", "unsupported session version (this glmchat reads version 1)");
	if (opt_string(r, root, "model", &s) || session_meta_set_model(m, s))
		return -1;
	if (opt_string(r, root, "created", &s))
		return -1;
	if (s && !(m->created = strdup(s)))
		return bad(r, "%s", "out of memory");
	v = cJSON_GetObjectItemCaseSensitive(root, "enable_thinking");
	if (v && !cJSON_IsBool(v))
		return bad(r, "'%s' is not true or false", "enable_thinking");
	m->thinking = !v || cJSON_IsTrue(v);
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "sampling")) && read_sampling(r, v, m))
		return -1;
	if (read_messages(r, root, c))
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(root, "stats");
	v = cJSON_GetObjectItemCaseSensitive(v, "turns");
	if (v && !cJSON_IsArray(v))
		return bad(r, "'%s' is not an array", "stats.turns");
	cJSON_ArrayForEach(it, v)
		if (read_turn(r, it, m))
			return -1;
	return 0;
}

int session_from_json(const char *json, size_t len, const char *origin, struct glm_conversation *c,
                      struct session_meta *m, char *err, size_t errlen)
{
	struct reader r = {origin, err, errlen};
	cJSON *root = cJSON_ParseWithLength(json, len);
	int rc;

	if (!root)
		return bad(&r, "%s", "not valid JSON");
	rc = read_session(&r, root, c, m);
	cJSON_Delete(root);
	if (rc) {
		glm_conversation_free(c);
		glm_conversation_init(c);
		session_meta_free(m);
	}
	return rc;
}

/* ---- files ---- */

int session_save(const char *path, const struct glm_conversation *c, const struct session_meta *m,
                 char *err, size_t errlen)
{
	char *json = session_to_json(c, m);
	int rc;

	if (!json) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = atomic_write_file(path, json, strlen(json), 0600, err, errlen);
	free(json);
	return rc;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > SESSION_MAX_BYTES) {
		snprintf(err, errlen, "%s: %s", path, S_ISREG(st.st_mode) ? "too large for a session file"
		                                                          : "not a regular file");
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

int session_load(const char *path, struct glm_conversation *c, struct session_meta *m,
                 char *err, size_t errlen)
{
	size_t len;
	char *json = read_file(path, &len, err, errlen);
	int rc;

	if (!json)
		return -1;
	rc = session_from_json(json, len, path, c, m, err, errlen);
	free(json);
	return rc;
}

/* ---- Markdown ---- */

struct buf { char *p; size_t n, cap; bool oom; };

static void put(struct buf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;
		while (cap < b->n + len + 1)
			cap *= 2;
		if (!(np = realloc(b->p, cap))) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Text as a Markdown block, ending with exactly one newline. */
static void put_block(struct buf *b, const char *s)
{
	size_t len = strlen(s);

	while (len && s[len - 1] == '\n')
		len--;
	put(b, s, len);
	puts_(b, "\n");
}

char *session_to_markdown(const struct glm_conversation *c, const struct session_meta *m)
{
	static const char *const heads[] = {
		[GLM_ROLE_SYSTEM] = "System", [GLM_ROLE_USER] = "User",
		[GLM_ROLE_ASSISTANT] = "Assistant", [GLM_ROLE_TOOL] = "Tool result",
	};
	struct buf b = {0};
	char line[256];

	puts_(&b, "# glmchat conversation\n\n");
	if (m->model) {
		puts_(&b, "- Model: ");
		puts_(&b, m->model);
		puts_(&b, "\n");
	}
	if (m->created) {
		snprintf(line, sizeof line, "- Started: %s\n", m->created);
		puts_(&b, line);
	}
	if (m->has_sampling) {
		snprintf(line, sizeof line, "- Sampling: temp %g, top-p %g, top-k %d, min-p %g, seed %llu\n",
		         m->sampling.temp, m->sampling.top_p, m->sampling.top_k, m->sampling.min_p,
		         (unsigned long long)m->sampling.seed);
		puts_(&b, line);
	}
	for (size_t i = 0, turn = 0; i < c->n; i++) {
		const struct glm_message *msg = &c->msgs[i];

		puts_(&b, "\n## ");
		puts_(&b, heads[msg->role]);
		puts_(&b, "\n\n");
		if (msg->reasoning && *msg->reasoning) {
			puts_(&b, "<details>\n<summary>Reasoning</summary>\n\n");
			put_block(&b, msg->reasoning);
			puts_(&b, "\n</details>\n\n");
		}
		if (msg->content_list)
			for (size_t k = 0; k < msg->n_parts; k++)
				put_block(&b, msg->parts[k] ? msg->parts[k] : "");
		else if (msg->content && *msg->content)
			put_block(&b, msg->content);
		for (size_t k = 0; k < msg->n_tool_calls; k++) {
			puts_(&b, "\nTool call `");
			puts_(&b, msg->tool_calls[k].name ? msg->tool_calls[k].name : "");
			puts_(&b, "`:\n\n```json\n");
			put_block(&b, msg->tool_calls[k].arguments_json ? msg->tool_calls[k].arguments_json : "");
			puts_(&b, "```\n");
		}
		if (msg->role == GLM_ROLE_ASSISTANT && turn < m->n_turns) {
			const struct session_turn *t = &m->turns[turn++];
			snprintf(line, sizeof line, "\n*%lld tokens (%lld reasoning), %.1f tokens/s, "
			         "first token after %.0f ms%s*\n",
			         (long long)t->n_gen, (long long)t->n_reasoning, t->gen_tps, t->ttft_ms,
			         t->stop == GLM_STOP_CANCELLED ? ", interrupted" : "");
			puts_(&b, line);
		}
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

int session_export_markdown(const char *path, const struct glm_conversation *c,
                            const struct session_meta *m, char *err, size_t errlen)
{
	char *md = session_to_markdown(c, m);
	int rc;

	if (!md) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	rc = atomic_write_file(path, md, strlen(md), 0644, err, errlen);
	free(md);
	return rc;
}

/* ---- paths ---- */

int session_dir(char *buf, size_t n)
{
	char dir[4096];

	if (xdg_app_dir(XDG_DATA, dir, sizeof dir))
		return -1;
	if ((size_t)snprintf(buf, n, "%s/sessions", dir) >= n)
		return -1;
	return mkdir_p(buf, 0700);
}

int session_new_path(char *buf, size_t n)
{
	char dir[4096], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct stat st;

	if (session_dir(dir, sizeof dir))
		return -1;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	if ((size_t)snprintf(buf, n, "%s/%s.json", dir, stamp) >= n)
		return -1;
	/* Two sessions started within one second get -2, -3, ... */
	for (int i = 2; stat(buf, &st) == 0; i++)
		if (i > 99 || (size_t)snprintf(buf, n, "%s/%s-%d.json", dir, stamp, i) >= n)
			return -1;
	return 0;
}

int session_last_path(char *buf, size_t n)
{
	char dir[4096], path[4096 + 256];
	struct timespec best = {0, 0};
	struct dirent *de;
	bool found = false;
	DIR *d;

	if (session_dir(dir, sizeof dir) || !(d = opendir(dir)))
		return -1;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct stat st;

		/* Temporary files of an interrupted write start with a dot. */
		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (!found || st.st_mtim.tv_sec > best.tv_sec ||
		    (st.st_mtim.tv_sec == best.tv_sec && st.st_mtim.tv_nsec > best.tv_nsec)) {
			if ((size_t)snprintf(buf, n, "%s", path) >= n)
				continue;
			best = st.st_mtim;
			found = true;
		}
	}
	closedir(d);
	return found ? 0 : -1;
}

int session_resolve(const char *name, char *buf, size_t n)
{
	char dir[4096];
	size_t len = strlen(name);

	if (!len)
		return -1;
	if (strchr(name, '/'))
		return (size_t)snprintf(buf, n, "%s", name) >= n ? -1 : 0;
	if (session_dir(dir, sizeof dir))
		return -1;
	if ((size_t)snprintf(buf, n, "%s/%s%s", dir, name,
	                     len > 5 && !strcmp(name + len - 5, ".json") ? "" : ".json") >= n)
		return -1;
	return 0;
}
