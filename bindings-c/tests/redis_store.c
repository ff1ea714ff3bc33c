/* Stores through the C API: 8 processes sharing one rotating token through Redis,
 * encryption at rest for Redis and files, and the store errors. Runs under
 * scripts/with-redis.sh (REDIS_URL); without Redis it says so and checks the rest. */
#define _POSIX_C_SOURCE 200809L
#include <oauth_refresh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

/* 64 hex digits: how a key arrives from an environment variable. */
static const char *KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char *WRONG_KEY = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static oauth_refresh_store *redis_store(const char *prefix, const char *account, const char *key) {
  oauth_refresh_store_options options = oauth_refresh_store_options_default();
  options.prefix = prefix;
  options.account = account;
  options.encryption_key = key;
  oauth_refresh_store *store = NULL;
  oauth_refresh_result r = oauth_refresh_store_redis_new(getenv("REDIS_URL"), &options, &store, NULL);
  CHECK(r == OAUTH_REFRESH_RESULT_OK, "redis store %s:%s", prefix, account);
  return store;
}

/* One manager call through `store`; returns the result and, on success, a copy of the token's
 * access and refresh tokens in `access` / `refresh` (if not NULL). */
static oauth_refresh_result manager_token(oauth_refresh_client *client, oauth_refresh_store *store, const char *seed,
                                          char *access, char *refresh) {
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = seed;
  options.store = store;
  options.min_window_ms = 50;
  oauth_refresh_manager *manager = NULL;
  if (oauth_refresh_manager_new(client, &options, &manager, NULL) != OAUTH_REFRESH_RESULT_OK) return OAUTH_REFRESH_RESULT_PANIC;
  oauth_refresh_token *token = NULL;
  oauth_refresh_result r = oauth_refresh_manager_token(manager, &token, NULL);
  if (r == OAUTH_REFRESH_RESULT_OK) {
    if (access) snprintf(access, 512, "%s", oauth_refresh_token_access_token(token));
    if (refresh) snprintf(refresh, 512, "%s", oauth_refresh_token_refresh_token(token));
  }
  oauth_refresh_token_free(token);
  oauth_refresh_manager_free(manager);
  return r;
}

/* What redis-cli prints for a command (for assertions on what is stored). */
static char *redis_cli(const char *args) {
  static char out[8192];
  char command[1024];
  snprintf(command, sizeof command, "redis-cli -u %s %s", getenv("REDIS_URL"), args);
  FILE *p = popen(command, "r");
  size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
  if (p) pclose(p);
  out[n] = '\0';
  return out;
}

/* Child process: ask for a token every few ms for `seconds`; exit status = failures. */
static int worker(int seconds) {
  oauth_refresh_client *client = client_for("c-redis", "family,expires=1");
  oauth_refresh_store *store = redis_store("c-hosts", "acct", NULL);
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.store = store;
  options.min_window_ms = 50;
  oauth_refresh_manager *manager = NULL;
  if (oauth_refresh_manager_new(client, &options, &manager, NULL) != OAUTH_REFRESH_RESULT_OK) return 1;
  oauth_refresh_store_free(store); /* the manager keeps its own reference */
  int failed = ask_for_tokens(manager, seconds);
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);
  return failed;
}

static void eight_processes_share_one_token(int seconds) {
  /* The workers are forked first and wait for the seed: a fork right after this process
   * held a Redis lease would copy the lease-renewal thread's state into them (it lingers for
   * a second), which valgrind reports as lost in every child. */
  pid_t children[8];
  int go[2];
  if (pipe(go) != 0) exit(2);
  for (int i = 0; i < 8; i++) {
    fflush(NULL);
    children[i] = fork();
    if (children[i] == 0) {
      close(go[1]);
      char byte = 0;
      if (read(go[0], &byte, 1) != 1) _exit(3); /* the parent gave up */
      _exit(worker(seconds));
    }
  }
  close(go[0]);
  oauth_refresh_client *seeding = client_for("c-redis-seed", "expires=1");
  oauth_refresh_store *store = redis_store("c-hosts", "acct", NULL);
  CHECK(manager_token(seeding, store, "seed-c-redis", NULL, NULL) == OAUTH_REFRESH_RESULT_OK, "seed");
  oauth_refresh_store_free(store);
  oauth_refresh_client_free(seeding);
  CHECK(write(go[1], "gggggggg", 8) == 8, "start the workers");
  close(go[1]);
  for (int i = 0; i < 8; i++) {
    int status = 0;
    waitpid(children[i], &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d had no failure", i);
  }
  long requests = server_token_requests("c-redis");
  CHECK(requests >= seconds - 2 && requests <= seconds + 3, "%ld refreshes for about %d expiries", requests, seconds);
  char *stored = strstr(redis_cli("HGET 'c-hosts:{acct}:token' token"), "\"refresh_token\":\"");
  if (stored != NULL) {
    stored += strlen("\"refresh_token\":\"");
    *strchr(stored, '"') = '\0';
  }
  CHECK(stored != NULL && server_current_is("seed-c-redis", stored), "Redis holds the server's current token");
}

static void encrypted_stores_hold_no_token_bytes(const char *dir, int with_redis) {
  oauth_refresh_client *client = client_for("c-seal", "ok");
  char access[512], refresh[512], path[600];
  snprintf(path, sizeof path, "%s/token", dir);
  oauth_refresh_store_options options = oauth_refresh_store_options_default();
  options.encryption_key = KEY;
  oauth_refresh_store *file = NULL;
  CHECK(oauth_refresh_store_file_new(path, &options, &file, NULL) == OAUTH_REFRESH_RESULT_OK, "file store");
  CHECK(manager_token(client, file, "seed-c-seal", access, refresh) == OAUTH_REFRESH_RESULT_OK, "refresh via file");
  oauth_refresh_store_free(file);
  char contents[4096] = "";
  FILE *f = fopen(path, "r");
  size_t n = f ? fread(contents, 1, sizeof contents - 1, f) : 0;
  if (f) fclose(f);
  contents[n] = '\0';
  CHECK(n > 0 && strstr(contents, access) == NULL && strstr(contents, refresh) == NULL, "the file is sealed");
  options.encryption_key = WRONG_KEY;
  CHECK(oauth_refresh_store_file_new(path, &options, &file, NULL) == OAUTH_REFRESH_RESULT_OK, "file store, wrong key");
  CHECK(manager_token(client, file, NULL, NULL, NULL) == OAUTH_REFRESH_RESULT_STORE_DECRYPT, "wrong key: store_decrypt");
  oauth_refresh_store_free(file);

  if (with_redis) {
    oauth_refresh_store *redis = redis_store("c", "seal", KEY);
    CHECK(manager_token(client, redis, "seed-c-seal-redis", access, refresh) == OAUTH_REFRESH_RESULT_OK, "via redis");
    oauth_refresh_store_free(redis);
    char *everything = redis_cli("HGETALL 'c:{seal}:token'");
    CHECK(strlen(everything) > 0 && strstr(everything, access) == NULL && strstr(everything, refresh) == NULL,
          "the Redis record is sealed");
    redis = redis_store("c", "seal", NULL);
    CHECK(manager_token(client, redis, NULL, NULL, NULL) == OAUTH_REFRESH_RESULT_STORE_DECRYPT, "no key: store_decrypt");
    oauth_refresh_store_free(redis);
  }
  oauth_refresh_client_free(client);
}

static void store_errors(void) {
  oauth_refresh_store_options options = oauth_refresh_store_options_default();
  oauth_refresh_store *store = NULL;
  oauth_refresh_error *error = NULL;
  /* No account: a store of every account, for oauth_refresh_accounts_new() (accounts.c uses it). */
  CHECK(oauth_refresh_store_redis_new("redis://127.0.0.1:1", &options, &store, &error) == OAUTH_REFRESH_RESULT_OK &&
            store != NULL && error == NULL,
        "no account: every account");
  oauth_refresh_store_free(store);
  store = NULL;
  options.account = "a";
  CHECK(oauth_refresh_store_redis_new("http://:hunter2@127.0.0.1:1", &options, &store, &error) == OAUTH_REFRESH_RESULT_INVALID_INPUT,
        "not a Redis URL");
  CHECK(strstr(oauth_refresh_error_message(error), "hunter2") == NULL, "the password is not echoed");
  oauth_refresh_error_free(error);
  error = NULL;
  options.prefix = "{app}";
  CHECK(oauth_refresh_store_redis_new("redis://127.0.0.1:1", &options, &store, &error) == OAUTH_REFRESH_RESULT_INVALID_INPUT,
        "a brace in the prefix");
  CHECK(store == NULL, "no store");
  oauth_refresh_error_free(error);
  options.prefix = NULL;
  /* 0 leaves each store its own default timeout (Redis 2 s, PostgreSQL 5 s). */
  CHECK(oauth_refresh_store_options_default().timeout_ms == 0, "the store's own timeout by default");
  options.timeout_ms = 400ULL * 24 * 3600 * 1000;
  error = NULL;
  CHECK(oauth_refresh_store_redis_new("redis://127.0.0.1:1", &options, &store, &error) == OAUTH_REFRESH_RESULT_INVALID_INPUT,
        "a timeout over a year");
  CHECK(store == NULL && strstr(oauth_refresh_error_message(error), "timeout_ms must be") != NULL, "says why");
  oauth_refresh_error_free(error);
  options.timeout_ms = 0;
  options.encryption_key = "too short";
  CHECK(oauth_refresh_store_file_new("token", &options, &store, NULL) == OAUTH_REFRESH_RESULT_INVALID_INPUT, "bad key");
  CHECK(oauth_refresh_store_file_new(NULL, NULL, &store, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "NULL path");
  oauth_refresh_store_free(NULL);

  /* Redis unreachable: store_unavailable, and nothing is sent. */
  char url[256]; /* http://127.0.0.1:N -> redis://127.0.0.1:N */
  snprintf(url, sizeof url, "redis%s", strstr(server_env("TOKEN_SERVER_REFUSED"), "://"));
  options.encryption_key = NULL;
  options.timeout_ms = 500;
  CHECK(oauth_refresh_store_redis_new(url, &options, &store, NULL) == OAUTH_REFRESH_RESULT_OK, "unreachable store");
  oauth_refresh_client *client = client_for("c-unreach", "ok");
  CHECK(manager_token(client, store, "seed-c-unreach", NULL, NULL) == OAUTH_REFRESH_RESULT_STORE_UNAVAILABLE,
        "store_unavailable");
  CHECK(server_token_requests("c-unreach") == 0, "nothing sent");
  CHECK(strcmp(oauth_refresh_result_name(OAUTH_REFRESH_RESULT_STORE_UNAVAILABLE), "store_unavailable") == 0, "name");
  CHECK(strcmp(oauth_refresh_result_name(OAUTH_REFRESH_RESULT_STORE_DECRYPT), "store_decrypt") == 0, "name");
  oauth_refresh_store_free(store);
  oauth_refresh_client_free(client);
}

int main(void) {
  char dir[] = "/tmp/oauth-refresh-c-redis-XXXXXX";
  if (mkdtemp(dir) == NULL) return 2;
  /* Shorter under the sanitizers and valgrind, which the Makefile says with this variable. */
  const char *seconds = getenv("OAUTH_REFRESH_TEST_SECONDS");
  int with_redis = getenv("REDIS_URL") != NULL;
  if (with_redis) {
    eight_processes_share_one_token(seconds ? atoi(seconds) : 20);
  } else {
    fprintf(stderr, "SKIPPED the Redis cases: %s\n", getenv("REDIS_SKIP") ? getenv("REDIS_SKIP") : "REDIS_URL is not set");
  }
  encrypted_stores_hold_no_token_bytes(dir, with_redis);
  store_errors();
  char cleanup[600];
  snprintf(cleanup, sizeof cleanup, "rm -rf %s", dir);
  if (system(cleanup) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return finish();
}
