#ifndef COFFER_CSHIMS_H
#define COFFER_CSHIMS_H

/// C that Swift cannot reach directly.

/// O_DIRECT (Swift's Glibc module leaves it out: it needs _GNU_SOURCE): write straight from
/// aligned user memory to the device, skipping the page cache.
int coffer_o_direct(void);

/// Turns off SQLite's memory statistics (sqlite3_config is variadic). With them on, every
/// allocation SQLite makes takes one process-wide mutex, which the request threads then fight
/// over. Effective only before SQLite initializes; returns SQLite's result code.
int coffer_sqlite_disable_memstatus(void);

#include <stdint.h>

/// Atomic access to a 64-bit word in memory shared between processes (a MAP_SHARED file
/// mapping), where Swift's Atomic cannot live. Sequentially consistent.
uint64_t coffer_atomic_load(const uint64_t *word);
int coffer_atomic_compare_exchange(uint64_t *word, uint64_t expected, uint64_t desired);

#include <stddef.h>

/// Runs libFuzzer's driver (command line, corpus, -runs=N) on `callback`, for a fuzz executable
/// whose entry SwiftPM names itself. -1 when libFuzzer is not linked in (a plain build).
int coffer_fuzz_run(int *argc, char ***argv, int (*callback)(const uint8_t *, size_t));

#endif
