/* glmchat inspect FILE: validate a GGUF file and describe it. The parse
 * alone validates the container; binding checks it is a GLM-4.7-Flash the
 * engine can run. A file that parses but does not bind is still described
 * (metadata and tensors), then the binding error ends it with status 1. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend.h"
#include "engine/model.h"
#include "src/cli.h"
#include "src/commands.h"

#define STR_SHOWN  72    /* bytes of a string value printed before eliding */
#define ARR_SHOWN  6     /* elements of an array printed */

static const char usage_text[] =
	"Usage: glmchat inspect [-m] FILE\n"
	"Validate a GGUF model file and describe it: metadata, tensor table\n"
	"(name, type, shape, bytes) and a model summary (architecture, layers,\n"
	"experts, parameters, quant mix, bytes read per decoded token, KV cache\n"
	"per token, context length, chat template).\n"
	"\n"
	"  -m, --model FILE   the file (or give it as the argument)\n"
	"  -h, --help         this help\n"
	"\n"
	"Exit status: 0 a valid, loadable model; 1 an invalid file or one that is\n"
	"not a loadable GLM-4.7-Flash model (one line on stderr says why); 2 usage.\n";

static void human_bytes(char *buf, size_t n, double b)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.2f %s" : "%.0f %s", b, unit[u]);
}

static void human_count(char *buf, size_t n, double c)
{
	if (c >= 1e9)
		snprintf(buf, n, "%.2f B", c / 1e9);
	else if (c >= 1e6)
		snprintf(buf, n, "%.2f M", c / 1e6);
	else if (c >= 1e3)
		snprintf(buf, n, "%.2f K", c / 1e3);
	else
		snprintf(buf, n, "%.0f", c);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0. C1 controls
 * (U+0080..U+009F) count as invalid so they are escaped, not sent to the
 * terminal. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) { n = 2; cp = s[0] & 0x1f; }
	else if ((s[0] & 0xf0) == 0xe0) { n = 3; cp = s[0] & 0x0f; }
	else if ((s[0] & 0xf8) == 0xf0) { n = 4; cp = s[0] & 0x07; }
	else return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0xa0) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A string from the file, quoted and escaped (it is untrusted: no control
 * bytes reach the terminal), cut after `max` bytes. */
static void print_str(const char *p, uint64_t len, size_t max)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t shown = len < max ? (size_t)len : max;

	putchar('"');
	for (size_t i = 0; i < shown;) {
		size_t n = utf8_len(s + i, (size_t)len - i);
		if (n == 1 && s[i] >= 0x20 && s[i] != 0x7f) {
			if (s[i] == '"' || s[i] == '\\')
				putchar('\\');
			putchar(s[i]);
		} else if (n > 1) {
			fwrite(s + i, 1, n, stdout);
		} else {
			switch (s[i]) {
			case '\n': fputs("\\n", stdout); break;
			case '\t': fputs("\\t", stdout); break;
			case '\r': fputs("\\r", stdout); break;
			default: printf("\\x%02x", s[i]); break;
			}
			n = 1;
		}
		i += n;
	}
	putchar('"');
	if (shown < len)
		printf("... (%llu bytes)", (unsigned long long)len);
}

static void print_scalar(const struct gguf_kv *kv)
{
	switch (kv->type) {
	case GGUF_TYPE_STRING: print_str(kv->v.str.ptr, kv->v.str.len, STR_SHOWN); break;
	case GGUF_TYPE_BOOL: fputs(kv->v.b ? "true" : "false", stdout); break;
	case GGUF_TYPE_FLOAT32: case GGUF_TYPE_FLOAT64: printf("%g", kv->v.f64); break;
	case GGUF_TYPE_INT8: case GGUF_TYPE_INT16: case GGUF_TYPE_INT32: case GGUF_TYPE_INT64:
		printf("%lld", (long long)kv->v.i64);
		break;
	default: printf("%llu", (unsigned long long)kv->v.u64); break;
	}
}

static void print_array(const struct gguf_kv *kv)
{
	uint64_t n = kv->v.arr.n;
	enum gguf_value_type t = kv->v.arr.type;

	printf("[%s × %llu]", gguf_type_name(t), (unsigned long long)n);
	if (!n)
		return;
	fputs(" ", stdout);
	for (uint64_t i = 0; i < n && i < ARR_SHOWN; i++) {
		if (i)
			fputs(", ", stdout);
		if (t == GGUF_TYPE_STRING)
			print_str(kv->v.arr.strs[i].ptr, kv->v.arr.strs[i].len, 24);
		else if (t == GGUF_TYPE_FLOAT32 || t == GGUF_TYPE_FLOAT64)
			printf("%g", gguf_arr_float(kv, i));
		else if (t == GGUF_TYPE_UINT64)
			printf("%llu", (unsigned long long)gguf_arr_int(kv, i));
		else
			printf("%lld", (long long)gguf_arr_int(kv, i));
	}
	if (n > ARR_SHOWN)
		fputs(", ...", stdout);
}

static void print_metadata(const struct gguf_file *f)
{
	printf("\nmetadata (%llu keys):\n", (unsigned long long)f->n_kv);
	for (uint64_t i = 0; i < f->n_kv; i++) {
		const struct gguf_kv *kv = &f->kv[i];
		printf("  %s: ", kv->key);
		if (kv->type == GGUF_TYPE_ARRAY)
			print_array(kv);
		else
			print_scalar(kv);
		putchar('\n');
	}
}

static void shape_str(char *buf, size_t n, const struct glm_tensor *t)
{
	size_t k = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < t->n_dims && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)t->ne[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

static void print_tensors(const struct gguf_file *f)
{
	char shape[96];

	printf("\ntensors (%llu):\n", (unsigned long long)f->n_tensors);
	printf("  %-36s %-7s %-20s %12s\n", "name", "type", "shape", "bytes");
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		const struct glm_tensor *t = &f->tensors[i];
		shape_str(shape, sizeof shape, t);
		printf("  %-36s %-7s %-20s %12zu\n", t->name, ggml_type_name(t->type), shape, t->nbytes);
	}
}

static uint64_t n_elements(const struct glm_tensor *t)
{
	return (uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
}

/* Parameters in the file, and those one decoded token uses: everything in
 * the layers that run except the routed experts, which count n_used of
 * n_expert (embedding and output included, the usual convention). */
static void count_params(const struct glm_model *m, uint64_t *total, double *active)
{
	const struct gguf_file *f = m->gguf;
	const struct glm_hparams *hp = &m->hp;

	*total = 0;
	*active = 0;
	for (uint64_t i = 0; i < f->n_tensors; i++) {
		const struct glm_tensor *t = &f->tensors[i];
		uint64_t n = n_elements(t);
		unsigned l;
		*total += n;
		if (sscanf(t->name, "blk.%u.", &l) == 1 && l >= hp->n_layer)
			continue;
		if (strstr(t->name, "_exps."))
			*active += (double)n * hp->n_expert_used / hp->n_expert;
		else
			*active += (double)n;
	}
}

static void print_quant_mix(const struct gguf_file *f)
{
	uint64_t bytes[GGML_TYPE_COUNT] = {0}, total = 0;
	unsigned count[GGML_TYPE_COUNT] = {0};
	char hb[32];
	bool first = true;

	for (uint64_t i = 0; i < f->n_tensors; i++) {
		bytes[f->tensors[i].type] += f->tensors[i].nbytes;
		count[f->tensors[i].type]++;
		total += f->tensors[i].nbytes;
	}
	printf("  %-20s ", "quant mix");
	/* largest share first */
	for (;;) {
		int best = -1;
		for (int t = 0; t < GGML_TYPE_COUNT; t++)
			if (count[t] && (best < 0 || bytes[t] > bytes[best]))
				best = t;
		if (best < 0)
			break;
		human_bytes(hb, sizeof hb, (double)bytes[best]);
		printf("%s%s %s (%u tensor%s, %.1f%%)", first ? "" : "; ", ggml_type_name(best), hb,
		       count[best], count[best] == 1 ? "" : "s", total ? 100.0 * bytes[best] / total : 0.0);
		count[best] = 0;
		first = false;
	}
	putchar('\n');
}

static void print_token_id(const struct gguf_file *f, const char *what, const char *key)
{
	uint32_t id;

	if (gguf_get_u32(f, key, &id) == 0)
		printf(" %s %u", what, id);
}

static void print_summary(const struct glm_model *m)
{
	const struct glm_hparams *hp = &m->hp;
	const struct gguf_file *f = m->gguf;
	char a[32], b[32], c[32];
	uint64_t total;
	double active;

	printf("\nmodel:\n");
	printf("  %-20s " "deepseek2 (GLM-4.7-Flash layout: MLA attention, MoE)\n", "architecture");
	printf("  %-20s %s\n", "name", m->name);
	printf("  %-20s %u (%u dense + %u MoE)", "layers", hp->n_layer, hp->n_leading_dense,
	       hp->n_layer - hp->n_leading_dense);
	if (hp->n_layer_file > hp->n_layer)
		printf("; %u next-token-prediction layer%s skipped", hp->n_layer_file - hp->n_layer,
		       hp->n_layer_file - hp->n_layer > 1 ? "s" : "");
	putchar('\n');
	printf("  %-20s %u, vocabulary %u\n", "embedding", hp->n_embd, hp->n_vocab);
	printf("  %-20s MLA, %u heads, q rank %u, kv rank %u, head k %u (nope %u + rope %u), v %u\n",
	       "attention", hp->n_head, hp->q_lora_rank, hp->kv_lora_rank, hp->n_embd_head_k,
	       hp->n_embd_head_qk_nope, hp->n_rot, hp->n_embd_head_v);
	printf("  %-20s %u routed, %u used, %u shared; ffn %u (dense %u); %s gating%s, weights %s x %g\n",
	       "experts", hp->n_expert, hp->n_expert_used, hp->n_expert_shared, hp->n_ff_exp, hp->n_ff,
	       hp->gating == GLM_GATING_SIGMOID ? "sigmoid" : "softmax",
	       gguf_find(f, "deepseek2.expert_gating_func") ? "" : " (key absent: default)",
	       hp->expert_weights_norm ? "normalised" : "unnormalised", hp->expert_weights_scale);
	printf("  %-20s rms eps %g (q/kv inner norms %g), rope theta %g\n", "numerics", hp->rms_eps,
	       hp->rms_eps_inner, hp->rope_freq_base);
	count_params(m, &total, &active);
	human_count(a, sizeof a, (double)total);
	human_count(b, sizeof b, active);
	printf("  %-20s %s total, %s active per token\n", "parameters", a, b);
	print_quant_mix(f);
	human_bytes(a, sizeof a, (double)f->size);
	printf("  %-20s %s\n", "file size", a);
	uint64_t bpt = glm_model_bytes_per_token(m);
	human_bytes(a, sizeof a, (double)bpt);
	printf("  %-20s %llu (%s)\n", "bytes per token", (unsigned long long)bpt, a);
	uint64_t kv16 = glm_kv_bytes_per_token(hp, GLM_KV_F16), kv8 = glm_kv_bytes_per_token(hp, GLM_KV_Q8_0);
	human_bytes(a, sizeof a, (double)kv16 * hp->n_ctx_train);
	human_bytes(b, sizeof b, (double)kv8 * hp->n_ctx_train);
	printf("  %-20s f16 %llu B, q8_0 %llu B (full context: %s / %s)\n", "KV cache per token",
	       (unsigned long long)kv16, (unsigned long long)kv8, a, b);
	printf("  %-20s %llu\n", "context length", (unsigned long long)hp->n_ctx_train);

	const struct gguf_kv *tok = gguf_find(f, "tokenizer.ggml.tokens");
	const struct gguf_kv *merges = gguf_find(f, "tokenizer.ggml.merges");
	char *model = gguf_get_str(f, "tokenizer.ggml.model"), *pre = gguf_get_str(f, "tokenizer.ggml.pre");
	printf("  %-20s ", "tokenizer");
	if (tok && tok->type == GGUF_TYPE_ARRAY) {
		snprintf(c, sizeof c, "%s", model ? model : "?");
		printf("%s/%s, %llu tokens, %llu merges;", c, pre ? pre : "?", (unsigned long long)tok->v.arr.n,
		       merges && merges->type == GGUF_TYPE_ARRAY ? (unsigned long long)merges->v.arr.n : 0ULL);
		print_token_id(f, "bos", "tokenizer.ggml.bos_token_id");
		print_token_id(f, "eos", "tokenizer.ggml.eos_token_id");
		print_token_id(f, "eot", "tokenizer.ggml.eot_token_id");
		print_token_id(f, "eom", "tokenizer.ggml.eom_token_id");
		putchar('\n');
	} else {
		printf("absent\n");
	}
	free(model);
	free(pre);
	const struct gguf_kv *tmpl = gguf_find(f, "tokenizer.chat_template");
	if (tmpl && tmpl->type == GGUF_TYPE_STRING)
		printf("  %-20s present (%llu bytes)\n", "chat template", (unsigned long long)tmpl->v.str.len);
	else
		printf("  %-20s absent\n", "chat template");
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"model", required_argument, 0, 'm'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *path = NULL;
	struct gguf_file *f;
	struct glm_model *m;
	char err[1024];
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+m:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			if (optopt == 'm')
				return cli_usage_error("inspect", "option -m needs a FILE");
			return cli_usage_error("inspect", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		if (path || optind + 1 < argc)
			return cli_usage_error("inspect", "one FILE only");
		path = argv[optind];
	}
	if (!path)
		return cli_usage_error("inspect", "no FILE given");

	if (gguf_open(path, &f, err, sizeof err))
		return cli_runtime_error("%s", err);
	printf("%s: GGUF v%u, %llu keys, %llu tensors, alignment %u, tensor data at byte %zu of %zu\n",
	       path, f->version, (unsigned long long)f->n_kv, (unsigned long long)f->n_tensors,
	       f->alignment, f->data_offset, f->size);
	print_metadata(f);
	print_tensors(f);
	if (glm_model_bind(f, &m, err, sizeof err)) {
		fflush(stdout);
		gguf_close(f);
		return cli_runtime_error("%s", err);
	}
	print_summary(m);
	glm_model_free(m);
	if (fflush(stdout) || ferror(stdout))
		return cli_runtime_error("inspect: write error on standard output");
	return EXIT_OK;
}
