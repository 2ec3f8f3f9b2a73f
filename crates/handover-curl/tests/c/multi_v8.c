/* libcurl 8's multi functions the system's 7.88 header lacks:
   curl_multi_waitfds (8.8) and curl_multi_get_handles (8.4), found at run
   time. On a libcurl without them it says so.

   multi_v8 SILENT_HTTPS_URL */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <curl/curl.h>

typedef CURLMcode (*waitfds_fn)(CURLM *, struct curl_waitfd *, unsigned int, unsigned int *);
typedef CURL **(*get_handles_fn)(CURLM *);

int main(int argc, char **argv)
{
  waitfds_fn waitfds;
  get_handles_fn get_handles;
  CURLM *m;
  CURL *a, *b, **list;
  struct curl_waitfd fds[4];
  unsigned int count = 99;
  int i, running;
  if(argc < 2)
    return 2;
  *(void **)&waitfds = dlsym(RTLD_DEFAULT, "curl_multi_waitfds");
  *(void **)&get_handles = dlsym(RTLD_DEFAULT, "curl_multi_get_handles");
  if(!waitfds || !get_handles) {
    printf("absent\n");
    return 0;
  }
  m = curl_multi_init();
  list = get_handles(m);
  printf("get_handles empty: %s\n", list && !list[0] ? "yes" : "no");
  free(list);
  a = curl_easy_init();
  b = curl_easy_init();
  curl_easy_setopt(a, CURLOPT_URL, argv[1]);
  curl_easy_setopt(a, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(b, CURLOPT_URL, argv[1]);
  curl_easy_setopt(b, CURLOPT_CONNECT_ONLY, 1L);
  curl_multi_add_handle(m, a);
  curl_multi_add_handle(m, b);
  list = get_handles(m);
  printf("get_handles: %s\n", list && list[0] == a && list[1] == b && !list[2] ? "a b" : "other");
  free(list);
  printf("waitfds bad args: %d\n", (int)waitfds(m, NULL, 1, &count));
  printf("waitfds NULL multi: %d\n", (int)waitfds(NULL, fds, 4, &count));
  for(i = 0; i < 20; i++) {
    curl_multi_perform(m, &running);
    count = 0;
    waitfds(m, NULL, 0, &count);
    if(count == 2)
      break;
    curl_multi_wait(m, NULL, 0, 50, NULL);
  }
  printf("waitfds count: %u\n", count);
  printf("waitfds: %d\n", (int)waitfds(m, fds, 4, &count));
  printf("waitfds events: %s %s\n", fds[0].events == CURL_WAIT_POLLIN ? "in" : "other",
         fds[1].events == CURL_WAIT_POLLIN ? "in" : "other");
  printf("waitfds too small: %d count %u\n", (int)waitfds(m, fds, 1, &count), count);
  curl_multi_remove_handle(m, a);
  curl_multi_remove_handle(m, b);
  curl_easy_cleanup(a);
  curl_easy_cleanup(b);
  curl_multi_cleanup(m);
  return 0;
}
