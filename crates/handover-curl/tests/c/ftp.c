/* ftp:// connect-only (as curl's test 597): the control connection is
   handed over logged in; the program talks FTP over it.
   usage: ftp PLAIN_PORT EXPLICIT_PORT IMPLICIT_PORT CAFILE USER PASSWORD
   (vsftpd without TLS, with AUTH TLS, and with implicit TLS) */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

/* Sends a command and prints the first reply line. */
static void talk(CURL *curl, const char *line)
{
  char buf[256];
  size_t n = 0, got = 0;
  int tries;
  curl_easy_send(curl, line, strlen(line), &n);
  for(tries = 0; tries < 2000 && !memchr(buf, '\n', got); tries++) {
    CURLcode rc = curl_easy_recv(curl, buf + got, sizeof(buf) - 1 - got, &n);
    if(rc == CURLE_OK)
      got += n;
    else if(rc != CURLE_AGAIN)
      break;
    else {
      curl_socket_t fd;
      fd_set r;
      struct timeval tv = {0, 10000};
      curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &fd);
      FD_ZERO(&r);
      FD_SET(fd, &r);
      select(fd + 1, &r, NULL, NULL, &tv);
    }
  }
  buf[got] = 0;
  printf("  %.3s", buf);
  printf("\n");
}

static void login(const char *what, const char *url, const char *ca,
                  long use_ssl, const char *user, const char *password)
{
  CURL *curl = curl_easy_init();
  long code = 0;
  CURLcode rc;
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
  curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl);
  if(user) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, user);
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
  }
  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  printf("%s: %d, response %ld\n", what, (int)rc, code);
  if(rc == CURLE_OK) {
    talk(curl, "NOOP\r\n");
    talk(curl, "PWD\r\n");
  }
  curl_easy_cleanup(curl);
}

int main(int argc, char **argv)
{
  char plain[64], explicit[64], implicit[64];
  if(argc < 7)
    return 2;
  snprintf(plain, sizeof(plain), "ftp://127.0.0.1:%s/", argv[1]);
  snprintf(explicit, sizeof(explicit), "ftp://127.0.0.1:%s/", argv[2]);
  snprintf(implicit, sizeof(implicit), "ftps://127.0.0.1:%s/", argv[3]);
  login("anonymous", plain, argv[4], CURLUSESSL_NONE, NULL, NULL);
  login("user", plain, argv[4], CURLUSESSL_NONE, argv[5], argv[6]);
  login("wrong password", plain, argv[4], CURLUSESSL_NONE, argv[5], "wrong");
  login("tls required, none", plain, argv[4], CURLUSESSL_ALL, NULL, NULL);
  login("tls tried, none", plain, argv[4], CURLUSESSL_TRY, NULL, NULL);
  login("auth tls", explicit, argv[4], CURLUSESSL_ALL, argv[5], argv[6]);
  login("implicit", implicit, argv[4], CURLUSESSL_NONE, NULL, NULL);
  return 0;
}
