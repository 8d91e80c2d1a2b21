/* Argument lists shared by the CUDA bench programs (glmchat-cuda-bench,
 * glmchat-cuda-attnbench): comma-separated numbers and cache types. */
#ifndef GLM_CUDA_BENCH_ARGS_H
#define GLM_CUDA_BENCH_ARGS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/backend.h"

/* "512,2048" into v (at most max values): the count, or -1 */
static inline int bench_parse_list(const char *s, int *v, int max)
{
	int n = 0;
	while (*s && n < max) {
		char *end;
		long x = strtol(s, &end, 10);
		if (end == s)
			return -1;
		v[n++] = (int)x;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

/* "f16,q8_0" into v (at most max): the count, or -1 after a line on stderr */
static inline int bench_parse_kv_types(const char *prog, const char *s, int *v, int max)
{
	char buf[64];
	int n = 0;
	snprintf(buf, sizeof buf, "%s", s);
	for (char *t = strtok(buf, ","); t && n < max; t = strtok(NULL, ",")) {
		enum glm_kv_type k;
		if (glm_kv_type_parse(t, &k)) {
			fprintf(stderr, "%s: unknown cache type %s\n", prog, t);
			return -1;
		}
		v[n++] = k;
	}
	return n;
}

#endif
