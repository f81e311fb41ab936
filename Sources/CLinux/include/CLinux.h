#ifndef COFFER_CLINUX_H
#define COFFER_CLINUX_H

/// Linux file flags Swift's Glibc module leaves out (they need _GNU_SOURCE).

/// O_DIRECT: write straight from (aligned) user memory to the device, skipping the page cache.
int coffer_o_direct(void);

#endif
