/* The status-bar formatter (ui/statusbar.c): exact width at every size,
 * fields dropped least-important first, numbers formatted as documented. */
#include "tests/tap.h"
#include "ui/statusbar.h"
#include "ui/wrap.h"

static struct ui_stats sample(void)
{
	struct ui_stats s;

	ui_stats_init(&s);
	snprintf(s.backend, sizeof s.backend, "cuda");
	snprintf(s.kv_type, sizeof s.kv_type, "f16");
	snprintf(s.model, sizeof s.model, "GLM-4.7-Flash-UD-Q4_K_XL");
	s.generating = true;
	s.n_prompt = 1200;
	s.n_gen = 312;
	s.prompt_tps = 1830.4;
	s.gen_tps = 48.14;
	s.gen_tps_recent = 52.31;
	s.ttft_ms = 120.2;
	s.ctx_used = 12400;
	s.ctx_size = 131072;
	s.mem_used = (int64_t)(21.3 * 1073741824.0);
	s.mem_total = (int64_t)(80.0 * 1073741824.0);
	s.mem_is_vram = true;
	return s;
}

static int width_of(const char *s) { return text_width(s, strlen(s), 0); }

int main(void)
{
	struct ui_stats s = sample();
	double spark[20];
	char out[2048], buf[64];

	for (int i = 0; i < 20; i++)
		spark[i] = i + 1;

	fmt_count(950, buf, sizeof buf);    is_str(buf, "950", "count under 1000");
	fmt_count(12400, buf, sizeof buf);  is_str(buf, "12.4k", "count in thousands");
	fmt_count(131072, buf, sizeof buf); is_str(buf, "131k", "count over 100k");
	fmt_count(-1, buf, sizeof buf);     is_str(buf, "?", "unknown count");
	fmt_bytes(512ll << 20, buf, sizeof buf); is_str(buf, "512M", "bytes under 1 GiB in MiB");
	fmt_bytes(3ll << 30, buf, sizeof buf);   is_str(buf, "3.0G", "bytes in GiB");
	fmt_rate(52.31, buf, sizeof buf);  is_str(buf, "52.3", "rate under 100: one decimal");
	fmt_rate(1830.4, buf, sizeof buf); is_str(buf, "1830", "rate over 100: whole");
	fmt_rate(-1, buf, sizeof buf);     is_str(buf, "--", "unknown rate");

	/* exact width everywhere, both alphabets */
	{
		int good = 1;
		for (int width = 1; width <= 240; width++) {
			good &= statusbar_format(&s, spark, 20, width, true, out, sizeof out) == width;
			good &= width_of(out) == width;
			good &= statusbar_format(&s, spark, 20, width, false, out, sizeof out) == width;
			good &= width_of(out) == width;
		}
		ok(good, "the line is exactly the width asked, 1..240 cells, unicode and ASCII");
	}

	statusbar_format(&s, spark, SPARK_MAX, 240, true, out, sizeof out);
	ok(strstr(out, "gen 52.3 t/s (avg 48.1)") != NULL, "generating: live rate and turn average");
	ok(strstr(out, "pp 1830 t/s") != NULL, "prompt speed");
	ok(strstr(out, "ttft 120 ms") != NULL, "time to first token");
	ok(strstr(out, "ctx 12.4k/131k") != NULL, "context used/total");
	ok(strstr(out, "VRAM 21.3G/80.0G") != NULL, "VRAM on CUDA");
	ok(strstr(out, "kv f16") != NULL, "KV cache type");
	ok(strstr(out, "cuda") != NULL, "backend");
	ok(strstr(out, "GLM-4.7-Flash-UD-Q4_K_XL") != NULL, "model name");
	ok(strstr(out, "▁") && strstr(out, "█"), "sparkline spans the block range");

	statusbar_format(&s, spark, 20, 80, true, out, sizeof out);
	diag("80 cells: [%s]", out);
	ok(strstr(out, "gen 52.3") && strstr(out, "ctx 12.4k/131k"), "80 cells keep speed and context");
	ok(!strstr(out, "GLM-4.7"), "80 cells drop the model name first");
	statusbar_format(&s, spark, 20, 30, true, out, sizeof out);
	ok(strstr(out, "gen 52.3") && !strstr(out, "ctx"), "30 cells keep only the speed");

	s.generating = false;
	s.mem_is_vram = false;
	statusbar_format(&s, NULL, 0, 200, false, out, sizeof out);
	ok(strstr(out, "gen 48.1 t/s") && !strstr(out, "avg"), "idle: the last turn's average");
	ok(strstr(out, "RAM 21.3G/80.0G") && !strstr(out, "VRAM"), "RAM on the CPU");
	ok(!strstr(out, "│"), "ASCII mode uses no box characters");

	ui_stats_init(&s);
	statusbar_format(&s, NULL, 0, 100, true, out, sizeof out);
	ok(strstr(out, "gen -- t/s") && strstr(out, "ctx ?/?"), "before any statistics: placeholders");

	/* idle sleep and the demo's standing note (issue 7) */
	s = sample();
	s.generating = false;
	s.model_state = UI_MODEL_SLEEPING;
	statusbar_format(&s, NULL, 0, 200, true, out, sizeof out);
	ok(strncmp(out, " sleeping │ ", strlen(" sleeping │ ")) == 0, "asleep: the line starts with \"sleeping\"");
	ok(strstr(out, "VRAM freed") && !strstr(out, "21.3G"), "...and the memory shows as freed");
	statusbar_format(&s, NULL, 0, 12, true, out, sizeof out);
	is_str(out, " sleeping   ", "12 cells: only \"sleeping\" is left");
	s.model_state = UI_MODEL_WAKING;
	statusbar_format(&s, NULL, 0, 200, false, out, sizeof out);
	ok(strstr(out, "loading again") != NULL, "waking: \"loading again\"");
	s = sample();
	snprintf(s.note, sizeof s.note, "DEMO: random weights, text is noise");
	statusbar_format(&s, spark, 20, 80, true, out, sizeof out);
	diag("80 cells with a note: [%s]", out);
	ok(strstr(out, "DEMO: random weights, text is noise") && strstr(out, "gen 52.3"),
	   "80 cells keep the standing note and the speed");
	ok(!strstr(out, "ttft"), "...dropping less important numbers for it");

	sparkline(spark, 8, true, out, sizeof out);
	is_str(out, "▁▂▃▄▅▆▇█", "sparkline of 1..8 rises one step per value");
	{
		double flat[4] = { 0, 0, 0, 0 };
		sparkline(flat, 4, false, out, sizeof out);
		is_str(out, "____", "all zero: the bottom glyph, no division by zero");
	}
	return done_testing();
}
