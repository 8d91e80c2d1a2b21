/* glmchat run: one chat turn, non-interactive. The prompt goes through the
 * model's chat format; the answer streams to standard output and the
 * reasoning to standard error, or, with --json, one object
 * {"reasoning","content","stats":{...}} is printed at the end. Ctrl-C ends
 * the turn early and keeps what was generated. The config file supplies
 * defaults (model, backend, sampling, thinking, system prompt) that the
 * command line overrides. */
#include "config.h"

#include <cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/chat.h"
#include "engine/engine.h"
#include "engine/tokenizer.h"
#include "src/cli.h"
#include "src/cli_io.h"
#include "src/commands.h"
#include "src/userconfig.h"

static const char usage_text[] =
	"Usage: glmchat run -m MODEL -p TEXT [-n N] [--system S] [--no-think] [--json] [OPTIONS]\n"
	"One chat turn: the answer on standard output, the reasoning on standard error.\n"
	"\n"
	"  -p, --prompt TEXT       the user's message ('-' reads it from standard input)\n"
	"      --system S          a system message first\n"
	"      --no-think          answer without reasoning\n"
	"      --json              print one JSON object {\"reasoning\",\"content\",\"stats\"} instead\n"
	"  -h, --help              this help\n"
	"\n";

enum { OPT_SYSTEM = OPT_COMMON_LAST + 1, OPT_NO_THINK, OPT_JSON };

static glm_atomic_int cancel_flag;

static void on_sigint(int sig)
{
	(void)sig;
	atomic_store(&cancel_flag, 1);
}

struct stream_state {
	bool json;
	bool reasoning_open;          /* reasoning text went to stderr without a final newline */
	char last_answer_char;
};

static void on_piece(const struct glm_piece *p, void *user)
{
	struct stream_state *s = user;

	if (s->json || !p->len)
		return;
	if (p->channel == GLM_CHANNEL_REASONING) {
		fwrite(p->text, 1, p->len, stderr);
		s->reasoning_open = p->text[p->len - 1] != '\n';
	} else {
		if (s->reasoning_open) {
			fputc('\n', stderr);
			s->reasoning_open = false;
		}
		fwrite(p->text, 1, p->len, stdout);
		fflush(stdout);
		s->last_answer_char = p->text[p->len - 1];
	}
}

static void print_json(glm_engine *e, const struct glm_gen_result *res)
{
	struct glm_stats st;
	cJSON *o = cJSON_CreateObject(), *s = cJSON_CreateObject();
	char *txt;

	glm_engine_stats(e, &st);
	cJSON_AddStringToObject(o, "reasoning", res->reasoning ? res->reasoning : "");
	cJSON_AddStringToObject(o, "content", res->content ? res->content : "");
	cJSON_AddStringToObject(s, "stop", glm_stop_reason_name(res->stop));
	cJSON_AddStringToObject(s, "backend", st.backend ? st.backend : "");
	cJSON_AddStringToObject(s, "kv_type", st.kv_type ? st.kv_type : "");
	cJSON_AddNumberToObject(s, "prompt_tokens", (double)st.n_prompt);
	cJSON_AddNumberToObject(s, "prompt_tokens_evaluated", (double)res->n_prompt_evaluated);
	cJSON_AddNumberToObject(s, "generated_tokens", (double)res->n_tokens);
	cJSON_AddNumberToObject(s, "reasoning_tokens", (double)res->n_reasoning_tokens);
	cJSON_AddNumberToObject(s, "answer_tokens", (double)res->n_answer_tokens);
	cJSON_AddNumberToObject(s, "prompt_tokens_per_second", st.prompt_tps);
	cJSON_AddNumberToObject(s, "generation_tokens_per_second", st.gen_tps);
	cJSON_AddNumberToObject(s, "time_to_first_token_ms", st.ttft_ms);
	cJSON_AddNumberToObject(s, "context_used", (double)st.ctx_used);
	cJSON_AddNumberToObject(s, "context_size", (double)st.ctx_size);
	cJSON_AddNumberToObject(s, "memory_used", (double)st.mem_used);
	cJSON_AddItemToObject(o, "stats", s);
	txt = cJSON_PrintUnformatted(o);
	if (txt)
		puts(txt);
	free(txt);
	cJSON_Delete(o);
}

static int run_turn(int argc, char **argv, const struct glmchat_config *cfg, struct cli_common common)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"prompt", required_argument, 0, 'p'},
		{"system", required_argument, 0, OPT_SYSTEM},
		{"no-think", no_argument, 0, OPT_NO_THINK},
		{"json", no_argument, 0, OPT_JSON},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *prompt_arg = NULL, *system = cfg->system_prompt;
	bool no_think = !cfg->thinking;
	struct stream_state ss = {0};
	struct glm_conversation conv;
	struct glm_render_opts ro;
	struct glm_gen_request req = {0};
	struct glm_gen_result res = {0};
	struct sigaction sa = {0}, old_sa;
	char *prompt = NULL, err[512];
	int32_t *ids = NULL, think;
	size_t n_ids = 0, prompt_len;
	glm_engine *e = NULL;
	int opt, rc = EXIT_RUNTIME;

	optind = 0;
	while ((opt = cli_next_option("run", argc, argv, CLI_COMMON_SHORTOPTS "p:h", longopts, &common)) != -1) {
		switch (opt) {
		case CLI_OPT_BAD:
			return EXIT_USAGE;
		case 'p':
			prompt_arg = optarg;
			break;
		case OPT_SYSTEM:
			system = optarg;
			break;
		case OPT_NO_THINK:
			no_think = true;
			break;
		case OPT_JSON:
			ss.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(cli_common_help, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("run", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	if (!common.model)
		return cli_usage_error("run", "no model given (-m, or \"model\" in the config file)");
	if (!prompt_arg)
		return cli_usage_error("run", "no prompt given (-p TEXT, or -p - for standard input)");
	if (strcmp(prompt_arg, "-")) {
		prompt = strdup(prompt_arg);
		if (!prompt)
			return cli_runtime_error("run: out of memory");
	} else {
		prompt = cli_read_stdin(&prompt_len);   /* prints why it failed */
		if (!prompt)
			return EXIT_RUNTIME;
	}

	glm_conversation_init(&conv);
	if ((system && !glm_conversation_add(&conv, GLM_ROLE_SYSTEM, system, NULL)) ||
	    !glm_conversation_add(&conv, GLM_ROLE_USER, prompt, NULL)) {
		cli_runtime_error("run: out of memory");
		goto out;
	}
	e = cli_open_engine(&common);
	if (!e)
		goto out;
	glm_render_opts_default(&ro);
	ro.enable_thinking = !no_think;
	if (glm_engine_chat_prompt(e, &conv, &ro, &ids, &n_ids, err, sizeof err)) {
		cli_runtime_error("%s", err);
		goto out;
	}
	think = glm_token_lookup(glm_engine_tokenizer(e), "<think>");
	glm_engine_default_sampling(e, &req.sampling);
	cli_apply_sampling(&common, &req.sampling);
	req.prompt = ids;
	req.n_prompt = n_ids;
	req.n_predict = common.n_predict;
	req.stop_at_eog = true;
	req.starts_in_reasoning = n_ids && think >= 0 && ids[n_ids - 1] == think;
	req.on_piece = on_piece;
	req.user = &ss;
	req.cancel = &cancel_flag;

	atomic_store(&cancel_flag, 0);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_sa);
	if (glm_engine_generate(e, &req, &res, err, sizeof err)) {
		sigaction(SIGINT, &old_sa, NULL);
		if (ss.reasoning_open)
			fputc('\n', stderr);
		cli_runtime_error("%s", err);
		goto out;
	}
	sigaction(SIGINT, &old_sa, NULL);

	if (ss.json) {
		print_json(e, &res);
	} else {
		if (ss.reasoning_open)
			fputc('\n', stderr);
		if (res.content && *res.content && ss.last_answer_char != '\n')
			putchar('\n');
	}
	if (fflush(stdout) || ferror(stdout)) {
		cli_runtime_error("stdout: write error");
		goto out;
	}
	rc = EXIT_OK;
	if (res.stop == GLM_STOP_CONTEXT)
		fprintf(stderr, "glmchat: run: stopped: the context of %lld tokens is full\n",
		        (long long)glm_engine_n_ctx(e));
	else if (res.stop == GLM_STOP_CANCELLED)
		rc = cli_runtime_error("run: interrupted");
out:
	glm_gen_result_free(&res);
	free(ids);
	glm_engine_close(e);
	glm_conversation_free(&conv);
	free(prompt);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct glmchat_config cfg;
	struct cli_common common;
	int rc;

	if ((rc = config_setup("run", &cfg, &common)))
		return rc;
	rc = run_turn(argc, argv, &cfg, common);
	config_free(&cfg);              /* after the last use of common.model */
	return rc;
}
