/* Token sampling; see sampler.h. */
#include "config.h"
#include "engine/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cand { int32_t id; float logit; float p; };

struct glm_sampler {
	struct glm_sampling cfg;
	int32_t n_vocab;
	struct glm_rng rng;
	uint64_t seed;
	struct cand *c;               /* n_vocab candidates */
	int32_t *window;              /* penalty window, sorted copy */
	size_t window_cap;
};

/* ---- random numbers ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void glm_rng_seed(struct glm_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t glm_rng_next(struct glm_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double glm_rng_uniform(struct glm_rng *r)
{
	return (double)(glm_rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- setup ---- */

int glm_sampler_create(const struct glm_sampling *cfg, int32_t n_vocab, struct glm_sampler **out)
{
	struct glm_sampler *s;

	*out = NULL;
	if (n_vocab < 1)
		return -1;
	s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->cfg = *cfg;
	s->n_vocab = n_vocab;
	s->c = malloc((size_t)n_vocab * sizeof *s->c);
	if (!s->c) {
		free(s);
		return -1;
	}
	s->seed = cfg->seed;
	if (s->seed == GLM_SEED_RANDOM) {
		struct timespec ts;
		uint64_t x;

		clock_gettime(CLOCK_REALTIME, &ts);
		x = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
		s->seed = splitmix64(&x) & 0x7fffffffffffffffull;
	}
	glm_rng_seed(&s->rng, s->seed);
	*out = s;
	return 0;
}

void glm_sampler_free(struct glm_sampler *s)
{
	if (!s)
		return;
	free(s->c);
	free(s->window);
	free(s);
}

uint64_t glm_sampler_seed(const struct glm_sampler *s)
{
	return s->seed;
}

int32_t glm_argmax(const float *v, int32_t n)
{
	int32_t best = 0;

	for (int32_t i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

/* ---- penalties ---- */

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* Each distinct token of the window is penalised once: the repetition
 * penalty divides a positive logit and multiplies a negative one (CTRL,
 * as llama.cpp), the presence penalty subtracts. */
static void apply_penalties(struct glm_sampler *s, float *logits, const int32_t *hist, size_t n_hist)
{
	const struct glm_sampling *c = &s->cfg;
	size_t n = n_hist;

	if ((c->repeat_penalty == 1.0f || c->repeat_penalty <= 0) && c->presence_penalty == 0)
		return;
	if (c->penalty_last_n >= 0 && (size_t)c->penalty_last_n < n)
		n = (size_t)c->penalty_last_n;
	if (!n)
		return;
	if (n > s->window_cap) {
		int32_t *nw = realloc(s->window, n * sizeof *nw);
		if (!nw)
			return;   /* no memory: sample without penalties rather than fail */
		s->window = nw;
		s->window_cap = n;
	}
	memcpy(s->window, hist + (n_hist - n), n * sizeof *hist);
	qsort(s->window, n, sizeof *s->window, cmp_i32);
	for (size_t i = 0; i < n; i++) {
		int32_t id = s->window[i];
		float *l;

		if ((i > 0 && id == s->window[i - 1]) || id < 0 || id >= s->n_vocab)
			continue;
		l = &logits[id];
		if (c->repeat_penalty > 0 && c->repeat_penalty != 1.0f)
			*l = *l > 0 ? *l / c->repeat_penalty : *l * c->repeat_penalty;
		*l -= c->presence_penalty;
	}
}

/* ---- filters ---- */

static int cmp_cand_desc(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->logit != y->logit)
		return x->logit < y->logit ? 1 : -1;
	return (x->id > y->id) - (x->id < y->id);   /* stable: lower id first */
}

/* Move the k largest candidates to the front, sorted (a min-heap of size k). */
static void top_k_select(struct cand *c, int32_t n, int32_t k)
{
	/* heap of the k best so far, worst at the root */
	for (int32_t i = 0; i < n; i++) {
		struct cand x = c[i];
		int32_t pos;

		if (i < k) {
			pos = i;
			while (pos > 0) {               /* sift up */
				int32_t parent = (pos - 1) / 2;
				if (cmp_cand_desc(&c[parent], &x) >= 0)
					break;
				c[pos] = c[parent];
				pos = parent;
			}
			c[pos] = x;
			continue;
		}
		if (cmp_cand_desc(&x, &c[0]) >= 0)  /* not better than the worst kept */
			continue;
		pos = 0;
		for (;;) {                              /* replace the root, sift down */
			int32_t l = 2 * pos + 1, r = l + 1, m = pos;
			const struct cand *mv = &x;

			if (l < k && cmp_cand_desc(&c[l], mv) > 0)
				m = l, mv = &c[l];
			if (r < k && cmp_cand_desc(&c[r], mv) > 0)
				m = r, mv = &c[r];
			if (m == pos)
				break;
			c[pos] = c[m];
			pos = m;
		}
		c[pos] = x;
	}
	qsort(c, (size_t)k, sizeof *c, cmp_cand_desc);
}

/* Probabilities of the n candidates (softmax of their logits). */
static void softmax_cands(struct cand *c, int32_t n)
{
	float mx = -INFINITY;
	double sum = 0;

	for (int32_t i = 0; i < n; i++)
		if (c[i].logit > mx)
			mx = c[i].logit;
	for (int32_t i = 0; i < n; i++) {
		c[i].p = expf(c[i].logit - mx);
		sum += c[i].p;
	}
	for (int32_t i = 0; i < n; i++)
		c[i].p = (float)(c[i].p / sum);
}

/* The smallest prefix (by probability) whose mass reaches p. Only the
 * candidates above a threshold are sorted: the threshold is lowered until
 * the mass above it reaches p, so the prefix is the same as a full sort's
 * while the sort usually sees a few dozen tokens, not the vocabulary. */
static int32_t top_p_cut(struct cand *c, int32_t n, bool sorted, float p)
{
	int32_t m = n;
	double cum = 0;

	if (!sorted) {
		float mx = -INFINITY, delta = 1.0f;

		for (int32_t i = 0; i < n; i++)
			if (c[i].logit > mx)
				mx = c[i].logit;
		for (;; delta *= 2) {
			double mass = 0;

			for (int32_t i = 0; i < n; i++)
				if (c[i].logit >= mx - delta)
					mass += c[i].p;
			if (mass >= p || delta > 1e30f)
				break;
		}
		m = 0;
		for (int32_t i = 0; i < n; i++)
			if (c[i].logit >= mx - delta) {
				struct cand t = c[m];
				c[m++] = c[i];
				c[i] = t;
			}
		qsort(c, (size_t)m, sizeof *c, cmp_cand_desc);
	}
	for (int32_t i = 0; i < m; i++) {
		cum += c[i].p;
		if (cum >= p)
			return i + 1;
	}
	if (m < n) {            /* rounding: the subset's mass fell just short */
		qsort(c, (size_t)n, sizeof *c, cmp_cand_desc);
		return top_p_cut(c, n, true, p);
	}
	return n;
}

int32_t glm_sampler_sample(struct glm_sampler *s, float *logits, const int32_t *hist, size_t n_hist)
{
	const struct glm_sampling *cfg = &s->cfg;
	struct cand *c = s->c;
	int32_t n = s->n_vocab;
	bool sorted = false;
	double total = 0, r;

	apply_penalties(s, logits, hist, n_hist);
	if (cfg->temp <= 0 || cfg->top_k == 1)
		return glm_argmax(logits, s->n_vocab);

	for (int32_t i = 0; i < n; i++) {
		c[i].id = i;
		c[i].logit = logits[i] / cfg->temp;
	}
	if (cfg->top_k > 0 && cfg->top_k < n) {
		top_k_select(c, n, cfg->top_k);
		n = cfg->top_k;
		sorted = true;
	}
	softmax_cands(c, n);
	if (cfg->top_p > 0 && cfg->top_p < 1) {
		n = top_p_cut(c, n, sorted, cfg->top_p);
		sorted = true;
	}
	if (cfg->min_p > 0 && cfg->min_p <= 1) {
		float pmax = 0, floor_p;
		int32_t m = 0;

		for (int32_t i = 0; i < n; i++)
			if (c[i].p > pmax)
				pmax = c[i].p;
		floor_p = cfg->min_p * pmax;
		for (int32_t i = 0; i < n; i++)     /* keeps the order */
			if (c[i].p >= floor_p)
				c[m++] = c[i];
		n = m;
	}
	for (int32_t i = 0; i < n; i++)
		total += c[i].p;
	r = glm_rng_uniform(&s->rng) * total;
	for (int32_t i = 0; i < n; i++) {
		r -= c[i].p;
		if (r < 0)
			return c[i].id;
	}
	return c[n - 1].id;   /* rounding left a sliver at the end */
}
