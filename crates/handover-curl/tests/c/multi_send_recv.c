/* A connect-only transfer in a multi handle: the done message once
   connected, then curl_easy_send/recv and CURLINFO_ACTIVESOCKET while the
   handle stays added; removal closes the connection; curl_easy_cleanup of
   a handle still added takes it out first.

   multi_send_recv URL */
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

static int wait_done(CURLM *m, int want)
{
  double start = now();
  int got = 0, running;
  while(got < want && now() - start < 20) {
    CURLMsg *msg;
    int left;
    curl_multi_perform(m, &running);
    while((msg = curl_multi_info_read(m, &left))) {
      printf("done: %d\n", (int)msg->data.result);
      got++;
    }
    if(got < want)
      curl_multi_poll(m, NULL, 0, 200, NULL);
  }
  return got;
}

int main(int argc, char **argv)
{
  CURLM *m;
  CURL *a, *b;
  curl_socket_t fd = CURL_SOCKET_BAD, fd_b = CURL_SOCKET_BAD;
  char buf[64];
  size_t n = 0;
  int running;
  CURLcode rc;
  if(argc < 2)
    return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  m = curl_multi_init();
  a = curl_easy_init();
  curl_easy_setopt(a, CURLOPT_URL, argv[1]);
  curl_easy_setopt(a, CURLOPT_CONNECT_ONLY, 1L);
  b = curl_easy_duphandle(a);

  printf("send before: %d\n", (int)curl_easy_send(a, "x", 1, &n));
  curl_multi_add_handle(m, a);
  curl_multi_add_handle(m, b);
  wait_done(m, 2);

  curl_easy_getinfo(a, CURLINFO_ACTIVESOCKET, &fd);
  curl_easy_getinfo(b, CURLINFO_ACTIVESOCKET, &fd_b);
  printf("activesocket: %s\n", fd != CURL_SOCKET_BAD ? "valid" : "bad");
  printf("distinct: %s\n", fd != fd_b ? "yes" : "no");
  rc = send_all(a, "hello multi", 11);
  printf("send: %d\n", (int)rc);
  rc = recv_some(a, buf, 11, &n);
  buf[n] = 0;
  printf("recv: %d %s\n", (int)rc, buf);
  rc = curl_easy_recv(a, buf, sizeof(buf), &n);
  printf("recv with nothing: %d\n", (int)rc);

  /* The multi handle goes on without it; the other still works. */
  printf("remove: %d\n", (int)curl_multi_remove_handle(m, a));
  fd = 0;
  curl_easy_getinfo(a, CURLINFO_ACTIVESOCKET, &fd);
  printf("activesocket after remove: %d\n", (int)fd);
  printf("send after remove: %d\n", (int)curl_easy_send(a, "x", 1, &n));
  rc = send_all(b, "still here", 10);
  rc = rc ? rc : recv_some(b, buf, 10, &n);
  buf[n] = 0;
  printf("other: %d %s\n", (int)rc, buf);

  /* Added again, it connects again. */
  curl_multi_add_handle(m, a);
  wait_done(m, 1);
  rc = send_all(a, "again", 5);
  rc = rc ? rc : recv_some(a, buf, 5, &n);
  buf[n] = 0;
  printf("again: %d %s\n", (int)rc, buf);

  /* curl_easy_cleanup of an added handle takes it out first. */
  curl_easy_cleanup(b);
  printf("perform after cleanup of an added handle: %d\n", (int)curl_multi_perform(m, &running));
  printf("running: %d\n", running);
  printf("remove a: %d\n", (int)curl_multi_remove_handle(m, a));
  curl_easy_cleanup(a);
  printf("cleanup: %d\n", (int)curl_multi_cleanup(m));
  curl_global_cleanup();
  return 0;
}
