/* The DNS cache and CURLOPT_RESOLVE: a name given with RESOLVE stays in
   the cache for later transfers of the handle (also with the cache
   timeout at 0), "-host:port" takes it out; a name looked up is reused.
   usage: dns_cache PORT   (a TCP server on 127.0.0.1:PORT) */
#include <stdio.h>
#include <stdlib.h>
#include <curl/curl.h>

static int run(CURL *curl, const char *resolve_entry)
{
  struct curl_slist *list = NULL;
  int rc;
  if(resolve_entry)
    list = curl_slist_append(NULL, resolve_entry);
  curl_easy_setopt(curl, CURLOPT_RESOLVE, list);
  rc = (int)curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_RESOLVE, NULL);
  curl_slist_free_all(list);
  return rc;
}

int main(int argc, char **argv)
{
  char url[64], add[64], del[64];
  long timeout;
  if(argc < 2)
    return 2;
  snprintf(url, sizeof(url), "telnet://cache.handover.test:%s", argv[1]);
  snprintf(add, sizeof(add), "cache.handover.test:%s:127.0.0.1", argv[1]);
  snprintf(del, sizeof(del), "-cache.handover.test:%s", argv[1]);
  for(timeout = 60; timeout >= 0; timeout -= 60) {
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(curl, CURLOPT_DNS_CACHE_TIMEOUT, timeout);
    printf("timeout %ld: with the entry %d", timeout, run(curl, add));
    printf(", without it %d", run(curl, NULL));
    printf(", removed %d", run(curl, del));
    printf(", after %d\n", run(curl, NULL));
    curl_easy_cleanup(curl);
  }
  /* A looked-up name (localhost) in a cache that is off: still fine. */
  {
    CURL *curl = curl_easy_init();
    snprintf(url, sizeof(url), "telnet://localhost:%s", argv[1]);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
    printf("localhost twice: %d", (int)curl_easy_perform(curl));
    printf(" %d\n", (int)curl_easy_perform(curl));
    curl_easy_cleanup(curl);
  }
  return 0;
}
