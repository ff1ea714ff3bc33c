/* A C process sharing one account through PostgreSQL, for tests/mixed/run.py.
 *
 * `worker TOKEN_URL POSTGRES_URL SECONDS`: calls oauth_refresh_manager_access_token() every few
 * ms for SECONDS and prints `lang=c ok=N failed=N invalid_grant=N refreshes=N adoptions=N`. */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include <oauth_refresh.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char *what, oauth_refresh_result result, oauth_refresh_error *error) {
  fprintf(stderr, "c worker: %s: %s\n", what, oauth_refresh_result_name((uint32_t)result));
  oauth_refresh_error_free(error);
  return 2;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  oauth_refresh_error *error = NULL;
  oauth_refresh_client_options client_options = oauth_refresh_client_options_default();
  client_options.token_url = argv[1];
  oauth_refresh_client *client = NULL;
  oauth_refresh_result result = oauth_refresh_client_new(&client_options, &client, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("client", result, error);

  oauth_refresh_store_options store_options = oauth_refresh_store_options_default();
  store_options.account = "mixed";
  store_options.table = "mixed_tokens";
  oauth_refresh_store *store = NULL;
  result = oauth_refresh_store_postgres_new(argv[2], &store_options, &store, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("store", result, error);

  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = "seed-mixed";
  options.store = store;
  options.min_window_ms = 1000;
  options.jitter = 0.0;
  options.lease_ttl_ms = 2000;
  oauth_refresh_manager *manager = NULL;
  result = oauth_refresh_manager_new(client, &options, &manager, &error);
  oauth_refresh_store_free(store);
  oauth_refresh_client_free(client);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("manager", result, error);

  long ok = 0, failed = 0, invalid_grant = 0;
  const double until = now_s() + atof(argv[3]);
  const struct timespec pause = {0, 5000000};
  while (now_s() < until) {
    char *access = NULL;
    result = oauth_refresh_manager_access_token(manager, &access, &error);
    if (result == OAUTH_REFRESH_RESULT_OK) {
      ok++;
      oauth_refresh_string_free(access);
    } else {
      failed++;
      if (result == OAUTH_REFRESH_RESULT_INVALID_GRANT) invalid_grant++;
      fprintf(stderr, "c worker: %s\n", oauth_refresh_result_name((uint32_t)result));
      oauth_refresh_error_free(error);
      error = NULL;
    }
    nanosleep(&pause, NULL);
  }
  uint64_t refreshes = 0, adoptions = 0, failures = 0;
  if (oauth_refresh_manager_stats(manager, &refreshes, &adoptions, &failures) != OAUTH_REFRESH_RESULT_OK)
    return 2;
  printf("lang=c ok=%ld failed=%ld invalid_grant=%ld refreshes=%llu adoptions=%llu\n", ok, failed,
         invalid_grant, (unsigned long long)refreshes, (unsigned long long)adoptions);
  oauth_refresh_manager_free(manager);
  return failed == 0 ? 0 : 1;
}
