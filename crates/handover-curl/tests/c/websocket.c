/* CURLOPT_CONNECT_ONLY = 2 on ws://: the upgrade, then frames with
   curl_ws_send and curl_ws_recv.
   usage: websocket URL */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "util.h"

/* Receives one frame (10 s at most) and prints it. */
static void recv_frame(CURL *curl)
{
  char buf[256];
  int waits = 0;
  for(;;) {
    size_t n = 0;
    struct curl_ws_frame *meta = NULL;
    CURLcode rc = curl_ws_recv(curl, buf, sizeof(buf), &n, (void *)&meta);
    if(rc == CURLE_AGAIN && ++waits < 100) {
      wait_socket(curl, POLLIN, 100);
      continue;
    }
    if(rc || !meta) {
      printf("ws_recv: %d\n", (int)rc);
      return;
    }
    printf("ws_recv: 0 flags %d offset %ld bytesleft %ld len %d: %.*s\n",
           meta->flags, (long)meta->offset, (long)meta->bytesleft,
           (int)meta->len, (int)n, buf);
    return;
  }
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  size_t sent = 0;
  long code = 0;

  if(argc < 2)
    return 2;
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 2L);
  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  if(rc) {
    printf("ws_send without a connection: %d\n",
           (int)curl_ws_send(curl, "x", 1, &sent, 0, CURLWS_TEXT));
    curl_easy_cleanup(curl);
    return 0;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  printf("response code: %ld\n", code);
  printf("ws_meta outside a callback: %s\n", curl_ws_meta(curl) ? "a frame" : "NULL");
  rc = curl_ws_send(curl, "hello", 5, &sent, 0, CURLWS_TEXT);
  printf("ws_send text: %d sent %d\n", (int)rc, (int)sent);
  recv_frame(curl);
  rc = curl_ws_send(curl, "\x01\x02\x03", 3, &sent, 0, CURLWS_BINARY);
  printf("ws_send binary: %d sent %d\n", (int)rc, (int)sent);
  recv_frame(curl);
  rc = curl_ws_send(curl, "\x03\xe8", 2, &sent, 0, CURLWS_CLOSE);
  printf("ws_send close: %d sent %d\n", (int)rc, (int)sent);
  recv_frame(curl);
  curl_easy_cleanup(curl);
  return 0;
}
