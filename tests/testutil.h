/* Helpers the test programs share: whole files in and out, relative
 * errors, and the golden-logits fixtures (models/NAME.golden.json with its
 * float32 logits file) with the relative error of logits against them. Header-only like tests/tap.h, which it includes;
 * the golden part needs cJSON.h included first. Each test uses only some
 * of these, hence the unused attributes. */
#ifndef GLM_TESTUTIL_H
#define GLM_TESTUTIL_H

#include "tests/tap.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, NUL-terminated so that text can be used as a string; the
 * caller frees it. *len (when len is not NULL) gets its size. NULL when
 * it cannot be opened or read. */
static __attribute__((unused)) char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, k;

	if (!f)
		return NULL;
	do {
		if (n + 65536 + 1 > cap) {
			char *p = realloc(buf, cap = 2 * cap + 65536 + 1);
			if (!p)
				bail_out("out of memory reading %s", path);
			buf = p;
		}
		k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
	} while (k);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* len bytes to a new (or truncated) file: 0, or -1 when any step fails. */
static __attribute__((unused)) int spit(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = f && fwrite(buf, 1, len, f) == len ? 0 : -1;

	if (f && fclose(f))
		rc = -1;
	return rc;
}

/* A text file the test needs: failing to write it ends the test. */
static __attribute__((unused)) void spit_text(const char *path, const char *text)
{
	if (spit(path, text, strlen(text)))
		bail_out("cannot write %s", path);
}

static __attribute__((unused)) bool file_readable(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f)
		fclose(f);
	return f != NULL;
}

/* |got - want| relative to |want| (kept finite when want is 0). */
static __attribute__((unused)) double rel_err(double got, double want)
{
	return fabs(got - want) / fmax(fabs(want), 1e-30);
}

#ifdef cJSON__h
/* One golden prompt: its ids, the positions whose logits were stored (at
 * logits + offset, n_pos × vocab) and the greedy continuation with the
 * margin between the best and second-best logit at each step. */
struct golden_prompt {
	char name[64];
	int32_t *ids; int n_ids;
	int32_t *positions; int n_pos;
	size_t offset;
	int32_t greedy[64]; double margins[64]; int n_greedy;
};

struct golden {
	int vocab;
	struct golden_prompt *p; int n;
	float *logits; size_t n_logits;
};

static __attribute__((unused)) int golden_int_array(const cJSON *a, int32_t **out)
{
	int n = cJSON_GetArraySize(a);

	*out = malloc((size_t)(n ? n : 1) * sizeof **out);
	if (!*out)
		bail_out("out of memory");
	for (int i = 0; i < n; i++)
		(*out)[i] = (int32_t)cJSON_GetArrayItem(a, i)->valuedouble;
	return n;
}

static __attribute__((unused)) void golden_free(struct golden *g)
{
	for (int i = 0; i < g->n; i++) {
		free(g->p[i].ids);
		free(g->p[i].positions);
	}
	free(g->p);
	free(g->logits);
	memset(g, 0, sizeof *g);
}

/* ||got - ref|| / ||ref|| over the prompt's stored positions, where all
 * holds n_ids × vocab logits (every position of the prompt). */
static __attribute__((unused)) double golden_rel_err(const struct golden *g, const struct golden_prompt *p,
                                                     const float *all)
{
	double d = 0, r = 0;

	for (int k = 0; k < p->n_pos; k++) {
		const float *out = all + (size_t)p->positions[k] * g->vocab;
		const float *ref = g->logits + p->offset + (size_t)k * g->vocab;

		for (int i = 0; i < g->vocab; i++) {
			double e = (double)out[i] - ref[i];
			d += e * e;
			r += (double)ref[i] * ref[i];
		}
	}
	return sqrt(d / r);
}

/* dir/NAME.golden.json and the logits file it names. 0, or -1 when either
 * is missing, malformed, or a prompt's logits lie outside the file. */
static __attribute__((unused)) int golden_load(const char *dir, const char *name, struct golden *g)
{
	char path[4096];
	const cJSON *prompts, *vocab, *file;
	cJSON *root;
	char *txt;
	size_t nbytes = 0;
	int rc = -1;

	memset(g, 0, sizeof *g);
	snprintf(path, sizeof path, "%s/%s.golden.json", dir, name);
	txt = slurp(path, NULL);
	root = txt ? cJSON_Parse(txt) : NULL;
	free(txt);
	vocab = cJSON_GetObjectItemCaseSensitive(root, "vocab");
	file = cJSON_GetObjectItemCaseSensitive(root, "logits_file");
	prompts = cJSON_GetObjectItemCaseSensitive(root, "prompts");
	if (!cJSON_IsNumber(vocab) || !cJSON_IsString(file) || !cJSON_IsArray(prompts))
		goto out;
	g->vocab = vocab->valueint;
	snprintf(path, sizeof path, "%s/%s", dir, file->valuestring);
	g->logits = (float *)slurp(path, &nbytes);
	g->n_logits = nbytes / sizeof(float);
	g->p = calloc((size_t)cJSON_GetArraySize(prompts) + 1, sizeof *g->p);
	if (!g->logits || !g->p)
		goto out;
	g->n = cJSON_GetArraySize(prompts);
	for (int i = 0; i < g->n; i++) {
		const cJSON *o = cJSON_GetArrayItem(prompts, i);
		const cJSON *gr = cJSON_GetObjectItemCaseSensitive(o, "greedy");
		const cJSON *mg = cJSON_GetObjectItemCaseSensitive(o, "greedy_margins");
		struct golden_prompt *p = &g->p[i];

		snprintf(p->name, sizeof p->name, "%s",
		         cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "name")));
		p->n_ids = golden_int_array(cJSON_GetObjectItemCaseSensitive(o, "ids"), &p->ids);
		p->n_pos = golden_int_array(cJSON_GetObjectItemCaseSensitive(o, "positions"), &p->positions);
		p->offset = (size_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "logits_offset"));
		if (p->offset + (size_t)p->n_pos * g->vocab > g->n_logits)
			goto out;
		p->n_greedy = cJSON_GetArraySize(gr) < 64 ? cJSON_GetArraySize(gr) : 64;
		for (int k = 0; k < p->n_greedy; k++) {
			p->greedy[k] = (int32_t)cJSON_GetArrayItem(gr, k)->valuedouble;
			p->margins[k] = cJSON_GetNumberValue(cJSON_GetArrayItem(mg, k));
		}
	}
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc)
		golden_free(g);
	return rc;
}
#endif

#endif
