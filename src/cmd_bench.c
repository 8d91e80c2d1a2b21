/* glmchat bench: llama-bench-style speed measurement. For every (fa, ctk)
 * pair the engine is opened once; for every depth d the cache is filled
 * with d tokens once, then each test (ppN: one batch of N prompt tokens;
 * tgN: N single-token steps) runs after a warm-up, r times, rewound to
 * depth d between repetitions. Tokens are random ids (a fixed seed): the
 * speed does not depend on what they say. */
#include "config.h"

#include <cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/engine.h"
#include "engine/model.h"
#include "src/cli.h"
#include "src/model_source.h"
#include "src/commands.h"

static const char usage_text[] =
	"Usage: glmchat bench -m MODEL [-p 512,2048] [-n 128] [-d 0,8192] [--fa on,off]\n"
	"                     [--ctk f16,q8_0] [-r 3] [--json] [-t N] [-c N] [--backend B]\n"
	"Measure prompt processing (ppN) and generation (tgN) speed, also after a\n"
	"prefilled context of depth d (ppN@dD, tgN@dD).\n"
	"\n"
	"  -m, --model PATH        GGUF model file\n"
	"  -p, --n-prompt LIST     prompt sizes (default 512; 0 = none)\n"
	"  -n, --n-gen LIST        generation lengths (default 128; 0 = none)\n"
	"  -d, --n-depth LIST      context depths (default 0)\n"
	"      --fa LIST           on,off (default on; CUDA's attention kernels, no effect on the CPU)\n"
	"      --ctk LIST          cache types: f32 f16 bf16 q8_0 (default: the backend's)\n"
	"      --q8-act LIST       CPU: on,off: q8-quantized activations, the fast path that\n"
	"                          is not the f32 reference (default off; adds an act column)\n"
	"  -r, --repetitions N     timed runs per test (default 3), after one warm-up\n"
	"      --json              one JSON array instead of the table\n"
	"  -t, --threads N         CPU threads (default: all)\n"
	"  -c, --ctx-size N        cache size (default: the largest depth + test)\n"
	"      --backend B         auto|cpu|cuda\n"
	"  -h, --help              this help\n";

enum { OPT_JSON = OPT_COMMON_LAST + 1, OPT_FA_LIST, OPT_CTK_LIST, OPT_Q8_LIST };

struct list { int32_t *v; size_t n; };

struct bench {
	glm_engine *e;
	const char *model;
	int32_t *tokens;              /* random ids, enough for depth + test */
	int reps;
	bool json, fa, q8, show_act;
	cJSON *rows;
	bool header_done;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_list(const char *s, struct list *l)
{
	free(l->v);
	l->v = NULL;
	return cli_parse_ids(s, &l->v, &l->n) || l->n == 0 ? -1 : 0;
}

static int parse_fa(const char *s, bool *fa, int *n)
{
	char buf[64], *tok, *save = NULL;

	*n = 0;
	snprintf(buf, sizeof buf, "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == 2)
			return -1;
		if (!strcmp(tok, "on") || !strcmp(tok, "1"))
			fa[(*n)++] = true;
		else if (!strcmp(tok, "off") || !strcmp(tok, "0"))
			fa[(*n)++] = false;
		else
			return -1;
	}
	return *n ? 0 : -1;
}

static int parse_ctk(const char *s, enum glm_kv_type *t, int *n)
{
	char buf[128], *tok, *save = NULL;

	*n = 0;
	snprintf(buf, sizeof buf, "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (*n == 4 || glm_kv_type_parse(tok, &t[(*n)++]))
			return -1;
	return *n ? 0 : -1;
}

static void human_bytes(char *buf, size_t len, double b)
{
	if (b >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.2f GiB", b / (1024.0 * 1024 * 1024));
	else
		snprintf(buf, len, "%.1f MiB", b / (1024.0 * 1024));
}

/* One test's repetitions, reported as a table row or a JSON object. */
static void report(struct bench *B, const char *test, int n_prompt, int n_gen, int depth,
                   const double *ts, int reps)
{
	struct glm_stats st;
	double mean = 0, var = 0, sd;
	char mem[32];

	glm_engine_stats(B->e, &st);
	for (int i = 0; i < reps; i++)
		mean += ts[i] / reps;
	for (int i = 0; i < reps; i++)
		var += (ts[i] - mean) * (ts[i] - mean);
	sd = reps > 1 ? sqrt(var / (reps - 1)) : 0;
	if (B->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "model", B->model);
		cJSON_AddStringToObject(o, "backend", st.backend);
		cJSON_AddBoolToObject(o, "fa", B->fa);
		cJSON_AddBoolToObject(o, "q8_act", B->q8);
		cJSON_AddStringToObject(o, "ctk", st.kv_type);
		cJSON_AddStringToObject(o, "test", test);
		cJSON_AddNumberToObject(o, "n_prompt", n_prompt);
		cJSON_AddNumberToObject(o, "n_gen", n_gen);
		cJSON_AddNumberToObject(o, "n_depth", depth);
		cJSON_AddNumberToObject(o, "repetitions", reps);
		cJSON_AddNumberToObject(o, "avg_ts", mean);
		cJSON_AddNumberToObject(o, "stddev_ts", sd);
		cJSON_AddItemToObject(o, "samples_ts", cJSON_CreateDoubleArray(ts, reps));
		cJSON_AddNumberToObject(o, "mem_used", (double)st.mem_used);
		cJSON_AddNumberToObject(o, "mem_total", (double)st.mem_total);
		cJSON_AddItemToArray(B->rows, o);
		return;
	}
	if (!B->header_done) {
		printf("| backend | fa  | ctk  |%s test           |              t/s |     memory |\n"
		       "| ------- | --- | ---- |%s -------------- | ---------------: | ---------: |\n",
		       B->show_act ? " act |" : "", B->show_act ? " --- |" : "");
		B->header_done = true;
	}
	human_bytes(mem, sizeof mem, (double)st.mem_used);
	printf("| %-7s | %-3s | %-4s |%s %-14s | %8.2f ± %6.2f | %10s |\n", st.backend, B->fa ? "on" : "off",
	       st.kv_type, !B->show_act ? "" : B->q8 ? " q8  |" : " f32 |", test, mean, sd, mem);
	fflush(stdout);
}

/* ppN at depth d: one batch of N tokens at positions d.. */
static int run_pp(struct bench *B, int n, int depth, double *ts, char *err, size_t errlen)
{
	for (int r = -1; r < B->reps; r++) {   /* r = -1: the warm-up */
		double t0 = now();

		if (glm_engine_eval(B->e, B->tokens + depth, n, depth, NULL, false, err, errlen))
			return -1;
		if (r >= 0)
			ts[r] = n / (now() - t0);
	}
	return 0;
}

/* tgN at depth d: N single-token steps (each with its logits, as decoding
 * needs them) at positions d.. */
static int run_tg(struct bench *B, int n, int depth, float *logits, double *ts, char *err, size_t errlen)
{
	for (int r = -1; r < B->reps; r++) {
		int steps = r < 0 ? 1 : n;      /* warm-up: one step */
		double t0 = now();

		for (int i = 0; i < steps; i++)
			if (glm_engine_eval(B->e, B->tokens + depth + i, 1, depth + i, logits, false, err, errlen))
				return -1;
		if (r >= 0)
			ts[r] = n / (now() - t0);
	}
	return 0;
}

static int max_of(const struct list *l)
{
	int m = 0;

	for (size_t i = 0; i < l->n; i++)
		m = l->v[i] > m ? l->v[i] : m;
	return m;
}

static int bench_config(struct bench *B, const struct cli_common *common, const struct list *pp,
                        const struct list *tg, const struct list *depths)
{
	struct glm_engine_config cfg;
	int64_t need = max_of(depths) + (max_of(pp) > max_of(tg) ? max_of(pp) : max_of(tg));
	int64_t V;
	float *logits = NULL;
	double *ts = NULL;
	uint64_t x = 0x243f6a8885a308d3ull;
	char err[512], *path;
	int rc;

	cli_engine_config(common, &cfg);
	if (model_source_resolve(common->model, &path, err, sizeof err)) {
		cli_runtime_error("%s", err);
		return -1;
	}
	cfg.model_path = path;
	cfg.flash_attn = B->fa;
	cfg.q8_activations = B->q8;
	cfg.tokenizer_optional = true;    /* random ids in: benchmark-only files work too */
	if (cfg.n_ctx <= 0)
		cfg.n_ctx = need > 0 ? need : 1;
	rc = glm_engine_open(&cfg, &B->e, err, sizeof err);
	free(path);
	if (rc) {
		cli_runtime_error("%s", err);
		return -1;
	}
	rc = -1;                          /* until every test has run */
	V = glm_engine_model(B->e)->hp.n_vocab;
	if (need > glm_engine_n_ctx(B->e)) {
		cli_runtime_error("%s: the tests need %lld tokens of context but -c gives %lld", B->model,
		                  (long long)need, (long long)glm_engine_n_ctx(B->e));
		goto out;
	}
	B->tokens = malloc((size_t)(need + 1) * sizeof *B->tokens);
	logits = malloc((size_t)V * sizeof *logits);
	ts = malloc((size_t)B->reps * sizeof *ts);
	if (!B->tokens || !logits || !ts) {
		cli_runtime_error("bench: out of memory");
		goto out;
	}
	for (int64_t i = 0; i <= need; i++) {    /* xorshift: any ids will do */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		B->tokens[i] = (int32_t)(x % (uint64_t)V);
	}
	for (size_t di = 0; di < depths->n; di++) {
		int d = depths->v[di];
		char name[64];

		if (d > 0 && glm_engine_eval(B->e, B->tokens, d, 0, NULL, false, err, sizeof err))
			goto fail;
		for (size_t i = 0; i < pp->n; i++) {
			if (pp->v[i] <= 0)
				continue;
			snprintf(name, sizeof name, d ? "pp%d@d%d" : "pp%d", pp->v[i], d);
			if (run_pp(B, pp->v[i], d, ts, err, sizeof err))
				goto fail;
			report(B, name, pp->v[i], 0, d, ts, B->reps);
		}
		for (size_t i = 0; i < tg->n; i++) {
			if (tg->v[i] <= 0)
				continue;
			snprintf(name, sizeof name, d ? "tg%d@d%d" : "tg%d", tg->v[i], d);
			if (run_tg(B, tg->v[i], d, logits, ts, err, sizeof err))
				goto fail;
			report(B, name, 0, tg->v[i], d, ts, B->reps);
		}
	}
	rc = 0;
	goto out;
fail:
	cli_runtime_error("%s", err);
out:
	free(B->tokens);
	B->tokens = NULL;
	free(logits);
	free(ts);
	glm_engine_close(B->e);
	B->e = NULL;
	return rc;
}

int cmd_bench(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"model", required_argument, 0, 'm'},
		{"backend", required_argument, 0, OPT_BACKEND},
		{"threads", required_argument, 0, 't'},
		{"ctx-size", required_argument, 0, 'c'},
		{"n-prompt", required_argument, 0, 'p'},
		{"n-gen", required_argument, 0, 'n'},
		{"n-depth", required_argument, 0, 'd'},
		{"repetitions", required_argument, 0, 'r'},
		{"fa", required_argument, 0, OPT_FA_LIST},
		{"ctk", required_argument, 0, OPT_CTK_LIST},
		{"q8-act", required_argument, 0, OPT_Q8_LIST},
		{"json", no_argument, 0, OPT_JSON},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct cli_common common;
	struct list pp = {0}, tg = {0}, depths = {0};
	struct bench B = {0};
	bool fas[2] = {true}, q8s[2] = {false};
	enum glm_kv_type ctks[4] = {GLM_KV_DEFAULT};
	int n_fa = 1, n_ctk = 1, n_q8 = 1, opt, rc = EXIT_OK;
	int64_t v;

	cli_common_init(&common);
	B.reps = 3;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "m:t:c:p:n:d:r:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm': case 't': case 'c': case OPT_BACKEND:
			if (cli_common_option("bench", opt, optarg, &common) < 0)
				return EXIT_USAGE;
			break;
		case 'p':
			if (parse_list(optarg, &pp))
				return cli_usage_error("bench", "invalid value '%s' for -p", optarg);
			break;
		case 'n':
			if (parse_list(optarg, &tg))
				return cli_usage_error("bench", "invalid value '%s' for -n", optarg);
			break;
		case 'd':
			if (parse_list(optarg, &depths))
				return cli_usage_error("bench", "invalid value '%s' for -d", optarg);
			break;
		case 'r':
			if (cli_parse_i64(optarg, 1, 1000, &v))
				return cli_usage_error("bench", "invalid value '%s' for -r", optarg);
			B.reps = (int)v;
			break;
		case OPT_FA_LIST:
			if (parse_fa(optarg, fas, &n_fa))
				return cli_usage_error("bench", "invalid value '%s' for --fa", optarg);
			break;
		case OPT_Q8_LIST:
			if (parse_fa(optarg, q8s, &n_q8))
				return cli_usage_error("bench", "invalid value '%s' for --q8-act", optarg);
			B.show_act = true;
			break;
		case OPT_CTK_LIST:
			if (parse_ctk(optarg, ctks, &n_ctk))
				return cli_usage_error("bench", "invalid value '%s' for --ctk", optarg);
			break;
		case OPT_JSON:
			B.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("bench", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
	if (!common.model)
		return cli_usage_error("bench", "no model given (-m)");
	if (!pp.v && parse_list("512", &pp))
		return cli_runtime_error("bench: out of memory");
	if (!tg.v && parse_list("128", &tg))
		return cli_runtime_error("bench: out of memory");
	if (!depths.v && parse_list("0", &depths))
		return cli_runtime_error("bench: out of memory");

	B.model = common.model;
	B.rows = B.json ? cJSON_CreateArray() : NULL;
	for (int f = 0; f < n_fa && rc == EXIT_OK; f++)
		for (int k = 0; k < n_ctk && rc == EXIT_OK; k++)
			for (int q = 0; q < n_q8 && rc == EXIT_OK; q++) {
				common.kv_type = ctks[k];
				B.fa = fas[f];
				B.q8 = q8s[q];
				if (bench_config(&B, &common, &pp, &tg, &depths))
					rc = EXIT_RUNTIME;
			}
	if (B.json && rc == EXIT_OK) {
		char *txt = cJSON_Print(B.rows);

		if (txt)
			puts(txt);
		free(txt);
	}
	cJSON_Delete(B.rows);
	free(pp.v);
	free(tg.v);
	free(depths.v);
	if (rc == EXIT_OK && (fflush(stdout) || ferror(stdout)))
		rc = cli_runtime_error("stdout: write error");
	return rc;
}
