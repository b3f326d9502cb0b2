/* plot.h: a loss-curve picture as a standalone SVG file (no dependencies): several
 * named series of (step, value) points on shared axes with ticks and a legend.
 * Written atomically, so a viewer refreshing it never sees half a file. */
#ifndef DK_TRAIN_PLOT_H
#define DK_TRAIN_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

typedef struct {
    const char *name;
    const double *x, *y;
    size_t n;
} plot_series;

/* The picture written into f (an HTML page can hold it inline). */
void plot_svg_write(FILE *f, const char *title, const char *xlabel, const char *ylabel, const plot_series *s,
                    size_t n_series);
int plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
             const plot_series *s, size_t n_series, dk_err *err);

#endif
