/* CURLMOPT_MAX_TOTAL_CONNECTIONS and _MAX_HOST_CONNECTIONS with
   connect-only transfers: a connect-only connection counts while its
   handle stays added and is never closed to make room, so the transfers
   past the limit wait; removing a handle lets the next one connect.

   multi_limits URL */
#include <stdio.h>
#include <time.h>
#include <curl/curl.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Drives `m` for `secs`; how many transfers finished meanwhile. */
static int drive(CURLM *m, double secs, int *running, CURL **first)
{
  double start = now();
  int done = 0;
  while(now() - start < secs) {
    CURLMsg *msg;
    int left;
    curl_multi_perform(m, running);
    while((msg = curl_multi_info_read(m, &left))) {
      if(msg->data.result)
        printf("failed: %d\n", (int)msg->data.result);
      if(first && !*first)
        *first = msg->easy_handle;
      done++;
    }
    curl_multi_poll(m, NULL, 0, 20, NULL);
  }
  return done;
}

static void limited(const char *url, CURLMoption option, const char *name)
{
  CURLM *m = curl_multi_init();
  CURL *h[6], *first = NULL;
  int i, running = 0, done;
  curl_multi_setopt(m, option, 2L);
  for(i = 0; i < 6; i++) {
    h[i] = curl_easy_init();
    curl_easy_setopt(h[i], CURLOPT_URL, url);
    curl_easy_setopt(h[i], CURLOPT_CONNECT_ONLY, 1L);
    curl_multi_add_handle(m, h[i]);
  }
  done = drive(m, 0.5, &running, &first);
  printf("%s 2: %d connected, %d running\n", name, done, running);
  curl_multi_remove_handle(m, first);
  done = drive(m, 0.5, &running, NULL);
  printf("%s 2, one removed: %d more connected, %d running\n", name, done, running);
  for(i = 0; i < 6; i++) {
    curl_multi_remove_handle(m, h[i]);
    curl_easy_cleanup(h[i]);
  }
  curl_multi_cleanup(m);
}

int main(int argc, char **argv)
{
  if(argc < 2)
    return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  limited(argv[1], CURLMOPT_MAX_TOTAL_CONNECTIONS, "max total");
  limited(argv[1], CURLMOPT_MAX_HOST_CONNECTIONS, "max host");
  curl_global_cleanup();
  return 0;
}
