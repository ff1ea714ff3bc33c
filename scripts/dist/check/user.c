/* `make test-dist`: a C user of the release tarball, built through pkg-config, through CMake
 * and statically, on a machine without Rust. Refreshes against the local token server, fails
 * as it should, keeps a token fresh with a manager. Prints no token.
 * Usage: user SEED (a refresh token the server accepts once; SEED-manager for the manager) */
#include <oauth_refresh.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed(const char *what, oauth_refresh_result result, oauth_refresh_error *error) {
  fprintf(stderr, "user.c: %s: %s: %s\n", what, oauth_refresh_result_name((uint32_t)result),
          error != NULL ? oauth_refresh_error_message(error) : "(no error object)");
  oauth_refresh_error_free(error);
  return 1;
}

int main(int argc, char **argv) {
  const char *server = getenv("TOKEN_SERVER_URL");
  if (server == NULL || argc != 2) return 2;
  const char *seed = argv[1];
  char url[512], manager_seed[256], next[512];
  snprintf(url, sizeof url, "%s/token", server);
  snprintf(manager_seed, sizeof manager_seed, "%s-manager", seed);

  oauth_refresh_client_options options = oauth_refresh_client_options_default();
  options.token_url = url;
  oauth_refresh_client *client = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result result = oauth_refresh_client_new(&options, &client, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return failed("client", result, error);

  oauth_refresh_request request = {"dist-c", "secret-dist-c", NULL, seed, NULL, NULL};
  oauth_refresh_token *token = NULL;
  result = oauth_refresh_client_refresh(client, &request, &token, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return failed("refresh", result, error);
  const char *rotated = oauth_refresh_token_refresh_token(token);
  if (!oauth_refresh_token_refresh_token_rotated(token) || rotated == NULL || strcmp(rotated, seed) == 0 ||
      strlen(oauth_refresh_token_access_token(token)) == 0) {
    fprintf(stderr, "user.c: the refresh returned no new tokens\n");
    return 1;
  }
  snprintf(next, sizeof next, "%s", rotated);
  oauth_refresh_token_free(token);

  /* The seed was rotated away: the server refuses it, and says the token is rejected. */
  token = NULL;
  result = oauth_refresh_client_refresh(client, &request, &token, &error);
  if (result != OAUTH_REFRESH_RESULT_INVALID_GRANT || token != NULL ||
      oauth_refresh_error_refresh_token_state(error) != OAUTH_REFRESH_TOKEN_STATE_REJECTED ||
      oauth_refresh_error_status(error) != 400 || oauth_refresh_error_retryable(error)) {
    return failed("reusing a rotated refresh token", result, error);
  }
  oauth_refresh_error_free(error);
  error = NULL;

  request.refresh_token = next;
  result = oauth_refresh_client_refresh(client, &request, &token, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return failed("refresh with the rotated token", result, error);
  oauth_refresh_token_free(token);

  /* A caller's mistake is refused before any I/O. */
  oauth_refresh_client_options insecure = oauth_refresh_client_options_default();
  insecure.token_url = "http://auth.example.com/token";
  oauth_refresh_client *refused = NULL;
  result = oauth_refresh_client_new(&insecure, &refused, &error);
  if (result != OAUTH_REFRESH_RESULT_INVALID_INPUT || refused != NULL) return failed("plain http accepted", result, error);
  oauth_refresh_error_free(error);
  error = NULL;

  oauth_refresh_manager_options manager_options = oauth_refresh_manager_options_default();
  manager_options.client_id = "dist-c";
  manager_options.client_secret = "secret-dist-c";
  manager_options.refresh_token = manager_seed;
  oauth_refresh_manager *manager = NULL;
  result = oauth_refresh_manager_new(client, &manager_options, &manager, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return failed("manager", result, error);
  char *access[3] = {NULL, NULL, NULL};
  for (int i = 0; i < 3; i++) {
    if (i == 2) oauth_refresh_manager_invalidate(manager);
    result = oauth_refresh_manager_access_token(manager, &access[i], &error);
    if (result != OAUTH_REFRESH_RESULT_OK) return failed("manager access_token", result, error);
  }
  int cached = strcmp(access[0], access[1]) == 0, renewed = strcmp(access[0], access[2]) != 0;
  for (int i = 0; i < 3; i++) oauth_refresh_string_free(access[i]);
  uint64_t refreshes = 0, adoptions = 0, failures = 0;
  result = oauth_refresh_manager_stats(manager, &refreshes, &adoptions, &failures);
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);
  if (!cached || !renewed || result != OAUTH_REFRESH_RESULT_OK || refreshes != 2) {
    fprintf(stderr, "user.c: manager: cached %d, renewed %d, refreshes %llu\n", cached, renewed,
            (unsigned long long)refreshes);
    return 1;
  }
  printf("dist: C: refreshed twice, reuse refused (INVALID_GRANT, rejected), invalid input refused, manager refreshed %llu times\n",
         (unsigned long long)refreshes);
  return 0;
}
