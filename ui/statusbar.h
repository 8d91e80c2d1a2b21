/* The status bar as a pure function: a statistics snapshot and a history
 * of speeds in, one line of exactly `width` cells out. Fields are dropped,
 * least important first, until the line fits. */
#ifndef GLM_UI_STATUSBAR_H
#define GLM_UI_STATUSBAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ui/ui.h"

#define SPARK_MAX 12            /* samples the sparkline shows */

/* Writes the line (UTF-8, NUL-terminated, padded with spaces to width
 * cells) into out. unicode: box and block characters, else ASCII only.
 * spark: recent generation speeds, oldest first (may be NULL). Returns the
 * line's width in cells. */
int statusbar_format(const struct ui_stats *s, const double *spark, int n_spark, int width,
                     bool unicode, char *out, size_t outsize);

/* A sparkline of v[0..n) scaled to its maximum: one cell per value. */
void sparkline(const double *v, int n, bool unicode, char *out, size_t outsize);

/* Helpers shared with the statistics view. */
void fmt_count(int64_t n, char *out, size_t outsize);      /* 950, 12.4k, 203k, 1.2M */
void fmt_bytes(int64_t n, char *out, size_t outsize);      /* 512M, 21.3G */
void fmt_rate(double tps, char *out, size_t outsize);      /* 52.3, 1830, -- */

#endif
