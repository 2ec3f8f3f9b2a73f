/* CURLINFO_CONN_ID and CURLINFO_XFER_ID (curl 8.2; Debian's 7.88 headers
   lack the names, so they are spelled by number): -1 before any transfer,
   then numbers; a second handle gets new ones.
   usage: conn_xfer_id URL */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <curl/curl.h>

#define XFER_ID ((CURLINFO)(CURLINFO_OFF_T + 63))
#define CONN_ID ((CURLINFO)(CURLINFO_OFF_T + 64))

int main(int argc, char **argv)
{
  CURL *a, *b;
  curl_off_t conn_a = -2, xfer_a = -2, conn_b = -2, xfer_b = -2;
  curl_off_t conn_a2 = -2, xfer_a2 = -2;
  CURLcode rc;

  if(argc < 2)
    return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  a = curl_easy_init();
  b = curl_easy_init();
  rc = curl_easy_getinfo(a, CONN_ID, &conn_a);
  printf("getinfo conn before: %d %ld\n", (int)rc, (long)conn_a);
  rc = curl_easy_getinfo(a, XFER_ID, &xfer_a);
  printf("getinfo xfer before: %d %ld\n", (int)rc, (long)xfer_a);
  curl_easy_setopt(a, CURLOPT_URL, argv[1]);
  curl_easy_setopt(a, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(b, CURLOPT_URL, argv[1]);
  curl_easy_setopt(b, CURLOPT_CONNECT_ONLY, 1L);
  printf("perform a: %d\n", (int)curl_easy_perform(a));
  curl_easy_getinfo(a, CONN_ID, &conn_a);
  curl_easy_getinfo(a, XFER_ID, &xfer_a);
  printf("perform b: %d\n", (int)curl_easy_perform(b));
  curl_easy_getinfo(b, CONN_ID, &conn_b);
  curl_easy_getinfo(b, XFER_ID, &xfer_b);
  printf("perform a again: %d\n", (int)curl_easy_perform(a));
  curl_easy_getinfo(a, CONN_ID, &conn_a2);
  curl_easy_getinfo(a, XFER_ID, &xfer_a2);
  printf("ids set: %s\n", conn_a >= 0 && xfer_a >= 0 && conn_b >= 0 &&
         xfer_b >= 0 ? "yes" : "no");
  printf("b differs from a: %s\n",
         conn_b != conn_a && xfer_b != xfer_a ? "yes" : "no");
  printf("a again is new: %s\n",
         conn_a2 != conn_a && conn_a2 != conn_b && xfer_a2 != xfer_a &&
         xfer_a2 != xfer_b ? "yes" : "no");
  curl_easy_cleanup(a);
  curl_easy_cleanup(b);
  curl_global_cleanup();
  return 0;
}
