/* progress.h: progress lines on stderr for long work (done/total, rate, ETA).
 *
 * On a terminal the line is redrawn in place; otherwise a line is printed at most
 * every few seconds, so logs stay readable. Quiet mode prints nothing. */
#ifndef DK_UTIL_PROGRESS_H
#define DK_UTIL_PROGRESS_H

#include <stdint.h>

typedef struct {
    const char *what;  /* e.g. "merges" */
    const char *unit;  /* e.g. "merges" or "MB" */
    double total;
    double t0, last;
    int tty, quiet, drawn;
} progress;

double now_seconds(void);  /* monotonic clock */

void progress_start(progress *p, const char *what, const char *unit, double total, int quiet);
/* Cheap to call often: it redraws at most a few times a second. */
void progress_update(progress *p, double done);
void progress_finish(progress *p, double done);

#endif
