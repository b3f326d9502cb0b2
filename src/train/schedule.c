/* schedule.c */
#include "train/schedule.h"

#include <math.h>

double lr_at(long step, long total, long warmup, double lr, double min_lr)
{
    if (warmup > 0 && step < warmup)
        return lr * (double)(step + 1) / (double)warmup;
    long span = total - warmup;
    if (span <= 1)
        return lr;
    double t = (double)(step - warmup) / (double)(span - 1);
    if (t > 1)
        t = 1;
    return min_lr + 0.5 * (lr - min_lr) * (1.0 + cos(M_PI * t));
}
