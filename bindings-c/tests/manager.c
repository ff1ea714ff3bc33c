/* The token manager through the C API: 8 threads and one refresh, processes sharing a file,
 * a store that cannot be written, no automatic resend after an unknown outcome, a salvaged
 * refresh token, NULL arguments. */
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

static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;

static void count_refresh(void *user_data, const oauth_refresh_token *token) {
  pthread_mutex_lock(&hook_lock);
  if (oauth_refresh_token_refresh_token(token) != NULL) (*(int *)user_data)++;
  pthread_mutex_unlock(&hook_lock);
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
  options.file_path = file;
  options.min_window_ms = 50;
  oauth_refresh_manager *manager = NULL;
  if (oauth_refresh_manager_new(client, &options, &manager, NULL) != OAUTH_REFRESH_RESULT_OK) return 1;
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
  options.file_path = file;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(seeding, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "seed manager");
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
  options.file_path = file;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
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
  client_options.timeout_ms = timeout_ms;
  oauth_refresh_client *client = NULL;
  CHECK(oauth_refresh_client_new(&client_options, &client, NULL) == OAUTH_REFRESH_RESULT_OK, "client for %s", scope);
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = seed;
  options.file_path = file;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager for %s", scope);
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
  null_arguments();
  char cleanup[600];
  snprintf(cleanup, sizeof cleanup, "rm -rf %s", dir);
  if (system(cleanup) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return finish();
}
