/* progress.c */
#include "util/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_start(progress *p, const char *what, const char *unit, double total, int quiet)
{
    p->what = what;
    p->unit = unit;
    p->total = total;
    p->t0 = p->last = now_seconds();
    p->tty = isatty(2);
    p->quiet = quiet;
    p->drawn = 0;
}

static void draw(progress *p, double done, double t, int final)
{
    double el = t - p->t0;
    double rate = el > 0 ? done / el : 0;
    double eta = rate > 0 && p->total > done ? (p->total - done) / rate : 0;
    fprintf(stderr, "%s%s: %.0f/%.0f %s (%.0f%%), %.1f %s/s, %s %.1fs%s", p->tty ? "\r" : "",
            p->what, done, p->total, p->unit, p->total > 0 ? 100.0 * done / p->total : 100.0,
            rate, p->unit, final ? "elapsed" : "ETA", final ? el : eta,
            p->tty && !final ? "   " : "\n");
    fflush(stderr);
    p->drawn = 1;
}

void progress_update(progress *p, double done)
{
    if (p->quiet)
        return;
    double t = now_seconds();
    if (t - p->last < (p->tty ? 0.25 : 5.0))
        return;
    p->last = t;
    draw(p, done, t, 0);
}

void progress_finish(progress *p, double done)
{
    if (p->quiet)
        return;
    draw(p, done, now_seconds(), 1);
}
