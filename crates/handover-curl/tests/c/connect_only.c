/* CURLOPT_CONNECT_ONLY = 1 to an echo server, directly or through a proxy,
   then curl_easy_send/recv on the handed-over socket.
   usage: connect_only URL [CAINFO|-] [PROXY [USER:PASSWORD [basic|digest]]] */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "util.h"

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  curl_socket_t sock = CURL_SOCKET_BAD;
  long last = -2, code = -1, connectcode = -1, connects = -1, port = -1;
  long avail = -1;
  double t_lookup = -1, t_connect = -1, t_app = -1, t_total = -1;
  char *ip = NULL;
  char buf[256];
  size_t got = 0;
  const char *msg = "hello handover\n";
  char errbuf[CURL_ERROR_SIZE] = "";

  if(argc < 2)
    return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  if(argc > 2 && strcmp(argv[2], "-"))
    curl_easy_setopt(curl, CURLOPT_CAINFO, argv[2]);
  if(argc > 3) {
    curl_easy_setopt(curl, CURLOPT_PROXY, argv[3]);
    curl_easy_setopt(curl, CURLOPT_HTTPPROXYTUNNEL, 1L);
  }
  if(argc > 4)
    curl_easy_setopt(curl, CURLOPT_PROXYUSERPWD, argv[4]);
  if(argc > 5)
    curl_easy_setopt(curl, CURLOPT_PROXYAUTH,
                     strcmp(argv[5], "digest") ? CURLAUTH_BASIC : CURLAUTH_DIGEST);

  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  if(rc) {
    printf("errbuf set: %s\n", errbuf[0] ? "yes" : "no");
    curl_easy_cleanup(curl);
    return 1;
  }
  curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &sock);
  curl_easy_getinfo(curl, CURLINFO_LASTSOCKET, &last);
  printf("activesocket: %s\n", sock != CURL_SOCKET_BAD ? "valid" : "bad");
  printf("lastsocket is activesocket: %s\n", last == (long)sock ? "yes" : "no");

  rc = send_all(curl, msg, strlen(msg));
  printf("send: %d\n", (int)rc);
  rc = recv_some(curl, buf, strlen(msg), &got);
  printf("recv: %d %.*s", (int)rc, (int)got, buf);
  if(got < strlen(msg))
    printf("\n(short: %d bytes)\n", (int)got);

  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(curl, CURLINFO_HTTP_CONNECTCODE, &connectcode);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo(curl, CURLINFO_PRIMARY_PORT, &port);
  curl_easy_getinfo(curl, CURLINFO_PRIMARY_IP, &ip);
  curl_easy_getinfo(curl, CURLINFO_PROXYAUTH_AVAIL, &avail);
  curl_easy_getinfo(curl, CURLINFO_NAMELOOKUP_TIME, &t_lookup);
  curl_easy_getinfo(curl, CURLINFO_CONNECT_TIME, &t_connect);
  curl_easy_getinfo(curl, CURLINFO_APPCONNECT_TIME, &t_app);
  curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &t_total);
  printf("response code: %ld\n", code);
  printf("connect code: %ld\n", connectcode);
  printf("num connects: %ld\n", connects);
  printf("primary: %s %ld\n", ip ? ip : "(null)", port);
  printf("proxyauth avail: %ld\n", avail);
  printf("times ordered: %s\n",
         (t_lookup >= 0 && t_connect > 0 && t_lookup <= t_connect &&
          t_connect <= t_total && (t_app == 0 || t_app >= t_connect) &&
          t_app <= t_total) ? "yes" : "no");
  printf("tls: %s\n", t_app > 0 ? "yes" : "no");
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return 0;
}
