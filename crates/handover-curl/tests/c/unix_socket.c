/* CURLOPT_UNIX_SOCKET_PATH: connect-only to an HTTP server's socket file
   with a request sent by hand, then an ordinary GET on the same handle,
   what the infos say, a proxy that is ignored, a missing socket and a path
   too long for sockaddr_un.
   usage: unix_socket SOCKET URL [CAINFO|-] */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "util.h"

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
  (void)user;
  printf("body: %.*s", (int)(size * n), data);
  return size * n;
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  curl_socket_t sock = CURL_SOCKET_BAD;
  long port = -1, local_port = -1, connects = -1, code = 0;
  char *ip = NULL, *local_ip = NULL;
  char buf[512], longpath[200];
  size_t got = 0;
  const char *get = "GET /unix.txt HTTP/1.1\r\nHost: localhost\r\n"
                    "Connection: close\r\n\r\n";

  if(argc < 3)
    return 2;
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, argv[1]);
  curl_easy_setopt(curl, CURLOPT_URL, argv[2]);
  if(argc > 3 && strcmp(argv[3], "-"))
    curl_easy_setopt(curl, CURLOPT_CAINFO, argv[3]);
  /* A proxy nobody listens on: ignored with a Unix socket. */
  curl_easy_setopt(curl, CURLOPT_PROXY, "http://127.0.0.1:1");
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  rc = curl_easy_perform(curl);
  printf("connect-only: %d\n", (int)rc);
  curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &sock);
  curl_easy_getinfo(curl, CURLINFO_PRIMARY_IP, &ip);
  curl_easy_getinfo(curl, CURLINFO_PRIMARY_PORT, &port);
  curl_easy_getinfo(curl, CURLINFO_LOCAL_IP, &local_ip);
  curl_easy_getinfo(curl, CURLINFO_LOCAL_PORT, &local_port);
  printf("activesocket: %s\n", sock != CURL_SOCKET_BAD ? "valid" : "bad");
  printf("primary is the socket: %s, port %ld\n",
         ip && !strcmp(ip, argv[1]) ? "yes" : ip ? ip : "(null)", port);
  printf("local: \"%s\" %ld\n", local_ip ? local_ip : "(null)", local_port);
  rc = send_all(curl, get, strlen(get));
  printf("send: %d\n", (int)rc);
  rc = recv_some(curl, buf, 15, &got);
  printf("recv: %d %.*s\n", (int)rc, (int)got, buf);

  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  printf("get: %d %ld, connects %ld\n", (int)rc, code, connects);

  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, "/nonexistent/handover.sock");
  rc = curl_easy_perform(curl);
  printf("missing socket: %d\n", (int)rc);

  memset(longpath, 'x', sizeof(longpath) - 1);
  longpath[0] = '/';
  longpath[sizeof(longpath) - 1] = 0;
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, longpath);
  rc = curl_easy_perform(curl);
  printf("path too long: %d\n", (int)rc);
  curl_easy_cleanup(curl);
  return 0;
}
