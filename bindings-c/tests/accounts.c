/* Many accounts through the C API: 200 accounts in one process (each refreshed once, listed,
 * removed), two processes sharing a directory and (with Redis) one every-account Redis store,
 * events and health (a revoked grant reported once and recovered by a new grant, a failing
 * grant and allow_resend), refresh-ahead (callers never wait, the cap on refreshes in flight
 * holds, freeing stops it), the memory store shared by handles, and bad arguments and
 * options. Runs under scripts/with-token-server.sh and scripts/with-redis.sh. */
#define _POSIX_C_SOURCE 200809L
#include <oauth_refresh.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define SENTINEL_STRING ((char *)0x1)
#define MAX_EVENTS 1024

/* What the event hook saw: copies, since an event is valid only during the call. */
typedef struct {
  oauth_refresh_event_kind kind;
  char account[300];
  oauth_refresh_result code;
  oauth_refresh_token_state state;
  uint32_t attempts;
  int off_main_thread;
} seen_event;

typedef struct {
  pthread_mutex_t lock;
  size_t len;
  size_t dropped;
  seen_event items[MAX_EVENTS];
} events;

static pthread_t main_thread;

static events *events_new(void) {
  events *e = calloc(1, sizeof *e);
  if (e == NULL) exit(2);
  pthread_mutex_init(&e->lock, NULL);
  return e;
}

static void events_free(events *e) {
  pthread_mutex_destroy(&e->lock);
  free(e);
}

static void record_event(void *context, const oauth_refresh_account_event *event) {
  events *e = context;
  pthread_mutex_lock(&e->lock);
  if (e->len < MAX_EVENTS) {
    seen_event *s = &e->items[e->len++];
    s->kind = event->kind;
    snprintf(s->account, sizeof s->account, "%s", event->account);
    s->code = event->code;
    s->state = event->refresh_token_state;
    s->attempts = event->attempts;
    s->off_main_thread = !pthread_equal(pthread_self(), main_thread);
  } else {
    e->dropped++;
  }
  pthread_mutex_unlock(&e->lock);
}

/* How many events of `kind` the hook saw for `account` (NULL: any account). */
static int count_events(events *e, oauth_refresh_event_kind kind, const char *account) {
  int n = 0;
  pthread_mutex_lock(&e->lock);
  for (size_t i = 0; i < e->len; i++) {
    if (e->items[i].kind == kind && (account == NULL || strcmp(e->items[i].account, account) == 0)) n++;
  }
  pthread_mutex_unlock(&e->lock);
  return n;
}

static oauth_refresh_accounts_options app_options(void) {
  oauth_refresh_accounts_options options = oauth_refresh_accounts_options_default();
  options.client_id = "app";
  options.client_secret = "secret-app";
  return options;
}

/* A handle on the token server's `/{scope}/{modes}/token` with `options` (client_id and
 * client_secret filled in when NULL). */
static oauth_refresh_accounts *accounts_with(const char *scope, const char *modes, oauth_refresh_accounts_options options) {
  oauth_refresh_client *client = client_for(scope, modes);
  if (options.client_id == NULL) options.client_id = "app";
  if (options.client_secret == NULL) options.client_secret = "secret-app";
  oauth_refresh_accounts *accounts = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_accounts_new(client, &options, &accounts, &error);
  CHECK(r == OAUTH_REFRESH_RESULT_OK && accounts != NULL, "accounts for %s: %s", scope,
        error ? oauth_refresh_error_message(error) : "");
  oauth_refresh_error_free(error);
  oauth_refresh_client_free(client); /* the handle keeps its own reference */
  return accounts;
}

static void add(const oauth_refresh_accounts *accounts, const char *account, const char *refresh_token) {
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_accounts_add(accounts, account, refresh_token, &error);
  CHECK(r == OAUTH_REFRESH_RESULT_OK && error == NULL, "add %s: %s", account, error ? oauth_refresh_error_message(error) : "");
  oauth_refresh_error_free(error);
}

/* A copy of `account`'s access token (free it with oauth_refresh_string_free), or NULL with
 * the result in `*result` if not NULL. */
static char *access_token(const oauth_refresh_accounts *accounts, const char *account, oauth_refresh_result *result) {
  char *access = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_accounts_access_token(accounts, account, &access, &error);
  if (result != NULL) {
    *result = r;
  } else {
    CHECK(r == OAUTH_REFRESH_RESULT_OK, "access_token %s: %s", account, error ? oauth_refresh_error_message(error) : "");
  }
  CHECK((r == OAUTH_REFRESH_RESULT_OK) == (access != NULL && error == NULL), "%s: a token or an error", account);
  oauth_refresh_error_free(error);
  return access;
}

static oauth_refresh_account_stats stats_of(const oauth_refresh_accounts *accounts) {
  oauth_refresh_account_stats stats;
  memset(&stats, 0xff, sizeof stats);
  CHECK(oauth_refresh_accounts_stats(accounts, &stats) == OAUTH_REFRESH_RESULT_OK, "stats");
  return stats;
}

static oauth_refresh_health health_of(const oauth_refresh_accounts *accounts, const char *account) {
  oauth_refresh_health health;
  memset(&health, 0xff, sizeof health);
  CHECK(oauth_refresh_accounts_health(accounts, account, &health) == OAUTH_REFRESH_RESULT_OK, "health %s", account);
  return health;
}

static long long wall_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static long long mono_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000 * 1000};
  nanosleep(&pause, NULL);
}

/* A number from the token server's `/{scope}/stats`, or -1. */
static long server_stat(const char *scope, const char *field) {
  char path[512], key[128];
  snprintf(path, sizeof path, "/%s/stats", scope);
  snprintf(key, sizeof key, "\"%s\":", field);
  char *body = server_get(path);
  if (body == NULL) return -1;
  const char *at = strstr(body, key);
  long value = at ? strtol(at + strlen(key), NULL, 10) : -1;
  free(body);
  return value;
}

/* 200 accounts under one client: each refreshed once, then served from the cache; listed
 * sorted; invalidate refreshes one; remove deletes one. */
static void many_accounts_in_one_process(void) {
  enum { N = 200 };
  events *seen = events_new();
  oauth_refresh_accounts_options options = app_options();
  options.on_event = record_event;
  options.context = seen;
  oauth_refresh_accounts *accounts = accounts_with("c-acc-many", "ok", options);
  char account[32], seed[64];
  for (int i = 0; i < N; i++) {
    snprintf(account, sizeof account, "acct-%03d", i);
    snprintf(seed, sizeof seed, "seed-c-acc-many-%d", i);
    add(accounts, account, seed);
  }
  CHECK(server_token_requests("c-acc-many") == 0, "add sends nothing");
  char *first = NULL;
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < N; i++) {
      snprintf(account, sizeof account, "acct-%03d", i);
      char *access = access_token(accounts, account, NULL);
      if (i == 0 && round == 0) {
        first = access;
      } else {
        if (i == 0) CHECK(access != NULL && first != NULL && strcmp(access, first) == 0, "round 2 serves the cached token");
        oauth_refresh_string_free(access);
      }
    }
    CHECK(server_token_requests("c-acc-many") == N, "round %d: one refresh per account", round + 1);
  }
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_accounts_token(accounts, "acct-000", &token, NULL) == OAUTH_REFRESH_RESULT_OK, "token");
  CHECK(token != NULL && first != NULL && strcmp(oauth_refresh_token_access_token(token), first) == 0,
        "token() is access_token()'s token");
  CHECK(token != NULL && server_current_is("seed-c-acc-many-0", oauth_refresh_token_refresh_token(token)),
        "its refresh token is the server's current one");
  oauth_refresh_token_free(token);

  oauth_refresh_account_stats stats = stats_of(accounts);
  CHECK(stats.refreshes == N && stats.cached == N && stats.failures == 0 && stats.refreshed_ahead == 0,
        "stats: %llu refreshes, %llu cached", (unsigned long long)stats.refreshes, (unsigned long long)stats.cached);
  CHECK(count_events(seen, OAUTH_REFRESH_EVENT_KIND_REFRESHED, NULL) == N && seen->len == N, "one event per refresh");
  int once_each = 1;
  for (int i = 0; i < N; i++) {
    snprintf(account, sizeof account, "acct-%03d", i);
    once_each &= count_events(seen, OAUTH_REFRESH_EVENT_KIND_REFRESHED, account) == 1;
  }
  CHECK(once_each, "refreshed once per account");
  CHECK(seen->items[0].code == OAUTH_REFRESH_RESULT_OK && seen->items[0].state == OAUTH_REFRESH_TOKEN_STATE_UNUSED &&
            seen->items[0].attempts == 0 && !seen->items[0].off_main_thread,
        "a refreshed event carries no failure, on the caller's thread");

  oauth_refresh_strings list = {NULL, 99};
  CHECK(oauth_refresh_accounts_accounts(accounts, &list, NULL) == OAUTH_REFRESH_RESULT_OK, "accounts");
  CHECK(list.len == N && list.items != NULL, "%zu accounts listed", list.len);
  int sorted = list.len == N;
  for (size_t i = 0; sorted && i < list.len; i++) {
    snprintf(account, sizeof account, "acct-%03zu", i);
    sorted = strcmp(list.items[i], account) == 0;
  }
  CHECK(sorted, "every account, sorted");
  oauth_refresh_strings_free(&list);
  CHECK(list.items == NULL && list.len == 0, "a freed list is empty");
  oauth_refresh_strings_free(&list); /* again: nothing to free */
  oauth_refresh_strings_free(NULL);

  /* invalidate: the next call refreshes that account only. */
  oauth_refresh_accounts_invalidate(accounts, "acct-000");
  char *again = access_token(accounts, "acct-000", NULL);
  CHECK(again != NULL && first != NULL && strcmp(again, first) != 0, "invalidate: a new token");
  CHECK(server_token_requests("c-acc-many") == N + 1, "invalidate: one more refresh");
  oauth_refresh_string_free(again);
  oauth_refresh_string_free(first);

  bool removed = false;
  CHECK(oauth_refresh_accounts_remove(accounts, "acct-000", &removed, NULL) == OAUTH_REFRESH_RESULT_OK && removed,
        "remove: there was a grant");
  removed = true;
  CHECK(oauth_refresh_accounts_remove(accounts, "acct-000", &removed, NULL) == OAUTH_REFRESH_RESULT_OK && !removed,
        "remove again: there was none");
  CHECK(oauth_refresh_accounts_accounts(accounts, &list, NULL) == OAUTH_REFRESH_RESULT_OK && list.len == N - 1 &&
            strcmp(list.items[0], "acct-001") == 0,
        "removed from the list");
  oauth_refresh_strings_free(&list);
  oauth_refresh_result r = OAUTH_REFRESH_RESULT_OK;
  char *none = access_token(accounts, "acct-000", &r);
  CHECK(r == OAUTH_REFRESH_RESULT_INVALID_INPUT && none == NULL, "a removed account has no token: %s",
        oauth_refresh_result_name((uint32_t)r));
  CHECK(server_token_requests("c-acc-many") == N + 1, "nothing sent for it");
  oauth_refresh_accounts_free(accounts);
  events_free(seen);
}

/* A revoked grant: INVALID_GRANT every call but one request, NEEDS_REAUTHORIZATION health and
 * one event; a new grant recovers. Two handles share one memory store. */
static void a_revoked_grant_is_reported_once_and_recovers(void) {
  events *seen = events_new();
  oauth_refresh_store *store = NULL;
  CHECK(oauth_refresh_store_memory_new(&store) == OAUTH_REFRESH_RESULT_OK && store != NULL, "memory store");
  oauth_refresh_accounts_options options = app_options();
  options.store = store;
  options.on_event = record_event;
  options.context = seen;
  oauth_refresh_accounts *accounts = accounts_with("c-acc-revoked", "ok", options);
  add(accounts, "gone", "revoked-by-the-user");
  add(accounts, "fine", "seed-c-acc-fine");
  long long before = wall_ms();
  for (int i = 0; i < 5; i++) {
    char *access = SENTINEL_STRING;
    oauth_refresh_error *error = NULL;
    oauth_refresh_result r = oauth_refresh_accounts_access_token(accounts, "gone", &access, &error);
    CHECK(r == OAUTH_REFRESH_RESULT_INVALID_GRANT && access == SENTINEL_STRING, "call %d: invalid_grant, got %s", i,
          oauth_refresh_result_name((uint32_t)r));
    CHECK(oauth_refresh_error_refresh_token_state(error) == OAUTH_REFRESH_TOKEN_STATE_REJECTED, "call %d: rejected", i);
    const char *message = oauth_refresh_error_message(error);
    CHECK(message != NULL && strstr(message, "revoked-by-the-user") == NULL && strstr(message, "secret-app") == NULL,
          "call %d: no secret in the message", i);
    oauth_refresh_error_free(error);
  }
  char *access = access_token(accounts, "fine", NULL);
  oauth_refresh_string_free(access);
  CHECK(server_token_requests("c-acc-revoked") == 2, "a refused grant is not sent again");

  oauth_refresh_health h = health_of(accounts, "gone");
  CHECK(h.status == OAUTH_REFRESH_HEALTH_STATUS_NEEDS_REAUTHORIZATION && h.code == OAUTH_REFRESH_RESULT_INVALID_GRANT &&
            h.refresh_token_state == OAUTH_REFRESH_TOKEN_STATE_REJECTED && h.attempts == 1,
        "gone: needs reauthorization (status %d, attempts %u)", (int)h.status, h.attempts);
  CHECK(h.since_ms != 0 && (long long)h.since_ms >= before - 1000 && (long long)h.since_ms <= wall_ms() + 1000,
        "gone: since when (%llu)", (unsigned long long)h.since_ms);
  h = health_of(accounts, "fine");
  CHECK(h.status == OAUTH_REFRESH_HEALTH_STATUS_OK && h.code == OAUTH_REFRESH_RESULT_OK && h.since_ms == 0 &&
            h.attempts == 0 && h.refresh_token_state == OAUTH_REFRESH_TOKEN_STATE_UNUSED,
        "fine: ok");
  h = health_of(accounts, "never-seen");
  CHECK(h.status == OAUTH_REFRESH_HEALTH_STATUS_OK, "an account never refreshed here is ok");

  oauth_refresh_unhealthy sick = {NULL, 99};
  CHECK(oauth_refresh_accounts_unhealthy(accounts, &sick) == OAUTH_REFRESH_RESULT_OK, "unhealthy");
  CHECK(sick.len == 1 && strcmp(sick.items[0].account, "gone") == 0 &&
            sick.items[0].health.status == OAUTH_REFRESH_HEALTH_STATUS_NEEDS_REAUTHORIZATION &&
            sick.items[0].health.code == OAUTH_REFRESH_RESULT_INVALID_GRANT,
        "unhealthy: gone only (%zu)", sick.len);
  oauth_refresh_unhealthy_free(&sick);
  CHECK(sick.items == NULL && sick.len == 0, "a freed list is empty");
  oauth_refresh_unhealthy_free(&sick);
  oauth_refresh_unhealthy_free(NULL);

  CHECK(count_events(seen, OAUTH_REFRESH_EVENT_KIND_NEEDS_REAUTHORIZATION, NULL) == 1, "reported once");
  CHECK(count_events(seen, OAUTH_REFRESH_EVENT_KIND_FAILED, NULL) == 0, "and never as failed");
  CHECK(count_events(seen, OAUTH_REFRESH_EVENT_KIND_REFRESHED, "fine") == 1, "fine: refreshed");
  for (size_t i = 0; i < seen->len; i++) {
    seen_event *e = &seen->items[i];
    if (e->kind != OAUTH_REFRESH_EVENT_KIND_NEEDS_REAUTHORIZATION) continue;
    CHECK(strcmp(e->account, "gone") == 0 && e->code == OAUTH_REFRESH_RESULT_INVALID_GRANT &&
              e->state == OAUTH_REFRESH_TOKEN_STATE_REJECTED && e->attempts == 1,
          "the event says who, what and how many times");
  }

  /* A person authorized again: the new grant works and the account recovers. */
  add(accounts, "gone", "seed-c-acc-gone-again");
  access = access_token(accounts, "gone", NULL);
  oauth_refresh_string_free(access);
  CHECK(server_token_requests("c-acc-revoked") == 3, "the new grant was sent once");
  CHECK(health_of(accounts, "gone").status == OAUTH_REFRESH_HEALTH_STATUS_OK, "gone: ok again");
  CHECK(count_events(seen, OAUTH_REFRESH_EVENT_KIND_RECOVERED, "gone") == 1, "gone: recovered");
  CHECK(count_events(seen, OAUTH_REFRESH_EVENT_KIND_REFRESHED, "gone") == 1, "gone: refreshed");
  CHECK(oauth_refresh_accounts_unhealthy(accounts, &sick) == OAUTH_REFRESH_RESULT_OK && sick.len == 0 && sick.items == NULL,
        "nobody is unhealthy");
  oauth_refresh_unhealthy_free(&sick);

  /* A second handle on the same memory store sees the same grants. */
  oauth_refresh_accounts *other = accounts_with("c-acc-revoked", "ok", options);
  oauth_refresh_store_free(store); /* both handles keep their own reference */
  oauth_refresh_strings list = {NULL, 0};
  CHECK(oauth_refresh_accounts_accounts(other, &list, NULL) == OAUTH_REFRESH_RESULT_OK && list.len == 2 &&
            strcmp(list.items[0], "fine") == 0 && strcmp(list.items[1], "gone") == 0,
        "the shared memory store holds both");
  oauth_refresh_strings_free(&list);
  access = access_token(other, "fine", NULL);
  oauth_refresh_string_free(access);
  CHECK(server_token_requests("c-acc-revoked") == 3, "the other handle used the stored token");
  oauth_refresh_accounts_free(other);
  oauth_refresh_accounts_free(accounts);
  events_free(seen);
}

/* A 503 leaves the refresh token UNKNOWN: FAILED event and health, no resend by itself,
 * allow_resend lets one more request out, and the account recovers. */
static void a_failing_grant_and_allow_resend(void) {
  events *seen = events_new();
  char url[512];
  snprintf(url, sizeof url, "%s/c-acc-fail/fault=503,times=1/token", server_env("TOKEN_SERVER_URL"));
  oauth_refresh_client_options client_options = oauth_refresh_client_options_default();
  client_options.token_url = url;
  client_options.max_retries = 0;
  oauth_refresh_client *client = NULL;
  CHECK(oauth_refresh_client_new(&client_options, &client, NULL) == OAUTH_REFRESH_RESULT_OK, "client");
  oauth_refresh_accounts_options options = app_options();
  options.on_event = record_event;
  options.context = seen;
  oauth_refresh_accounts *accounts = NULL;
  CHECK(oauth_refresh_accounts_new(client, &options, &accounts, NULL) == OAUTH_REFRESH_RESULT_OK, "accounts");
  oauth_refresh_client_free(client);
  add(accounts, "flaky", "seed-c-acc-flaky");
  oauth_refresh_result r = OAUTH_REFRESH_RESULT_OK;
  char *access = access_token(accounts, "flaky", &r);
  CHECK(r == OAUTH_REFRESH_RESULT_SERVER_ERROR, "a 503: %s", oauth_refresh_result_name((uint32_t)r));
  oauth_refresh_health h = health_of(accounts, "flaky");
  CHECK(h.status == OAUTH_REFRESH_HEALTH_STATUS_FAILING && h.code == OAUTH_REFRESH_RESULT_SERVER_ERROR &&
            h.refresh_token_state == OAUTH_REFRESH_TOKEN_STATE_UNKNOWN && h.attempts == 1 && h.since_ms != 0,
        "failing, state unknown");
  CHECK(count_events(seen, OAUTH_REFRESH_EVENT_KIND_FAILED, "flaky") == 1 &&
            seen->items[0].code == OAUTH_REFRESH_RESULT_SERVER_ERROR &&
            seen->items[0].state == OAUTH_REFRESH_TOKEN_STATE_UNKNOWN && seen->items[0].attempts == 1,
        "one failed event");
  access = access_token(accounts, "flaky", &r);
  CHECK(r == OAUTH_REFRESH_RESULT_SERVER_ERROR && server_token_requests("c-acc-fail") == 1, "not resent by itself");
  oauth_refresh_accounts_allow_resend(accounts, "flaky");
  access = access_token(accounts, "flaky", &r);
  CHECK(r == OAUTH_REFRESH_RESULT_OK && access != NULL, "allow_resend: the next call sends it");
  oauth_refresh_string_free(access);
  CHECK(server_token_requests("c-acc-fail") == 2, "one more request");
  CHECK(health_of(accounts, "flaky").status == OAUTH_REFRESH_HEALTH_STATUS_OK, "ok again");
  CHECK(count_events(seen, OAUTH_REFRESH_EVENT_KIND_RECOVERED, "flaky") == 1, "recovered");
  CHECK(stats_of(accounts).failures >= 1, "failures counted");
  oauth_refresh_accounts_free(accounts);
  events_free(seen);
}

/* Refresh-ahead with 2 s tokens: after warm-up no caller waits, the cap on refreshes in
 * flight holds at the server, events come from its threads, and freeing stops it. */
static void refresh_ahead_keeps_callers_from_waiting(void) {
  enum { N = 6 };
  events *seen = events_new();
  oauth_refresh_accounts_options options = app_options();
  options.refresh_ahead = true;
  options.max_concurrent_refreshes = 2;
  options.min_window_ms = 800; /* callers refresh in the last 0.8 s, refresh-ahead in the 0.8 s before */
  options.jitter = 0;
  options.on_event = record_event;
  options.context = seen;
  oauth_refresh_accounts *accounts = accounts_with("c-acc-ahead", "expires=2,delay=20", options);
  char account[32], seed[64];
  for (int i = 0; i < N; i++) {
    snprintf(account, sizeof account, "ahead-%d", i);
    snprintf(seed, sizeof seed, "seed-c-acc-ahead-%d", i);
    add(accounts, account, seed);
    oauth_refresh_string_free(access_token(accounts, account, NULL)); /* warm-up: a caller's refresh */
  }
  uint64_t waits = stats_of(accounts).waits;
  long long until = mono_ms() + 1500;
  long calls = 0, failed = 0;
  while (mono_ms() < until) {
    for (int i = 0; i < N; i++) {
      snprintf(account, sizeof account, "ahead-%d", i);
      oauth_refresh_result r = OAUTH_REFRESH_RESULT_OK;
      char *access = access_token(accounts, account, &r);
      failed += r != OAUTH_REFRESH_RESULT_OK;
      oauth_refresh_string_free(access);
      calls++;
    }
    sleep_ms(10);
  }
  oauth_refresh_account_stats stats = stats_of(accounts);
  CHECK(failed == 0, "%ld of %ld calls failed", failed, calls);
  CHECK(stats.waits == waits, "no caller waited for a refresh (%llu waits in %ld calls)",
        (unsigned long long)(stats.waits - waits), calls);
  CHECK(stats.refreshed_ahead >= N, "refresh-ahead refreshed every account (%llu)", (unsigned long long)stats.refreshed_ahead);
  CHECK(stats.failures == 0, "no failure");
  long max_in_flight = server_stat("c-acc-ahead", "max_in_flight");
  CHECK(max_in_flight >= 1 && max_in_flight <= 2, "%ld refreshes at once, cap 2", max_in_flight);
  int off_main = 0;
  for (size_t i = 0; i < seen->len; i++) off_main += seen->items[i].off_main_thread;
  CHECK(off_main >= N, "refresh-ahead's events came from its threads (%d)", off_main);

  oauth_refresh_accounts_free(accounts); /* stops refresh-ahead, waiting for the refreshes in flight */
  long requests = server_token_requests("c-acc-ahead");
  size_t events_seen = seen->len;
  CHECK(requests >= (long)stats.refreshes &&
            count_events(seen, OAUTH_REFRESH_EVENT_KIND_REFRESHED, NULL) == (int)requests && seen->dropped == 0,
        "every request was a refresh, each with its event (%ld requests)", requests);
  sleep_ms(1000);
  CHECK(server_token_requests("c-acc-ahead") == requests && seen->len == events_seen, "nothing refreshes after free");
  events_free(seen);
}

/* A child process: one handle on `store` (made by `make_store`), asking every account for a
 * token in turn for `seconds` (0: once each, in `order`); writes its stats to `out`. Returns
 * the failures (the exit status). */
typedef oauth_refresh_store *(*store_maker)(const char *where);

static int share_worker(const char *scope, const char *modes, store_maker make_store, const char *where, int n,
                        int seconds, int order, int out) {
  oauth_refresh_store *store = make_store(where);
  oauth_refresh_accounts_options options = app_options();
  options.store = store;
  options.min_window_ms = 300;
  options.jitter = 0;
  oauth_refresh_accounts *accounts = accounts_with(scope, modes, options);
  oauth_refresh_store_free(store);
  if (accounts == NULL) return 1;
  int failures = 0;
  long long until = mono_ms() + seconds * 1000LL;
  char account[32];
  do {
    for (int k = 0; k < n; k++) {
      int i = order ? n - 1 - k : k;
      snprintf(account, sizeof account, "co-%d", i);
      char *access = NULL;
      oauth_refresh_error *error = NULL;
      if (oauth_refresh_accounts_access_token(accounts, account, &access, &error) != OAUTH_REFRESH_RESULT_OK) {
        fprintf(stderr, "worker %s: %s\n", account, oauth_refresh_error_message(error));
        failures++;
      }
      oauth_refresh_string_free(access);
      oauth_refresh_error_free(error);
    }
    if (seconds > 0) sleep_ms(5);
  } while (mono_ms() < until);
  oauth_refresh_account_stats stats = stats_of(accounts);
  if (write(out, &stats, sizeof stats) != (ssize_t)sizeof stats) failures++;
  oauth_refresh_accounts_free(accounts);
  return failures > 255 ? 255 : failures;
}

static oauth_refresh_store *directory_store(const char *dir) {
  oauth_refresh_store *store = NULL;
  CHECK(oauth_refresh_store_file_new(dir, NULL, &store, NULL) == OAUTH_REFRESH_RESULT_OK, "directory store");
  return store;
}

static oauth_refresh_store *every_account_redis(const char *prefix) {
  oauth_refresh_store_options options = oauth_refresh_store_options_default();
  options.prefix = prefix;
  oauth_refresh_store *store = NULL;
  CHECK(oauth_refresh_store_redis_new(getenv("REDIS_URL"), &options, &store, NULL) == OAUTH_REFRESH_RESULT_OK,
        "every-account Redis store");
  return store;
}

/* Two processes share `n` accounts through one store: two children are forked first (so no
 * thread of this process is copied into them), the parent adds the grants, then the
 * children ask for tokens; returns their summed stats. Each child builds its own client and
 * handle: nothing crosses the fork but the store's location. */
static oauth_refresh_account_stats two_processes(const char *scope, const char *modes, store_maker make_store,
                                                  const char *where, int n, int seconds) {
  int results[2][2], go[2][2];
  pid_t children[2];
  for (int c = 0; c < 2; c++) {
    if (pipe(results[c]) != 0 || pipe(go[c]) != 0) exit(2);
    fflush(NULL);
    children[c] = fork();
    if (children[c] == 0) {
      close(results[c][0]);
      close(go[c][1]);
      char byte = 0;
      if (read(go[c][0], &byte, 1) != 1) _exit(3); /* the parent gave up */
      _exit(share_worker(scope, modes, make_store, where, n, seconds, c, results[c][1]));
    }
    close(results[c][1]);
    close(go[c][0]);
  }
  oauth_refresh_store *store = make_store(where);
  oauth_refresh_accounts_options options = app_options();
  options.store = store;
  oauth_refresh_accounts *seeding = accounts_with(scope, "ok", options);
  char account[32], seed[64];
  for (int i = 0; i < n; i++) {
    snprintf(account, sizeof account, "co-%d", i);
    snprintf(seed, sizeof seed, "seed-%s-%d", scope, i);
    add(seeding, account, seed);
  }
  oauth_refresh_accounts_free(seeding);
  oauth_refresh_store_free(store);
  for (int c = 0; c < 2; c++) {
    CHECK(write(go[c][1], "g", 1) == 1, "start worker %d", c);
    close(go[c][1]);
  }

  oauth_refresh_account_stats sum;
  memset(&sum, 0, sizeof sum);
  for (int c = 0; c < 2; c++) {
    oauth_refresh_account_stats stats;
    memset(&stats, 0, sizeof stats);
    ssize_t got = read(results[c][0], &stats, sizeof stats);
    close(results[c][0]);
    int status = 0;
    waitpid(children[c], &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && got == (ssize_t)sizeof stats, "%s: worker %d had no failure",
          scope, c);
    sum.refreshes += stats.refreshes;
    sum.adoptions += stats.adoptions;
    sum.failures += stats.failures;
  }
  return sum;
}

/* After the children: a new handle on the store finds every grant, current at the server. */
static void every_grant_is_current(const char *scope, store_maker make_store, const char *where, int n) {
  oauth_refresh_store *store = make_store(where);
  oauth_refresh_accounts_options options = app_options();
  options.store = store;
  options.min_window_ms = 0;
  oauth_refresh_accounts *accounts = accounts_with(scope, "ok", options);
  oauth_refresh_store_free(store);
  oauth_refresh_strings list = {NULL, 0};
  CHECK(oauth_refresh_accounts_accounts(accounts, &list, NULL) == OAUTH_REFRESH_RESULT_OK && list.len == (size_t)n,
        "%s: the store lists %zu accounts", scope, list.len);
  oauth_refresh_strings_free(&list);
  int current = 0;
  char account[32], seed[64];
  for (int i = 0; i < n; i++) {
    snprintf(account, sizeof account, "co-%d", i);
    snprintf(seed, sizeof seed, "seed-%s-%d", scope, i);
    oauth_refresh_token *token = NULL;
    if (oauth_refresh_accounts_token(accounts, account, &token, NULL) == OAUTH_REFRESH_RESULT_OK &&
        server_current_is(seed, oauth_refresh_token_refresh_token(token))) {
      current++;
    }
    oauth_refresh_token_free(token);
  }
  CHECK(current == n, "%s: %d of %d grants are the server's current ones", scope, current, n);
  oauth_refresh_accounts_free(accounts);
}

/* A directory shared by two processes, tokens living 1 s in "reuse revokes the family" mode:
 * every refresh coordinated (a refresh token sent twice would revoke its family, failing
 * every later call and leaving no current grant), each request one process's refresh. */
static void two_processes_share_a_directory(const char *dir) {
  enum { N = 6 };
  char where[600];
  snprintf(where, sizeof where, "%s/accounts", dir);
  oauth_refresh_account_stats sum = two_processes("c-acc-dir", "family,expires=1", directory_store, where, N, 1);
  long requests = server_token_requests("c-acc-dir");
  CHECK(sum.failures == 0 && (long)sum.refreshes == requests, "%ld requests, %llu refreshes", requests,
        (unsigned long long)sum.refreshes);
  CHECK(requests >= N && requests <= N * 4, "%ld refreshes for %d accounts over about 2 lifetimes", requests, N);
  every_grant_is_current("c-acc-dir", directory_store, where, N);
}

/* One every-account Redis store shared by two processes asking at once for long-lived
 * tokens: exactly one refresh per account between them. A store of one account refuses to
 * serve the accounts, and one of every account refuses a manager. */
static void two_processes_share_redis(void) {
  enum { N = 10 };
  char prefix[64];
  snprintf(prefix, sizeof prefix, "c-acc-%ld", (long)getpid());
  oauth_refresh_account_stats sum = two_processes("c-acc-redis", "delay=20", every_account_redis, prefix, N, 0);
  CHECK(server_token_requests("c-acc-redis") == N && sum.refreshes == N, "one refresh per account: %ld requests",
        server_token_requests("c-acc-redis"));
  every_grant_is_current("c-acc-redis", every_account_redis, prefix, N);
  CHECK(server_token_requests("c-acc-redis") == N, "the grants came from Redis");

  oauth_refresh_store_options one = oauth_refresh_store_options_default();
  one.prefix = prefix;
  one.account = "co-1";
  oauth_refresh_store *single = NULL;
  CHECK(oauth_refresh_store_redis_new(getenv("REDIS_URL"), &one, &single, NULL) == OAUTH_REFRESH_RESULT_OK, "single");
  oauth_refresh_accounts_options options = app_options();
  options.store = single;
  oauth_refresh_accounts *accounts = accounts_with("c-acc-redis", "ok", options);
  oauth_refresh_result r = OAUTH_REFRESH_RESULT_OK;
  char *access = access_token(accounts, "co-1", &r);
  CHECK(r == OAUTH_REFRESH_RESULT_INVALID_INPUT && access == NULL, "one account's store serves no accounts handle");
  oauth_refresh_accounts_free(accounts);
  oauth_refresh_store_free(single);

  oauth_refresh_store *every = every_account_redis(prefix);
  oauth_refresh_client *client = client_for("c-acc-redis", "ok");
  oauth_refresh_manager_options manager_options = oauth_refresh_manager_options_default();
  manager_options.client_id = "app";
  manager_options.client_secret = "secret-app";
  manager_options.refresh_token = "seed-c-acc-redis-manager";
  manager_options.store = every;
  oauth_refresh_manager *manager = NULL;
  CHECK(oauth_refresh_manager_new(client, &manager_options, &manager, NULL) == OAUTH_REFRESH_RESULT_OK, "manager");
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_manager_token(manager, &token, NULL) == OAUTH_REFRESH_RESULT_INVALID_INPUT && token == NULL,
        "every account's store serves no manager");
  oauth_refresh_manager_free(manager);
  oauth_refresh_client_free(client);
  oauth_refresh_store_free(every);
  CHECK(server_token_requests("c-acc-redis") == N, "neither sent anything");
}

/* One oauth_refresh_accounts_new() that must fail with `want`, its message naming `names`. */
static void refused_options(const oauth_refresh_client *client, oauth_refresh_accounts_options options,
                            oauth_refresh_result want, const char *names, const char *what) {
  oauth_refresh_accounts *accounts = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result r = oauth_refresh_accounts_new(client, &options, &accounts, &error);
  const char *message = error ? oauth_refresh_error_message(error) : "";
  CHECK(r == want && accounts == NULL && error != NULL, "%s: got %s", what, oauth_refresh_result_name((uint32_t)r));
  CHECK(names == NULL || strstr(message, names) != NULL, "%s: the message names %s: %s", what, names, message);
  CHECK(strstr(message, "secret-app") == NULL, "%s: no secret in the message", what);
  oauth_refresh_error_free(error);
}

static void bad_arguments_and_options(void) {
  oauth_refresh_client *client = client_for("c-acc-bad", "ok");
  oauth_refresh_accounts_options defaults = oauth_refresh_accounts_options_default();
  CHECK(defaults.client_id == NULL && defaults.store == NULL && defaults.on_event == NULL && defaults.context == NULL,
        "no credentials, store or hook by default");
  CHECK(defaults.min_window_ms == 30000 && defaults.refresh_fraction == 0.1 && defaults.max_cached_accounts == 10000 &&
            !defaults.refresh_ahead && defaults.max_concurrent_refreshes == 4 && defaults.requests_per_minute == 0 &&
            defaults.keep_alive_ms == 0 && defaults.lease_ttl_ms == 10000,
        "the core's defaults");

  oauth_refresh_accounts_options options = app_options();
  oauth_refresh_accounts *accounts = NULL;
  CHECK(oauth_refresh_accounts_new(NULL, &options, &accounts, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "client");
  CHECK(oauth_refresh_accounts_new(client, NULL, &accounts, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "options");
  CHECK(oauth_refresh_accounts_new(client, &options, NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "accounts_out");
  refused_options(client, defaults, OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "client_id", "no client_id");
  options.client_secret = NULL;
  refused_options(client, options, OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "client_secret", "no client_secret");
  options = app_options();
  options.client_secret = "";
  refused_options(client, options, OAUTH_REFRESH_RESULT_INVALID_INPUT, "client_secret", "an empty client_secret");
  options = app_options();
  options.refresh_fraction = 1.5;
  refused_options(client, options, OAUTH_REFRESH_RESULT_INVALID_INPUT, "refresh_fraction", "refresh_fraction 1.5");
  options = app_options();
  options.max_concurrent_refreshes = 0;
  refused_options(client, options, OAUTH_REFRESH_RESULT_INVALID_INPUT, "max_concurrent_refreshes", "no refresh at once");
  options = app_options();
  options.max_cached_accounts = 0;
  refused_options(client, options, OAUTH_REFRESH_RESULT_INVALID_INPUT, "max_cached_accounts", "no account cached");
  options = app_options();
  options.keep_alive_ms = 400ULL * 24 * 3600 * 1000; /* over a year */
  refused_options(client, options, OAUTH_REFRESH_RESULT_INVALID_INPUT, "keep_alive_ms", "keep_alive over a year");
  options = app_options();
  options.min_window_ms = UINT64_MAX;
  refused_options(client, options, OAUTH_REFRESH_RESULT_INVALID_INPUT, "min_window_ms", "min_window too long");
  options = app_options();
  options.scope = "\xff";
  refused_options(client, options, OAUTH_REFRESH_RESULT_INVALID_UTF8, "scope", "scope not UTF-8");
  CHECK(accounts == NULL, "accounts_out untouched");

  options = app_options();
  CHECK(oauth_refresh_accounts_new(client, &options, &accounts, NULL) == OAUTH_REFRESH_RESULT_OK, "accounts");
  char long_id[258];
  memset(long_id, 'a', sizeof long_id - 1);
  long_id[257] = '\0'; /* 257 bytes: one too many */
  const char *bad_ids[] = {"", long_id, "\xff"};
  const oauth_refresh_result bad_results[] = {OAUTH_REFRESH_RESULT_INVALID_INPUT, OAUTH_REFRESH_RESULT_INVALID_INPUT,
                                              OAUTH_REFRESH_RESULT_INVALID_UTF8};
  for (int i = 0; i < 3; i++) {
    oauth_refresh_error *error = NULL;
    CHECK(oauth_refresh_accounts_add(accounts, bad_ids[i], "seed-c-acc-bad", &error) == bad_results[i], "add: bad id %d", i);
    CHECK(error != NULL && oauth_refresh_error_code(error) == bad_results[i], "add: bad id %d: an error", i);
    oauth_refresh_error_free(error);
    char *access = SENTINEL_STRING;
    CHECK(oauth_refresh_accounts_access_token(accounts, bad_ids[i], &access, NULL) == bad_results[i] &&
              access == SENTINEL_STRING,
          "access_token: bad id %d", i);
    bool removed = true;
    CHECK(oauth_refresh_accounts_remove(accounts, bad_ids[i], &removed, NULL) == bad_results[i] && removed,
          "remove: bad id %d", i);
  }
  long_id[256] = '\0'; /* 256 bytes: the longest id */
  add(accounts, long_id, "seed-c-acc-long");
  char *access = access_token(accounts, long_id, NULL);
  oauth_refresh_string_free(access);
  CHECK(oauth_refresh_accounts_add(accounts, "a", "", NULL) == OAUTH_REFRESH_RESULT_INVALID_INPUT, "an empty grant");
  CHECK(oauth_refresh_accounts_add(accounts, "a", NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "a NULL grant");
  CHECK(oauth_refresh_accounts_add(accounts, NULL, "seed-x", NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "a NULL id");
  CHECK(oauth_refresh_accounts_add(NULL, "a", "seed-x", NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "a NULL handle");

  /* NULL everywhere else: refused, nothing written. */
  access = SENTINEL_STRING;
  oauth_refresh_error *error = NULL;
  CHECK(oauth_refresh_accounts_access_token(NULL, "a", &access, &error) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT &&
            access == SENTINEL_STRING && error != NULL && strstr(oauth_refresh_error_message(error), "accounts") != NULL,
        "access_token: NULL handle");
  oauth_refresh_error_free(error);
  CHECK(oauth_refresh_accounts_access_token(accounts, NULL, &access, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT,
        "access_token: NULL id");
  CHECK(oauth_refresh_accounts_access_token(accounts, "a", NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT,
        "access_token: NULL out");
  oauth_refresh_token *token = NULL;
  CHECK(oauth_refresh_accounts_token(NULL, "a", &token, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "token: NULL handle");
  CHECK(oauth_refresh_accounts_token(accounts, "a", NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "token: NULL out");
  CHECK(oauth_refresh_accounts_token(accounts, "unknown", &token, NULL) == OAUTH_REFRESH_RESULT_INVALID_INPUT &&
            token == NULL,
        "token: an account without a grant");
  CHECK(oauth_refresh_accounts_remove(accounts, "a", NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "remove: NULL out");
  oauth_refresh_strings list = {NULL, 7};
  CHECK(oauth_refresh_accounts_accounts(NULL, &list, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT && list.len == 7,
        "accounts: NULL handle");
  CHECK(oauth_refresh_accounts_accounts(accounts, NULL, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "accounts: NULL out");
  oauth_refresh_health health;
  health.attempts = 7;
  CHECK(oauth_refresh_accounts_health(NULL, "a", &health) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "health: NULL handle");
  CHECK(oauth_refresh_accounts_health(accounts, NULL, &health) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "health: NULL id");
  CHECK(oauth_refresh_accounts_health(accounts, "\xff", &health) == OAUTH_REFRESH_RESULT_INVALID_UTF8, "health: not UTF-8");
  CHECK(oauth_refresh_accounts_health(accounts, "a", NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "health: NULL out");
  CHECK(health.attempts == 7, "health: nothing written");
  oauth_refresh_unhealthy sick = {NULL, 7};
  CHECK(oauth_refresh_accounts_unhealthy(NULL, &sick) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT && sick.len == 7,
        "unhealthy: NULL handle");
  CHECK(oauth_refresh_accounts_unhealthy(accounts, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "unhealthy: NULL out");
  oauth_refresh_account_stats stats;
  stats.refreshes = 7;
  CHECK(oauth_refresh_accounts_stats(NULL, &stats) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT && stats.refreshes == 7,
        "stats: NULL handle");
  CHECK(oauth_refresh_accounts_stats(accounts, NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "stats: NULL out");
  CHECK(oauth_refresh_store_memory_new(NULL) == OAUTH_REFRESH_RESULT_NULL_ARGUMENT, "memory store: NULL out");
  oauth_refresh_accounts_invalidate(NULL, "a");
  oauth_refresh_accounts_invalidate(accounts, NULL);
  oauth_refresh_accounts_allow_resend(NULL, "a");
  oauth_refresh_accounts_allow_resend(accounts, NULL);
  oauth_refresh_accounts_free(NULL);
  CHECK(server_token_requests("c-acc-bad") == 1, "only the longest id's grant was sent");
  oauth_refresh_accounts_free(accounts);
  oauth_refresh_client_free(client);
}

#ifdef TIMING
/* cc -DTIMING: how long each case takes. */
#define RUN(call)                                              \
  do {                                                         \
    long long started = mono_ms();                             \
    call;                                                      \
    fprintf(stderr, "%s: %lld ms\n", #call, mono_ms() - started); \
  } while (0)
#else
#define RUN(call) call
#endif

int main(void) {
  main_thread = pthread_self();
  char dir[] = "/tmp/oauth-refresh-c-acc-XXXXXX";
  if (mkdtemp(dir) == NULL) return 2;
  /* The processes first, before this process has started any thread. */
  RUN(two_processes_share_a_directory(dir));
  if (getenv("REDIS_URL") != NULL) {
    RUN(two_processes_share_redis());
  } else {
    fprintf(stderr, "SKIPPED the Redis case: %s\n", getenv("REDIS_SKIP") ? getenv("REDIS_SKIP") : "REDIS_URL is not set");
  }
  RUN(many_accounts_in_one_process());
  RUN(a_revoked_grant_is_reported_once_and_recovers());
  RUN(a_failing_grant_and_allow_resend());
  RUN(refresh_ahead_keeps_callers_from_waiting());
  RUN(bad_arguments_and_options());
  char cleanup[600];
  snprintf(cleanup, sizeof cleanup, "rm -rf %s", dir);
  if (system(cleanup) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return finish();
}
