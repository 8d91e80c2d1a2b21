/* The config file: every key read into the right field, the command line
 * overriding it, and every kind of bad input reported by key name. */
#include "config.h"
#include "tests/testutil.h"
#include "src/userconfig.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[1024];
#define RESET "{\"sampling\": {\"temp\": null}, \"model\": null}"

/* Parse text into a fresh config; returns the rc, leaves err set. */
static int parse(struct glmchat_config *c, const char *json)
{
	config_init(c);
	err[0] = '\0';
	return config_parse(json, strlen(json), "test.json", c, err, sizeof err);
}

/* Expect a parse error whose message contains each of the words. */
static void rejects(const char *json, const char *w1, const char *w2, const char *what)
{
	struct glmchat_config c;
	int rc = parse(&c, json);

	ok(rc == -1 && strstr(err, "test.json") && strstr(err, w1) && (!w2 || strstr(err, w2)),
	   "%s: %s", what, err);
	config_free(&c);
}

int main(void)
{
	struct glmchat_config c, d;
	struct cli_common cli;
	struct config_key k;
	char dir[] = "/tmp/glmchat-config-XXXXXX", path[512], *json;

	/* defaults */
	config_init(&c);
	ok(c.model == NULL && c.thinking && c.show_reasoning && c.system_prompt == NULL, "defaults");
	ok(c.reasoning_key.kind == CONFIG_KEY_CTRL && c.reasoning_key.code == 't', "default toggle key C-t");
	ok(isnan(c.opts.temp) && c.opts.top_k == -1 && !c.opts.seed_set && c.opts.n_predict == -1,
	   "sampling unset by default");
	config_free(&c);

	/* a full file */
	ok(parse(&c, "{\"model\": \"/models/glm.gguf\", \"backend\": \"cpu\", \"ctx_size\": 8192,\n"
	             " \"cache_type\": \"q8_0\", \"threads\": 6, \"n_predict\": 512, \"flash_attn\": false,\n"
	             " \"sleep_idle_seconds\": 300, \"thinking\": false, \"show_reasoning\": false,\n"
	             " \"system_prompt\": \"Be brief.\", \"reasoning_key\": \"F2\",\n"
	             " \"sampling\": {\"temp\": 0.6, \"top_p\": 0.9, \"top_k\": 40, \"min_p\": 0.05,\n"
	             "   \"repeat_penalty\": 1.1, \"presence_penalty\": 0.5, \"seed\": 1234},\n"
	             " \"colors\": {\"user\": \"cyan\", \"answer\": \"default\", \"reasoning\": \"bright-black\",\n"
	             "   \"status\": 244, \"notice\": \"yellow\"}}") == 0, "a full config parses (%s)", err);
	is_str(c.model, "/models/glm.gguf", "model");
	ok(c.opts.model == c.model, "opts.model points at the owned copy");
	is_int(c.opts.backend, GLM_BACKEND_CPU, "backend");
	is_int(c.opts.n_ctx, 8192, "ctx_size");
	is_int(c.opts.kv_type, GLM_KV_Q8_0, "cache_type");
	is_int(c.opts.n_threads, 6, "threads");
	is_int(c.opts.n_predict, 512, "n_predict");
	ok(!c.opts.flash_attn, "flash_attn");
	is_int(c.opts.sleep_idle_seconds, 300, "sleep_idle_seconds");
	ok(!c.thinking && !c.show_reasoning, "thinking and show_reasoning");
	is_str(c.system_prompt, "Be brief.", "system_prompt");
	ok(c.reasoning_key.kind == CONFIG_KEY_FN && c.reasoning_key.code == 2, "reasoning_key F2");
	ok(fabsf(c.opts.temp - 0.6f) < 1e-7f && fabsf(c.opts.top_p - 0.9f) < 1e-7f &&
	   c.opts.top_k == 40 && fabsf(c.opts.min_p - 0.05f) < 1e-7f &&
	   fabsf(c.opts.repeat_penalty - 1.1f) < 1e-7f && fabsf(c.opts.presence_penalty - 0.5f) < 1e-7f,
	   "sampling values");
	ok(c.opts.seed_set && c.opts.seed == 1234, "seed");
	ok(c.colors.user == 6 && c.colors.answer == -1 && c.colors.reasoning == 8 &&
	   c.colors.status == 244 && c.colors.notice == 3, "colors");

	/* the command line overrides the file */
	config_apply_to_cli(&c, &cli);
	ok(cli.model == c.model && cli.n_ctx == 8192 && fabsf(cli.temp - 0.6f) < 1e-7f, "applied to options");
	is_int(cli_common_option("chat", OPT_TEMP, "0.25", &cli), 1, "--temp parsed after the config");
	ok(fabsf(cli.temp - 0.25f) < 1e-7f, "command line wins over the file");
	is_int(cli_common_option("chat", 'm', "/other.gguf", &cli), 1, "-m parsed after the config");
	is_str(cli.model, "/other.gguf", "-m wins over the file's model");
	ok(fabsf(cli.top_p - 0.9f) < 1e-7f, "what the command line does not give stays from the file");

	/* --print-config output reads back as the same settings */
	config_apply_to_cli(&c, &cli);
	json = config_to_json(&c, &cli);
	ok(json != NULL, "config_to_json");
	config_init(&d);
	ok(json && config_parse(json, strlen(json), "printed", &d, err, sizeof err) == 0,
	   "printed config parses as a config (%s)", err);
	ok(d.model && !strcmp(d.model, c.model) && d.opts.n_ctx == c.opts.n_ctx &&
	   d.opts.kv_type == c.opts.kv_type && d.opts.temp == c.opts.temp && d.opts.top_p == c.opts.top_p &&
	   d.opts.min_p == c.opts.min_p && d.opts.seed == c.opts.seed && d.thinking == c.thinking &&
	   d.colors.status == 244 && d.colors.reasoning == 8 && d.reasoning_key.code == 2 &&
	   !strcmp(d.system_prompt, "Be brief."), "round trip keeps every value");
	ok(json && strstr(json, "\"temp\":\t0.6,") != NULL, "floats print as written (0.6, not 0.60000002)");
	free(json);
	config_free(&d);
	config_free(&c);

	/* null puts a key back to its default */
	ok(parse(&c, "{\"sampling\": {\"temp\": 0.5}, \"model\": \"x.gguf\"}") == 0 &&
	   config_parse(RESET, strlen(RESET), "t", &c, err, sizeof err) == 0 &&
	   isnan(c.opts.temp) && c.model == NULL && c.opts.model == NULL, "null resets a key");
	config_free(&c);
	ok(parse(&c, "{}") == 0, "an empty object is a valid config");
	config_free(&c);

	/* bad input: each message names the key */
	rejects("{\"modle\": \"x\"}", "unknown key 'modle'", NULL, "unknown key");
	rejects("{\"sampling\": {\"tempp\": 1}}", "unknown key 'sampling.tempp'", NULL, "unknown nested key");
	rejects("{\"sampling\": {\"temp\": \"hot\"}}", "'sampling.temp'", "\"hot\"", "string for a number");
	rejects("{\"sampling\": {\"top_p\": 1.5}}", "'sampling.top_p'", "0 to 1", "out of range");
	rejects("{\"ctx_size\": 1.5}", "'ctx_size'", "whole number", "fraction for an integer");
	rejects("{\"ctx_size\": -3}", "'ctx_size'", NULL, "negative context");
	rejects("{\"threads\": 1e9}", "'threads'", NULL, "huge thread count");
	rejects("{\"backend\": \"gpu\"}", "'backend'", "cuda", "unknown backend");
	rejects("{\"cache_type\": \"q4_0\"}", "'cache_type'", "q8_0", "unknown cache type");
	rejects("{\"thinking\": \"yes\"}", "'thinking'", "true or false", "string for a boolean");
	rejects("{\"model\": 42}", "'model'", NULL, "number for a path");
	rejects("{\"model\": \"\"}", "'model'", NULL, "empty path");
	rejects("{\"reasoning_key\": \"C-c\"}", "'reasoning_key'", NULL, "C-c (cancel) cannot be the toggle");
	rejects("{\"reasoning_key\": \"F13\"}", "'reasoning_key'", NULL, "F13");
	rejects("{\"colors\": {\"user\": \"purple\"}}", "'colors.user'", NULL, "unknown colour");
	rejects("{\"colors\": {\"user\": 256}}", "'colors.user'", NULL, "colour number out of range");
	rejects("{\"colors\": 3}", "'colors'", "an object", "number for an object");
	rejects("{\"threads\": 2, \"threads\": 3}", "'threads'", "twice", "a key given twice");
	rejects("{\n\"threads\": 2,\n\"model\": }", "line 3", "not valid JSON", "broken JSON names the line");
	rejects("[1, 2]", "JSON object", NULL, "an array is not a config");
	rejects("", "not valid JSON", NULL, "an empty file");
	rejects("{\"x\": \"\xff\xfe\"}", "unknown key 'x'", NULL, "invalid UTF-8 does no harm");

	/* keys and colours */
	ok(config_parse_key("C-t", &k) == 0 && k.kind == CONFIG_KEY_CTRL && k.code == 't', "C-t");
	ok(config_parse_key("M-r", &k) == 0 && k.kind == CONFIG_KEY_ALT && k.code == 'r', "M-r");
	ok(config_parse_key("F12", &k) == 0 && k.kind == CONFIG_KEY_FN && k.code == 12, "F12");
	ok(config_parse_key("F0", &k) == -1 && config_parse_key("C-", &k) == -1 &&
	   config_parse_key("C-tt", &k) == -1 && config_parse_key("", &k) == -1, "bad keys rejected");
	is_int(config_parse_color("bright-white"), 15, "bright-white");
	is_int(config_parse_color("default"), -1, "default colour");
	is_int(config_parse_color("17"), 17, "colour number");
	is_int(config_parse_color("bright-17"), -2, "bright-17 rejected");

	/* files: the default path, a missing file, a bad one */
	if (!mkdtemp(dir))
		bail_out("mkdtemp failed");
	setenv("XDG_CONFIG_HOME", dir, 1);
	unsetenv("GLMCHAT_CONFIG");
	ok(config_default_path(path, sizeof path) == 0 && !strncmp(path, dir, strlen(dir)) &&
	   !strcmp(path + strlen(dir), "/glmchat/config.json"), "default path under $XDG_CONFIG_HOME");
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	setenv("HOME", dir, 1);
	ok(config_default_path(path, sizeof path) == 0 && strstr(path, "/.config/glmchat/config.json"),
	   "a relative $XDG_CONFIG_HOME is ignored (spec)");
	setenv("XDG_CONFIG_HOME", dir, 1);
	snprintf(path, sizeof path, "%s/models/m.gguf", dir);
	ok(parse(&c, "{\"model\": \"~/models/m.gguf\"}") == 0 && c.model && !strcmp(c.model, path),
	   "a model path starting with ~/ is in the home directory");
	config_free(&c);
	is_int(config_setup("chat", &c, &cli), 0, "no config file: defaults");
	ok(c.path == NULL && cli.model == NULL, "nothing read");
	config_free(&c);

	snprintf(path, sizeof path, "%s/glmchat", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/glmchat/config.json", dir);
	spit_text(path, "{\"model\": \"/m.gguf\", \"sampling\": {\"top_k\": 20}}\n");
	is_int(config_setup("chat", &c, &cli), 0, "config file read");
	ok(c.path && !strcmp(c.path, path) && cli.model && !strcmp(cli.model, "/m.gguf") && cli.top_k == 20,
	   "its values reach the options");
	config_free(&c);

	spit_text(path, "{\"sampling\": {\"top_k\": -5}}\n");
	is_int(config_setup("chat", &c, &cli), EXIT_RUNTIME, "a bad config file is a runtime error");
	config_free(&c);

	setenv("GLMCHAT_CONFIG", "/nonexistent/glmchat.json", 1);
	config_init(&c);
	ok(config_load_file("/nonexistent/glmchat.json", false, &c, err, sizeof err) == -1 &&
	   strstr(err, "/nonexistent/glmchat.json"), "a missing named file is an error (%s)", err);
	config_free(&c);
	unsetenv("GLMCHAT_CONFIG");

	snprintf(path, sizeof path, "rm -rf '%s'", dir);
	if (system(path) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
