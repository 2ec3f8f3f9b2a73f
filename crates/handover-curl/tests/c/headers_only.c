/* CURLOPT_CONNECT_ONLY = 2 on http://: the request is sent and the
   response head read; then the body comes from curl_easy_recv.
   usage: headers_only URL BODY_LENGTH */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "util.h"

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
  (void)user;
  if(n > 5 && (!strncasecmp(data, "date:", 5) || !strncasecmp(data, "etag:", 5) ||
               !strncasecmp(data, "last-modified:", 14)))
    printf("H (varies)\n");
  else
    printf("H %.*s", (int)(size * n), data);
  return size * n;
}

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
  (void)user;
  printf("W %.*s\n", (int)(size * n), data);
  return size * n;
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  long code = 0;
  char buf[4096];
  size_t got = 0;
  struct curl_header *h = NULL;
  struct curl_slist *headers = NULL;

  if(argc < 3)
    return 2;
  curl = curl_easy_init();
  headers = curl_slist_append(headers, "X-Handover-Test: connect-only 2");
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 2L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  printf("response code: %ld\n", code);
  if(curl_easy_header(curl, "content-length", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
    printf("content-length header: %s (%d of %d)\n", h->value, (int)h->index, (int)h->amount);
  else
    printf("content-length header: none\n");
  rc = recv_some(curl, buf, (size_t)atoi(argv[2]), &got);
  printf("recv: %d %d bytes: %.*s\n", (int)rc, (int)got, (int)got, buf);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  return 0;
}
