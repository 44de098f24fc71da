// glibc's allocator controls, which Swift's Glibc module does not import (malloc.h).
#include "CAllocator.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>

void atoll_allocator_fix_mmap_threshold(int bytes) {
    mallopt(M_MMAP_THRESHOLD, bytes);
}

int atoll_allocator_trim(void) {
    return malloc_trim(0);
}

void atoll_allocator_usage(unsigned long long *in_use, unsigned long long *held) {
    struct mallinfo2 info = mallinfo2();
    *in_use = (unsigned long long)info.uordblks + (unsigned long long)info.hblkhd;
    *held = (unsigned long long)info.arena + (unsigned long long)info.hblkhd;
}
#else
void atoll_allocator_fix_mmap_threshold(int bytes) {
    (void)bytes;
}

int atoll_allocator_trim(void) {
    return 0;
}

void atoll_allocator_usage(unsigned long long *in_use, unsigned long long *held) {
    *in_use = 0;
    *held = 0;
}
#endif
