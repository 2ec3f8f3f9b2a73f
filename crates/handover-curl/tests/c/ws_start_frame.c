/* CURLOPT_CONNECT_ONLY = 2 on ws://, then one TEXT frame begun with
   curl_ws_start_frame (libcurl 8.16) and its payload sent in two
   curl_ws_send calls; the echo comes back whole.
   usage: ws_start_frame URL */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "util.h"

/* Older headers (Debian's 7.88) lack it; weak, so the program also runs
   on a libcurl without it. */
extern CURLcode curl_ws_start_frame(CURL *curl, unsigned int flags,
                                    curl_off_t frame_len)
  __attribute__((weak));

/* Sends all of `data` as payload of the frame in progress. */
static CURLcode ws_send_all(CURL *curl, const char *data, size_t len)
{
  size_t done = 0;
  int waits = 0;
  while(done < len) {
    size_t sent = 0;
    CURLcode rc = curl_ws_send(curl, data + done, len - done, &sent, 0,
                               CURLWS_TEXT);
    if(rc == CURLE_AGAIN && ++waits < 100) {
      wait_socket(curl, POLLOUT, 100);
      continue;
    }
    if(rc)
      return rc;
    done += sent;
  }
  return CURLE_OK;
}

/* Receives one whole frame (10 s at most) and prints it. */
static void recv_frame(CURL *curl)
{
  char msg[256];
  size_t have = 0;
  int waits = 0;
  for(;;) {
    size_t n = 0;
    struct curl_ws_frame *meta = NULL;
    CURLcode rc = curl_ws_recv(curl, msg + have, sizeof(msg) - have, &n,
                               (void *)&meta);
    if(rc == CURLE_AGAIN && ++waits < 100) {
      wait_socket(curl, POLLIN, 100);
      continue;
    }
    if(rc || !meta) {
      printf("ws_recv: %d\n", (int)rc);
      return;
    }
    have += n;
    if(meta->bytesleft)
      continue;
    printf("ws_recv: flags %d len %d: %.*s\n", meta->flags, (int)have,
           (int)have, msg);
    return;
  }
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  size_t sent = 0;

  if(argc < 2)
    return 2;
  if(!curl_ws_start_frame) {
    printf("no curl_ws_start_frame\n");
    return 0;
  }
  curl = curl_easy_init();
  printf("start_frame before perform: %d\n",
         (int)curl_ws_start_frame(curl, CURLWS_TEXT, 5));
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 2L);
  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  if(rc) {
    curl_easy_cleanup(curl);
    return 0;
  }
  printf("start_frame negative: %d\n",
         (int)curl_ws_start_frame(curl, CURLWS_TEXT, -1));
  printf("start_frame: %d\n",
         (int)curl_ws_start_frame(curl, CURLWS_TEXT, 11));
  printf("start_frame again: %d\n",
         (int)curl_ws_start_frame(curl, CURLWS_BINARY, 3));
  printf("send hello: %d\n", (int)ws_send_all(curl, "hello ", 6));
  printf("send world: %d\n", (int)ws_send_all(curl, "world", 5));
  recv_frame(curl);
  /* An empty frame: its header goes with a send of no bytes. */
  printf("start_frame empty binary: %d\n",
         (int)curl_ws_start_frame(curl, CURLWS_BINARY, 0));
  printf("send nothing: %d\n",
         (int)curl_ws_send(curl, "", 0, &sent, 0, CURLWS_BINARY));
  recv_frame(curl);
  curl_easy_cleanup(curl);
  return 0;
}
