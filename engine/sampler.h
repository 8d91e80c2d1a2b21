/* Token sampling: repetition and presence penalties, temperature, top-k,
 * top-p, min-p, and a seeded random number generator (the same seed and
 * logits give the same choices on every machine). Temperature is applied
 * first, then the filters in the order top-k, top-p, min-p (as Hugging Face
 * transformers and vLLM do); temperature 0 is greedy. */
#ifndef GLM_SAMPLER_H
#define GLM_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include "engine/engine.h"

struct glm_sampler;

/* seed GLM_SEED_RANDOM picks one from the clock. Returns 0, or -1 when out of memory. */
int  glm_sampler_create(const struct glm_sampling *s, int32_t n_vocab, struct glm_sampler **out);
void glm_sampler_free(struct glm_sampler *s);
/* The seed in use (after GLM_SEED_RANDOM was resolved). */
uint64_t glm_sampler_seed(const struct glm_sampler *s);

/* Choose the next token from n_vocab logits (modified in place by the
 * penalties). history holds the tokens so far (prompt and generated); the
 * last penalty_last_n of them are penalised. */
int32_t glm_sampler_sample(struct glm_sampler *s, float *logits, const int32_t *history, size_t n_history);

/* The index of the largest value (the lowest index among equals). */
int32_t glm_argmax(const float *v, int32_t n);

/* The generator itself (xoshiro256**, seeded through splitmix64). */
struct glm_rng { uint64_t s[4]; };
void     glm_rng_seed(struct glm_rng *r, uint64_t seed);
uint64_t glm_rng_next(struct glm_rng *r);
double   glm_rng_uniform(struct glm_rng *r);   /* [0, 1) with 53 random bits */

#endif
