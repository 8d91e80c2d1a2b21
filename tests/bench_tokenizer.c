/* Tokenizer throughput on a few MB of generated mixed text (English prose,
 * C code, CJK and Korean), deterministic so runs compare. A benchmark, not a
 * test: it prints MB/s of one core's CPU time for docs/PERF.md.
 *
 *   tests/bench_tokenizer [MODEL.gguf] [MB]     (default: the tiny model, 4 MB)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/gguf.h"
#include "engine/tokenizer.h"

struct text { char *p; size_t n, cap; };

static uint64_t rng = 0x2545f4914f6cdd1dull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 33) % n;
}

static void add(struct text *t, const char *s, size_t n)
{
	if (t->n + n > t->cap) {
		t->cap = 2 * (t->n + n);
		t->p = realloc(t->p, t->cap);
		if (!t->p) {
			fputs("bench_tokenizer: out of memory\n", stderr);
			exit(1);
		}
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
}

static void adds(struct text *t, const char *s) { add(t, s, strlen(s)); }

static void add_cp(struct text *t, unsigned cp)
{
	char u[3] = {(char)(0xe0 | cp >> 12), (char)(0x80 | (cp >> 6 & 0x3f)), (char)(0x80 | (cp & 0x3f))};
	add(t, u, 3);               /* the ranges used are all 3-byte UTF-8 */
}

static void english(struct text *t, size_t bytes)
{
	static const char *const words[] = {
		"the", "model", "attention", "of", "and", "a", "to", "in", "is", "that", "tokens", "for", "it",
		"with", "as", "was", "on", "be", "by", "this", "kernel", "memory", "bandwidth", "cache", "latent",
		"experts", "router", "we", "they'll", "don't", "it's", "Transformer", "GPU", "quantized", "weights",
		"throughput", "per", "second", "January", "Paris", "hello", "world", "language", "inference",
	};
	size_t end = t->n + bytes;

	while (t->n < end) {
		int n = 6 + (int)rnd(14);
		for (int i = 0; i < n; i++) {
			const char *w = words[rnd(sizeof words / sizeof words[0])];
			if (i)
				adds(t, " ");
			if (!i) {
				char c[2] = {(char)(w[0] >= 'a' && w[0] <= 'z' ? w[0] - 32 : w[0]), 0};
				adds(t, c);
				adds(t, w + 1);
			} else {
				adds(t, w);
			}
			if (rnd(12) == 0) {
				char num[16];
				snprintf(num, sizeof num, " %u", rnd(100000));
				adds(t, num);
			}
			if (rnd(10) == 0)
				adds(t, ",");
		}
		adds(t, rnd(8) ? ". " : ".\n\n");
	}
}

static void code(struct text *t, size_t bytes)
{
	static const char *const lines[] = {
		"static int forward(struct model *m, const int32_t *ids, int n)\n{\n",
		"\tfor (int i = 0; i < n; i++) {\n",
		"\t\tfloat s = 0.0f;\n",
		"\t\ty[i] += a * x[i];   /* axpy */\n",
		"\t\tif (rc < 0)\n\t\t\treturn rc;\n",
		"\t}\n",
		"\treturn 0;\n}\n\n",
		"def rms_norm(x, w, eps=1e-5):\n    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w\n",
		"    printf(\"%d tokens/s\\n\", n);\n",
		"#include <stdio.h>\n",
		"    let v: Vec<u8> = vec![1, 2, 3];\n",
		"        if self.cache is None:\n            self.cache = {}\n",
	};
	size_t end = t->n + bytes;

	while (t->n < end)
		adds(t, lines[rnd(sizeof lines / sizeof lines[0])]);
}

static void cjk(struct text *t, size_t bytes)
{
	size_t end = t->n + bytes;

	while (t->n < end) {
		unsigned kind = rnd(10), n = 4 + rnd(20);
		for (unsigned i = 0; i < n; i++) {
			if (kind < 6)
				add_cp(t, 0x4e00 + rnd(0x1000));          /* common CJK ideographs */
			else if (kind < 8)
				add_cp(t, 0x3041 + rnd(0x56));            /* hiragana */
			else
				add_cp(t, 0xac00 + rnd(0x2ba4));          /* Hangul syllables */
		}
		if (kind >= 8)
			adds(t, " ");
		else
			add_cp(t, rnd(2) ? 0x3002 : 0xff0c);         /* 。 ， */
		if (rnd(16) == 0)
			adds(t, "\n");
	}
}

/* CPU time of this thread: the development machine is shared, and a
 * throughput per busy core is what compares with other tokenizers. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Best of three: MB/s and tokens. */
static double measure(const struct glm_tokenizer *tk, const struct text *t, size_t *n_tokens)
{
	double best = 1e30;
	int32_t *ids = NULL;
	size_t cap = 0;

	for (int r = 0; r < 3; r++) {
		double t0 = now();
		*n_tokens = 0;
		if (glm_tokenize(tk, t->p, t->n, false, &ids, n_tokens, &cap)) {
			fputs("bench_tokenizer: out of memory\n", stderr);
			exit(1);
		}
		t0 = now() - t0;
		if (t0 < best)
			best = t0;
	}
	free(ids);
	return t->n / 1e6 / best;
}

int main(int argc, char **argv)
{
	const char *fix = getenv("GLMCHAT_FIXTURES");
	char path[4096];
	double mb = argc > 2 ? atof(argv[2]) : 4;
	size_t bytes = (size_t)(mb * (1 << 20));
	struct gguf_file *f;
	struct glm_tokenizer *tk;
	char err[512];
	double load_time;
	struct text parts[3] = {{0}}, mixed = {0};
	static const char *const names[] = {"English", "code", "CJK+Korean"};
	void (*gen[3])(struct text *, size_t) = {english, code, cjk};

	snprintf(path, sizeof path, "%s/models/tiny-bf16.gguf", fix && *fix ? fix : "tests/fixtures");
	if (argc > 1)
		snprintf(path, sizeof path, "%s", argv[1]);
	load_time = now();
	if (gguf_open(path, &f, err, sizeof err) || glm_tokenizer_load(f, &tk, err, sizeof err)) {
		fprintf(stderr, "bench_tokenizer: %s\n", err);
		return 1;
	}
	gguf_close(f);
	load_time = now() - load_time;
	/* The mixed text interleaves 4 KB blocks of the three kinds. */
	while (mixed.n < bytes) {
		unsigned k = rnd(3);
		size_t before = parts[k].n;
		gen[k](&parts[k], 4096);
		add(&mixed, parts[k].p + before, parts[k].n - before);
	}
	printf("vocabulary: %s (%d tokens), loaded in %.1f ms\n", path, glm_tokenizer_n_vocab(tk), load_time * 1e3);
	for (int k = 0; k < 3; k++) {
		size_t n;
		double rate = measure(tk, &parts[k], &n);
		printf("%-11s %6.2f MB  %8.1f MB/s  %5.2f bytes/token\n", names[k], parts[k].n / 1e6, rate,
		       (double)parts[k].n / (double)(n ? n : 1));
	}
	{
		size_t n;
		double rate = measure(tk, &mixed, &n);
		printf("%-11s %6.2f MB  %8.1f MB/s  %5.2f bytes/token  %.2f M tokens/s\n", "mixed", mixed.n / 1e6,
		       rate, (double)mixed.n / (double)(n ? n : 1), rate * 1e6 / ((double)mixed.n / (double)(n ? n : 1)) / 1e6);
	}
	for (int k = 0; k < 3; k++)
		free(parts[k].p);
	free(mixed.p);
	glm_tokenizer_free(tk);
	return 0;
}
