#define _GNU_SOURCE
#include <fcntl.h>
#include <sqlite3.h>
#include "CShims.h"

int coffer_o_direct(void) { return O_DIRECT; }

int coffer_sqlite_disable_memstatus(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
