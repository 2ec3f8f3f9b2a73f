/* Socket options a connect-only transfer leaves on its socket (keep-alive
   with idle, interval and count; TCP Fast Open), CURLOPT_PORT replacing the
   URL's port, and the values these options refuse.
   usage: connect_options PORT   (a TCP server on 127.0.0.1:PORT) */
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <curl/curl.h>

/* libcurl 8.9's option: Debian's 7.88 headers lack it (and its library
   answers CURLE_UNKNOWN_OPTION). */
#ifndef CURLOPT_TCP_KEEPCNT
#define CURLOPT_TCP_KEEPCNT ((CURLoption)326)
#endif

static int opt(curl_socket_t fd, int level, int name)
{
  int value = -1;
  socklen_t len = sizeof(value);
  if(getsockopt(fd, level, name, &value, &len))
    return -2;
  return value;
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  curl_socket_t fd = CURL_SOCKET_BAD;
  long port, primary = -1;
  char url[64], *effective = NULL;

  if(argc < 2)
    return 2;
  port = atol(argv[1]);
  curl = curl_easy_init();
  snprintf(url, sizeof(url), "telnet://127.0.0.1:%ld", port);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  printf("keepalive: %d\n", (int)curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L));
  printf("keepidle: %d\n", (int)curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 33L));
  printf("keepintvl: %d\n", (int)curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 7L));
  printf("keepcnt: %d\n", (int)curl_easy_setopt(curl, CURLOPT_TCP_KEEPCNT, 5L));
  printf("keepcnt -1: %d\n", (int)curl_easy_setopt(curl, CURLOPT_TCP_KEEPCNT, -1L));
  printf("fastopen: %d\n", (int)curl_easy_setopt(curl, CURLOPT_TCP_FASTOPEN, 1L));
  printf("address scope: %d\n", (int)curl_easy_setopt(curl, CURLOPT_ADDRESS_SCOPE, 0L));
  printf("address scope -1: %d\n",
         (int)curl_easy_setopt(curl, CURLOPT_ADDRESS_SCOPE, -1L));
  /* Below the bounds is the default or the least, not an error. */
  printf("buffersize -1 0 100 2000: %d %d %d %d\n",
         (int)curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, -1L),
         (int)curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 0L),
         (int)curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 100L),
         (int)curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 2000L));
  printf("upload buffersize -1 0: %d %d\n",
         (int)curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, -1L),
         (int)curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 0L));
  printf("postredir -1 3: %d %d\n",
         (int)curl_easy_setopt(curl, CURLOPT_POSTREDIR, -1L),
         (int)curl_easy_setopt(curl, CURLOPT_POSTREDIR, 3L));
  printf("dns shuffle: %d\n",
         (int)curl_easy_setopt(curl, CURLOPT_DNS_SHUFFLE_ADDRESSES, 1L));
  printf("port 70000: %d\n", (int)curl_easy_setopt(curl, CURLOPT_PORT, 70000L));
  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &fd);
  printf("SO_KEEPALIVE %d TCP_KEEPIDLE %d TCP_KEEPINTVL %d TCP_KEEPCNT %d\n",
         opt(fd, SOL_SOCKET, SO_KEEPALIVE), opt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
         opt(fd, IPPROTO_TCP, TCP_KEEPINTVL), opt(fd, IPPROTO_TCP, TCP_KEEPCNT));
  printf("TCP_FASTOPEN_CONNECT %d\n", opt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT));

  /* CURLOPT_PORT: the URL names a port nobody listens on. */
  curl_easy_setopt(curl, CURLOPT_URL, "telnet://127.0.0.1:1/");
  curl_easy_setopt(curl, CURLOPT_PORT, port);
  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_PRIMARY_PORT, &primary);
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  printf("with CURLOPT_PORT: %d, primary port is it: %s, effective url %s\n",
         (int)rc, primary == port ? "yes" : "no",
         effective ? effective : "(null)");
  curl_easy_cleanup(curl);
  return 0;
}
