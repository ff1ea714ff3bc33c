/* The C API's own contract: NULL for every pointer, invalid UTF-8, out-parameters written
 * only on success, getters on NULL, defaults from *_options_default() (a zero timeout is
 * refused), the Gusto preset's fixed encoding, is_expired, and 8 threads sharing one client. */
#define _POSIX_C_SOURCE 200809L
#include <oauth_refresh.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define SENTINEL ((void *)0x1)

static oauth_refresh_client *new_client(const char *scope, const char *modes) {
  char url[512];
  snprintf(url, sizeof url, "%s/%s/%s/token", server_env("TOKEN_SERVER_URL"), scope, modes);
  oauth_refresh_client_options options = oauth_refresh_client_options_default();
  options.token_url = url;
  oauth_refresh_client *client = NULL;
  oauth_refresh_result r = oauth_refresh_client_new(&options, &client, NULL);
  CHECK(r == OAUTH_REFRESH_RESULT_OK && client != NULL, "creating a client for %s", scope);
  return client;
}

/* Calls refresh and checks that it failed with `want` and wrote nothing but the error. */
static void expect_refresh(const oauth_refresh_client *client, const oauth_refresh_request *request,
                           oauth_refresh_result want, const char *what) {
  oauth_refresh_token *token = SENTINEL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_client_refresh(client, request, &token, &error);
  CHECK(r == want, "%s: got %s", what, oauth_refresh_result_name((uint32_t)r));
  CHECK(token == SENTINEL, "%s: token_out untouched on failure", what);
  CHECK(error != NULL && oauth_refresh_error_code(error) == want, "%s: error object", what);
  CHECK(error != NULL && oauth_refresh_error_refresh_token_state(error) == OAUTH_REFRESH_TOKEN_STATE_UNUSED,
        "%s: nothing was sent", what);
  oauth_refresh_error_free(error);
}

static void null_arguments(void) {
  oauth_refresh_client *client = new_client("c-null", "ok");
  oauth_refresh_client_options options = oauth_refresh_client_options_default();
  oauth_refresh_client *out = SENTINEL;
  oauth_refresh_error *error = NULL;

  CHECK(oauth_refresh_client_new(NULL, &out, &error) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "options NULL");
  CHECK(out == SENTINEL && error != NULL, "client_out untouched, error written");
  oauth_refresh_error_free(error);
  error = NULL;
  CHECK(oauth_refresh_client_new(&options, NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "client_out NULL");
  CHECK(oauth_refresh_client_new(&options, &out, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "token_url NULL");
  CHECK(out == SENTINEL, "client_out untouched");
  options.token_url = "https://auth.example.com/token";
  options.headers_len = 1;
  CHECK(oauth_refresh_client_new(&options, &out, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "header arrays NULL");
  const char *names[] = {NULL}, *values[] = {"v"};
  options.header_names = names;
  options.header_values = values;
  CHECK(oauth_refresh_client_new(&options, &out, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "a header name NULL");

  oauth_refresh_request ok = {"app", "secret-app", NULL, "seed-c-null", NULL, NULL};
  oauth_refresh_token *token = SENTINEL;
  CHECK(oauth_refresh_client_refresh(NULL, &ok, &token, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "client NULL");
  CHECK(oauth_refresh_client_refresh(client, NULL, &token, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "request NULL");
  CHECK(oauth_refresh_client_refresh(client, &ok, NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "token_out NULL");
  CHECK(token == SENTINEL, "token_out untouched");
  oauth_refresh_request no_id = ok, no_secret = ok, no_token = ok;
  no_id.client_id = NULL;
  no_secret.client_secret = NULL;
  no_token.refresh_token = NULL;
  expect_refresh(client, &no_id, OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "client_id NULL");
  expect_refresh(client, &no_secret, OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "client_secret NULL");
  expect_refresh(client, &no_token, OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "refresh_token NULL");
  CHECK(oauth_refresh_client_system_access(NULL, "a", "s", &token, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "sa client");
  CHECK(oauth_refresh_client_system_access(client, NULL, "s", &token, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "sa id");
  CHECK(oauth_refresh_client_system_access(client, "a", NULL, &token, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "sa secret");
  CHECK(oauth_refresh_client_system_access(client, "a", "s", NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "sa out");
  CHECK(server_token_requests("c-null") == 0, "nothing reached the server");

  /* Getters and frees accept NULL. */
  CHECK(oauth_refresh_token_access_token(NULL) == NULL, "getter");
  CHECK(oauth_refresh_token_token_type(NULL) == NULL, "getter");
  CHECK(oauth_refresh_token_refresh_token(NULL) == NULL, "getter");
  CHECK(oauth_refresh_token_scope(NULL) == NULL && oauth_refresh_token_id_token(NULL) == NULL, "getter");
  CHECK(oauth_refresh_token_extra_json(NULL) == NULL, "getter");
  CHECK(oauth_refresh_token_expires_in(NULL) == -1 && oauth_refresh_token_expires_at_ms(NULL) == -1, "getter");
  CHECK(oauth_refresh_token_created_at(NULL) == -1 && !oauth_refresh_token_refresh_token_rotated(NULL), "getter");
  CHECK(oauth_refresh_error_code(NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "error getter");
  CHECK(oauth_refresh_error_message(NULL) == NULL && oauth_refresh_error_error(NULL) == NULL, "error getter");
  CHECK(oauth_refresh_error_error_description(NULL) == NULL && oauth_refresh_error_error_uri(NULL) == NULL, "error getter");
  CHECK(oauth_refresh_error_salvaged_refresh_token(NULL) == NULL, "error getter");
  CHECK(oauth_refresh_error_status(NULL) == 0 && oauth_refresh_error_retry_after_ms(NULL) == -1, "error getter");
  CHECK(!oauth_refresh_error_retryable(NULL), "error getter");
  oauth_refresh_token_free(NULL);
  oauth_refresh_error_free(NULL);
  oauth_refresh_client_free(NULL);
  CHECK(strcmp(oauth_refresh_result_name(999), "unknown") == 0, "unknown result name");
  CHECK(strcmp(oauth_refresh_result_name(OAUTH_REFRESH_RESULT_INVALID_GRANT), "invalid_grant") == 0, "result name");
  CHECK(strlen(oauth_refresh_version()) > 0, "version");
  oauth_refresh_client_free(client);
}

static void invalid_utf8(void) {
  oauth_refresh_client *client = new_client("c-utf8", "ok");
  const char *bad = "\xff\xfe";
  oauth_refresh_request r = {bad, "secret-app", NULL, "seed-c-utf8", NULL, NULL};
  expect_refresh(client, &r, OAUTH_REFRESH_RESULT_INVALID_UTF8, "client_id");
  r.client_id = "app";
  r.refresh_token = bad;
  expect_refresh(client, &r, OAUTH_REFRESH_RESULT_INVALID_UTF8, "refresh_token");
  r.refresh_token = "seed-c-utf8";
  r.scope = bad;
  expect_refresh(client, &r, OAUTH_REFRESH_RESULT_INVALID_UTF8, "scope");
  r.scope = NULL;
  r.grant_type = "password";
  expect_refresh(client, &r, OAUTH_REFRESH_RESULT_INVALID_INPUT, "grant_type");
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_client_system_access(client, bad, "s", &token, NULL) == OAUTH_REFRESH_RESULT_INVALID_UTF8, "sa");
  oauth_refresh_client_options options = oauth_refresh_client_options_default();
  options.token_url = "https://auth.example.com/\xff";
  oauth_refresh_client *out = NULL;
  CHECK(oauth_refresh_client_new(&options, &out, NULL) == OAUTH_REFRESH_RESULT_INVALID_UTF8 && out == NULL, "url");
  CHECK(server_token_requests("c-utf8") == 0, "nothing reached the server");
  oauth_refresh_client_free(client);
}

static void success_and_gusto(void) {
  char base[512];
  snprintf(base, sizeof base, "%s/c-gusto/ok", server_env("TOKEN_SERVER_URL"));
  oauth_refresh_client_options options = oauth_refresh_gusto_options(base);
  options.gusto_api_version = "2025-06-15";
  const char *names[] = {"X-Extra"}, *values[] = {"on"};
  options.header_names = names;
  options.header_values = values;
  options.headers_len = 1;
  oauth_refresh_client *client = NULL;
  oauth_refresh_error *error = NULL;
  CHECK(oauth_refresh_client_new(&options, &client, &error) == OAUTH_REFRESH_RESULT_OK && error == NULL, "gusto client");
  oauth_refresh_request r = {"app", "secret-app", "refresh_token", "seed-c-gusto", "https://app/cb", NULL};
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_client_refresh(client, &r, &token, &error) == OAUTH_REFRESH_RESULT_OK && error == NULL, "refresh");
  CHECK(token != NULL && oauth_refresh_token_refresh_token_rotated(token), "rotated");
  CHECK(token != NULL && server_current_is("seed-c-gusto", oauth_refresh_token_refresh_token(token)), "current");
  char *stats = server_get("/c-gusto/stats");
  CHECK(stats && strstr(stats, "\"x-gusto-api-version\":\"2025-06-15\"") && strstr(stats, "\"x-extra\":\"on\""), "headers");
  CHECK(stats && strstr(stats, "\"user-agent\":\"oauth-refresh/") && strstr(stats, "(c)\""), "user agent");
  free(stats);
  oauth_refresh_token_free(token);
  token = NULL;
  CHECK(oauth_refresh_client_system_access(client, "app", "secret-app", &token, NULL) == OAUTH_REFRESH_RESULT_OK, "sa");
  CHECK(token != NULL && oauth_refresh_token_refresh_token(token) == NULL, "no refresh token");
  oauth_refresh_token_free(token);
  oauth_refresh_client_free(client);
}

/* Creating a client must fail with INVALID_INPUT and a message containing `says`. */
static void expect_refused(const oauth_refresh_client_options *options, const char *says, const char *what) {
  oauth_refresh_client *client = SENTINEL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_client_new(options, &client, &error);
  CHECK(r == OAUTH_REFRESH_RESULT_INVALID_INPUT, "%s: got %s", what, oauth_refresh_result_name((uint32_t)r));
  CHECK(client == SENTINEL, "%s: client_out untouched", what);
  const char *message = oauth_refresh_error_message(error);
  CHECK(message != NULL && strstr(message, says) != NULL, "%s: message: %s", what, message ? message : "(none)");
  oauth_refresh_error_free(error);
}

/* The defaults come from *_options_default(); 0 is a timeout of 0, which the core refuses. */
/* retry_unknown_outcome: -1 (the preset's choice), 0 or 1; max_retries at most 20 (an old
 * `-1` for "the default" would read as 4294967295). */
static void retry_settings_are_checked(void) {
  oauth_refresh_client_options options = oauth_refresh_client_options_default();
  oauth_refresh_client_options gusto = oauth_refresh_gusto_options(NULL);
  CHECK(options.retry_unknown_outcome == -1 && gusto.retry_unknown_outcome == -1, "the preset decides");
  options.token_url = "https://auth.example.com/token";
  options.retry_unknown_outcome = 2;
  expect_refused(&options, "retry_unknown_outcome must be true or false", "retry_unknown_outcome 2");
  options.retry_unknown_outcome = 1;
  options.max_retries = UINT32_MAX;
  expect_refused(&options, "max_retries must be at most 20", "max_retries UINT32_MAX");
  options.max_retries = 20;
  oauth_refresh_client *client = NULL;
  CHECK(oauth_refresh_client_new(&options, &client, NULL) == OAUTH_REFRESH_RESULT_OK, "20 retries, unknown outcomes resent");
  oauth_refresh_client_free(client);
}

static void zero_timeouts_are_refused(void) {
  oauth_refresh_client_options options = oauth_refresh_client_options_default();
  CHECK(options.timeout_ms == 30000 && options.connect_timeout_ms == 10000, "the core's default timeouts");
  oauth_refresh_client_options gusto = oauth_refresh_gusto_options(NULL);
  CHECK(gusto.timeout_ms == 30000 && gusto.connect_timeout_ms == 10000, "the Gusto preset's too");
  options.token_url = "https://auth.example.com/token";
  options.timeout_ms = 0;
  expect_refused(&options, "timeout_ms must be greater than zero", "timeout_ms 0");
  options.timeout_ms = 30000;
  options.connect_timeout_ms = 0;
  expect_refused(&options, "connect_timeout_ms must be greater than zero", "connect_timeout_ms 0");
  options.connect_timeout_ms = 1;
  oauth_refresh_client *client = NULL;
  CHECK(oauth_refresh_client_new(&options, &client, NULL) == OAUTH_REFRESH_RESULT_OK, "1 ms is a timeout");
  oauth_refresh_client_free(client);
}

/* The Gusto preset fixes the body encoding (JSON) and client authentication (post): setting
 * either, to any value, is refused naming the field; left NULL, the preset's are sent. */
static void gusto_refuses_other_encodings(void) {
  char base[512];
  snprintf(base, sizeof base, "%s/c-gusto-fixed/ok", server_env("TOKEN_SERVER_URL"));
  oauth_refresh_client_options options = oauth_refresh_gusto_options(base);
  const char *values[] = {"form", "xml", "json"};
  for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
    options.body_encoding = values[i];
    expect_refused(&options, "the Gusto preset sets body_encoding itself", values[i]);
  }
  options.body_encoding = NULL;
  const char *auths[] = {"basic", "bearer", "post"};
  for (size_t i = 0; i < sizeof auths / sizeof *auths; i++) {
    options.client_auth = auths[i];
    expect_refused(&options, "the Gusto preset sets client_auth itself", auths[i]);
  }
  options.client_auth = NULL;
  oauth_refresh_client *client = NULL;
  CHECK(oauth_refresh_client_new(&options, &client, NULL) == OAUTH_REFRESH_RESULT_OK, "gusto with the preset's own");
  oauth_refresh_request r = {"app", "secret-app", NULL, "seed-c-gusto-fixed", NULL, NULL};
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_client_refresh(client, &r, &token, NULL) == OAUTH_REFRESH_RESULT_OK, "refresh");
  char *stats = server_get("/c-gusto-fixed/stats");
  CHECK(stats && strstr(stats, "\"client_auth\":\"post\""), "the credentials were posted");
  CHECK(stats && strstr(stats, "\"content-type\":\"application/json\""), "as JSON");
  free(stats);
  oauth_refresh_token_free(token);
  oauth_refresh_client_free(client);
  CHECK(server_token_requests("c-gusto-fixed") == 1, "only the accepted client sent anything");
}

/* is_expired asks the core with a leeway in ms; NULL is expired. */
static void token_is_expired(void) {
  oauth_refresh_client *client = new_client("c-expired", "expires=60");
  oauth_refresh_request r = {"app", "secret-app", NULL, "seed-c-expired", NULL, NULL};
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_client_refresh(client, &r, &token, NULL) == OAUTH_REFRESH_RESULT_OK, "refresh");
  CHECK(!oauth_refresh_token_is_expired(token, 0), "a 60 s token has not expired");
  CHECK(!oauth_refresh_token_is_expired(token, 30000), "nor within 30 s");
  CHECK(oauth_refresh_token_is_expired(token, 61000), "but within 61 s");
  CHECK(oauth_refresh_token_is_expired(token, UINT64_MAX), "a leeway past the calendar reaches any expiry");
  oauth_refresh_token_free(token);
  oauth_refresh_client_free(client);

  client = new_client("c-expired-never", "no-expires");
  r.refresh_token = "seed-c-expired-never";
  token = NULL;
  CHECK(oauth_refresh_client_refresh(client, &r, &token, NULL) == OAUTH_REFRESH_RESULT_OK, "refresh");
  CHECK(!oauth_refresh_token_is_expired(token, UINT64_MAX), "no known expiry: never expired");
  oauth_refresh_token_free(token);
  oauth_refresh_client_free(client);
  CHECK(oauth_refresh_token_is_expired(NULL, 0), "NULL is expired");
}

typedef struct {
  const oauth_refresh_client *client;
  int index;
  int ok;
} chain;

static void *run_chain(void *arg) {
  chain *c = arg;
  char seed[64], current[256];
  snprintf(seed, sizeof seed, "seed-c-thread-%d", c->index);
  snprintf(current, sizeof current, "%s", seed);
  c->ok = 1;
  for (int i = 0; i < 25 && c->ok; i++) {
    oauth_refresh_request r = {"app", "secret-app", NULL, current, NULL, NULL};
    oauth_refresh_token *token = NULL;
    if (oauth_refresh_client_refresh(c->client, &r, &token, NULL) != OAUTH_REFRESH_RESULT_OK) {
      c->ok = 0;
      break;
    }
    snprintf(current, sizeof current, "%s", oauth_refresh_token_refresh_token(token));
    oauth_refresh_token_free(token);
  }
  c->ok = c->ok && server_current_is(seed, current);
  return NULL;
}

static void threads_share_a_client(void) {
  oauth_refresh_client *client = new_client("c-threads", "ok");
  pthread_t threads[8];
  chain chains[8];
  for (int i = 0; i < 8; i++) {
    chains[i] = (chain){client, i, 0};
    CHECK(pthread_create(&threads[i], NULL, run_chain, &chains[i]) == 0, "pthread_create");
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(threads[i], NULL);
    CHECK(chains[i].ok, "chain %d unbroken and current at the server", i);
  }
  CHECK(server_token_requests("c-threads") == 200, "8 x 25 refreshes");
  oauth_refresh_client_free(client);
}

int main(void) {
  null_arguments();
  invalid_utf8();
  success_and_gusto();
  zero_timeouts_are_refused();
  retry_settings_are_checked();
  gusto_refuses_other_encodings();
  token_is_expired();
  threads_share_a_client();
  return finish();
}
