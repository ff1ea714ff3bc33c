/* Shared by the C test programs: the token server's addresses, a tiny HTTP GET for its
 * counters, and CHECK, which counts failures and never stops the run. */
#ifndef SUPPORT_H
#define SUPPORT_H

#include <stddef.h>

extern int checks_failed;
extern int checks_passed;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (cond) {                                                            \
      checks_passed++;                                                     \
    } else {                                                               \
      checks_failed++;                                                     \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
      fprintf(stderr, __VA_ARGS__);                                        \
      fprintf(stderr, "\n");                                               \
    }                                                                      \
  } while (0)

/* An environment variable set by scripts/with-token-server.sh; exits if missing. */
const char *server_env(const char *name);

/* GETs `path` from the token server; returns a malloc'd body or NULL. */
char *server_get(const char *path);

/* The token_requests counter of a scope, or -1. */
long server_token_requests(const char *scope);

/* True when the server's current refresh token in the family of `sent` equals `expected`. */
int server_current_is(const char *sent, const char *expected);

struct oauth_refresh_client;
struct oauth_refresh_manager;

/* A client for the token server's `/{scope}/{modes}/token`. */
struct oauth_refresh_client *client_for(const char *scope, const char *modes);

/* A worker process's loop: asks `manager` for a token every 5 ms for `seconds`, printing
 * each failure; returns 1 if any call failed, else 0. */
int ask_for_tokens(const struct oauth_refresh_manager *manager, int seconds);

/* Prints the closing line and returns the exit status. */
int finish(void);

#endif
