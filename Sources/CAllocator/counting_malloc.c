// A counting wrapper around glibc's malloc: the process's `used_memory`, as Redis's zmalloc
// counts every block it hands out by its usable size. Defining malloc and its siblings here
// replaces them for the whole process (glibc supports replacing its allocator this way), and
// each forwards to glibc's own implementation (`__libc_malloc` ...), so blocks stay glibc's.
//
// Each thread adds to a counter of its own (a cache line apiece, written only by that thread),
// so counting costs no atomic read-modify-write; a reader sums the counters. A block freed on
// another thread than the one that allocated it makes one counter go down and another up:
// only the sum means anything.
#include "CAllocator.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *block, size_t size);
extern void __libc_free(void *block);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

/// One thread's running total (bytes allocated minus bytes freed by it), alone in its line.
struct thread_counter {
    _Atomic long long bytes;
    char padding[64 - sizeof(long long)];
};

/// Enough for every thread Atoll starts; threads past it share the last one, atomically.
#define COUNTER_SLOTS 256
static struct thread_counter counters[COUNTER_SLOTS];
static _Atomic int counters_claimed;
static __thread struct thread_counter *this_thread_counter __attribute__((tls_model("initial-exec")));

static void count(long long delta) {
    struct thread_counter *mine = this_thread_counter;
    if (__builtin_expect(mine == NULL, 0)) {
        int slot = atomic_fetch_add_explicit(&counters_claimed, 1, memory_order_relaxed);
        mine = &counters[slot < COUNTER_SLOTS - 1 ? slot : COUNTER_SLOTS - 1];
        this_thread_counter = mine;
    }
    if (mine == &counters[COUNTER_SLOTS - 1]) {
        atomic_fetch_add_explicit(&mine->bytes, delta, memory_order_relaxed);
    } else {
        // Only this thread writes its counter: a plain add, published for readers.
        long long now = atomic_load_explicit(&mine->bytes, memory_order_relaxed);
        atomic_store_explicit(&mine->bytes, now + delta, memory_order_relaxed);
    }
}

static inline void *counted(void *block) {
    if (block) count((long long)malloc_usable_size(block));
    return block;
}

void *malloc(size_t size) { return counted(__libc_malloc(size)); }

void *calloc(size_t count_, size_t size) { return counted(__libc_calloc(count_, size)); }

void free(void *block) {
    if (!block) return;
    count(-(long long)malloc_usable_size(block));
    __libc_free(block);
}

void *realloc(void *block, size_t size) {
    long long before = block ? (long long)malloc_usable_size(block) : 0;
    void *moved = __libc_realloc(block, size);
    if (moved) {
        count((long long)malloc_usable_size(moved) - before);
    } else if (block && size == 0) {
        count(-before);  // glibc's realloc(p, 0) frees p
    }
    return moved;
}

void *reallocarray(void *block, size_t count_, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count_, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(block, total);
}

void *memalign(size_t alignment, size_t size) { return counted(__libc_memalign(alignment, size)); }

void *aligned_alloc(size_t alignment, size_t size) { return counted(__libc_memalign(alignment, size)); }

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0) return EINVAL;
    void *block = counted(__libc_memalign(alignment, size));
    if (!block) return ENOMEM;
    *result = block;
    return 0;
}

void *valloc(size_t size) { return counted(__libc_valloc(size)); }

void *pvalloc(size_t size) { return counted(__libc_pvalloc(size)); }

long long atoll_allocator_counted_bytes(void) {
    int claimed = atomic_load_explicit(&counters_claimed, memory_order_relaxed);
    if (claimed > COUNTER_SLOTS) claimed = COUNTER_SLOTS;
    long long sum = atomic_load_explicit(&counters[COUNTER_SLOTS - 1].bytes, memory_order_relaxed);
    for (int i = 0; i < claimed && i < COUNTER_SLOTS - 1; i++) {
        sum += atomic_load_explicit(&counters[i].bytes, memory_order_relaxed);
    }
    return sum > 0 ? sum : 0;
}
#else
long long atoll_allocator_counted_bytes(void) {
    return -1;
}
#endif
