/* /stats: a table of the turns and plots of generation speed and memory
 * over the session. */
#include "ui/ui_internal.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/page.h"

/* A column chart of v[0..n) in rows text lines of cols cells, in eighths
 * of a cell. Samples are averaged into the columns. */
static void plot(struct page *p, const double *v, size_t n, int rows, int cols,
                 double scale, const char *unit, bool unicode, unsigned attr)
{
	static const char *const eighths[9] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char ascii[9] = " ..::||##";
	double col[512], max = 0;
	int nc = cols - 10;

	if (nc > 512)
		nc = 512;
	if (nc < 4 || n == 0) {
		page_add(p, attr, "  (no samples yet: they are taken while the model generates)");
		return;
	}
	if ((size_t)nc > n)
		nc = (int)n;
	for (int c = 0; c < nc; c++) {
		size_t a = (size_t)c * n / (size_t)nc, b = (size_t)(c + 1) * n / (size_t)nc;
		double sum = 0;
		if (b <= a)
			b = a + 1;
		for (size_t i = a; i < b; i++)
			sum += v[i];
		col[c] = sum / (double)(b - a) / scale;
		if (col[c] > max)
			max = col[c];
	}
	for (int r = rows - 1; r >= 0; r--) {
		char line[4096], label[16];
		size_t o = 0;

		if (r == rows - 1)
			snprintf(label, sizeof label, "%7.1f ", max);
		else if (r == 0)
			snprintf(label, sizeof label, "%7.1f ", 0.0);
		else
			snprintf(label, sizeof label, "        ");
		o += (size_t)snprintf(line, sizeof line, "%s%s", label, unicode ? "│" : "|");
		for (int c = 0; c < nc && o + 8 < sizeof line; c++) {
			int h = max > 0 ? (int)lround(col[c] / max * rows * 8) - r * 8 : 0;
			if (h < 0)
				h = 0;
			if (h > 8)
				h = 8;
			if (unicode)
				o += (size_t)snprintf(line + o, sizeof line - o, "%s", eighths[h]);
			else
				line[o++] = ascii[h], line[o] = '\0';
		}
		page_add(p, attr, "%s", line);
	}
	page_add(p, attr, "        %s %zu samples, oldest left (%s)", unicode ? "└" : "+", n, unit);
}

void stats_view_draw(struct ui *ui, int y, int rows, int width)
{
	struct page p = { 0 };
	int turn = 0, plot_rows = rows >= 30 ? 8 : 4;

	page_add(&p, A_BOLD, "Session statistics   (q or Esc closes; PgUp/PgDn scroll)");
	page_add(&p, A_NORMAL, "%s", "");
	page_add(&p, ui->attr[P_ANSWER] | A_BOLD, "%4s %8s %8s %9s %8s %9s %9s %9s  %s",
	         "turn", "prompt", "gen", "reasoning", "answer", "pp t/s", "gen t/s", "ttft ms", "");
	for (size_t i = 0; i < ui->tr.n; i++) {
		const struct tr_entry *e = ui->tr.v[i];
		const struct ui_stats *s = &e->stats;
		char pp[16], tg[16];

		if (e->kind != TR_ASSISTANT || !e->has_stats)
			continue;
		fmt_rate(s->prompt_tps, pp, sizeof pp);
		fmt_rate(s->gen_tps, tg, sizeof tg);
		page_add(&p, A_NORMAL, "%4d %8lld %8lld %9lld %8lld %9s %9s %9.0f  %s", ++turn,
		         (long long)s->n_prompt, (long long)s->n_gen, (long long)e->n_reasoning,
		         (long long)e->n_answer, pp, tg, s->ttft_ms, e->interrupted ? "interrupted" : "");
	}
	if (!turn)
		page_add(&p, ui->attr[P_REASONING], "  (no turns yet)");
	page_add(&p, A_NORMAL, "%s", "");
	{
		/* the samples, one series at a time (the array is the plot's) */
		double *v = ui->n_series ? malloc(ui->n_series * sizeof *v) : NULL;
		size_t n = v ? ui->n_series : 0;

		for (size_t i = 0; i < n; i++)
			v[i] = ui->series[i].tps;
		page_add(&p, ui->attr[P_ANSWER] | A_BOLD, "Generation speed, tokens/s");
		plot(&p, v, n, plot_rows, width, 1.0, "t/s", ui->unicode, ui->attr[P_CODE]);
		for (size_t i = 0; i < n; i++)
			v[i] = ui->series[i].mem;
		page_add(&p, A_NORMAL, "%s", "");
		page_add(&p, ui->attr[P_ANSWER] | A_BOLD, "%s used, GiB", ui->stats.mem_is_vram ? "VRAM" : "RAM");
		plot(&p, v, n, plot_rows, width, 1073741824.0, "GiB", ui->unicode, ui->attr[P_CODE]);
		free(v);
	}
	page_show(&p, y, rows, width, &ui->overlay_top);
}
