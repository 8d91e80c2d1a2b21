/* The sampler: greedy, each filter's effect on known distributions,
 * penalties, and the seeded generator (same seed, same choices). The
 * frequency checks use fixed seeds and bounds of about five standard
 * deviations, so they are exact repeatable tests, not flaky ones. */
#include "config.h"
#include "tests/tap.h"
#include "engine/sampler.h"

#include <math.h>
#include <stdlib.h>

static struct glm_sampling base(float temp, uint64_t seed)
{
	struct glm_sampling s = {0};

	s.temp = temp;
	s.top_p = 1.0f;
	s.top_k = 0;
	s.min_p = 0;
	s.repeat_penalty = 1.0f;
	s.presence_penalty = 0;
	s.penalty_last_n = 64;
	s.seed = seed;
	return s;
}

/* Frequencies of n draws over a 4-token vocabulary with probabilities p. */
static void draw(const struct glm_sampling *cfg, const double p[4], int n, double freq[4])
{
	struct glm_sampler *s;
	float logits[4];
	int count[4] = {0};

	glm_sampler_create(cfg, 4, &s);
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < 4; k++)
			logits[k] = (float)log(p[k]);
		count[glm_sampler_sample(s, logits, NULL, 0)]++;
	}
	for (int k = 0; k < 4; k++)
		freq[k] = (double)count[k] / n;
	glm_sampler_free(s);
}

static bool near(const double *f, const double *want, double tol)
{
	for (int k = 0; k < 4; k++)
		if (fabs(f[k] - want[k]) > tol) {
			diag("  token %d: frequency %.4f, expected %.4f", k, f[k], want[k]);
			return false;
		}
	return true;
}

int main(void)
{
	static const double p[4] = {0.5, 0.25, 0.125, 0.125};
	const int N = 40000;
	const double tol = 0.0125;     /* 5 sd of a frequency near 0.5 over 40000 draws */
	struct glm_sampling cfg;
	struct glm_sampler *s, *s2;
	double f[4];
	float v[8];

	/* greedy */
	{
		float l[5] = {0.1f, 3.0f, -2.0f, 3.0f, 1.0f};

		is_int(glm_argmax(l, 5), 1, "argmax takes the lowest index among equals");
		cfg = base(0, 1);
		glm_sampler_create(&cfg, 5, &s);
		is_int(glm_sampler_sample(s, l, NULL, 0), 1, "temperature 0 is greedy");
		glm_sampler_free(s);
		cfg = base(1.5f, 7);
		cfg.top_k = 1;
		glm_sampler_create(&cfg, 5, &s);
		{
			int all = 1;
			for (int i = 0; i < 200; i++) {
				float c[5] = {0.1f, 3.0f, -2.0f, 2.9f, 1.0f};
				all &= glm_sampler_sample(s, c, NULL, 0) == 1;
			}
			ok(all, "top-k 1 is greedy whatever the temperature");
		}
		glm_sampler_free(s);
	}

	/* plain sampling follows the softmax */
	cfg = base(1.0f, 42);
	draw(&cfg, p, N, f);
	ok(near(f, p, tol), "temperature 1 samples the softmax (%.3f %.3f %.3f %.3f)", f[0], f[1], f[2], f[3]);

	/* temperature 0.5 squares the probabilities (renormalised) */
	{
		double q[4], z = 0;
		for (int k = 0; k < 4; k++)
			z += q[k] = p[k] * p[k];
		for (int k = 0; k < 4; k++)
			q[k] /= z;
		cfg = base(0.5f, 43);
		draw(&cfg, p, N, f);
		ok(near(f, q, tol), "temperature 0.5 sharpens as p^2 (%.3f %.3f %.3f %.3f)", f[0], f[1], f[2], f[3]);
	}

	/* top-k 2: the two best, renormalised */
	{
		static const double q[4] = {2.0 / 3, 1.0 / 3, 0, 0};
		cfg = base(1.0f, 44);
		cfg.top_k = 2;
		draw(&cfg, p, N, f);
		ok(near(f, q, tol) && f[2] == 0 && f[3] == 0, "top-k 2 keeps the two best");
	}

	/* top-p 0.7: 0.5 is not enough, 0.5 + 0.25 is */
	{
		static const double q[4] = {2.0 / 3, 1.0 / 3, 0, 0};
		cfg = base(1.0f, 45);
		cfg.top_p = 0.7f;
		draw(&cfg, p, N, f);
		ok(near(f, q, tol) && f[2] == 0 && f[3] == 0, "top-p 0.7 keeps the smallest set reaching 0.7");
		cfg.top_p = 0.5f;
		draw(&cfg, p, 2000, f);
		ok(f[0] == 1.0, "top-p 0.5 keeps only the first (its mass reaches 0.5 exactly)");
	}

	/* min-p 0.3: keep p >= 0.3 * 0.5 */
	{
		static const double q[4] = {2.0 / 3, 1.0 / 3, 0, 0};
		cfg = base(1.0f, 46);
		cfg.min_p = 0.3f;
		draw(&cfg, p, N, f);
		ok(near(f, q, tol) && f[2] == 0 && f[3] == 0, "min-p 0.3 drops tokens under 0.15");
	}

	/* penalties */
	{
		int32_t hist[3] = {0, 2, 0};
		float l[4] = {2.0f, 1.9f, -1.0f, 0.5f};

		cfg = base(0, 1);
		cfg.repeat_penalty = 1.5f;
		glm_sampler_create(&cfg, 4, &s);
		is_int(glm_sampler_sample(s, l, hist, 3), 1, "repetition penalty moves greedy off a seen token");
		ok(fabsf(l[0] - 2.0f / 1.5f) < 1e-6f, "a positive logit is divided once (%.4f)", l[0]);
		ok(fabsf(l[2] - (-1.5f)) < 1e-6f, "a negative logit is multiplied (%.4f)", l[2]);
		ok(l[1] == 1.9f && l[3] == 0.5f, "unseen tokens are untouched");
		glm_sampler_free(s);

		cfg = base(0, 1);
		cfg.presence_penalty = 0.5f;
		cfg.penalty_last_n = 1;        /* only the last token (0) counts */
		l[0] = 2.0f; l[1] = 1.9f; l[2] = -1.0f; l[3] = 0.5f;
		glm_sampler_create(&cfg, 4, &s);
		is_int(glm_sampler_sample(s, l, hist, 3), 1, "presence penalty subtracts from seen tokens");
		ok(l[0] == 1.5f && l[2] == -1.0f, "only the last penalty_last_n tokens count");
		glm_sampler_free(s);
	}

	/* the generator: same seed, same choices; another seed, others */
	{
		int same = 1, differ = 0;
		struct glm_sampler *s3;
		struct glm_rng r;
		double lo = 1, hi = 0;

		cfg = base(1.0f, 1234);
		glm_sampler_create(&cfg, 8, &s);
		glm_sampler_create(&cfg, 8, &s2);
		cfg.seed = 1235;
		glm_sampler_create(&cfg, 8, &s3);
		for (int i = 0; i < 500; i++) {
			int a, b, c;
			for (int k = 0; k < 8; k++) v[k] = 0;
			a = glm_sampler_sample(s, v, NULL, 0);
			for (int k = 0; k < 8; k++) v[k] = 0;
			b = glm_sampler_sample(s2, v, NULL, 0);
			for (int k = 0; k < 8; k++) v[k] = 0;
			c = glm_sampler_sample(s3, v, NULL, 0);
			same &= a == b;
			differ |= a != c;
		}
		ok(same, "the same seed gives the same 500 choices");
		ok(differ, "a different seed gives different choices");
		glm_sampler_free(s);
		glm_sampler_free(s2);
		glm_sampler_free(s3);

		cfg.seed = GLM_SEED_RANDOM;
		glm_sampler_create(&cfg, 8, &s);
		ok(glm_sampler_seed(s) != GLM_SEED_RANDOM, "GLM_SEED_RANDOM becomes a real seed");
		glm_sampler_free(s);

		glm_rng_seed(&r, 99);
		for (int i = 0; i < 100000; i++) {
			double u = glm_rng_uniform(&r);
			lo = u < lo ? u : lo;
			hi = u > hi ? u : hi;
		}
		ok(lo >= 0 && hi < 1 && lo < 1e-3 && hi > 1 - 1e-3, "uniform draws cover [0, 1)");
	}

	/* a real-sized vocabulary: top-p samples only inside the exact nucleus */
	{
		const int V = 154880;
		float *l = malloc(V * sizeof *l), *copy = malloc(V * sizeof *copy);
		struct glm_rng r;
		double z = 0, mx = -1e30, lo_t = 0, hi_t = 8;
		int best, all_in = 1;

		glm_rng_seed(&r, 5);
		for (int i = 0; i < V; i++) {
			l[i] = (float)(8.0 * glm_rng_uniform(&r));
			mx = l[i] > mx ? l[i] : mx;
		}
		best = glm_argmax(l, V);
		for (int i = 0; i < V; i++)
			z += exp(l[i] - mx);
		/* the nucleus' cut by bisection: the largest logit t whose upper set holds >= 0.5 */
		for (int it = 0; it < 50; it++) {
			double mid = (lo_t + hi_t) / 2, m = 0;

			for (int i = 0; i < V; i++)
				if (l[i] >= mid)
					m += exp(l[i] - mx) / z;
			if (m >= 0.5)
				lo_t = mid;
			else
				hi_t = mid;
		}
		cfg = base(1.0f, 77);
		cfg.top_p = 1e-6f;
		glm_sampler_create(&cfg, V, &s);
		for (int i = 0; i < 20; i++) {
			for (int k = 0; k < V; k++)
				copy[k] = l[k];
			all_in &= glm_sampler_sample(s, copy, NULL, 0) == best;
		}
		ok(all_in, "top-p 1e-6 over 154880 tokens always picks the most likely");
		glm_sampler_free(s);

		cfg.top_p = 0.5f;
		glm_sampler_create(&cfg, V, &s);
		for (int i = 0; i < 60; i++) {
			int id;

			for (int k = 0; k < V; k++)
				copy[k] = l[k];
			id = glm_sampler_sample(s, copy, NULL, 0);
			all_in &= l[id] >= lo_t - 1e-5;
		}
		ok(all_in, "top-p 0.5 over 154880 tokens stays inside the nucleus (logits >= %.4f)", lo_t);
		glm_sampler_free(s);
		free(l);
		free(copy);
	}
	return done_testing();
}
