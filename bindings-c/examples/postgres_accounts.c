/* `make demo`, PostgreSQL: two AccountTokens handles (think: two hosts) keep several companies'
 * rotating tokens in one PostgreSQL table, sealed under a key from the environment. The first
 * refreshes each company once; the second serves them from the table without a request.
 *
 * Needs TOKEN_SERVER_URL, POSTGRES_URL and TOKEN_ENCRYPTION_KEY (64 hex digits).
 * Build: cc postgres_accounts.c $(pkg-config --cflags --libs oauth_refresh) */
#include <oauth_refresh.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const COMPANIES[] = {"company-1", "company-2", "company-3"};

static int fail(const char *what, oauth_refresh_result result, oauth_refresh_error *error) {
  fprintf(stderr, "c: %s failed: %s: %s\n", what, oauth_refresh_result_name((uint32_t)result),
          oauth_refresh_error_message(error));
  oauth_refresh_error_free(error);
  return 1;
}

/* One host: a store of every account (one pool for all of them) and AccountTokens over it. */
static oauth_refresh_result host(const oauth_refresh_client *client, oauth_refresh_accounts **out,
                                 oauth_refresh_error **error) {
  oauth_refresh_store_options store_options = oauth_refresh_store_options_default();
  store_options.account = NULL; /* every account */
  store_options.table = "demo_c_tokens";
  store_options.encryption_key = getenv("TOKEN_ENCRYPTION_KEY");
  oauth_refresh_store *store = NULL;
  oauth_refresh_result result =
      oauth_refresh_store_postgres_new(getenv("POSTGRES_URL"), &store_options, &store, error);
  if (result != OAUTH_REFRESH_RESULT_OK) return result;
  oauth_refresh_accounts_options options = oauth_refresh_accounts_options_default();
  options.client_id = "my-app";
  options.client_secret = "secret-my-app";
  options.store = store;
  result = oauth_refresh_accounts_new(client, &options, out, error);
  oauth_refresh_store_free(store); /* the handle keeps its own reference */
  return result;
}

int main(void) {
  const char *server = getenv("TOKEN_SERVER_URL");
  if (server == NULL || getenv("POSTGRES_URL") == NULL) return 2;
  char url[512];
  snprintf(url, sizeof url, "%s/pg-c/ok/token", server);
  oauth_refresh_client_options client_options = oauth_refresh_client_options_default();
  client_options.token_url = url;
  oauth_refresh_client *client = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result result = oauth_refresh_client_new(&client_options, &client, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("client", result, error);
  oauth_refresh_accounts *a = NULL, *b = NULL;
  if ((result = host(client, &a, &error)) != OAUTH_REFRESH_RESULT_OK) return fail("host a", result, error);
  if ((result = host(client, &b, &error)) != OAUTH_REFRESH_RESULT_OK) return fail("host b", result, error);
  oauth_refresh_client_free(client);

  char seed[64];
  int same = 1;
  for (size_t i = 0; i < 3; i++) {
    snprintf(seed, sizeof seed, "seed-c-pg-%s", COMPANIES[i]);
    if ((result = oauth_refresh_accounts_add(a, COMPANIES[i], seed, &error)) != OAUTH_REFRESH_RESULT_OK)
      return fail("add", result, error);
    char *from_a = NULL, *from_b = NULL;
    if ((result = oauth_refresh_accounts_access_token(a, COMPANIES[i], &from_a, &error)) != OAUTH_REFRESH_RESULT_OK)
      return fail("access_token", result, error);
    if ((result = oauth_refresh_accounts_access_token(b, COMPANIES[i], &from_b, &error)) != OAUTH_REFRESH_RESULT_OK)
      return fail("access_token", result, error);
    same = same && strcmp(from_a, from_b) == 0;
    oauth_refresh_string_free(from_a);
    oauth_refresh_string_free(from_b);
  }
  oauth_refresh_account_stats sa, sb;
  if (oauth_refresh_accounts_stats(a, &sa) != OAUTH_REFRESH_RESULT_OK ||
      oauth_refresh_accounts_stats(b, &sb) != OAUTH_REFRESH_RESULT_OK)
    return 1;
  printf("c: postgres: the second host served the same tokens: %s; refreshes a %llu b %llu\n",
         same ? "true" : "false", (unsigned long long)sa.refreshes, (unsigned long long)sb.refreshes);
  oauth_refresh_accounts_free(a);
  oauth_refresh_accounts_free(b);
  return same ? 0 : 1;
}
