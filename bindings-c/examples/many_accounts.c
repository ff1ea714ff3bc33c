/* `make demo`, C part: tokens for many accounts under one client and one store, kept fresh
 * ahead of callers, with events and health per account. Secrets never reach the output.
 * Build: cc many_accounts.c $(pkg-config --cflags --libs oauth_refresh) */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include <oauth_refresh.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *const COMPANIES[] = {"company-1", "company-2", "company-3"};

static const char *kind_name(oauth_refresh_event_kind kind) {
  switch (kind) {
    case OAUTH_REFRESH_EVENT_KIND_REFRESHED: return "refreshed";
    case OAUTH_REFRESH_EVENT_KIND_FAILED: return "failed";
    case OAUTH_REFRESH_EVENT_KIND_NEEDS_REAUTHORIZATION: return "needs_reauthorization";
    case OAUTH_REFRESH_EVENT_KIND_RECOVERED: return "recovered";
  }
  return "unknown";
}

/* Called on the thread that saw the event (often a refresh-ahead thread), maybe on several
 * at once: keep it short and thread-safe. `event` is valid only during the call. */
static void on_event(void *context, const oauth_refresh_account_event *event) {
  (void)context;
  if (event->code == OAUTH_REFRESH_RESULT_OK) {
    printf("c: event %s for %s\n", kind_name(event->kind), event->account);
  } else {
    printf("c: event %s for %s (%s)\n", kind_name(event->kind), event->account,
           oauth_refresh_result_name((uint32_t)event->code));
  }
  fflush(stdout);
}

static long long now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

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
  /* Access tokens that live 2 s, so refresh-ahead shows within the demo. */
  snprintf(url, sizeof url, "%s/c-many/expires=2/token", server);
  oauth_refresh_client_options client_options = oauth_refresh_client_options_default();
  client_options.token_url = url;
  oauth_refresh_client *client = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result result = oauth_refresh_client_new(&client_options, &client, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("client", result, error);

  oauth_refresh_accounts_options options = oauth_refresh_accounts_options_default();
  options.client_id = "demo-app";
  options.client_secret = "secret-demo-app";
  options.store = NULL;          /* memory; a directory (file store) for one host, Redis for many */
  options.refresh_ahead = true;  /* off by default in the library */
  options.min_window_ms = 500;
  options.max_concurrent_refreshes = 2;
  options.on_event = on_event;
  options.context = NULL;
  oauth_refresh_accounts *accounts = NULL;
  result = oauth_refresh_accounts_new(client, &options, &accounts, &error);
  oauth_refresh_client_free(client); /* the accounts handle keeps its own reference */
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("accounts", result, error);

  /* Grants arrive from your onboarding flow (Gusto: one per company). */
  char seed[64];
  for (size_t i = 0; i < 3; i++) {
    snprintf(seed, sizeof seed, "seed-c-many-%s", COMPANIES[i]);
    result = oauth_refresh_accounts_add(accounts, COMPANIES[i], seed, &error);
    if (result != OAUTH_REFRESH_RESULT_OK) return fail("add", result, error);
  }
  result = oauth_refresh_accounts_add(accounts, "company-revoked", "revoked-c-many", &error); /* the server refuses it */
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("add", result, error);

  oauth_refresh_strings list = {NULL, 0};
  result = oauth_refresh_accounts_accounts(accounts, &list, &error);
  if (result != OAUTH_REFRESH_RESULT_OK) return fail("accounts", result, error);
  for (size_t i = 0; i < list.len; i++) {
    char *access = NULL;
    result = oauth_refresh_accounts_access_token(accounts, list.items[i], &access, &error);
    if (result == OAUTH_REFRESH_RESULT_INVALID_GRANT) {
      printf("c: %s needs a person to authorize again (%s)\n", list.items[i], oauth_refresh_result_name((uint32_t)result));
      oauth_refresh_error_free(error);
      error = NULL;
    } else if (result != OAUTH_REFRESH_RESULT_OK) {
      return fail("access_token", result, error);
    }
    oauth_refresh_string_free(access); /* use it for an API call first; this wipes it */
  }
  oauth_refresh_strings_free(&list);

  /* Callers keep asking; refresh-ahead refreshes before any of them has to wait (the first
   * call of a new grant waits for its first refresh: counted from here). */
  oauth_refresh_account_stats stats;
  if (oauth_refresh_accounts_stats(accounts, &stats) != OAUTH_REFRESH_RESULT_OK) return 1;
  uint64_t warm = stats.waits;
  long long until = now_ms() + 2500;
  while (now_ms() < until) {
    for (size_t i = 0; i < 3; i++) {
      char *access = NULL;
      result = oauth_refresh_accounts_access_token(accounts, COMPANIES[i], &access, &error);
      if (result != OAUTH_REFRESH_RESULT_OK) return fail("access_token", result, error);
      oauth_refresh_string_free(access);
    }
    struct timespec pause = {0, 50 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }

  oauth_refresh_unhealthy sick = {NULL, 0};
  if (oauth_refresh_accounts_unhealthy(accounts, &sick) != OAUTH_REFRESH_RESULT_OK) return 1;
  for (size_t i = 0; i < sick.len; i++) {
    const oauth_refresh_health *h = &sick.items[i].health;
    printf("c: unhealthy %s: %s, %u attempt(s)\n", sick.items[i].account,
           oauth_refresh_result_name((uint32_t)h->code), h->attempts);
  }
  oauth_refresh_unhealthy_free(&sick);
  if (oauth_refresh_accounts_stats(accounts, &stats) != OAUTH_REFRESH_RESULT_OK) return 1;
  printf("c: %llu refreshes (%llu ahead), %llu callers waited after the first calls\n",
         (unsigned long long)stats.refreshes, (unsigned long long)stats.refreshed_ahead,
         (unsigned long long)(stats.waits - warm));
  oauth_refresh_accounts_free(accounts); /* stops refresh-ahead and joins its threads */
  return 0;
}
