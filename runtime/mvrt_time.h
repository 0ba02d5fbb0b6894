/* mvrt_time: a monotonic clock for measuring latency (not the time of day).
 *
 *     uint64_t t0 = mvrt_time_ns();
 *     net_run(input, logits, arena);
 *     double ms = (double)(mvrt_time_ns() - t0) / 1e6;
 *
 * POSIX: clock_gettime(CLOCK_MONOTONIC); Apple (__APPLE__): mach_absolute_time scaled by
 * mach_timebase_info. Never goes backwards; the origin is arbitrary (typically boot). */
#ifndef MVRT_TIME_H
#define MVRT_TIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Nanoseconds since an arbitrary fixed origin; 0 if the clock cannot be read. */
uint64_t mvrt_time_ns(void);

#ifdef __cplusplus
}
#endif

#endif
