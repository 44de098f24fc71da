#ifndef ATOLL_CALLOCATOR_H
#define ATOLL_CALLOCATOR_H

/// Fixes glibc's mmap threshold at `bytes`. glibc otherwise raises the threshold to the size
/// of each large block freed (up to 32 MB), after which multi-megabyte buffers come from the
/// heap arenas and their pages stay with the process once freed. Does nothing elsewhere.
void atoll_allocator_fix_mmap_threshold(int bytes);

/// Returns free pages of the heap to the system (glibc's `malloc_trim`); 1 if any were.
/// Returns 0 elsewhere.
int atoll_allocator_trim(void);

#endif
