/* glmchat-cuda-bench: the CUDA backend alone on a model file, the rows of
 * `glmchat bench` (ppN, tgN, tgN at depth d, fa on/off, cache types) without
 * the engine around it, plus the backend's own knobs (batch size, graphs).
 * For the performance log (docs/PERF.md); not installed. */
#include "config.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "engine/model.h"
#include "engine/backend.h"
#include "cuda/cuda_backend.h"
#include "cuda/bench_args.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void stats(const double *v, int n, double *mean, double *sd)
{
	double s = 0, q = 0;
	for (int i = 0; i < n; i++)
		s += v[i];
	*mean = s / n;
	for (int i = 0; i < n; i++)
		q += (v[i] - *mean) * (v[i] - *mean);
	*sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	int pp[8] = {512}, npp = 1, tg[8] = {128}, ntg = 1, dep[8] = {0}, ndep = 1, reps = 3;
	int fa[2] = {1}, nfa = 1, ctk[4] = {GLM_KV_F16}, nctk = 1, batch = 512;
	int64_t n_ctx = 0;
	struct glm_cuda_options opt;
	char err[512];

	glm_cuda_options_default(&opt);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(a, "-m")) path = v, i++;
		else if (!strcmp(a, "-p")) npp = bench_parse_list(v, pp, 8), i++;
		else if (!strcmp(a, "-n")) ntg = bench_parse_list(v, tg, 8), i++;
		else if (!strcmp(a, "-d")) ndep = bench_parse_list(v, dep, 8), i++;
		else if (!strcmp(a, "-r")) reps = atoi(v), i++;
		else if (!strcmp(a, "-b")) batch = atoi(v), i++;
		else if (!strcmp(a, "-c")) n_ctx = atoll(v), i++;
		else if (!strcmp(a, "--no-graph")) opt.use_graph = false;
		else if (!strcmp(a, "--int8")) opt.exact = false;
		else if (!strcmp(a, "--no-pdl")) opt.pdl = false;
		else if (!strcmp(a, "--no-pdl-early")) opt.pdl_early = false;
		else if (!strcmp(a, "--gemv-warps")) opt.gemv_warps_per_sm = atoi(v), i++;
		else if (!strcmp(a, "--no-fast-gemv")) opt.fast_gemv = false;
		else if (!strcmp(a, "--mma-gemv")) opt.mma_gemv = true;
		else if (!strcmp(a, "--no-mma-gemv")) opt.mma_gemv = false;
		else if (!strcmp(a, "--mma-q6k")) opt.mma_gemv_q6k = true;
		else if (!strcmp(a, "--attn-warps")) opt.attn_decode_warps = atoi(v), i++;
		else if (!strcmp(a, "--attn-decode-legacy")) opt.attn_decode_legacy = true;
		else if (!strcmp(a, "--gemm-min")) opt.gemm_min_batch = atoi(v), i++;
		else if (!strcmp(a, "--splits")) opt.n_split = atoi(v), i++;
		else if (!strcmp(a, "--fa")) {
			nfa = 0;
			if (strstr(v, "on")) fa[nfa++] = 1;
			if (strstr(v, "off")) fa[nfa++] = 0;
			i++;
		} else if (!strcmp(a, "--ctk")) {
			if ((nctk = bench_parse_kv_types("glmchat-cuda-bench", v, ctk, 4)) < 0)
				return 2;
			i++;
		} else {
			fprintf(stderr, "usage: glmchat-cuda-bench -m MODEL [-p 512,2048] [-n 128] [-d 0,8192] "
			        "[--fa on,off] [--ctk f16,q8_0] [-r 3] [-b BATCH] [-c CTX] [--no-graph] "
			        "[--gemm-min N] [--splits N] [--int8] [--no-pdl] [--no-pdl-early]\n"
			        "       [--no-fast-gemv] [--attn-decode-legacy] [--gemv-warps N]\n"
			        "       [--attn-warps 8|16] [--mma-gemv] [--no-mma-gemv] [--mma-q6k]\n");
			return 2;
		}
	}
	if (!path || npp < 0 || ntg < 0 || ndep < 0 || reps < 1) {
		fprintf(stderr, "glmchat-cuda-bench: -m MODEL is required (and lists are comma-separated numbers)\n");
		return 2;
	}
	struct glm_model *m;
	double t0 = now();
	if (glm_model_load(path, &m, err, sizeof err)) {
		fprintf(stderr, "glmchat-cuda-bench: %s\n", err);
		return 1;
	}
	int maxd = 0, maxn = 0;
	for (int i = 0; i < ndep; i++)
		maxd = dep[i] > maxd ? dep[i] : maxd;
	for (int i = 0; i < npp; i++)
		maxn = pp[i] > maxn ? pp[i] : maxn;
	for (int i = 0; i < ntg; i++)
		maxn = tg[i] > maxn ? tg[i] : maxn;
	if (!n_ctx)
		n_ctx = maxd + maxn + 16;
	int32_t *ids = malloc(sizeof(int32_t) * (n_ctx + 1));
	float *logits = malloc(sizeof(float) * m->hp.n_vocab);
	double *ts = malloc(sizeof(double) * reps);
	uint64_t x = 0x243f6a8885a308d3ull;
	for (int64_t i = 0; i <= n_ctx; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ids[i] = (int32_t)(x % m->hp.n_vocab);
	}
	printf("model %s: %u layers, loaded in %.1f s\n", m->name, m->hp.n_layer, now() - t0);
	printf("| fa  | ctk  | test           |              t/s | VRAM GiB |\n");
	printf("|-----|------|----------------|------------------|---------:|\n");
	int rc = 0;
	for (int f = 0; f < nfa && !rc; f++)
		for (int k = 0; k < nctk && !rc; k++) {
			struct glm_backend_config cfg = {0};
			struct glm_backend *b;
			cfg.kv_type = ctk[k];
			cfg.n_ctx = n_ctx;
			cfg.flash_attn = fa[f];
			cfg.max_batch = batch;
			t0 = now();
			if (glm_backend_cuda_create_ex(m, &cfg, &opt, &b, err, sizeof err)) {
				fprintf(stderr, "glmchat-cuda-bench: %s\n", err);
				rc = 1;
				break;
			}
			int64_t used, total;
			b->ops->memory(b, &used, &total);
			fprintf(stderr, "backend up in %.1f s\n", now() - t0);
			for (int di = 0; di < ndep && !rc; di++) {
				const int d = dep[di];
				if (d > 0 && b->ops->forward(b, ids, d, 0, NULL, false, NULL, err, sizeof err)) {
					rc = 1;
					break;
				}
				for (int i = 0; i < npp && !rc; i++) {
					if (pp[i] <= 0)
						continue;
					for (int r = -1; r < reps && !rc; r++) {
						double s = now();
						rc = b->ops->forward(b, ids + d, pp[i], d, logits, false, NULL, err, sizeof err);
						if (r >= 0)
							ts[r] = pp[i] / (now() - s);
					}
					double mu, sd;
					stats(ts, reps, &mu, &sd);
					char name[64];
					snprintf(name, sizeof name, d ? "pp%d@d%d" : "pp%d", pp[i], d);
					printf("| %-3s | %-4s | %-14s | %8.1f ± %6.1f | %8.2f |\n", fa[f] ? "on" : "off",
					       glm_kv_type_name(ctk[k]), name, mu, sd, used / 1073741824.0);
					fflush(stdout);
				}
				for (int i = 0; i < ntg && !rc; i++) {
					if (tg[i] <= 0)
						continue;
					for (int r = -1; r < reps && !rc; r++) {
						const int steps = r < 0 ? 2 : tg[i];
						double s = now();
						for (int j = 0; j < steps && !rc; j++)
							rc = b->ops->forward(b, ids + d + j, 1, d + j, logits, false, NULL, err, sizeof err);
						if (r >= 0)
							ts[r] = steps / (now() - s);
					}
					double mu, sd;
					stats(ts, reps, &mu, &sd);
					char name[64];
					snprintf(name, sizeof name, d ? "tg%d@d%d" : "tg%d", tg[i], d);
					printf("| %-3s | %-4s | %-14s | %8.1f ± %6.1f | %8.2f |\n", fa[f] ? "on" : "off",
					       glm_kv_type_name(ctk[k]), name, mu, sd, used / 1073741824.0);
					fflush(stdout);
				}
			}
			if (rc)
				fprintf(stderr, "glmchat-cuda-bench: %s\n", err);
			b->ops->free(b);
		}
	free(ids);
	free(logits);
	free(ts);
	glm_model_free(m);
	return rc ? 1 : 0;
}
