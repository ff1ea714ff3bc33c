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
  const char *gusto_api_version, *token_url, *ca_file;
  const char *env[4][2];
  const char *target, *modes;
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
  const char *server_error, *error_description;
  int check_error_description;
  long retry_after_s;
  int salvaged;
  long requests;
  const char *server_saw[4][2];
  long proxy_connects;
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

/* Copies `text` with the server's placeholders ({ca_file}, {proxy}, ...) filled in; NULL
 * stays NULL. */
static char *with_placeholders(const char *text) {
  if (text == NULL) return NULL;
  static const char *const names[][2] = {
      {"{ca_file}", "TOKEN_SERVER_CA_FILE"},
      {"{other_ca_file}", "TOKEN_SERVER_OTHER_CA_FILE"},
      {"{proxy}", "TOKEN_SERVER_PROXY_URL"},
      {"{auth_proxy}", "TOKEN_SERVER_AUTH_PROXY_URL"},
  };
  size_t n = sizeof names / sizeof names[0], cap = strlen(text) + 1;
  for (size_t i = 0; i < n; i++) cap += strlen(server_env(names[i][1])) * (strlen(text) / strlen(names[i][0]) + 1);
  char *out = malloc(cap);
  if (out == NULL) return NULL;
  out[0] = '\0';
  const char *p = text;
  while (*p != '\0') {
    size_t i = 0;
    while (i < n && strncmp(p, names[i][0], strlen(names[i][0])) != 0) i++;
    if (i < n) {
      strcat(out, server_env(names[i][1]));
      p += strlen(names[i][0]);
    } else {
      strncat(out, p++, 1);
    }
  }
  return out;
}

/* The environment before a case set its variables, to put back afterwards. */
typedef struct {
  char *name[4];
  char *before[4]; /* NULL: was unset */
} saved_env;

static saved_env set_env(const conformance_case *c) {
  saved_env saved;
  memset(&saved, 0, sizeof saved);
  for (int i = 0; i < 4 && c->env[i][0] != NULL; i++) {
    const char *before = getenv(c->env[i][0]);
    saved.name[i] = strdup(c->env[i][0]);
    saved.before[i] = before ? strdup(before) : NULL;
    char *value = with_placeholders(c->env[i][1]);
    CHECK(value != NULL && setenv(c->env[i][0], value, 1) == 0, "%s: setenv %s", c->name, c->env[i][0]);
    free(value);
  }
  return saved;
}

static void restore_env(saved_env *saved) {
  for (int i = 0; i < 4 && saved->name[i] != NULL; i++) {
    if (saved->before[i] != NULL) {
      setenv(saved->name[i], saved->before[i], 1);
    } else {
      unsetenv(saved->name[i]);
    }
    free(saved->name[i]);
    free(saved->before[i]);
  }
}

/* CONNECT plus plain requests the token server's proxies received so far, or -1. */
static long proxy_requests(void) {
  char *body = server_get("/proxy/stats");
  if (body == NULL) return -1;
  const char *connects = strstr(body, "\"connects\":"), *plain = strstr(body, "\"plain\":");
  long count = -1;
  if (connects != NULL && plain != NULL) {
    count = strtol(connects + strlen("\"connects\":"), NULL, 10) + strtol(plain + strlen("\"plain\":"), NULL, 10);
  }
  free(body);
  return count;
}

/* A control character in UTF-8 text: C0 (below 0x20), DEL, or C1 (U+0080-U+009F, which
 * UTF-8 writes as 0xC2 0x80-0x9F). */
static int has_control(const char *text) {
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p < 0x20 || *p == 0x7F || (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)) return 1;
  }
  return 0;
}

static const char *state_name(oauth_refresh_token_state s) {
  return s == OAUTH_REFRESH_TOKEN_STATE_UNUSED ? "unused" : s == OAUTH_REFRESH_TOKEN_STATE_REJECTED ? "rejected" : "unknown";
}

static const char *base_url(const conformance_case *c, char *buf, size_t len) {
  const char *url = server_env("TOKEN_SERVER_URL");
  if (c->target == NULL) return url;
  if (strcmp(c->target, "blackhole") == 0) return server_env("TOKEN_SERVER_BLACKHOLE");
  if (strcmp(c->target, "refused") == 0) return server_env("TOKEN_SERVER_REFUSED");
  if (strcmp(c->target, "https") == 0) return server_env("TOKEN_SERVER_HTTPS_URL");
  if (strcmp(c->target, "https_wrong_host") == 0) return server_env("TOKEN_SERVER_HTTPS_WRONG_HOST_URL");
  if (strcmp(c->target, "https_expired") == 0) return server_env("TOKEN_SERVER_HTTPS_EXPIRED_URL");
  if (strcmp(c->target, "https_proxied") == 0) {
    /* A name only the proxies resolve. */
    snprintf(buf, len, "https://tokens.test:%s", server_env("TOKEN_SERVER_HTTPS_PORT"));
    return buf;
  }
  CHECK(strcmp(c->target, "tls") == 0, "%s: unknown target %s", c->name, c->target);
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

/* No secret in the message or the server's fields, no control character in the message.
 * Failures name the secret, never its value. */
static void check_nothing_leaks(const conformance_case *c, const oauth_refresh_error *e, const char *secret,
                                const char *sent) {
  const char *secrets[][2] = {
      {"the client secret", secret},
      {"the refresh token sent", sent},
      {"the salvaged refresh token", oauth_refresh_error_salvaged_refresh_token(e)},
  };
  const char *fields[][2] = {
      {"the message", oauth_refresh_error_message(e)},
      {"error", oauth_refresh_error_error(e)},
      {"error_description", oauth_refresh_error_error_description(e)},
      {"error_uri", oauth_refresh_error_error_uri(e)},
  };
  for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
    for (size_t s = 0; s < sizeof secrets / sizeof secrets[0]; s++) {
      const char *text = fields[f][1], *value = secrets[s][1];
      if (text != NULL && value != NULL && strlen(value) >= 4) {
        CHECK(strstr(text, value) == NULL, "%s: %s holds %s", c->name, fields[f][0], secrets[s][0]);
      }
    }
  }
  const char *message = oauth_refresh_error_message(e);
  CHECK(message == NULL || !has_control(message), "%s: the message holds a control character", c->name);
}

static void check_error(const conformance_case *c, oauth_refresh_result result, const oauth_refresh_error *e,
                        const char *secret, const char *sent) {
  check_nothing_leaks(c, e, secret, sent);
  CHECK(strcmp(oauth_refresh_result_name((uint32_t)result), c->code) == 0, "%s: code %s", c->name,
        oauth_refresh_result_name((uint32_t)result));
  CHECK(oauth_refresh_error_code(e) == result, "%s: error object code", c->name);
  CHECK(strcmp(state_name(oauth_refresh_error_refresh_token_state(e)), c->state) == 0, "%s: state", c->name);
  CHECK(oauth_refresh_error_status(e) == c->status, "%s: status %u", c->name, oauth_refresh_error_status(e));
  CHECK(oauth_refresh_error_retryable(e) == (c->retryable != 0), "%s: retryable", c->name);
  const char *server_error = oauth_refresh_error_error(e);
  CHECK(c->server_error == NULL ? server_error == NULL : (server_error && strcmp(server_error, c->server_error) == 0),
        "%s: server error", c->name);
  if (c->check_error_description) {
    const char *description = oauth_refresh_error_error_description(e);
    CHECK(c->error_description == NULL ? description == NULL
                                       : (description && strcmp(description, c->error_description) == 0),
          "%s: error_description", c->name);
  }
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
    options.gusto_api_version = c->gusto_api_version;
  } else {
    snprintf(url, sizeof url, "%s/%s/%s/token", base, scope, c->modes);
    options = oauth_refresh_client_options_default();
    options.token_url = url;
    options.client_auth = c->client_auth;
    options.body_encoding = c->body_encoding;
  }
  /* -1: the case does not set it, so the default from *_options_default() stays. */
  if (c->max_retries >= 0) options.max_retries = (uint32_t)c->max_retries;
  /* 0: the case does not set it, so the default from *_options_default() stays. */
  if (c->timeout_ms != 0) options.timeout_ms = c->timeout_ms;
  if (c->connect_timeout_ms != 0) options.connect_timeout_ms = c->connect_timeout_ms;
  char *ca_file = with_placeholders(c->ca_file);
  options.ca_file = ca_file;

  char *client_id = with_scope(c->client_id, scope), *secret = with_scope(c->client_secret, scope);
  char *sent = with_scope(c->refresh_token, scope);
  oauth_refresh_request request = {client_id, secret, c->grant_type, sent, c->redirect_uri, c->scope};
  oauth_refresh_client *client = NULL;
  oauth_refresh_token *token = NULL;
  oauth_refresh_error *error = NULL;
  long proxied_before = proxy_requests();
  /* The client reads them when it is built; restored once the case has run. */
  saved_env env = set_env(c);
  oauth_refresh_result result = oauth_refresh_client_new(&options, &client, &error);
  if (result == OAUTH_REFRESH_RESULT_OK && c->reuse) {
    CHECK(run(client, c, &request, &token, &error) == OAUTH_REFRESH_RESULT_OK, "%s: first use", c->name);
    oauth_refresh_token_free(token);
    token = NULL;
  }
  if (result == OAUTH_REFRESH_RESULT_OK) result = run(client, c, &request, &token, &error);
  restore_env(&env);

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
  if (c->proxy_connects >= 0) {
    long proxied = proxy_requests() - proxied_before;
    CHECK(proxied_before >= 0 && proxied == c->proxy_connects, "%s: proxy requests %ld", c->name, proxied);
  }
  oauth_refresh_token_free(token);
  oauth_refresh_error_free(error);
  oauth_refresh_client_free(client);
  free(client_id);
  free(secret);
  free(sent);
  free(ca_file);
}

int main(void) {
  CHECK(CASE_COUNT >= 50, "the case table lost cases");
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) run_case(&CASES[i]);
  return finish();
}
