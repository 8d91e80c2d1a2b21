/* glmchat-cuda-attnbench: one layer's decode attention alone, the kernel
 * behind the tg@depth rows of `glmchat bench`, in µs per launch at each
 * depth and cache type (GLM-4.7-Flash's shape unless told), over distinct
 * caches so that no depth is served from L2. For docs/PERF.md; not
 * installed; needs no model file. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/backend.h"
#include "cuda/cuda_backend.h"
#include "cuda/cuda_testing.h"
#include "cuda/bench_args.h"

static int cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int dep[16] = {0, 8192, 32768}, ndep = 3, warps[4] = {0}, nw = 1, splits[8] = {0}, nsp = 1;
	int ctk[4] = {GLM_KV_F16, GLM_KV_Q8_0}, nctk = 2, G = 20, R = 512, Dr = 64, layers = 8, reps = 9;
	char err[512];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(a, "-d")) ndep = bench_parse_list(v, dep, 16), i++;
		else if (!strcmp(a, "--warps")) nw = bench_parse_list(v, warps, 4), i++;
		else if (!strcmp(a, "--splits")) nsp = bench_parse_list(v, splits, 8), i++;
		else if (!strcmp(a, "-G")) G = atoi(v), i++;
		else if (!strcmp(a, "-L")) layers = atoi(v), i++;
		else if (!strcmp(a, "-r")) reps = atoi(v), i++;
		else if (!strcmp(a, "--ctk")) {
			if ((nctk = bench_parse_kv_types("glmchat-cuda-attnbench", v, ctk, 4)) < 0)
				return 2;
			i++;
		} else {
			fprintf(stderr, "usage: glmchat-cuda-attnbench [-d 0,8192,32768] [--ctk f16,q8_0] [--warps 8,16] "
			        "[--splits N,...] [-G 20] [-L LAYERS] [-r REPS]\n");
			return 2;
		}
	}
	if (ndep < 1 || nw < 1 || nsp < 1 || layers < 1 || reps < 1 || reps > 64 || G < 1) {
		fprintf(stderr, "glmchat-cuda-attnbench: bad arguments (lists are comma-separated numbers)\n");
		return 2;
	}
	if (glm_cuda_device_count() <= 0) {
		fprintf(stderr, "glmchat-cuda-attnbench: no CUDA device\n");
		return 1;
	}
	printf("| ctk  | depth  | warps | splits | µs/layer median | min    | max    | GB/s (median) |\n");
	printf("|------|-------:|------:|-------:|----------------:|-------:|-------:|--------------:|\n");
	for (int k = 0; k < nctk; k++)
		for (int d = 0; d < ndep; d++)
			for (int w = 0; w < nw; w++)
				for (int sp = 0; sp < nsp; sp++) {
					double us[64];
					if (glm_cuda_bench_attention(G, R, Dr, ctk[k], dep[d], splits[sp], warps[w], layers, reps, us,
					                             err, sizeof err)) {
						fprintf(stderr, "glmchat-cuda-attnbench: %s\n", err);
						return 1;
					}
					qsort(us, (size_t)reps, sizeof *us, cmp_double);
					const double med = us[reps / 2];
					// the cache at its GGUF size (q8_0: 612 bytes a row, the
					// device's rows are 624 with their padding)
					const double bytes = (double)(dep[d] + 1) * glm_cuda_test_kv_row_bytes(ctk[k], R, Dr);
					printf("| %-4s | %6d | %5d | %6d | %15.2f | %6.2f | %6.2f | %13.0f |\n", glm_kv_type_name(ctk[k]),
					       dep[d], warps[w], splits[sp], med, us[0], us[reps - 1], bytes / (med * 1e3));
					fflush(stdout);
				}
	return 0;
}
