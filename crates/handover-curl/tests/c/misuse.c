/* What libcurl answers to misuse: NULL handles, unknown options, bad
   values, send/recv on a handle that never performed. */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

/* One call with a NULL handle, named by `name`; prints its answer.
   Debian's libcurl 7.88 crashes on some of them. */
static int null_call(const char *name)
{
  size_t n = 7;
  char buf[8];
  long l = 0;
  const struct curl_ws_frame *meta = NULL;
  int rc = -1;
  if(!strcmp(name, "setopt"))
    rc = (int)curl_easy_setopt(NULL, CURLOPT_URL, "http://x/");
  else if(!strcmp(name, "perform"))
    rc = (int)curl_easy_perform(NULL);
  else if(!strcmp(name, "getinfo"))
    rc = (int)curl_easy_getinfo(NULL, CURLINFO_RESPONSE_CODE, &l);
  else if(!strcmp(name, "send"))
    rc = (int)curl_easy_send(NULL, "x", 1, &n);
  else if(!strcmp(name, "recv"))
    rc = (int)curl_easy_recv(NULL, buf, sizeof(buf), &n);
  else if(!strcmp(name, "upkeep"))
    rc = (int)curl_easy_upkeep(NULL);
  else if(!strcmp(name, "pause"))
    rc = (int)curl_easy_pause(NULL, CURLPAUSE_CONT);
  else if(!strcmp(name, "duphandle"))
    rc = curl_easy_duphandle(NULL) ? 1 : 0;
  else if(!strcmp(name, "cleanup")) {
    curl_easy_cleanup(NULL);
    rc = 0;
  }
  else if(!strcmp(name, "reset")) {
    curl_easy_reset(NULL);
    rc = 0;
  }
  else if(!strcmp(name, "ws_send"))
    rc = (int)curl_ws_send(NULL, "x", 1, &n, 0, CURLWS_TEXT);
  else if(!strcmp(name, "ws_recv"))
    rc = (int)curl_ws_recv(NULL, buf, sizeof(buf), &n, (void *)&meta);
  else if(!strcmp(name, "ws_meta"))
    rc = curl_ws_meta(NULL) ? 1 : 0;
  printf("%s NULL: %d\n", name, rc);
  return 0;
}

int main(int argc, char **argv)
{
  CURL *curl;
  size_t n = 7;
  char buf[8];
  long l = 0;
  curl_socket_t s = 0;
  CURLcode rc;

  if(argc > 2 && !strcmp(argv[1], "null"))
    return null_call(argv[2]);
  curl = curl_easy_init();

  /* send/recv before any perform */
  n = 7;
  rc = curl_easy_send(curl, "x", 1, &n);
  printf("send unperformed: %d sent %d\n", (int)rc, (int)n);
  n = 7;
  rc = curl_easy_recv(curl, buf, sizeof(buf), &n);
  printf("recv unperformed: %d got %d\n", (int)rc, (int)n);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  printf("send connect-only unperformed: %d\n", (int)curl_easy_send(curl, "x", 1, &n));
  rc = curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &s);
  printf("activesocket unperformed: %d %s\n", (int)rc,
         s == CURL_SOCKET_BAD ? "CURL_SOCKET_BAD" : "a socket");
  rc = curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &l);
  printf("response code unperformed: %d %ld\n", (int)rc, l);

  /* unknown options and infos */
  printf("unknown long option: %d\n", (int)curl_easy_setopt(curl, (CURLoption)9999, 1L));
  printf("unknown pointer option: %d\n", (int)curl_easy_setopt(curl, (CURLoption)19999, NULL));
  printf("unknown off_t option: %d\n",
         (int)curl_easy_setopt(curl, (CURLoption)39999, (curl_off_t)1));
  printf("unknown info: %d\n", (int)curl_easy_getinfo(curl, (CURLINFO)(CURLINFO_LONG + 999), &l));

  /* bad values */
  printf("connect_only 3: %d\n", (int)curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 3L));
  printf("ipresolve 7: %d\n", (int)curl_easy_setopt(curl, CURLOPT_IPRESOLVE, 7L));
  printf("timeout -1: %d\n", (int)curl_easy_setopt(curl, CURLOPT_TIMEOUT, -1L));
  printf("connecttimeout_ms -1: %d\n", (int)curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, -1L));
  printf("localport 70000: %d\n", (int)curl_easy_setopt(curl, CURLOPT_LOCALPORT, 70000L));
  printf("proxyport -1: %d\n", (int)curl_easy_setopt(curl, CURLOPT_PROXYPORT, -1L));
  printf("proxytype 99: %d\n", (int)curl_easy_setopt(curl, CURLOPT_PROXYTYPE, 99L));
  printf("sslversion SSLv3: %d\n",
         (int)curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_SSLv3));
  printf("sslversion 1.2..1.3: %d\n",
         (int)curl_easy_setopt(curl, CURLOPT_SSLVERSION,
                               (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_3)));
  printf("postfieldsize -2: %d\n", (int)curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, -2L));
  printf("infilesize_large -2: %d\n",
         (int)curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)-2));
  printf("followlocation 0: %d\n", (int)curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L));

  /* good values */
  printf("verbose 0: %d\n", (int)curl_easy_setopt(curl, CURLOPT_VERBOSE, 0L));
  printf("ssl_verifyhost 2: %d\n", (int)curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L));
  printf("proxyauth any: %d\n", (int)curl_easy_setopt(curl, CURLOPT_PROXYAUTH, CURLAUTH_ANY));
  printf("url NULL: %d\n", (int)curl_easy_setopt(curl, CURLOPT_URL, NULL));
  printf("private: %d\n", (int)curl_easy_setopt(curl, CURLOPT_PRIVATE, (void *)buf));
  {
    char *p = NULL;
    curl_easy_getinfo(curl, CURLINFO_PRIVATE, &p);
    printf("private back: %s\n", p == buf ? "same" : "different");
  }
  printf("perform without url: %d\n", (int)curl_easy_perform(curl));

  printf("strerror 7: %s\n", curl_easy_strerror(CURLE_COULDNT_CONNECT));
  curl_easy_cleanup(curl);
  return 0;
}
