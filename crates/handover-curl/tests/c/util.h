/* Helpers of the test programs: waiting on the handed-over socket, and
   sending or receiving a whole message over curl_easy_send/recv. */
#ifndef HANDOVER_TEST_UTIL_H
#define HANDOVER_TEST_UTIL_H

#include <poll.h>
#include <string.h>
#include <curl/curl.h>

/* Waits up to `ms` for `events` on the handle's socket. */
static inline void wait_socket(CURL *curl, short events, int ms)
{
  curl_socket_t fd = CURL_SOCKET_BAD;
  struct pollfd p;
  curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &fd);
  if(fd == CURL_SOCKET_BAD)
    return;
  p.fd = fd;
  p.events = events;
  p.revents = 0;
  poll(&p, 1, ms);
}

/* Sends all of `buf`, waiting when the socket is full (10 s at most). */
static inline CURLcode send_all(CURL *curl, const char *buf, size_t len)
{
  size_t off = 0;
  int waits = 0;
  while(off < len) {
    size_t n = 0;
    CURLcode rc = curl_easy_send(curl, buf + off, len - off, &n);
    if(rc == CURLE_AGAIN) {
      if(++waits > 100)
        return rc;
      wait_socket(curl, POLLOUT, 100);
      continue;
    }
    if(rc)
      return rc;
    off += n;
  }
  return CURLE_OK;
}

/* Receives until `want` bytes arrived, the peer closed, or 10 s passed.
   TLS may hold bytes the socket no longer shows, so this polls briefly
   and always tries again. */
static inline CURLcode recv_some(CURL *curl, char *buf, size_t want, size_t *got)
{
  int waits = 0;
  *got = 0;
  while(*got < want) {
    size_t n = 0;
    CURLcode rc = curl_easy_recv(curl, buf + *got, want - *got, &n);
    if(rc == CURLE_AGAIN) {
      if(++waits > 100)
        return rc;
      wait_socket(curl, POLLIN, 100);
      continue;
    }
    if(rc)
      return rc;
    if(n == 0)
      break;
    *got += n;
  }
  return CURLE_OK;
}

#endif
