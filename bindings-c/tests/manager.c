/* The token manager through the C API: 8 threads and one refresh, processes sharing a file,
 * a store that cannot be written, no automatic resend after an unknown outcome, a salvaged
 * refresh token, scope and redirect_uri, min_window_ms = 0, access_token and stats, NULL
 * arguments. */
#define _POSIX_C_SOURCE 200809L
#include <oauth_refresh.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define SENTINEL_STRING ((char *)0x1)

static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;

static void count_refresh(void *user_data, const oauth_refresh_token *token) {
  pthread_mutex_lock(&hook_lock);
  if (oauth_refresh_token_refresh_token(token) != NULL) (*(int *)user_data)++;
  pthread_mutex_unlock(&hook_lock);
}

/* A file store at `file`, or NULL for `file` NULL (the manager then keeps the token in memory). */
static oauth_refresh_store *file_store(const char *file) {
  if (file == NULL) return NULL;
  oauth_refresh_store *store = NULL;
  CHECK(oauth_refresh_store_file_new(file, NULL, &store, NULL) == OAUTH_REFRESH_RESULT_OK, "file store %s", file);
  return store;
}

static void *get_token(void *manager) {
  oauth_refresh_token *token = NULL;
  oauth_refresh_result r = oauth_refresh_manager_token(manager, &token, NULL);
  char *copy = r == OAUTH_REFRESH_RESULT_OK ? strdup(oauth_refresh_token_access_token(token)) : NULL;
  oauth_refresh_token_free(token);
  return copy;
}

static void threads_share_one_refresh(void) {
  oauth_refresh_client *client = client_for("c-mgr", "delay=200");
  int refreshed = 0;
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = "seed-c-mgr";
  options.on_refresh = count_refresh;
  options.user_data = &refreshed;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  oauth_refresh_client_free(client); /* the manager keeps its own reference */
  for (long round = 1; round <= 2; round++) {
    pthread_t threads[8];
    char *tokens[8];
    for (int i = 0; i < 8; i++) pthread_create(&threads[i], NULL, get_token, manager);
    for (int i = 0; i < 8; i++) pthread_join(threads[i], (void **)&tokens[i]);
    for (int i = 0; i < 8; i++) {
      CHECK(tokens[i] != NULL && strcmp(tokens[i], tokens[0]) == 0, "thread %d got the one token", i);
    }
    for (int i = 0; i < 8; i++) free(tokens[i]);
    CHECK(server_token_requests("c-mgr") == round, "one refresh in round %ld", round);
    oauth_refresh_manager_invalidate(manager);
  }
  CHECK(refreshed == 2, "on_refresh saw both new tokens");
  oauth_refresh_manager_free(manager);
}

/* Child process: ask for a token every few ms for `seconds`; exit status = failures. */
static int worker(const char *url_modes, const char *file, int seconds) {
  oauth_refresh_client *client = client_for("c-mgr-procs", url_modes);
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  oauth_refresh_store *store = file_store(file);
  options.store = store;
  options.min_window_ms = 50;
  oauth_refresh_manager *manager = NULL;
  oauth_refresh_result r = oauth_refresh_manager_new(client, &options, &manager, NULL);
  oauth_refresh_store_free(store); /* the manager keeps its own reference */
  if (r != OAUTH_REFRESH_RESULT_OK) return 1;
  int failed = ask_for_tokens(manager, seconds);
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);
  return failed;
}

static char *stored_refresh_token(const char *file) {
  FILE *f = fopen(file, "r");
  static char text[4096];
  size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
  if (f) fclose(f);
  text[n] = '\0';
  char *at = strstr(text, "\"refresh_token\":\"");
  if (at == NULL) return NULL;
  at += strlen("\"refresh_token\":\"");
  char *end = strchr(at, '"');
  if (end) *end = '\0';
  return at;
}

static void processes_share_a_file(const char *dir) {
  char file[512];
  snprintf(file, sizeof file, "%s/token.json", dir);
  /* Seed the file through a manager whose tokens also live 1 s. */
  oauth_refresh_client *seeding = client_for("c-mgr-seed", "expires=1");
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = "seed-c-mgr-procs";
  oauth_refresh_store *store = file_store(file);
  options.store = store;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(seeding, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "seed manager");
  oauth_refresh_store_free(store);
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_manager_token(manager, &token, NULL) == OAUTH_REFRESH_RESULT_OK, "seed");
  oauth_refresh_token_free(token);
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(seeding);

  pid_t children[4];
  for (int i = 0; i < 4; i++) {
    children[i] = fork();
    if (children[i] == 0) _exit(worker("family,expires=1", file, 5));
  }
  for (int i = 0; i < 4; i++) {
    int status = 0;
    waitpid(children[i], &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d had no failure", i);
  }
  long requests = server_token_requests("c-mgr-procs");
  CHECK(requests >= 3 && requests <= 7, "%ld refreshes for about 5 expiries", requests);
  char *stored = stored_refresh_token(file);
  CHECK(stored != NULL && server_current_is("seed-c-mgr-procs", stored), "the file holds the current token");
}

static void store_failure(const char *dir) {
  char file[512], lock[600];
  snprintf(file, sizeof file, "%s/fail.json", dir);
  snprintf(lock, sizeof lock, "%s.lock", file);
  oauth_refresh_client *client = client_for("c-mgr-fail", "ok");
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = "seed-c-mgr-fail";
  oauth_refresh_store *store = file_store(file);
  options.store = store;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  oauth_refresh_store_free(store);
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_manager_token(manager, &token, NULL) == OAUTH_REFRESH_RESULT_OK, "first token");
  oauth_refresh_token_free(token);
  token = NULL;
  /* Writes now fail (the write lock's path is a directory); reads still work. */
  remove(lock);
  mkdir(lock, 0700);
  oauth_refresh_manager_invalidate(manager);
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_manager_token(manager, &token, &error);
  CHECK(r == OAUTH_REFRESH_RESULT_STORE_FAILED && token == NULL, "store_failed, got %s", oauth_refresh_result_name((uint32_t)r));
  CHECK(error != NULL && strstr(oauth_refresh_error_message(error), "could not be stored") != NULL, "message");
  /* The new token the store could not keep is in the error: its refresh token is current. */
  const oauth_refresh_token *kept = oauth_refresh_error_token(error);
  CHECK(kept != NULL && oauth_refresh_token_refresh_token_rotated(kept), "the error holds the new token");
  CHECK(kept != NULL && server_current_is("seed-c-mgr-fail", oauth_refresh_token_refresh_token(kept)),
        "its refresh token is the server's current one");
  CHECK(oauth_refresh_error_token(NULL) == NULL, "NULL error, NULL token");
  oauth_refresh_error_free(error);
  rmdir(lock);
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);
}

static oauth_refresh_manager *manager_for(const char *scope, const char *modes, unsigned long timeout_ms,
                                          const char *seed, const char *file) {
  char url[512];
  snprintf(url, sizeof url, "%s/%s/%s/token", server_env("TOKEN_SERVER_URL"), scope, modes);
  oauth_refresh_client_options client_options = oauth_refresh_client_options_default();
  client_options.token_url = url;
  if (timeout_ms != 0) client_options.timeout_ms = timeout_ms; /* 0: keep the default */
  oauth_refresh_client *client = NULL;
  CHECK(oauth_refresh_client_new(&client_options, &client, NULL) == OAUTH_REFRESH_RESULT_OK, "client for %s", scope);
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = seed;
  oauth_refresh_store *store = file_store(file);
  options.store = store;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager for %s", scope);
  oauth_refresh_store_free(store);
  oauth_refresh_client_free(client);
  return manager;
}

/* One manager_token call that must fail with `want`; returns its state (UNUSED if no error). */
static oauth_refresh_token_state expect_failure(const oauth_refresh_manager *manager, oauth_refresh_result want,
                                                const char *what, const char *message_prefix) {
  oauth_refresh_token *token = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_manager_token(manager, &token, &error);
  CHECK(r == want && token == NULL && error != NULL, "%s: got %s", what, oauth_refresh_result_name((uint32_t)r));
  oauth_refresh_token_state state = oauth_refresh_error_refresh_token_state(error);
  const char *message = oauth_refresh_error_message(error);
  if (message_prefix != NULL) {
    CHECK(message != NULL && strncmp(message, message_prefix, strlen(message_prefix)) == 0, "%s: message", what);
  }
  CHECK(message == NULL || strstr(message, "seed-") == NULL, "%s: no refresh token in the message", what);
  oauth_refresh_token_free(token);
  oauth_refresh_error_free(error);
  return state;
}

static long long now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* A timeout after sending leaves the refresh token UNKNOWN: the manager does not send it
 * again by itself (fails fast, nothing sent) until oauth_refresh_manager_allow_resend(). */
static void no_resend_after_unknown_outcome(void) {
  oauth_refresh_manager *manager = manager_for("c-mgr-resend", "delay=3000", 500, "seed-c-mgr-resend", NULL);
  CHECK(expect_failure(manager, OAUTH_REFRESH_RESULT_TIMEOUT, "first call", NULL) == OAUTH_REFRESH_TOKEN_STATE_UNKNOWN,
        "first call: state unknown");
  CHECK(server_token_requests("c-mgr-resend") == 1, "one request sent");
  long long started = now_ms();
  CHECK(expect_failure(manager, OAUTH_REFRESH_RESULT_TIMEOUT, "second call", "timeout: not resent") ==
            OAUTH_REFRESH_TOKEN_STATE_UNKNOWN,
        "second call: state unknown");
  CHECK(now_ms() - started < 400, "the second call failed fast (%lld ms)", now_ms() - started);
  CHECK(server_token_requests("c-mgr-resend") == 1, "the second call sent nothing");
  oauth_refresh_manager_allow_resend(manager);
  expect_failure(manager, OAUTH_REFRESH_RESULT_TIMEOUT, "after allow_resend", NULL);
  CHECK(server_token_requests("c-mgr-resend") == 2, "allow_resend let one more request out");
  oauth_refresh_manager_allow_resend(NULL);
  oauth_refresh_manager_free(manager);
}

/* A 2xx whose access token holds a NUL: INVALID_RESPONSE, state UNKNOWN, the rotated refresh
 * token salvaged and stored, so the next refresh (through a healthy server) succeeds with it. */
static void salvaged_refresh_token_is_kept(const char *dir) {
  char file[512];
  snprintf(file, sizeof file, "%s/salvage.json", dir);
  oauth_refresh_manager *broken = manager_for("c-mgr-nul", "fault=nul-access-token", 0, "seed-c-mgr-nul", file);
  oauth_refresh_token *token = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_manager_token(broken, &token, &error);
  CHECK(r == OAUTH_REFRESH_RESULT_INVALID_RESPONSE && token == NULL, "nul: got %s", oauth_refresh_result_name((uint32_t)r));
  CHECK(oauth_refresh_error_refresh_token_state(error) == OAUTH_REFRESH_TOKEN_STATE_UNKNOWN, "nul: state unknown");
  CHECK(oauth_refresh_error_status(error) == 200, "nul: status 200");
  const char *salvaged = oauth_refresh_error_salvaged_refresh_token(error);
  CHECK(salvaged != NULL && server_current_is("seed-c-mgr-nul", salvaged), "nul: the salvaged token is current");
  oauth_refresh_error_free(error);
  oauth_refresh_manager_free(broken);
  CHECK(server_token_requests("c-mgr-nul") == 1, "nul: one request");

  oauth_refresh_manager *healthy = manager_for("c-mgr-nul-next", "ok", 0, NULL, file);
  r = oauth_refresh_manager_token(healthy, &token, NULL);
  CHECK(r == OAUTH_REFRESH_RESULT_OK && token != NULL, "next refresh: got %s", oauth_refresh_result_name((uint32_t)r));
  const char *rt = token ? oauth_refresh_token_refresh_token(token) : NULL;
  CHECK(rt != NULL && server_current_is("seed-c-mgr-nul", rt), "next refresh rotated the salvaged token");
  CHECK(server_token_requests("c-mgr-nul-next") == 1, "next refresh: one request");
  oauth_refresh_token_free(token);
  oauth_refresh_manager_free(healthy);
}

/* scope and redirect_uri travel with every refresh: the token server grants the scope sent. */
static void scope_and_redirect_uri_are_sent(void) {
  oauth_refresh_client *client = client_for("c-mgr-scope", "ok");
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  CHECK(options.scope == NULL && options.redirect_uri == NULL, "neither is sent by default");
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = "seed-c-mgr-scope";
  options.scope = "payrolls:read";
  options.redirect_uri = "https://app.example.com/callback";
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_manager_token(manager, &token, NULL) == OAUTH_REFRESH_RESULT_OK, "token");
  const char *scope = oauth_refresh_token_scope(token);
  CHECK(scope != NULL && strcmp(scope, "payrolls:read") == 0, "the server granted the scope sent: %s",
        scope ? scope : "(none)");
  oauth_refresh_token_free(token);
  oauth_refresh_manager_free(manager);

  /* Without a scope the server grants its default. */
  options.refresh_token = "seed-c-mgr-scope-none";
  options.scope = NULL;
  options.redirect_uri = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  token = NULL;
  CHECK(oauth_refresh_manager_token(manager, &token, NULL) == OAUTH_REFRESH_RESULT_OK, "token");
  scope = oauth_refresh_token_scope(token);
  CHECK(scope != NULL && strcmp(scope, "public") == 0, "no scope sent: the server's default");
  oauth_refresh_token_free(token);
  oauth_refresh_manager_free(manager);

  /* Both are converted like every other string. */
  manager = NULL;
  options.scope = "\xff";
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_INVALID_UTF8, "scope");
  options.scope = NULL;
  options.redirect_uri = "\xff";
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_INVALID_UTF8,
        "redirect_uri");
  CHECK(manager == NULL, "manager_out untouched");
  CHECK(server_token_requests("c-mgr-scope") == 2, "two refreshes");
  oauth_refresh_client_free(client);
}

/* A manager whose tokens live 1 s, with the given min_window_ms. */
static oauth_refresh_manager *short_lived(const char *scope, const char *seed, int set_window, uint64_t min_window_ms) {
  oauth_refresh_client *client = client_for(scope, "expires=1");
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = seed;
  if (set_window) options.min_window_ms = min_window_ms;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager for %s", scope);
  oauth_refresh_client_free(client);
  return manager;
}

/* min_window_ms = 0 is 0 (not "the default"): a 1 s token is then served from the cache,
 * where the default 30 s window refreshes it on every call. */
static void min_window_zero_is_zero(void) {
  CHECK(oauth_refresh_manager_options_default().min_window_ms == 30000, "the default window is the core's 30 s");
  oauth_refresh_manager *zero = short_lived("c-mgr-window-0", "seed-c-mgr-window-0", 1, 0);
  oauth_refresh_manager *dflt = short_lived("c-mgr-window-default", "seed-c-mgr-window-default", 0, 0);
  for (int i = 0; i < 3; i++) {
    oauth_refresh_token *a = NULL, *b = NULL;
    CHECK(oauth_refresh_manager_token(zero, &a, NULL) == OAUTH_REFRESH_RESULT_OK, "window 0: token %d", i);
    CHECK(oauth_refresh_manager_token(dflt, &b, NULL) == OAUTH_REFRESH_RESULT_OK, "default window: token %d", i);
    oauth_refresh_token_free(a);
    oauth_refresh_token_free(b);
  }
  CHECK(server_token_requests("c-mgr-window-0") == 1, "window 0: one refresh, then the cache");
  CHECK(server_token_requests("c-mgr-window-default") == 3, "default window: a 1 s token is always due");
  oauth_refresh_manager_free(zero);
  oauth_refresh_manager_free(dflt);
}

/* access_token gives a copy the caller frees; stats counts refreshes and failures. */
static void access_token_and_stats(void) {
  oauth_refresh_client *client = client_for("c-mgr-stats", "ok");
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = "seed-c-mgr-stats";
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  uint64_t refreshes = 9, adoptions = 9, failures = 9;
  CHECK(oauth_refresh_manager_stats(manager, &refreshes, &adoptions, &failures) == OAUTH_REFRESH_RESULT_OK, "stats");
  CHECK(refreshes == 0 && adoptions == 0 && failures == 0, "a new manager counts nothing");

  char *access = NULL;
  oauth_refresh_error *error = NULL;
  CHECK(oauth_refresh_manager_access_token(manager, &access, &error) == OAUTH_REFRESH_RESULT_OK && error == NULL,
        "access_token");
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_manager_token(manager, &token, NULL) == OAUTH_REFRESH_RESULT_OK, "token");
  CHECK(access != NULL && token != NULL && strcmp(access, oauth_refresh_token_access_token(token)) == 0,
        "access_token is the cached token's");
  oauth_refresh_token_free(token);
  oauth_refresh_string_free(access);
  oauth_refresh_string_free(NULL);
  CHECK(oauth_refresh_manager_stats(manager, &refreshes, &adoptions, &failures) == OAUTH_REFRESH_RESULT_OK, "stats");
  CHECK(refreshes == 1 && adoptions == 0 && failures == 0, "one refresh: %llu/%llu/%llu",
        (unsigned long long)refreshes, (unsigned long long)adoptions, (unsigned long long)failures);

  /* NULL arguments: refused, nothing written. */
  access = SENTINEL_STRING;
  CHECK(oauth_refresh_manager_access_token(NULL, &access, &error) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "manager NULL");
  CHECK(access == SENTINEL_STRING && error != NULL, "access_token_out untouched, error written");
  oauth_refresh_error_free(error);
  error = NULL;
  CHECK(oauth_refresh_manager_access_token(manager, NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "out NULL");
  refreshes = 7;
  CHECK(oauth_refresh_manager_stats(NULL, &refreshes, &adoptions, &failures) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT,
        "stats: manager NULL");
  CHECK(oauth_refresh_manager_stats(manager, NULL, &adoptions, &failures) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT,
        "stats: refreshes NULL");
  CHECK(oauth_refresh_manager_stats(manager, &refreshes, NULL, &failures) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT,
        "stats: adoptions NULL");
  CHECK(oauth_refresh_manager_stats(manager, &refreshes, &adoptions, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT,
        "stats: failures NULL");
  CHECK(refreshes == 7, "nothing written on refusal");
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);

  /* A refused refresh is a failure, and access_token reports it like token does. */
  client = client_for("c-mgr-stats-fail", "fault=invalid-scope");
  options.refresh_token = "seed-c-mgr-stats-fail";
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  access = SENTINEL_STRING;
  CHECK(oauth_refresh_manager_access_token(manager, &access, &error) == OAUTH_REFRESH_RESULT_INVALID_SCOPE,
        "access_token: invalid_scope");
  CHECK(access == SENTINEL_STRING && oauth_refresh_error_code(error) == OAUTH_REFRESH_RESULT_INVALID_SCOPE,
        "the error, no string");
  oauth_refresh_error_free(error);
  CHECK(oauth_refresh_manager_stats(manager, &refreshes, &adoptions, &failures) == OAUTH_REFRESH_RESULT_OK, "stats");
  CHECK(refreshes == 0 && adoptions == 0 && failures == 1, "one failure: %llu/%llu/%llu",
        (unsigned long long)refreshes, (unsigned long long)adoptions, (unsigned long long)failures);
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);
}

static void null_arguments(void) {
  oauth_refresh_client *client = client_for("c-mgr-null", "ok");
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(NULL, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "client");
  CHECK(oauth_refresh_manager_new(client, NULL, &manager, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "options");
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "client_id");
  options.client_id = "app";
  options.client_secret = "secret-app";
  CHECK(oauth_refresh_manager_new(client, &options, NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "manager_out");
  CHECK(manager == NULL, "manager_out untouched");
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_manager_token(NULL, &token, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "manager");
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  CHECK(oauth_refresh_manager_token(manager, NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "token_out");
  oauth_refresh_error *error = NULL;
  CHECK(oauth_refresh_manager_token(manager, &token, &error) == OAUTH_REFRESH_RESULT_INVALID_INPUT, "no token at all");
  oauth_refresh_error_free(error);
  oauth_refresh_manager_invalidate(NULL);
  oauth_refresh_manager_free(NULL);
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);
}

int main(void) {
  char dir[] = "/tmp/oauth-refresh-c-mgr-XXXXXX";
  if (mkdtemp(dir) == NULL) return 2;
  threads_share_one_refresh();
  processes_share_a_file(dir);
  store_failure(dir);
  no_resend_after_unknown_outcome();
  salvaged_refresh_token_is_kept(dir);
  scope_and_redirect_uri_are_sent();
  min_window_zero_is_zero();
  access_token_and_stats();
  null_arguments();
  char cleanup[600];
  snprintf(cleanup, sizeof cleanup, "rm -rf %s", dir);
  if (system(cleanup) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return finish();
}
