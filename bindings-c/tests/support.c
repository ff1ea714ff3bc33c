#define _POSIX_C_SOURCE 200809L
#include "support.h"

#include <oauth_refresh.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int checks_failed = 0;
int checks_passed = 0;

const char *server_env(const char *name) {
  const char *value = getenv(name);
  if (value == NULL || value[0] == '\0') {
    fprintf(stderr, "%s is not set: run through scripts/with-token-server.sh\n", name);
    exit(2);
  }
  return value;
}

char *server_get(const char *path) {
  const char *url = server_env("TOKEN_SERVER_URL");
  const char *colon = strrchr(url, ':');
  if (colon == NULL) return NULL;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)atoi(colon + 1));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return NULL;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return NULL;
  }
  char request[1024];
  int len = snprintf(request, sizeof request, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  if (len <= 0 || (size_t)len >= sizeof request || write(fd, request, (size_t)len) != len) {
    close(fd);
    return NULL;
  }
  size_t cap = 4096, used = 0;
  char *buf = malloc(cap);
  ssize_t got;
  while (buf != NULL && (got = read(fd, buf + used, cap - used - 1)) > 0) {
    used += (size_t)got;
    if (cap - used < 2) {
      char *bigger = realloc(buf, cap * 2);
      if (bigger == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      cap *= 2;
    }
  }
  close(fd);
  if (buf == NULL) return NULL;
  buf[used] = '\0';
  char *body = strstr(buf, "\r\n\r\n");
  if (body == NULL) {
    free(buf);
    return NULL;
  }
  memmove(buf, body + 4, strlen(body + 4) + 1);
  return buf;
}

long server_token_requests(const char *scope) {
  char path[512];
  snprintf(path, sizeof path, "/%s/stats", scope);
  char *body = server_get(path);
  if (body == NULL) return -1;
  const char *at = strstr(body, "\"token_requests\":");
  long count = at ? strtol(at + strlen("\"token_requests\":"), NULL, 10) : -1;
  free(body);
  return count;
}

int server_current_is(const char *sent, const char *expected) {
  char path[1024];
  size_t used = (size_t)snprintf(path, sizeof path, "/current/");
  for (const unsigned char *p = (const unsigned char *)sent; *p && used + 4 < sizeof path; p++) {
    used += (size_t)snprintf(path + used, sizeof path - used, "%%%02X", *p);
  }
  char *body = server_get(path);
  if (body == NULL) return 0;
  /* {"refresh_token":"...","refreshes":N}: the first field, whole. */
  char want[1024];
  int len = snprintf(want, sizeof want, "{\"refresh_token\":\"%s\"", expected ? expected : "");
  int same = expected != NULL && len > 0 && (size_t)len < sizeof want && strncmp(body, want, (size_t)len) == 0 &&
             (body[len] == ',' || body[len] == '}');
  free(body);
  return same;
}

int finish(void) {
  printf("%d passed, %d failed\n", checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}

int ask_for_tokens(const struct oauth_refresh_manager *manager, int seconds) {
  int failures = 0;
  time_t until = time(NULL) + seconds;
  while (time(NULL) < until) {
    oauth_refresh_token *token = NULL;
    oauth_refresh_error *error = NULL;
    if (oauth_refresh_manager_token(manager, &token, &error) != OAUTH_REFRESH_RESULT_OK) {
      fprintf(stderr, "worker: %s\n", oauth_refresh_error_message(error));
      failures++;
    }
    oauth_refresh_token_free(token);
    oauth_refresh_error_free(error);
    struct timespec pause = {0, 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  return failures > 0;
}

oauth_refresh_client *client_for(const char *scope, const char *modes) {
  char url[512];
  snprintf(url, sizeof url, "%s/%s/%s/token", server_env("TOKEN_SERVER_URL"), scope, modes);
  oauth_refresh_client_options options = oauth_refresh_client_options_default();
  options.token_url = url;
  oauth_refresh_client *client = NULL;
  CHECK(oauth_refresh_client_new(&options, &client, NULL) == OAUTH_REFRESH_RESULT_OK, "client for %s", scope);
  return client;
}
