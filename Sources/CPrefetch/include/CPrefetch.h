#ifndef ATOLL_CPREFETCH_H
#define ATOLL_CPREFETCH_H

/// Asks the CPU to start loading the cache line holding `address` for reading. Only a hint:
/// it never faults and never changes what a program computes.
static inline void atoll_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
