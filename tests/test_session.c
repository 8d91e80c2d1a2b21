/* Sessions: what is saved comes back exactly (the reference renderings of
 * tests/fixtures/template/render.jsonl are reproduced from a saved and
 * reloaded conversation), saves are atomic, bad files are refused with a
 * message naming them, and the path helpers find the last session. */
#include "config.h"
#include "tests/testutil.h"
#include "src/session.h"
#include "src/atomic_write.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char err[1024];
static char tmpdir[] = "/tmp/glmchat-session-XXXXXX";

static char *render(const struct glm_chat_format *f, const struct glm_conversation *c,
                    const struct glm_render_opts *o)
{
	struct glm_rendered r = {0};
	char *text;

	if (glm_chat_render(f, c, o, &r, err, sizeof err))
		return NULL;
	text = glm_rendered_text(&r, NULL);
	glm_rendered_free(&r);
	return text;
}

/* Every render.jsonl row: conversation -> session file -> conversation
 * renders to the reference text. */
static void roundtrip_fixtures(void)
{
	char *tmpl = slurp(fixture_path("template/chat_template.jinja"), NULL);
	char *rows = slurp(fixture_path("template/render.jsonl"), NULL);
	const char *tdir = getenv("GLMCHAT_TEMPLATES");
	struct glm_chat_format *fmt = NULL;
	char path[512], *line, *save = NULL;
	int n = 0;

	if (!tmpl || !rows)
		bail_out("template fixtures missing under %s", fixture_path(""));
	if (glm_chat_format_load(tmpl, tdir && *tdir ? tdir : "templates", &fmt, err, sizeof err))
		bail_out("chat format: %s", err);
	snprintf(path, sizeof path, "%s/roundtrip.json", tmpdir);
	for (line = strtok_r(rows, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *row = cJSON_Parse(line), *in = cJSON_CreateObject(), *opt;
		struct glm_conversation c, back;
		struct glm_render_opts o, o2;
		struct session_meta m, mb;
		char *text, *want;

		n++;
		/* the row's options sit beside its messages in render's input */
		cJSON_AddItemReferenceToObject(in, "messages", cJSON_GetObjectItem(row, "messages"));
		opt = cJSON_GetObjectItem(row, "options");
		for (cJSON *it = opt ? opt->child : NULL; it; it = it->next)
			cJSON_AddItemReferenceToObject(in, it->string, it);
		text = cJSON_PrintUnformatted(in);
		want = cJSON_GetObjectItem(row, "text")->valuestring;
		glm_conversation_init(&c);
		glm_conversation_init(&back);
		session_meta_init(&m);
		session_meta_init(&mb);
		if (glm_conversation_from_json(text, strlen(text), &c, &o, err, sizeof err)) {
			ok(0, "row %d parses: %s", n, err);
		} else {
			char *got;
			m.thinking = o.enable_thinking;
			ok(session_save(path, &c, &m, err, sizeof err) == 0, "row %d saved", n);
			ok(session_load(path, &back, &mb, err, sizeof err) == 0, "row %d loaded (%s)", n, err);
			/* the loaded session's thinking flag drives the render */
			o2 = o;
			o2.enable_thinking = mb.thinking;
			got = render(fmt, &back, &o2);
			ok(got && !strcmp(got, want), "row %d: reloaded conversation renders to the reference text", n);
			if (got && strcmp(got, want))
				diag("got  %s\nwant %s", got, want);
			free(got);
		}
		free(text);
		glm_conversation_free(&c);
		glm_conversation_free(&back);
		session_meta_free(&m);
		session_meta_free(&mb);
		cJSON_Delete(in);
		cJSON_Delete(row);
	}
	ok(n >= 10, "all %d fixture rows went through", n);
	glm_chat_format_free(fmt);
	free(tmpl);
	free(rows);
}

static void build(struct glm_conversation *c, struct session_meta *m)
{
	struct glm_message *a;
	struct session_turn t1 = {120, 300, 250, 50, 812.5, 95.25, 140.0, GLM_STOP_EOG};
	struct session_turn t2 = {30, 17, 17, 0, 400.0, 90.0, 80.0, GLM_STOP_CANCELLED};

	glm_conversation_init(c);
	session_meta_init(m);
	glm_conversation_add(c, GLM_ROLE_SYSTEM, "Be brief.", NULL);
	glm_conversation_add(c, GLM_ROLE_USER, "Quote \"this\"\nand a tab\t, naïve café ✓ 日本", NULL);
	glm_conversation_add(c, GLM_ROLE_ASSISTANT, "The answer.", "First I think.\nThen more.");
	glm_conversation_add(c, GLM_ROLE_USER, "Go on", NULL);
	/* the Ctrl-C turn: reasoning cut off, no answer yet */
	a = glm_conversation_add(c, GLM_ROLE_ASSISTANT, NULL, "Half a thou");
	(void)a;
	session_meta_set_model(m, "GLM-4.7-Flash UD-Q4_K_XL");
	m->has_sampling = true;
	m->sampling = (struct glm_sampling){.temp = 0.7f, .top_p = 0.95f, .top_k = 40, .min_p = 0.05f,
	                                    .repeat_penalty = 1.0f, .presence_penalty = 0.0f,
	                                    .penalty_last_n = 64, .seed = 424242};
	m->thinking = false;
	session_meta_add_turn(m, &t1);
	session_meta_add_turn(m, &t2);
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void roundtrip_fields(void)
{
	struct glm_conversation c, b;
	struct session_meta m, mb;
	char path[512], *md, *text;
	bool all = true;

	build(&c, &m);
	snprintf(path, sizeof path, "%s/s.json", tmpdir);
	ok(session_save(path, &c, &m, err, sizeof err) == 0, "save (%s)", err);
	glm_conversation_init(&b);
	session_meta_init(&mb);
	ok(session_load(path, &b, &mb, err, sizeof err) == 0, "load (%s)", err);
	is_int(b.n, c.n, "message count");
	for (size_t i = 0; i < c.n && i < b.n; i++)
		all &= b.msgs[i].role == c.msgs[i].role && same_str(b.msgs[i].content, c.msgs[i].content) &&
		       same_str(b.msgs[i].reasoning, c.msgs[i].reasoning);
	ok(all, "every role, content and reasoning identical (UTF-8, quotes, newlines, the cut-off turn)");
	is_str(mb.model, m.model, "model");
	ok(!mb.thinking, "thinking flag");
	ok(mb.has_sampling && mb.sampling.temp == m.sampling.temp && mb.sampling.top_p == m.sampling.top_p &&
	   mb.sampling.top_k == 40 && mb.sampling.min_p == m.sampling.min_p && mb.sampling.seed == 424242,
	   "sampling");
	ok(mb.n_turns == 2 && mb.turns[0].n_prompt == 120 && mb.turns[0].n_gen == 300 &&
	   mb.turns[0].n_reasoning == 250 && mb.turns[0].gen_tps == 95.25 && mb.turns[0].ttft_ms == 140.0 &&
	   mb.turns[1].stop == GLM_STOP_CANCELLED && mb.turns[0].stop == GLM_STOP_EOG, "per-turn stats");
	ok(mb.created != NULL, "creation time recorded");

	/* the file is plain JSON others can read */
	text = slurp(path, NULL);
	ok(text && strstr(text, "\"format\":\t\"glmchat-session\"") && strstr(text, "\"reasoning_content\"") &&
	   strstr(text, "\"stop\":\t\"cancelled\""), "file has format, reasoning_content and the cancelled turn");
	free(text);
	{
		struct stat st;
		ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "session file is private (0600)");
	}

	/* a failed save (disk full) keeps the previous session intact */
	text = slurp(path, NULL);
	glm_conversation_add(&c, GLM_ROLE_USER, "this will not be saved", NULL);
	atomic_write_fail_at(2);
	ok(session_save(path, &c, &m, err, sizeof err) == -1 && strstr(err, path), "failed save reported: %s", err);
	atomic_write_fail_at(0);
	{
		char *after = slurp(path, NULL);
		ok(text && after && !strcmp(text, after), "previous session file unchanged");
		free(after);
	}
	free(text);

	/* Markdown */
	md = session_to_markdown(&b, &mb);
	ok(md && strstr(md, "## User\n\nQuote \"this\"") && strstr(md, "## Assistant") &&
	   strstr(md, "<details>\n<summary>Reasoning</summary>\n\nFirst I think.\nThen more.\n") &&
	   strstr(md, "The answer.") && strstr(md, "interrupted") && strstr(md, "GLM-4.7-Flash"),
	   "Markdown transcript has the turns, the reasoning in <details>, the interrupted mark");
	free(md);
	snprintf(path, sizeof path, "%s/s.md", tmpdir);
	ok(session_export_markdown(path, &b, &mb, err, sizeof err) == 0 && (md = slurp(path, NULL)) &&
	   !strncmp(md, "# glmchat conversation", 22), "export writes the file");
	free(md);

	glm_conversation_free(&c);
	glm_conversation_free(&b);
	session_meta_free(&m);
	session_meta_free(&mb);
}

static void rejects(const char *text, const char *why, const char *what)
{
	struct glm_conversation c;
	struct session_meta m;
	char path[512];

	snprintf(path, sizeof path, "%s/bad.json", tmpdir);
	spit_text(path, text);
	glm_conversation_init(&c);
	session_meta_init(&m);
	ok(session_load(path, &c, &m, err, sizeof err) == -1 && strstr(err, path) && strstr(err, why) &&
	   c.n == 0 && m.n_turns == 0, "%s: %s", what, err);
	glm_conversation_free(&c);
	session_meta_free(&m);
}

static void bad_files(void)
{
	char path[512], *good, *half;
	size_t len;

	rejects("", "not valid JSON", "empty file");
	rejects("{\"format\": \"glmchat-session\", \"version\": 1, \"messages\": [", "not valid JSON", "truncated");
	rejects("[]", "not a glmchat session", "an array");
	rejects("{\"messages\": []}", "not a glmchat session", "no format");
	rejects("{\"format\": \"glmchat-session\", \"version\": 2, \"messages\": []}", "version", "future version");
	rejects("{\"format\": \"glmchat-session\", \"version\": 1}", "messages", "no messages");
	rejects("{\"format\": \"glmchat-session\", \"version\": 1, \"messages\": [{\"role\": \"wizard\", "
	        "\"content\": \"x\"}]}", "wizard", "unknown role");
	rejects("{\"format\": \"glmchat-session\", \"version\": 1, \"messages\": [], \"sampling\": "
	        "{\"temp\": \"hot\"}}", "temp", "bad sampling value");
	rejects("{\"format\": \"glmchat-session\", \"version\": 1, \"messages\": [], \"stats\": "
	        "{\"turns\": [{\"gen_tps\": -1}]}}", "gen_tps", "negative speed");

	/* every prefix of a real session file is refused cleanly or loads */
	snprintf(path, sizeof path, "%s/s.json", tmpdir);
	good = slurp(path, &len);
	if (!good)
		bail_out("no saved session to cut");
	{
		int crashes = 0, loaded = 0;
		for (size_t cut = 0; cut < len; cut += 7) {
			struct glm_conversation c;
			struct session_meta m;
			int rc;
			half = strndup(good, cut);
			glm_conversation_init(&c);
			session_meta_init(&m);
			rc = session_from_json(half, cut, "cut", &c, &m, err, sizeof err);
			loaded += rc == 0;
			crashes += rc != 0 && rc != -1;
			glm_conversation_free(&c);
			session_meta_free(&m);
			free(half);
		}
		ok(crashes == 0 && loaded == 0, "no truncation of a session file loads as a session");
	}
	free(good);
	ok(session_load("/nonexistent/s.json", NULL, NULL, err, sizeof err) == -1 &&
	   strstr(err, "/nonexistent/s.json"), "missing file: %s", err);
	ok(session_load(tmpdir, NULL, NULL, err, sizeof err) == -1 && strstr(err, "not a regular file"),
	   "a directory: %s", err);
}

static void paths(void)
{
	char dir[512], a[600], b[600], got[600];
	struct glm_conversation c;
	struct session_meta m;
	struct timespec ts[2];

	setenv("XDG_DATA_HOME", tmpdir, 1);
	ok(session_dir(dir, sizeof dir) == 0 && strstr(dir, "/glmchat/sessions"), "session dir %s", dir);
	ok(session_last_path(got, sizeof got) == -1, "no session yet");
	ok(session_new_path(a, sizeof a) == 0 && !strncmp(a, dir, strlen(dir)), "new path %s", a);
	build(&c, &m);
	ok(session_save(a, &c, &m, err, sizeof err) == 0, "first session saved");
	ok(session_new_path(b, sizeof b) == 0 && strcmp(a, b), "a second new path differs (%s)", b);
	ok(session_save(b, &c, &m, err, sizeof err) == 0, "second session saved");
	/* make the first one the most recently written */
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec += 10;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, a, ts, 0);
	ok(session_last_path(got, sizeof got) == 0 && !strcmp(got, a), "last session is the newest file");
	/* a leftover temporary file from an interrupted write is not a session */
	snprintf(got, sizeof got, "%s/.x.json.ABCDEF", dir);
	spit_text(got, "{}");
	ok(session_last_path(got, sizeof got) == 0 && !strcmp(got, a), "temporary files are ignored");
	ok(session_resolve("work", got, sizeof got) == 0 && !strcmp(got + strlen(dir), "/work.json"),
	   "/save work -> sessions/work.json");
	ok(session_resolve("work.json", got, sizeof got) == 0 && !strcmp(got + strlen(dir), "/work.json"),
	   "/save work.json -> sessions/work.json");
	ok(session_resolve("./here.json", got, sizeof got) == 0 && !strcmp(got, "./here.json"),
	   "a path with a slash stays as it is");
	ok(session_resolve("", got, sizeof got) == -1, "empty name refused");
	glm_conversation_free(&c);
	session_meta_free(&m);
}

int main(void)
{
	char cmd[600];

	if (!mkdtemp(tmpdir))
		bail_out("mkdtemp: %s", strerror(errno));
	roundtrip_fixtures();
	roundtrip_fields();
	bad_files();
	paths();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		diag("could not remove %s", tmpdir);
	return done_testing();
}
