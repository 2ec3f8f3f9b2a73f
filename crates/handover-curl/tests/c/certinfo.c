/* CURLOPT_CERTINFO: connect-only over TLS, then every line of
   CURLINFO_CERTINFO, certificate by certificate; again on the same handle
   (the same lists), and without CERTINFO (none).
   usage: certinfo URL CAINFO */
#include <stdio.h>
#include <curl/curl.h>

static void show(CURL *curl)
{
  struct curl_certinfo *info = NULL;
  struct curl_slist *line;
  int i;
  CURLcode rc = curl_easy_getinfo(curl, CURLINFO_CERTINFO, &info);
  printf("getinfo: %d, certificates: %d\n", (int)rc, info ? info->num_of_certs : -1);
  for(i = 0; info && i < info->num_of_certs; i++)
    for(line = info->certinfo[i]; line; line = line->next)
      printf("[%d] %s\n", i, line->data);
}

int main(int argc, char **argv)
{
  CURL *curl;
  if(argc < 3)
    return 2;
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_CAINFO, argv[2]);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_CERTINFO, 1L);
  printf("perform: %d\n", (int)curl_easy_perform(curl));
  show(curl);
  curl_easy_setopt(curl, CURLOPT_CERTINFO, 0L);
  printf("perform: %d\n", (int)curl_easy_perform(curl));
  show(curl);
  curl_easy_cleanup(curl);
  return 0;
}
