/* The seed's EXAMPLE (CURLOPT_CONNECT_ONLY(3)), verbatim but for the URL,
   which comes from argv so the test can point it at a local server, and
   the lines that print the outcome. */
#include <stdio.h>
#include <curl/curl.h>

int main(int argc, char **argv)
{
  CURL *curl = curl_easy_init();
  if(curl) {
    CURLcode ret;
    curl_easy_setopt(curl, CURLOPT_URL, argc > 1 ? argv[1] : "https://example.com/");
    if(argc > 2)
      curl_easy_setopt(curl, CURLOPT_CAINFO, argv[2]);
    curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
    ret = curl_easy_perform(curl);
    if(ret == CURLE_OK) {
      /* only connected! */
      printf("only connected!\n");
    }
    else
      printf("perform: %d %s\n", (int)ret, curl_easy_strerror(ret));
    curl_easy_cleanup(curl);
  }
  return 0;
}
