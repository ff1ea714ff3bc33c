/* `make demo`, many hosts: two managers (think: two hosts) share one account's rotating token
 * through Redis, sealed under a key from the environment. One refreshes; the other adopts it.
 * Build: cc many_hosts.c $(pkg-config --cflags --libs oauth_refresh) */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <oauth_refresh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static oauth_refresh_manager *host(const oauth_refresh_client *client) {
  oauth_refresh_store_options store_options = oauth_refresh_store_options_default();
  store_options.prefix = "my-app-c";
  store_options.account = "company-42";
  store_options.encryption_key = getenv("TOKEN_ENCRYPTION_KEY"); /* 64 hex digits or base64 */
  oauth_refresh_store *store = NULL;
  oauth_refresh_error *error = NULL;
  if (oauth_refresh_store_redis_new(getenv("REDIS_URL"), &store_options, &store, &error) != OAUTH_REFRESH_RESULT_OK) {
    fprintf(stderr, "c: store: %s\n", oauth_refresh_error_message(error));
    oauth_refresh_error_free(error);
    return NULL;
  }
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "my-app";
  options.client_secret = "secret-my-app";
  options.refresh_token = "seed-c-hosts"; /* used only if Redis is empty */
  options.store = store;
  oauth_refresh_manager *manager = NULL;
  if (oauth_refresh_manager_new(client, &options, &manager, NULL) != OAUTH_REFRESH_RESULT_OK) manager = NULL;
  oauth_refresh_store_free(store); /* the manager keeps its own reference */
  return manager;
}

/* A copy of the manager's current access token, or NULL (the error is printed). */
static char *access_token(const oauth_refresh_manager *manager) {
  oauth_refresh_token *token = NULL;
  oauth_refresh_error *error = NULL;
  char *copy = NULL;
  if (oauth_refresh_manager_token(manager, &token, &error) == OAUTH_REFRESH_RESULT_OK) {
    copy = strdup(oauth_refresh_token_access_token(token));
  } else {
    fprintf(stderr, "c: %s\n", oauth_refresh_error_message(error));
  }
  oauth_refresh_token_free(token);
  oauth_refresh_error_free(error);
  return copy;
}

int main(void) {
  char url[512];
  snprintf(url, sizeof url, "%s/token", getenv("TOKEN_SERVER_URL") ? getenv("TOKEN_SERVER_URL") : "");
  oauth_refresh_client_options options = oauth_refresh_client_options_default();
  options.token_url = url;
  oauth_refresh_client *client = NULL;
  if (oauth_refresh_client_new(&options, &client, NULL) != OAUTH_REFRESH_RESULT_OK) return 1;
  oauth_refresh_manager *a = host(client), *b = host(client);
  char *token_a = a ? access_token(a) : NULL, *token_b = b ? access_token(b) : NULL;
  int ok = token_a != NULL && token_b != NULL;
  if (ok) printf("c: two hosts, one token: %s\n", strcmp(token_a, token_b) == 0 ? "true" : "false");
  free(token_a);
  free(token_b);
  oauth_refresh_manager_free(a);
  oauth_refresh_manager_free(b);
  oauth_refresh_client_free(client);
  return ok ? 0 : 1;
}
