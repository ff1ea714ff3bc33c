/* PostgresStore through the C API, against a real PostgreSQL (scripts/with-postgres.sh,
 * POSTGRES_URL) and the token server: two processes sharing one account in "reuse revokes
 * the family" mode, a manager's token stored before anyone gets it and seen by a second
 * manager without a request, several accounts and their list, an encrypted row holding no
 * token, a wrong password, the wrong kind of store, a database that cannot be reached, and
 * the options. Each run keeps to tables of its own (`c_<name>_<pid>`): the Makefile runs
 * the four builds against one server. Without PostgreSQL only the option checks run (under
 * CI that fails). */
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

/* This run's table called `name`. */
static const char *table(const char *name) {
  static char names[8][64];
  static int next = 0;
  char *out = names[next++ % 8];
  snprintf(out, sizeof names[0], "c_%s_%ld", name, (long)getpid());
  return out;
}

static oauth_refresh_store *pg_store(const char *url, const char *table_name, const char *account, const char *key) {
  oauth_refresh_store_options options = oauth_refresh_store_options_default();
  options.table = table_name;
  options.account = account;
  options.encryption_key = key;
  oauth_refresh_store *store = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_store_postgres_new(url, &options, &store, &error);
  CHECK(r == OAUTH_REFRESH_RESULT_OK && store != NULL, "postgres store %s/%s: %s", table_name, account ? account : "*",
        error ? oauth_refresh_error_message(error) : "");
  oauth_refresh_error_free(error);
  return store;
}

/* What psql prints for `sql` ("" on failure). The URL stays in the environment: it is never
 * on a command line. */
static char *psql(const char *sql) {
  static char out[8192];
  char command[600];
  snprintf(command, sizeof command, "psql \"$POSTGRES_URL\" -qtAc \"%s\" 2>/dev/null", sql);
  FILE *p = popen(command, "r");
  size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
  if (p) pclose(p);
  out[n] = '\0';
  return out;
}

/* The `record` column of `account`'s row ("" when there is none). */
static char *stored_record(const char *table_name, const char *account) {
  char sql[300];
  snprintf(sql, sizeof sql, "SELECT record FROM %s WHERE account = '%s'", table_name, account);
  return psql(sql);
}

/* The refresh token in a clear record ({"refresh_token":"..."...}), copied into `out`. */
static int refresh_token_of(const char *record, char *out, size_t size) {
  const char *at = strstr(record, "\"refresh_token\":\"");
  if (at == NULL) return 0;
  at += strlen("\"refresh_token\":\"");
  const char *end = strchr(at, '"');
  if (end == NULL || (size_t)(end - at) >= size) return 0;
  memcpy(out, at, (size_t)(end - at));
  out[end - at] = '\0';
  return 1;
}

static oauth_refresh_manager *manager_over(const oauth_refresh_client *client, oauth_refresh_store *store,
                                           const char *seed) {
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = seed;
  options.store = store;
  options.min_window_ms = 50;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  return manager;
}

/* One manager call through `store`; on success copies the access and refresh tokens into
 * `access` / `refresh` (if not NULL); on failure hands back the error through `error_out`
 * (if not NULL). */
static oauth_refresh_result manager_token(const oauth_refresh_client *client, oauth_refresh_store *store,
                                          const char *seed, char *access, char *refresh,
                                          oauth_refresh_error **error_out) {
  oauth_refresh_manager *manager = manager_over(client, store, seed);
  if (manager == NULL) return OAUTH_REFRESH_RESULT_PANIC;
  oauth_refresh_token *token = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_manager_token(manager, &token, &error);
  if (r == OAUTH_REFRESH_RESULT_OK) {
    if (access) snprintf(access, 512, "%s", oauth_refresh_token_access_token(token));
    if (refresh) snprintf(refresh, 512, "%s", oauth_refresh_token_refresh_token(token));
  }
  if (error_out) {
    *error_out = error;
  } else {
    oauth_refresh_error_free(error);
  }
  oauth_refresh_token_free(token);
  oauth_refresh_manager_free(manager);
  return r;
}

/* Child process: one token (which connects: seconds under valgrind), then one every few ms
 * for `seconds`; exit status = failures. */
static int family_worker(const char *url, const char *table_name, int seconds) {
  oauth_refresh_client *client = client_for("c-pg-family", "family,expires=1");
  oauth_refresh_store *store = pg_store(url, table_name, "acct", NULL);
  oauth_refresh_manager *manager = manager_over(client, store, NULL);
  oauth_refresh_store_free(store); /* the manager keeps its own reference */
  oauth_refresh_token *first = NULL;
  int failed = manager == NULL || oauth_refresh_manager_token(manager, &first, NULL) != OAUTH_REFRESH_RESULT_OK;
  oauth_refresh_token_free(first);
  failed |= manager ? ask_for_tokens(manager, seconds) : 1;
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);
  return failed;
}

/* Two processes share one account whose tokens live 1 s, in the mode where a refresh token
 * sent twice revokes its family: neither ever fails (no invalid_grant), about one refresh per
 * expiry, and the row holds the server's current refresh token. The children are forked
 * before this process starts any thread (a lease's renewal thread lingers about a second,
 * and a fork would copy it), and wait for the seed. */
static void two_processes_share_one_account(const char *url, int seconds) {
  const char *t = table("family");
  pid_t children[2];
  int go[2];
  if (pipe(go) != 0) exit(2);
  for (int i = 0; i < 2; i++) {
    fflush(NULL);
    children[i] = fork();
    if (children[i] == 0) {
      close(go[1]);
      char byte = 0;
      if (read(go[0], &byte, 1) != 1) _exit(3); /* the parent gave up */
      _exit(family_worker(url, t, seconds));
    }
  }
  close(go[0]);
  oauth_refresh_client *seeding = client_for("c-pg-family-seed", "expires=1");
  oauth_refresh_store *store = pg_store(url, t, "acct", NULL);
  CHECK(manager_token(seeding, store, "seed-c-pg-family", NULL, NULL, NULL) == OAUTH_REFRESH_RESULT_OK, "seed");
  oauth_refresh_store_free(store);
  oauth_refresh_client_free(seeding);
  CHECK(write(go[1], "gg", 2) == 2, "start the workers");
  close(go[1]);
  for (int i = 0; i < 2; i++) {
    int status = 0;
    waitpid(children[i], &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d had no failure", i);
  }
  long requests = server_token_requests("c-pg-family");
  CHECK(requests >= seconds - 2 && requests <= seconds + 3, "%ld refreshes for about %d expiries", requests, seconds);
  char stored[512];
  CHECK(refresh_token_of(stored_record(t, "acct"), stored, sizeof stored) &&
            server_current_is("seed-c-pg-family", stored),
        "the row holds the server's current refresh token");
}

/* What on_refresh saw: whether the row already held the new token when it was handed out. */
typedef struct {
  const char *table;
  int calls;
  int stored_first;
} refresh_seen;

static void row_holds_it(void *user_data, const oauth_refresh_token *token) {
  refresh_seen *seen = user_data;
  char stored[512];
  seen->calls++;
  if (refresh_token_of(stored_record(seen->table, "acct"), stored, sizeof stored) &&
      strcmp(stored, oauth_refresh_token_refresh_token(token)) == 0) {
    seen->stored_first++;
  }
}

/* A manager's new token is in its row before anyone gets it; a second manager over the store
 * gets the same token from the row without a request. (One store handle: under valgrind each
 * new connection's SCRAM handshake takes seconds; the family case shows other processes.) */
static void a_manager_stores_before_use(const char *url) {
  refresh_seen seen = {table("manager"), 0, 0};
  oauth_refresh_client *client = client_for("c-pg-manager", "ok");
  oauth_refresh_store *store = pg_store(url, seen.table, "acct", NULL);
  oauth_refresh_manager_options options = oauth_refresh_manager_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.refresh_token = "seed-c-pg-manager";
  options.store = store;
  options.on_refresh = row_holds_it;
  options.user_data = &seen;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  char *first = NULL;
  CHECK(oauth_refresh_manager_access_token(manager, &first, NULL) == OAUTH_REFRESH_RESULT_OK, "first token");
  CHECK(seen.calls == 1 && seen.stored_first == 1, "the row held the new token before it was handed out");
  oauth_refresh_manager_free(manager);

  char access[512] = "";
  CHECK(manager_token(client, store, NULL, access, NULL, NULL) == OAUTH_REFRESH_RESULT_OK, "second manager");
  CHECK(first != NULL && strcmp(access, first) == 0, "the second manager got the stored token");
  CHECK(server_token_requests("c-pg-manager") == 1, "one request in all");
  oauth_refresh_store_free(store);
  oauth_refresh_string_free(first);
  oauth_refresh_client_free(client);
}

static oauth_refresh_accounts *accounts_over(const oauth_refresh_client *client, oauth_refresh_store *store) {
  oauth_refresh_accounts_options options = oauth_refresh_accounts_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  options.store = store;
  oauth_refresh_accounts *accounts = NULL;
  CHECK(oauth_refresh_accounts_new(client, &options, &accounts, NULL) == OAUTH_REFRESH_RESULT_OK, "accounts");
  return accounts;
}

/* Several accounts in one every-account store: a row each, each refreshed once, listed,
 * served to a second handle from the rows without a request, one removed. */
static void accounts_share_one_table(const char *url) {
  enum { N = 5 };
  const char *t = table("accounts");
  oauth_refresh_client *client = client_for("c-pg-accounts", "ok");
  oauth_refresh_store *store = pg_store(url, t, NULL, NULL);
  oauth_refresh_accounts *accounts = accounts_over(client, store);
  char account[32], seed[64], *firsts[N];
  for (int i = 0; i < N; i++) {
    snprintf(account, sizeof account, "co-%d", i);
    snprintf(seed, sizeof seed, "seed-c-pg-accounts-%d", i);
    CHECK(oauth_refresh_accounts_add(accounts, account, seed, NULL) == OAUTH_REFRESH_RESULT_OK, "add %s", account);
    firsts[i] = NULL;
    CHECK(oauth_refresh_accounts_access_token(accounts, account, &firsts[i], NULL) == OAUTH_REFRESH_RESULT_OK,
          "token for %s", account);
  }
  CHECK(server_token_requests("c-pg-accounts") == N, "one refresh per account");
  oauth_refresh_strings list = {NULL, 0};
  CHECK(oauth_refresh_accounts_accounts(accounts, &list, NULL) == OAUTH_REFRESH_RESULT_OK && list.len == N,
        "%zu accounts listed", list.len);
  for (size_t i = 0; i < list.len && i < N; i++) {
    snprintf(account, sizeof account, "co-%zu", i);
    CHECK(strcmp(list.items[i], account) == 0, "sorted: %s", list.items[i]);
  }
  oauth_refresh_strings_free(&list);
  oauth_refresh_accounts_free(accounts);
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE record LIKE '%%refresh_token%%'", t);
  CHECK(atoi(psql(sql)) == N, "a row per account holds its token");

  accounts = accounts_over(client, store);
  oauth_refresh_store_free(store);
  int same = 0;
  for (int i = 0; i < N; i++) {
    snprintf(account, sizeof account, "co-%d", i);
    char *access = NULL;
    if (oauth_refresh_accounts_access_token(accounts, account, &access, NULL) == OAUTH_REFRESH_RESULT_OK &&
        firsts[i] != NULL && strcmp(access, firsts[i]) == 0) {
      same++;
    }
    oauth_refresh_string_free(access);
    oauth_refresh_string_free(firsts[i]);
  }
  CHECK(same == N, "a second handle got %d of %d stored tokens", same, N);
  CHECK(server_token_requests("c-pg-accounts") == N, "without a request");
  bool removed = false;
  CHECK(oauth_refresh_accounts_remove(accounts, "co-0", &removed, NULL) == OAUTH_REFRESH_RESULT_OK && removed,
        "remove");
  CHECK(oauth_refresh_accounts_accounts(accounts, &list, NULL) == OAUTH_REFRESH_RESULT_OK && list.len == N - 1,
        "%zu accounts left", list.len);
  oauth_refresh_strings_free(&list);
  oauth_refresh_accounts_free(accounts);
  oauth_refresh_client_free(client);
}

/* Under a key the row holds neither token, and the store reads it back. */
static void an_encrypted_row_holds_no_token(const char *url) {
  const char *t = table("sealed");
  oauth_refresh_client *client = client_for("c-pg-sealed", "ok");
  char access[512] = "", refresh[512] = "", again[512] = "";
  oauth_refresh_store *store = pg_store(url, t, "acct", KEY);
  CHECK(manager_token(client, store, "seed-c-pg-sealed", access, refresh, NULL) == OAUTH_REFRESH_RESULT_OK,
        "refresh via an encrypted store");
  const char *record = stored_record(t, "acct");
  CHECK(strlen(record) > 16 && strstr(record, access) == NULL && strstr(record, refresh) == NULL &&
            strstr(record, "refresh_token") == NULL,
        "the row is sealed");
  CHECK(manager_token(client, store, NULL, again, NULL, NULL) == OAUTH_REFRESH_RESULT_OK && strcmp(again, access) == 0,
        "a second manager opens it");
  CHECK(server_token_requests("c-pg-sealed") == 1, "without a request");
  oauth_refresh_store_free(store);
  oauth_refresh_client_free(client);
}

/* POSTGRES_URL with its password replaced: store_failed at first use, never showing the
 * password, and nothing sent. */
static void a_wrong_password_is_store_failed(const char *url) {
  char wrong[512];
  const char *user = strstr(url, "://");
  const char *colon = user ? strchr(user + 3, ':') : NULL;
  const char *at = colon ? strchr(colon, '@') : NULL;
  CHECK(at != NULL, "POSTGRES_URL holds a password");
  if (at == NULL) return;
  snprintf(wrong, sizeof wrong, "%.*s:not-the-password%s", (int)(colon - url), url, at);
  oauth_refresh_client *client = client_for("c-pg-password", "ok");
  oauth_refresh_store *store = pg_store(wrong, table("password"), "acct", NULL);
  oauth_refresh_error *error = NULL;
  CHECK(manager_token(client, store, "seed-c-pg-password", NULL, NULL, &error) == OAUTH_REFRESH_RESULT_STORE_FAILED,
        "a wrong password: store_failed");
  const char *message = error ? oauth_refresh_error_message(error) : "";
  char password[128];
  snprintf(password, sizeof password, "%.*s", (int)(at - colon - 1), colon + 1);
  CHECK(strstr(message, "not-the-password") == NULL && strstr(message, password) == NULL &&
            strstr(message, "postgres://") == NULL,
        "no password or URL in: %s", message);
  CHECK(strstr(message, "password authentication failed") != NULL, "says why: %s", message);
  CHECK(server_token_requests("c-pg-password") == 0, "nothing sent");
  oauth_refresh_error_free(error);
  oauth_refresh_store_free(store);
  oauth_refresh_client_free(client);
}

/* A store of one account given to the accounts, and one of every account given to a
 * manager: invalid_input at first use. */
static void the_wrong_kind_of_store(const char *url) {
  const char *t = table("kind");
  oauth_refresh_client *client = client_for("c-pg-kind", "ok");
  oauth_refresh_store *one = pg_store(url, t, "acct", NULL);
  oauth_refresh_accounts *accounts = accounts_over(client, one);
  CHECK(oauth_refresh_accounts_add(accounts, "co", "seed-c-pg-kind", NULL) == OAUTH_REFRESH_RESULT_INVALID_INPUT,
        "one account's store to the accounts");
  oauth_refresh_accounts_free(accounts);
  oauth_refresh_store_free(one);
  oauth_refresh_store *every = pg_store(url, t, NULL, NULL);
  CHECK(manager_token(client, every, "seed-c-pg-kind", NULL, NULL, NULL) == OAUTH_REFRESH_RESULT_INVALID_INPUT,
        "every account's store to a manager");
  CHECK(server_token_requests("c-pg-kind") == 0, "nothing sent");
  oauth_refresh_store_free(every);
  oauth_refresh_client_free(client);
}

/* create_table = 0 on a table nobody created: store_failed, nothing sent. */
static void a_table_left_to_the_user(const char *url) {
  oauth_refresh_store_options options = oauth_refresh_store_options_default();
  options.account = "acct";
  options.table = table("absent");
  options.create_table = 0;
  oauth_refresh_store *store = NULL;
  CHECK(oauth_refresh_store_postgres_new(url, &options, &store, NULL) == OAUTH_REFRESH_RESULT_OK, "store");
  oauth_refresh_client *client = client_for("c-pg-absent", "ok");
  CHECK(manager_token(client, store, "seed-c-pg-absent", NULL, NULL, NULL) == OAUTH_REFRESH_RESULT_STORE_FAILED,
        "no table: store_failed");
  CHECK(server_token_requests("c-pg-absent") == 0, "nothing sent");
  oauth_refresh_store_free(store);
  oauth_refresh_client_free(client);
}

/* A refused value: INVALID_INPUT, no store, a message containing `says`. */
static void refused(const char *url, oauth_refresh_store_options options, const char *says, const char *what) {
  oauth_refresh_store *store = NULL;
  oauth_refresh_error *error = NULL;
  CHECK(oauth_refresh_store_postgres_new(url, &options, &store, &error) == OAUTH_REFRESH_RESULT_INVALID_INPUT &&
            store == NULL,
        "%s is refused", what);
  const char *message = error ? oauth_refresh_error_message(error) : "";
  CHECK(strstr(message, says) != NULL, "%s: \"%s\" says \"%s\"", what, message, says);
  oauth_refresh_error_free(error);
}

static void options_and_arguments(void) {
  const char *url = "postgres://oauth:hunter2@127.0.0.1:1/oauth";
  oauth_refresh_store_options defaults = oauth_refresh_store_options_default();
  CHECK(defaults.timeout_ms == 0 && defaults.create_table == -1 && defaults.max_connections == 4 &&
            defaults.table == NULL && defaults.account == NULL,
        "the defaults: each store's timeout, the table created, 4 connections");
  oauth_refresh_store *store = NULL;
  CHECK(oauth_refresh_store_postgres_new(url, &defaults, &store, NULL) == OAUTH_REFRESH_RESULT_OK && store != NULL,
        "nothing connects until first use");
  oauth_refresh_store_free(store);
  store = NULL;

  oauth_refresh_store_options o = defaults;
  o.max_connections = 0;
  refused(url, o, "max_connections must be at least 1", "max_connections 0");
  o = defaults;
  o.create_table = 2;
  refused(url, o, "create_table", "create_table 2");
  o = defaults;
  o.table = "tokens; DROP TABLE users";
  refused(url, o, "table", "a table name that is not an identifier");
  o = defaults;
  o.timeout_ms = 400ULL * 24 * 3600 * 1000;
  refused(url, o, "timeout_ms", "a timeout over a year");
  o = defaults;
  o.encryption_key = "too short";
  refused(url, o, "encryption_key", "a short key");
  o = defaults;
  o.account = "";
  refused(url, o, "account", "an empty account");
  oauth_refresh_error *error = NULL;
  CHECK(oauth_refresh_store_postgres_new("postgres://oauth:hunter2@127.0.0.1:notaport/oauth", &defaults, &store,
                                         &error) == OAUTH_REFRESH_RESULT_INVALID_INPUT,
        "not a PostgreSQL URL");
  CHECK(error != NULL && strstr(oauth_refresh_error_message(error), "hunter2") == NULL, "the URL is not echoed");
  oauth_refresh_error_free(error);
  CHECK(oauth_refresh_store_postgres_new(NULL, &defaults, &store, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT,
        "NULL url");
  CHECK(oauth_refresh_store_postgres_new(url, NULL, &store, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT,
        "NULL options");
  CHECK(oauth_refresh_store_postgres_new(url, &defaults, NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT,
        "NULL store_out");
  CHECK(store == NULL, "no store written on failure");

  /* A database that cannot be reached: store_unavailable within the timeout, nothing sent. */
  char down[256]; /* http://127.0.0.1:N -> postgres://oauth@127.0.0.1:N/oauth */
  snprintf(down, sizeof down, "postgres://oauth@%s/oauth", strstr(server_env("TOKEN_SERVER_REFUSED"), "://") + 3);
  o = defaults;
  o.account = "acct";
  o.timeout_ms = 500;
  CHECK(oauth_refresh_store_postgres_new(down, &o, &store, NULL) == OAUTH_REFRESH_RESULT_OK, "unreachable store");
  oauth_refresh_client *client = client_for("c-pg-down", "ok");
  CHECK(manager_token(client, store, "seed-c-pg-down", NULL, NULL, NULL) == OAUTH_REFRESH_RESULT_STORE_UNAVAILABLE,
        "store_unavailable");
  CHECK(server_token_requests("c-pg-down") == 0, "nothing sent");
  oauth_refresh_store_free(store);
  oauth_refresh_client_free(client);
}

#ifdef TIMING
/* cc -DTIMING: how long each case takes. */
static long long mono_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}
#define RUN(call)                                                 \
  do {                                                            \
    long long started = mono_ms();                                \
    call;                                                         \
    fprintf(stderr, "%s: %lld ms\n", #call, mono_ms() - started); \
  } while (0)
#else
#define RUN(call) call
#endif

int main(void) {
  const char *url = getenv("POSTGRES_URL");
  /* Shorter under the sanitizers and valgrind, which the Makefile says with this variable. */
  const char *seconds = getenv("OAUTH_REFRESH_TEST_SECONDS");
  if (url != NULL && url[0] != '\0') {
    /* The processes first, before this process has started any thread. */
    RUN(two_processes_share_one_account(url, seconds ? atoi(seconds) : 3));
    RUN(a_manager_stores_before_use(url));
    RUN(accounts_share_one_table(url));
    RUN(an_encrypted_row_holds_no_token(url));
    RUN(a_wrong_password_is_store_failed(url));
    RUN(the_wrong_kind_of_store(url));
    RUN(a_table_left_to_the_user(url));
  } else {
    const char *why = getenv("POSTGRES_SKIP") ? getenv("POSTGRES_SKIP") : "POSTGRES_URL is not set";
    CHECK(getenv("CI") == NULL, "under CI the PostgreSQL cases must run: %s", why);
    fprintf(stderr, "SKIPPED the PostgreSQL cases: %s\n", why);
  }
  RUN(options_and_arguments());
  return finish();
}
