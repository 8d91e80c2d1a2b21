/* The status bar formatter; see statusbar.h. */
#include "ui/statusbar.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ui/wrap.h"

void fmt_count(int64_t n, char *out, size_t outsize)
{
	if (n < 0)
		snprintf(out, outsize, "?");
	else if (n < 1000)
		snprintf(out, outsize, "%lld", (long long)n);
	else if (n < 100000)
		snprintf(out, outsize, "%.1fk", n / 1000.0);
	else if (n < 1000000)
		snprintf(out, outsize, "%lldk", (long long)((n + 500) / 1000));
	else
		snprintf(out, outsize, "%.1fM", n / 1e6);
}

void fmt_bytes(int64_t n, char *out, size_t outsize)
{
	const double mib = 1024.0 * 1024.0, gib = mib * 1024.0;

	if (n < 0)
		snprintf(out, outsize, "?");
	else if (n < gib)
		snprintf(out, outsize, "%.0fM", n / mib);
	else
		snprintf(out, outsize, "%.1fG", n / gib);
}

void fmt_rate(double tps, char *out, size_t outsize)
{
	if (!(tps >= 0) || isinf(tps))
		snprintf(out, outsize, "--");
	else if (tps < 100)
		snprintf(out, outsize, "%.1f", tps);
	else
		snprintf(out, outsize, "%.0f", tps);
}

void sparkline(const double *v, int n, bool unicode, char *out, size_t outsize)
{
	static const char *const blocks[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char ascii[] = "_.-:=+*#";
	double max = 0;
	size_t o = 0;

	for (int i = 0; i < n; i++)
		if (v[i] > max && !isinf(v[i]))
			max = v[i];
	for (int i = 0; i < n; i++) {
		int level = 0;
		const char *glyph;
		size_t gl;
		char a[2] = { 0, 0 };

		/* eighths of the maximum: (0, max/8] is the lowest block */
		if (max > 0 && v[i] > 0 && !isinf(v[i]))
			level = (int)ceil(v[i] / max * 8.0) - 1;
		if (level < 0)
			level = 0;
		if (level > 7)
			level = 7;
		if (unicode) {
			glyph = blocks[level];
		} else {
			a[0] = ascii[level];
			glyph = a;
		}
		gl = strlen(glyph);
		if (o + gl + 1 > outsize)
			break;
		memcpy(out + o, glyph, gl);
		o += gl;
	}
	if (outsize)
		out[o < outsize ? o : outsize - 1] = '\0';
}

/* The fields, in the order they appear; `keep` ranks how long each
 * survives as the terminal narrows (0 is never dropped). The state
 * ("sleeping") and the standing note (the demo's warning) are empty most
 * of the time; when they are not, they matter more than any number. */
enum { F_STATE, F_NOTE, F_GEN, F_SPARK, F_PP, F_TTFT, F_CTX, F_MEM, F_KV, F_BACKEND, F_MODEL, F_COUNT };
static const int keep[F_COUNT] = {
	[F_STATE] = 0, [F_GEN] = 1, [F_NOTE] = 2, [F_CTX] = 3, [F_SPARK] = 4, [F_MEM] = 5,
	[F_PP] = 6, [F_TTFT] = 7, [F_BACKEND] = 8, [F_KV] = 9, [F_MODEL] = 10,
};

/* Copy at most max_cells cells of s, ending with an ellipsis when cut. */
static void clip(const char *s, int max_cells, bool unicode, char *out, size_t outsize)
{
	size_t len = strlen(s), i = 0;
	int col = 0;

	if (text_width(s, len, 0) <= max_cells) {
		snprintf(out, outsize, "%s", s);
		return;
	}
	while (i < len) {
		int w;
		size_t n = cluster_next(s + i, len - i, col, &w);
		if (col + w > max_cells - 1)
			break;
		col += w;
		i += n;
	}
	snprintf(out, outsize, "%.*s%s", (int)i, s, unicode ? "…" : "~");
}

int statusbar_format(const struct ui_stats *s, const double *spark, int n_spark, int width,
                     bool unicode, char *out, size_t outsize)
{
	char field[F_COUNT][160], a[32], b[32];
	bool on[F_COUNT];
	const char *sep = unicode ? " │ " : " | ";
	size_t o = 0;
	int total, col = 0;

	if (!outsize)
		return 0;
	out[0] = '\0';
	if (width < 1)
		return 0;

	switch (s->model_state) {
	case UI_MODEL_SLEEPING:
		snprintf(field[F_STATE], sizeof field[F_STATE], "sleeping");
		break;
	case UI_MODEL_WAKING:
		snprintf(field[F_STATE], sizeof field[F_STATE], "loading again");
		break;
	default:
		field[F_STATE][0] = '\0';
	}
	snprintf(field[F_NOTE], sizeof field[F_NOTE], "%s", s->note);

	/* While generating the live rate leads; afterwards the turn's average. */
	fmt_rate(s->generating ? s->gen_tps_recent : s->gen_tps, a, sizeof a);
	fmt_rate(s->gen_tps, b, sizeof b);
	if (s->generating)
		snprintf(field[F_GEN], sizeof field[F_GEN], "gen %s t/s (avg %s)", a, b);
	else
		snprintf(field[F_GEN], sizeof field[F_GEN], "gen %s t/s", a);
	if (n_spark > SPARK_MAX) {
		spark += n_spark - SPARK_MAX;
		n_spark = SPARK_MAX;
	}
	if (spark && n_spark > 0)
		sparkline(spark, n_spark, unicode, field[F_SPARK], sizeof field[F_SPARK]);
	else
		field[F_SPARK][0] = '\0';
	fmt_rate(s->prompt_tps, a, sizeof a);
	snprintf(field[F_PP], sizeof field[F_PP], "pp %s t/s", a);
	if (s->ttft_ms >= 0 && s->ttft_ms < 1e4)
		snprintf(field[F_TTFT], sizeof field[F_TTFT], "ttft %.0f ms", s->ttft_ms);
	else if (s->ttft_ms >= 1e4)
		snprintf(field[F_TTFT], sizeof field[F_TTFT], "ttft %.1f s", s->ttft_ms / 1e3);
	else
		snprintf(field[F_TTFT], sizeof field[F_TTFT], "ttft --");
	fmt_count(s->ctx_used, a, sizeof a);
	fmt_count(s->ctx_size, b, sizeof b);
	snprintf(field[F_CTX], sizeof field[F_CTX], "ctx %s/%s", a, b);
	fmt_bytes(s->mem_used, a, sizeof a);
	fmt_bytes(s->mem_total, b, sizeof b);
	if (s->model_state == UI_MODEL_AWAKE)
		snprintf(field[F_MEM], sizeof field[F_MEM], "%s %s/%s", s->mem_is_vram ? "VRAM" : "RAM", a, b);
	else
		snprintf(field[F_MEM], sizeof field[F_MEM], "%s freed", s->mem_is_vram ? "VRAM" : "RAM");
	snprintf(field[F_KV], sizeof field[F_KV], s->kv_type[0] ? "kv %s" : "%s", s->kv_type);
	snprintf(field[F_BACKEND], sizeof field[F_BACKEND], "%s", s->backend);
	clip(s->model, 24, unicode, field[F_MODEL], sizeof field[F_MODEL]);

	for (int f = 0; f < F_COUNT; f++)
		on[f] = field[f][0] != '\0';
	/* Drop the least important field until the line fits. */
	for (int rank = F_COUNT - 1;; rank--) {
		int n_on = 0;

		total = 0;
		for (int f = 0; f < F_COUNT; f++) {
			if (!on[f])
				continue;
			total += text_width(field[f], strlen(field[f]), 0);
			n_on++;
		}
		if (n_on > 1)
			total += (n_on - 1) * 3;
		if (total + 2 <= width || rank < 1)
			break;
		for (int f = 0; f < F_COUNT; f++)
			if (keep[f] == rank)
				on[f] = false;
	}

	/* One leading space, the fields, padding to the full width. */
	{
		char line[1024];
		size_t l = 0;

		line[l++] = ' ';
		for (int f = 0, first = 1; f < F_COUNT; f++) {
			if (!on[f])
				continue;
			l += snprintf(line + l, sizeof line - l, "%s%s", first ? "" : sep, field[f]);
			if (l >= sizeof line)
				l = sizeof line - 1;
			first = 0;
		}
		line[l] = '\0';
		clip(line, width, unicode, out, outsize);
	}
	o = strlen(out);
	col = text_width(out, o, 0);
	while (col < width && o + 1 < outsize) {
		out[o++] = ' ';
		col++;
	}
	out[o] = '\0';
	return col;
}

void ui_stats_init(struct ui_stats *s)
{
	memset(s, 0, sizeof *s);
	s->n_prompt = s->n_gen = s->n_reasoning = s->n_answer = -1;
	s->prompt_tps = s->gen_tps = s->gen_tps_recent = s->ttft_ms = -1;
	s->ctx_used = s->ctx_size = s->mem_used = s->mem_total = -1;
}
