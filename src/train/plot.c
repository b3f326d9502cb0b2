/* plot.c */
#include "train/plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/fs.h"
#include "util/xml.h"

#define W 800
#define H 480
#define ML 70
#define MR 20
#define MT 40
#define MB 50

static const char *COLORS[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* A "nice" tick step for a range: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int target)
{
    double raw = range / target, p = pow(10, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

void plot_svg_write(FILE *f, const char *title, const char *xlabel, const char *ylabel, const plot_series *s,
                    size_t n_series)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t k = 0; k < n_series; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].y[i]))
                continue;
            x0 = fmin(x0, s[k].x[i]);
            x1 = fmax(x1, s[k].x[i]);
            y0 = fmin(y0, s[k].y[i]);
            y1 = fmax(y1, s[k].y[i]);
        }
    if (!(x1 >= x0)) { /* no points yet */
        x0 = 0;
        x1 = 1;
        y0 = 0;
        y1 = 1;
    }
    if (x1 == x0)
        x1 = x0 + 1;
    if (y1 == y0)
        y1 = y0 + 1;
    double ys = nice_step(y1 - y0, 6), xs = nice_step(x1 - x0, 8);
    y0 = floor(y0 / ys) * ys;
    y1 = ceil(y1 / ys) * ys;
    double pw = W - ML - MR, ph = H - MT - MB;
#define PX(v) (ML + ((v) - x0) / (x1 - x0) * pw)
#define PY(v) (MT + (1 - ((v) - y0) / (y1 - y0)) * ph)
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"15\">", ML);
    xml_escape(f, title);
    fprintf(f, "</text>\n");
    for (double v = y0; v <= y1 + ys / 2; v += ys)
        fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                ML, W - MR, PY(v), PY(v), ML - 6, PY(v) + 4, fabs(v) < ys / 1e6 ? 0.0 : v);
    for (double v = ceil(x0 / xs) * xs; v <= x1 + xs / 1e6; v += xs)
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>"
                   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                PX(v), PX(v), MT, H - MB, PX(v), H - MB + 16, v);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n",
            ML, MT, pw, ph);
    fprintf(f, "<text x=\"%.0f\" y=\"%d\" text-anchor=\"middle\">", ML + pw / 2, H - 12);
    xml_escape(f, xlabel);
    fprintf(f, "</text>\n<text transform=\"translate(16 %.0f) rotate(-90)\" text-anchor=\"middle\">",
            MT + ph / 2);
    xml_escape(f, ylabel);
    fprintf(f, "</text>\n");
    for (size_t k = 0; k < n_series; k++) {
        const char *col = COLORS[k % (sizeof COLORS / sizeof COLORS[0])];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", col);
        for (size_t i = 0; i < s[k].n; i++)
            if (isfinite(s[k].y[i]))
                fprintf(f, "%.1f,%.1f ", PX(s[k].x[i]), PY(s[k].y[i]));
        fprintf(f, "\"/>\n");
        if (s[k].n == 1) /* a lone point would not show as a line */
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", PX(s[k].x[0]),
                    PY(s[k].y[0]), col);
        double ly = MT + 16 + 16.0 * (double)k;
        fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"3\"/>"
                   "<text x=\"%d\" y=\"%.0f\">", W - MR - 200, W - MR - 180, ly, ly, col, W - MR - 174, ly + 4);
        xml_escape(f, s[k].name);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
#undef PX
#undef PY
}

int plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
             const plot_series *s, size_t n_series, dk_err *err)
{
    fs_atomic a;
    if (fs_atomic_open(&a, path, err) != 0)
        return -1;
    plot_svg_write(a.f, title, xlabel, ylabel, s, n_series);
    return fs_atomic_commit(&a, err);
}
