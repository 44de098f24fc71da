#ifndef ATOLL_CALLOCATOR_H
#define ATOLL_CALLOCATOR_H

/// Fixes glibc's mmap threshold at `bytes`. glibc otherwise raises the threshold to the size
/// of each large block freed (up to 32 MB), after which multi-megabyte buffers come from the
/// heap arenas and their pages stay with the process once freed. Does nothing elsewhere.
void atoll_allocator_fix_mmap_threshold(int bytes);

/// Returns free pages of the heap to the system (glibc's `malloc_trim`); 1 if any were.
/// Returns 0 elsewhere.
int atoll_allocator_trim(void);

/// What the allocator holds (glibc's `mallinfo2`, summed over every arena): `in_use` the bytes
/// of the blocks handed out and not freed, `held` the bytes it took from the system (heap
/// arenas and mapped blocks). Both 0 elsewhere.
void atoll_allocator_usage(unsigned long long *in_use, unsigned long long *held);

/// The bytes in use in blocks from malloc and its siblings, counted by their usable size as
/// they are handed out and freed (see counting_malloc.c): the process's `used_memory`.
/// Cheap enough to read before every command. -1 where the counting wrapper is not built
/// (not glibc).
long long atoll_allocator_counted_bytes(void);

#endif
