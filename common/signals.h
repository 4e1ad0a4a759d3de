/* Process signals for both services: SIGINT and SIGTERM only set the stop flag (the one mutable
 * global the services have), which their loops poll at least every ~100 ms; SIGPIPE is ignored,
 * so a peer that closed its socket is an error return from a write, not the death of the process. */
#ifndef BK_COMMON_SIGNALS_H
#define BK_COMMON_SIGNALS_H

#include <signal.h>

/* Installs the handlers (once, from main, before any thread starts) and returns the stop flag:
 * 0 until the first SIGINT or SIGTERM. Nothing is logged in the handler; main logs the drain. */
volatile sig_atomic_t *bk_signals_install(void);

#endif
