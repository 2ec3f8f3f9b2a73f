/* tftp:// connect-only: the UDP socket is bound, not connected, and
   nothing is sent; curl_easy_send has no destination, curl_easy_recv
   waits for any sender.
   usage: tftp PORT   (a UDP port on 127.0.0.1; nothing needs to answer) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <curl/curl.h>

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  curl_socket_t fd = CURL_SOCKET_BAD;
  char url[64], buf[16];
  size_t n = 0;
  long port = 0;
  int type = 0;
  socklen_t len = sizeof(type);
  struct sockaddr_storage peer;
  socklen_t peerlen = sizeof(peer);

  if(argc < 2)
    return 2;
  curl = curl_easy_init();
  snprintf(url, sizeof(url), "tftp://127.0.0.1:%s/file.txt", argv[1]);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &fd);
  curl_easy_getinfo(curl, CURLINFO_PRIMARY_PORT, &port);
  printf("primary port is the URL's: %s\n", port == atol(argv[1]) ? "yes" : "no");
  getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  printf("datagram socket: %s\n", type == SOCK_DGRAM ? "yes" : "no");
  printf("connected: %s\n",
         getpeername(fd, (struct sockaddr *)&peer, &peerlen) == 0 ? "yes" : "no");
  printf("send: %d\n", (int)curl_easy_send(curl, "x", 1, &n));
  printf("recv: %d\n", (int)curl_easy_recv(curl, buf, sizeof(buf), &n));
  curl_easy_setopt(curl, CURLOPT_PROXY, "http://127.0.0.1:1");
  printf("through a proxy: %d\n", (int)curl_easy_perform(curl));
  curl_easy_cleanup(curl);
  return 0;
}
