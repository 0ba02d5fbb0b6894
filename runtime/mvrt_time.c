/* The monotonic clock behind mvrt_time_ns: CLOCK_MONOTONIC on POSIX, mach_absolute_time on
 * Apple (whose tick is 1 ns on Intel Macs and 125/3 ns on Apple silicon). */
#if !defined(__APPLE__) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#endif
#include "mvrt_time.h"

#if defined(__APPLE__)
#include <mach/mach_time.h>

uint64_t mvrt_time_ns(void)
{
    mach_timebase_info_data_t tb;
    if (mach_timebase_info(&tb) != KERN_SUCCESS || tb.denom == 0)
        return 0;
    const uint64_t t = mach_absolute_time();
    /* t * numer / denom without overflowing the product */
    return t / tb.denom * tb.numer + t % tb.denom * tb.numer / tb.denom;
}
#else
#include <time.h>

uint64_t mvrt_time_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif
