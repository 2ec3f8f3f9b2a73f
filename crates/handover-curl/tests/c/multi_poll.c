/* N connect-only transfers in one multi handle, driven by curl_multi_poll;
   then every connection is still usable through its handle while added,
   and gone once removed. Prints a summary that must be the same on
   Debian's libcurl and on handover's.

   multi_poll URL N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Sends "ping I" on handle I and reads the echo back. */
static void echo(CURL *e, long i)
{
  char msg[64], back[64];
  size_t got = 0;
  CURLcode rc;
  snprintf(msg, sizeof(msg), "ping %ld", i);
  rc = send_all(e, msg, strlen(msg));
  if(!rc)
    rc = recv_some(e, back, strlen(msg), &got);
  back[got] = 0;
  printf("echo %ld: %d %s\n", i, (int)rc, back);
}

int main(int argc, char **argv)
{
  CURLM *m;
  CURL **handles;
  int *socks;
  int n, i, running = 1, done = 0, ok = 0, errors = 0, distinct = 0;
  int codes[100] = {0};
  double start;
  curl_socket_t fd;
  if(argc < 3)
    return 2;
  n = atoi(argv[2]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  m = curl_multi_init();
  handles = calloc((size_t)n, sizeof(*handles));
  socks = calloc((size_t)n, sizeof(*socks));
  for(i = 0; i < n; i++) {
    handles[i] = curl_easy_init();
    curl_easy_setopt(handles[i], CURLOPT_URL, argv[1]);
    curl_easy_setopt(handles[i], CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(handles[i], CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(handles[i], CURLOPT_PRIVATE, (void *)(long)i);
    if(curl_multi_add_handle(m, handles[i]) != CURLM_OK)
      printf("add %d failed\n", i);
  }
  printf("added: %d\n", n);

  start = now();
  while(done < n && now() - start < 60) {
    CURLMsg *msg;
    int left;
    CURLMcode mc = curl_multi_perform(m, &running);
    if(mc)
      printf("perform: %d\n", (int)mc);
    while((msg = curl_multi_info_read(m, &left))) {
      if(msg->msg != CURLMSG_DONE)
        continue;
      done++;
      if(msg->data.result == CURLE_OK)
        ok++;
      else {
        errors++;
        if(msg->data.result < 100)
          codes[msg->data.result]++;
      }
    }
    if(done < n)
      curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  curl_multi_perform(m, &running);
  printf("done: %d\nok: %d\nerrors: %d\nrunning: %d\n", done, ok, errors, running);
  for(i = 0; i < 100; i++)
    if(codes[i])
      printf("code %d: %d\n", i, codes[i]);

  /* Each connection has its own socket while the handle stays added. */
  for(i = 0; i < n; i++) {
    fd = CURL_SOCKET_BAD;
    curl_easy_getinfo(handles[i], CURLINFO_ACTIVESOCKET, &fd);
    socks[i] = (int)fd;
  }
  qsort(socks, (size_t)n, sizeof(*socks), cmp_int);
  for(i = 0; i < n; i++)
    if(socks[i] >= 0 && (i == 0 || socks[i] != socks[i - 1]))
      distinct++;
  printf("distinct sockets: %d\n", distinct);
  echo(handles[0], 0);
  echo(handles[n / 2], n / 2);
  echo(handles[n - 1], n - 1);

  /* Removing closes: the handle has no socket any more. */
  for(i = 0; i < n; i++) {
    CURLMcode mc = curl_multi_remove_handle(m, handles[i]);
    if(mc)
      printf("remove %d: %d\n", i, (int)mc);
  }
  fd = 0;
  curl_easy_getinfo(handles[0], CURLINFO_ACTIVESOCKET, &fd);
  printf("activesocket after remove: %d\n", (int)fd);
  curl_multi_perform(m, &running);
  printf("running after remove: %d\n", running);
  for(i = 0; i < n; i++)
    curl_easy_cleanup(handles[i]);
  printf("cleanup: %d\n", (int)curl_multi_cleanup(m));
  free(handles);
  free(socks);
  curl_global_cleanup();
  return 0;
}
