#define _GNU_SOURCE
#include <fcntl.h>
#include "CLinux.h"

int coffer_o_direct(void) { return O_DIRECT; }
