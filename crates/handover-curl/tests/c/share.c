/* A share of DNS entries: a name one handle was given (CURLOPT_RESOLVE)
   is known to another handle of the share, not to a handle outside it.
   usage: share PORT   (a TCP server on 127.0.0.1:PORT) */
#include <stdio.h>
#include <curl/curl.h>

static CURL *handle(const char *url, CURLSH *share)
{
  CURL *curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  if(share)
    curl_easy_setopt(curl, CURLOPT_SHARE, share);
  return curl;
}

int main(int argc, char **argv)
{
  char url[64], entry[64];
  CURLSH *share;
  CURL *a, *b, *c;
  struct curl_slist *resolve;
  if(argc < 2)
    return 2;
  snprintf(url, sizeof(url), "telnet://share.handover.test:%s", argv[1]);
  snprintf(entry, sizeof(entry), "share.handover.test:%s:127.0.0.1", argv[1]);
  share = curl_share_init();
  printf("share dns: %d\n", (int)curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS));
  printf("share ssl sessions: %d\n",
         (int)curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION));
  printf("share connections: %d\n",
         (int)curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT));
  resolve = curl_slist_append(NULL, entry);
  a = handle(url, share);
  curl_easy_setopt(a, CURLOPT_RESOLVE, resolve);
  printf("given the name: %d\n", (int)curl_easy_perform(a));
  b = handle(url, share);
  printf("same share: %d\n", (int)curl_easy_perform(b));
  c = handle(url, NULL);
  printf("no share: %d\n", (int)curl_easy_perform(c));
  printf("cleanup while in use: %d\n", (int)curl_share_cleanup(share));
  curl_easy_cleanup(a);
  curl_easy_cleanup(b);
  curl_easy_cleanup(c);
  curl_slist_free_all(resolve);
  printf("cleanup: %d\n", (int)curl_share_cleanup(share));
  return 0;
}
