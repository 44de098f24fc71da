#ifndef ATOLL_CSEARCH_H
#define ATOLL_CSEARCH_H

/// Binary searches over sorted stream IDs (pairs of unsigned 64-bit milliseconds and sequence,
/// the layout of Swift's `StreamID`, two `UInt64` stored properties in that order) that do not
/// branch on their comparisons: each step picks the next half through a conditional move.
/// Searched for random IDs (XACK), the comparisons go either way at random, and a plain binary
/// search mispredicts about half of its branches. They are C for `__builtin_unpredictable`:
/// written in Swift, with a conditional expression or a mask, the same loop compiled to a
/// branch on the comparison.

#include <stdint.h>

typedef struct {
    uint64_t ms;
    uint64_t seq;
} atoll_stream_id;

static inline int atoll_stream_id_before(const atoll_stream_id *a, uint64_t ms, uint64_t seq) {
    return (a->ms < ms) | ((a->ms == ms) & (a->seq < seq));
}

/// The index of the last of `count` (at least 1) sorted IDs that is not after (`ms`, `seq`),
/// or 0 if every one is after it.
static inline long atoll_last_not_after(const void *ids, long count, uint64_t ms, uint64_t seq) {
    const atoll_stream_id *first = (const atoll_stream_id *)ids, *base = first;
    long n = count;
    while (n > 1) {
        long half = n / 2;
        const atoll_stream_id *middle = base + half;
        int notAfter = (middle->ms < ms) | ((middle->ms == ms) & (middle->seq <= seq));
        base = __builtin_unpredictable(notAfter) ? middle : base;
        n -= half;
    }
    return base - first;
}

/// The index of the first of `count` sorted IDs that is not before (`ms`, `seq`), or `count`.
static inline long atoll_first_not_before(const void *ids, long count, uint64_t ms, uint64_t seq) {
    const atoll_stream_id *first = (const atoll_stream_id *)ids, *base = first;
    if (count == 0) return 0;
    long n = count;
    while (n > 1) {
        long half = n / 2;
        const atoll_stream_id *middle = base + half;
        base = __builtin_unpredictable(atoll_stream_id_before(middle, ms, seq)) ? middle : base;
        n -= half;
    }
    return (base - first) + atoll_stream_id_before(base, ms, seq);
}

#endif
