/* Every case of tests/conformance/cases.json (via the generated cases.h), through the C API. */
#define _POSIX_C_SOURCE 200809L
#include <oauth_refresh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support.h"

typedef struct {
  const char *name, *dialect, *client_auth, *body_encoding;
  int max_retries;
  unsigned long timeout_ms, connect_timeout_ms;
  const char *api_version, *token_url, *target, *modes;
  int system_access, reuse;
  const char *client_id, *client_secret, *refresh_token, *grant_type, *redirect_uri, *scope;
  int expect_token;
  const char *token_type;
  long expires_in;
  const char *token_scope;
  int rotated, has_refresh_token, refresh_token_kept, has_id_token, has_created_at;
  const char *extra_keys;
  const char *code, *state;
  int status, retryable;
  const char *server_error;
  long retry_after_s;
  int salvaged;
  long requests;
  const char *server_saw[4][2];
} conformance_case;

#include "cases.h"

/* Copies `text` with every "{scope}" replaced; NULL stays NULL. */
static char *with_scope(const char *text, const char *scope) {
  if (text == NULL) return NULL;
  size_t cap = strlen(text) + 8 * strlen(scope) + 1;
  char *out = malloc(cap);
  out[0] = '\0';
  const char *p = text, *hit;
  while ((hit = strstr(p, "{scope}")) != NULL) {
    strncat(out, p, (size_t)(hit - p));
    strcat(out, scope);
    p = hit + strlen("{scope}");
  }
  strcat(out, p);
  return out;
}

static const char *state_name(oauth_refresh_token_state s) {
  return s == OAUTH_REFRESH_TOKEN_STATE_UNUSED ? "unused" : s == OAUTH_REFRESH_TOKEN_STATE_REJECTED ? "rejected" : "unknown";
}

static const char *base_url(const conformance_case *c, char *buf, size_t len) {
  const char *url = server_env("TOKEN_SERVER_URL");
  if (c->target == NULL) return url;
  if (strcmp(c->target, "blackhole") == 0) return server_env("TOKEN_SERVER_BLACKHOLE");
  if (strcmp(c->target, "refused") == 0) return server_env("TOKEN_SERVER_REFUSED");
  snprintf(buf, len, "https://%s", url + strlen("http://")); /* tls: https to a plain port */
  return buf;
}

static oauth_refresh_result run(const oauth_refresh_client *client, const conformance_case *c,
                                const oauth_refresh_request *request, oauth_refresh_token **token,
                                oauth_refresh_error **error) {
  if (c->system_access) {
    return oauth_refresh_client_system_access(client, request->client_id, request->client_secret, token, error);
  }
  return oauth_refresh_client_refresh(client, request, token, error);
}

static void check_token(const conformance_case *c, const oauth_refresh_token *t, const char *sent) {
  const char *rt = oauth_refresh_token_refresh_token(t);
  CHECK(strcmp(oauth_refresh_token_token_type(t), c->token_type) == 0, "%s: token_type", c->name);
  CHECK(oauth_refresh_token_expires_in(t) == c->expires_in, "%s: expires_in", c->name);
  const char *scope = oauth_refresh_token_scope(t);
  CHECK(scope != NULL && strcmp(scope, c->token_scope) == 0, "%s: scope", c->name);
  CHECK(oauth_refresh_token_refresh_token_rotated(t) == (c->rotated != 0), "%s: rotated", c->name);
  CHECK((rt != NULL) == (c->has_refresh_token != 0), "%s: has refresh token", c->name);
  CHECK((sent != NULL && rt != NULL && strcmp(rt, sent) == 0) == (c->refresh_token_kept != 0), "%s: kept", c->name);
  CHECK((oauth_refresh_token_id_token(t) != NULL) == (c->has_id_token != 0), "%s: id_token", c->name);
  CHECK((oauth_refresh_token_created_at(t) >= 0) == (c->has_created_at != 0), "%s: created_at", c->name);
  const char *extra = oauth_refresh_token_extra_json(t);
  if (c->extra_keys[0] == '\0') {
    CHECK(strcmp(extra, "{}") == 0, "%s: extra is empty", c->name);
  } else {
    char key[128];
    snprintf(key, sizeof key, "\"%s\":", c->extra_keys); /* one key in today's cases */
    CHECK(strstr(extra, key) != NULL, "%s: extra has %s", c->name, c->extra_keys);
  }
  CHECK(strlen(oauth_refresh_token_access_token(t)) > 0, "%s: access token", c->name);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  long long now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
  if (c->expires_in < 0) {
    /* expires_in null: no lifetime known (absent or absurd), so no expiry either. */
    CHECK(oauth_refresh_token_expires_at_ms(t) == -1, "%s: no expires_at", c->name);
  } else {
    /* Anchored to when the request was sent, so never later than now + expires_in. */
    CHECK(oauth_refresh_token_expires_at_ms(t) <= now_ms + c->expires_in * 1000, "%s: expires_at", c->name);
  }
  if (oauth_refresh_token_refresh_token_rotated(t)) {
    CHECK(server_current_is(sent, rt), "%s: the server's current token", c->name);
  }
}

static void check_error(const conformance_case *c, oauth_refresh_result result, const oauth_refresh_error *e,
                        const char *secret, const char *sent) {
  CHECK(strcmp(oauth_refresh_result_name((uint32_t)result), c->code) == 0, "%s: code %s", c->name,
        oauth_refresh_result_name((uint32_t)result));
  CHECK(oauth_refresh_error_code(e) == result, "%s: error object code", c->name);
  CHECK(strcmp(state_name(oauth_refresh_error_refresh_token_state(e)), c->state) == 0, "%s: state", c->name);
  CHECK(oauth_refresh_error_status(e) == c->status, "%s: status %u", c->name, oauth_refresh_error_status(e));
  CHECK(oauth_refresh_error_retryable(e) == (c->retryable != 0), "%s: retryable", c->name);
  const char *server_error = oauth_refresh_error_server_error(e);
  CHECK(c->server_error == NULL ? server_error == NULL : (server_error && strcmp(server_error, c->server_error) == 0),
        "%s: server error", c->name);
  long long retry_after = oauth_refresh_error_retry_after_ms(e);
  CHECK(c->retry_after_s < 0 ? retry_after == -1 : retry_after == c->retry_after_s * 1000, "%s: retry_after", c->name);
  const char *salvaged = oauth_refresh_error_salvaged_refresh_token(e);
  if (c->salvaged) {
    CHECK(salvaged != NULL && server_current_is(sent, salvaged), "%s: salvaged token is current", c->name);
  } else {
    CHECK(salvaged == NULL, "%s: nothing salvaged", c->name);
  }
  const char *message = oauth_refresh_error_message(e);
  CHECK(message != NULL && strlen(message) > 0, "%s: message", c->name);
  if (message != NULL && secret != NULL && strlen(secret) >= 4) CHECK(strstr(message, secret) == NULL, "%s: secret in message", c->name);
  if (message != NULL && sent != NULL && strlen(sent) >= 4) CHECK(strstr(message, sent) == NULL, "%s: token in message", c->name);
}

static void run_case(const conformance_case *c) {
  char scope[160], url[512], base_buf[256], gusto_base[512];
  snprintf(scope, sizeof scope, "c-%s", c->name);
  const char *base = base_url(c, base_buf, sizeof base_buf);
  oauth_refresh_client_options options;
  if (c->token_url != NULL) {
    options = oauth_refresh_client_options_default();
    options.token_url = c->token_url;
  } else if (c->dialect != NULL && strcmp(c->dialect, "gusto") == 0) {
    snprintf(gusto_base, sizeof gusto_base, "%s/%s/%s", base, scope, c->modes);
    options = oauth_refresh_gusto_options(gusto_base);
    options.gusto_api_version = c->api_version;
  } else {
    snprintf(url, sizeof url, "%s/%s/%s/token", base, scope, c->modes);
    options = oauth_refresh_client_options_default();
    options.token_url = url;
    options.client_auth = c->client_auth;
    options.body_encoding = c->body_encoding;
  }
  options.max_retries = c->max_retries;
  options.timeout_ms = c->timeout_ms;
  options.connect_timeout_ms = c->connect_timeout_ms;

  char *client_id = with_scope(c->client_id, scope), *secret = with_scope(c->client_secret, scope);
  char *sent = with_scope(c->refresh_token, scope);
  oauth_refresh_request request = {client_id, secret, c->grant_type, sent, c->redirect_uri, c->scope};
  oauth_refresh_client *client = NULL;
  oauth_refresh_token *token = NULL;
  oauth_refresh_error *error = NULL;
  oauth_refresh_result result = oauth_refresh_client_new(&options, &client, &error);
  if (result == OAUTH_REFRESH_RESULT_OK && c->reuse) {
    CHECK(run(client, c, &request, &token, &error) == OAUTH_REFRESH_RESULT_OK, "%s: first use", c->name);
    oauth_refresh_token_free(token);
    token = NULL;
  }
  if (result == OAUTH_REFRESH_RESULT_OK) result = run(client, c, &request, &token, &error);

  if (c->expect_token) {
    CHECK(result == OAUTH_REFRESH_RESULT_OK, "%s: expected a token, got %s: %s", c->name,
          oauth_refresh_result_name((uint32_t)result), error ? oauth_refresh_error_message(error) : "");
    CHECK(error == NULL, "%s: error_out untouched on success", c->name);
    if (token != NULL) check_token(c, token, sent);
  } else {
    CHECK(result != OAUTH_REFRESH_RESULT_OK && token == NULL, "%s: expected an error", c->name);
    CHECK(error != NULL, "%s: an error object", c->name);
    if (error != NULL) check_error(c, result, error, secret, sent);
  }
  if (c->requests >= 0) {
    CHECK(server_token_requests(scope) == c->requests, "%s: requests %ld", c->name, server_token_requests(scope));
  }
  for (int i = 0; i < 4 && c->server_saw[i][0] != NULL; i++) {
    char path[256], want[256];
    snprintf(path, sizeof path, "/%s/stats", scope);
    snprintf(want, sizeof want, "\"%s\":\"%s\"", c->server_saw[i][0], c->server_saw[i][1]);
    char *stats = server_get(path);
    CHECK(stats != NULL && strstr(stats, want) != NULL, "%s: server saw %s", c->name, want);
    free(stats);
  }
  oauth_refresh_token_free(token);
  oauth_refresh_error_free(error);
  oauth_refresh_client_free(client);
  free(client_id);
  free(secret);
  free(sent);
}

int main(void) {
  CHECK(CASE_COUNT >= 50, "the case table lost cases");
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i]);
  return finish();
}
