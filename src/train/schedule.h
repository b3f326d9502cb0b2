/* schedule.h: the learning-rate schedule: linear warmup from 0 to lr over `warmup`
 * steps, then cosine decay to min_lr at the last step. Steps count from 0. */
#ifndef DK_TRAIN_SCHEDULE_H
#define DK_TRAIN_SCHEDULE_H

double lr_at(long step, long total, long warmup, double lr, double min_lr);

#endif
