/* `c_bench CLIENT URL N WARMUP`: N refreshes after WARMUP, one JSON line of figures.
 * CLIENT: "oauth_refresh_client_refresh" or "libcurl" (one reused easy handle + cJSON parse). */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <oauth_refresh.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  char data[8192];
  size_t len;
} buffer;

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata) {
  buffer *b = userdata;
  size_t n = size * nmemb;
  if (b->len + n >= sizeof b->data) return 0;
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  return n;
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static long peak_rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  }
  if (f) fclose(f);
  return kb;
}

int main(int argc, char **argv) {
  if (argc != 5) return 2;
  const char *client_name = argv[1], *url = argv[2];
  int n = atoi(argv[3]), warmup = atoi(argv[4]);
  int ours = strcmp(client_name, "oauth_refresh_client_refresh") == 0;

  oauth_refresh_client *client = NULL;
  oauth_refresh_request request = {"bench-app", "secret-bench-app", NULL, "rt-bench", NULL, NULL};
  CURL *curl = NULL;
  buffer body;
  if (ours) {
    oauth_refresh_client_options options = oauth_refresh_client_options_default();
    options.token_url = url;
    if (oauth_refresh_client_new(&options, &client, NULL) != OAUTH_REFRESH_RESULT_OK) return 1;
  } else {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_USERPWD, "bench-app:secret-bench-app");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "grant_type=refresh_token&refresh_token=rt-bench");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  }
  double *latencies = malloc(sizeof(double) * (size_t)n);
  double total = 0;
  for (int i = -warmup; i < n; i++) {
    double t = now_us();
    if (ours) {
      oauth_refresh_token *token = NULL;
      if (oauth_refresh_client_refresh(client, &request, &token, NULL) != OAUTH_REFRESH_RESULT_OK) return 1;
      if (oauth_refresh_token_access_token(token)[0] == '\0') return 1;
      oauth_refresh_token_free(token);
    } else {
      body.len = 0;
      if (curl_easy_perform(curl) != CURLE_OK) return 1;
      body.data[body.len] = '\0';
      cJSON *json = cJSON_Parse(body.data);
      if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(json, "access_token"))) return 1;
      cJSON_Delete(json);
    }
    if (i >= 0) {
      latencies[i] = now_us() - t;
      total += latencies[i];
    }
  }
  qsort(latencies, (size_t)n, sizeof(double), cmp);
  printf("{\"n\":%d,\"seconds\":%f,\"median_us\":%f,\"p99_us\":%f,\"rss_kb\":%ld}\n", n, total / 1e6,
         latencies[n / 2], latencies[n * 99 / 100], peak_rss_kb());
  free(latencies);
  oauth_refresh_client_free(client);
  if (curl) curl_easy_cleanup(curl);
  return 0;
}
