/* `make demo`, C part: refresh twice, show a reuse failing, ask Gusto for a system token.
 * Build: cc demo.c $(pkg-config --cflags --libs oauth_refresh) */
#include <oauth_refresh.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, oauth_refresh_result result, oauth_refresh_error *error) {
  fprintf(stderr, "c: %s failed: %s: %s\n", what, oauth_refresh_result_name((uint32_t)result),
          oauth_refresh_error_message(error));
  oauth_refresh_error_free(error);
  return 1;
}

int main(void) {
  const char *server = getenv("TOKEN_SERVER_URL"); /* set by scripts/with-token-server.sh */
  if (server == NULL) return 2;
  char url[512];
  snprintf(url, sizeof url, "%s/token", server);

  oauth_refresh_client_options options = oauth_refresh_client_options_default();
  options.token_url = url;
  oauth_refresh_client *client = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result result = oauth_refresh_client_new(&options, &client, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("client", result, error);

  oauth_refresh_request request = {"demo-app", "secret-demo-app", NULL, "seed-c-demo", NULL, NULL};
  oauth_refresh_token *first = NULL;
  result = oauth_refresh_client_refresh(client, &request, &first, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("refresh", result, error);
  printf("c: refreshed, rotated=%d expires_in=%lld token_type=%s\n", oauth_refresh_token_refresh_token_rotated(first),
         (long long)oauth_refresh_token_expires_in(first), oauth_refresh_token_token_type(first));

  /* Only the rotated refresh token works now; copy it before the token is freed. */
  char next[256];
  snprintf(next, sizeof next, "%s", oauth_refresh_token_refresh_token(first));
  oauth_refresh_token_free(first);
  request.refresh_token = next;
  oauth_refresh_token *second = NULL;
  result = oauth_refresh_client_refresh(client, &request, &second, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("second refresh", result, error);
  printf("c: refreshed again, rotated=%d\n", oauth_refresh_token_refresh_token_rotated(second));
  oauth_refresh_token_free(second);

  request.refresh_token = "seed-c-demo";
  oauth_refresh_token *reused = NULL;
  result = oauth_refresh_client_refresh(client, &request, &reused, &error);
  if (result == OAUTH_REFRESH_RESULT_INVALID_GRANT) {
    printf("c: reusing the first token fails as it should: %s, token %s\n", oauth_refresh_result_name((uint32_t)result),
           oauth_refresh_error_refresh_token_state(error) == OAUTH_REFRESH_TOKEN_STATE_REJECTED ? "rejected" : "?");
  }
  oauth_refresh_error_free(error);
  error = NULL;
  oauth_refresh_token_free(reused);

  /* A manager serves the cached token while it is fresh and refreshes it once when not. */
  oauth_refresh_manager_options manager_options = oauth_refresh_manager_options_default();
  manager_options.client_id = "demo-app";
  manager_options.client_secret = "secret-demo-app";
  manager_options.refresh_token = "seed-c-demo-manager";
  oauth_refresh_manager *manager = NULL;
  result = oauth_refresh_manager_new(client, &manager_options, &manager, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("manager", result, error);
  char *access[3] = {NULL, NULL, NULL}; /* copies, freed (and wiped) with oauth_refresh_string_free() */
  for (int i = 0; i < 3; i++) {
    if (i == 2) oauth_refresh_manager_invalidate(manager); /* as after an API 401 */
    result = oauth_refresh_manager_access_token(manager, &access[i], &error);
    if (result != OAUTH_REFRESH_RESULT_OK) return fail("manager access_token", result, error);
  }
  printf("c: manager served the cached token again: %d, a new one after invalidate(): %d\n",
         strcmp(access[0], access[1]) == 0, strcmp(access[0], access[2]) != 0);
  for (int i = 0; i < 3; i++) oauth_refresh_string_free(access[i]);
  uint64_t refreshes = 0, adoptions = 0, failures = 0;
  if (oauth_refresh_manager_stats(manager, &refreshes, &adoptions, &failures) == OAUTH_REFRESH_RESULT_OK) {
    printf("c: manager stats: refreshes=%llu adoptions=%llu failures=%llu\n", (unsigned long long)refreshes,
           (unsigned long long)adoptions, (unsigned long long)failures);
  }
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);

  oauth_refresh_client_options gusto_options = oauth_refresh_gusto_options(server);
  gusto_options.gusto_api_version = "2025-06-15";
  oauth_refresh_client *gusto = NULL;
  result = oauth_refresh_client_new(&gusto_options, &gusto, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("gusto client", result, error);
  oauth_refresh_token *system = NULL;
  result = oauth_refresh_client_system_access(gusto, "demo-app", "secret-demo-app", &system, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("system_access", result, error);
  printf("c: gusto system_access token_type=%s expires_in=%lld\n", oauth_refresh_token_token_type(system),
         (long long)oauth_refresh_token_expires_in(system));
  oauth_refresh_token_free(system);
  oauth_refresh_client_free(gusto);
  return 0;
}
