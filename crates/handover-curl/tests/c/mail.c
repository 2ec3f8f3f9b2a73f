/* imap://, pop3:// and smtp:// connect-only (as curl's test 660 for
   IMAP): greeting, capabilities, STARTTLS and login, then the program
   continues the session itself.
   usage: mail IMAP_PORT IMAPS_PORT POP3_PORT SMTP_PORT SMTPS_PORT
               NO_TLS_IMAP_ADDR CAFILE USER PASSWORD */
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <curl/curl.h>

/* Sends a line and prints the first word of the reply's last line. */
static void talk(CURL *curl, const char *line, const char *until)
{
  char buf[4096];
  size_t n = 0, got = 0;
  int tries;
  curl_easy_send(curl, line, strlen(line), &n);
  for(tries = 0; tries < 2000; tries++) {
    CURLcode rc = curl_easy_recv(curl, buf + got, sizeof(buf) - 1 - got, &n);
    if(rc == CURLE_OK) {
      char *last;
      got += n;
      buf[got] = 0;
      last = buf;
      while(strstr(last, "\r\n") && strstr(last, "\r\n")[2])
        last = strstr(last, "\r\n") + 2;
      if(got > 2 && !strcmp(buf + got - 2, "\r\n") && !strncmp(last, until, strlen(until)))
        break;
    }
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
  printf("  %s", strstr(buf, until) ? until : "(no answer)");
  printf("\n");
}

static CURL *handle(const char *url, const char *ca, long use_ssl,
                    const char *user, const char *password)
{
  CURL *curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
  curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl);
  if(user) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, user);
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
  }
  return curl;
}

static void run(const char *what, const char *url, const char *ca, long use_ssl,
                const char *user, const char *password, const char *line,
                const char *until)
{
  CURL *curl = handle(url, ca, use_ssl, user, password);
  long code = 0;
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  printf("%s: %d", what, (int)rc);
  if(!strncmp(url, "smtp", 4))
    printf(", response %ld", code);
  printf("\n");
  if(rc == CURLE_OK && line)
    talk(curl, line, until);
  curl_easy_cleanup(curl);
}

int main(int argc, char **argv)
{
  char imap[64], imaps[64], pop3[64], smtp[80], smtps[80], notls[64];
  const char *ca, *user, *pw;
  if(argc < 10)
    return 2;
  snprintf(imap, sizeof(imap), "imap://127.0.0.1:%s/", argv[1]);
  snprintf(imaps, sizeof(imaps), "imaps://127.0.0.1:%s/", argv[2]);
  snprintf(pop3, sizeof(pop3), "pop3://127.0.0.1:%s/", argv[3]);
  snprintf(smtp, sizeof(smtp), "smtp://127.0.0.1:%s/client.example", argv[4]);
  snprintf(smtps, sizeof(smtps), "smtps://127.0.0.1:%s/client.example", argv[5]);
  snprintf(notls, sizeof(notls), "imap://%s/", argv[6]);
  ca = argv[7];
  user = argv[8];
  pw = argv[9];
  run("imap", imap, ca, CURLUSESSL_NONE, user, pw, "Z1 SELECT INBOX\r\n", "Z1 OK");
  run("imap starttls", imap, ca, CURLUSESSL_ALL, user, pw, "Z1 NOOP\r\n", "Z1 OK");
  run("imaps", imaps, ca, CURLUSESSL_NONE, user, pw, "Z1 NOOP\r\n", "Z1 OK");
  run("imap no login", imap, ca, CURLUSESSL_NONE, NULL, NULL, "Z1 SELECT INBOX\r\n", "Z1 BAD");
  run("imap wrong password", imap, ca, CURLUSESSL_NONE, user, "wrong", NULL, NULL);
  run("imap tls required, none", notls, ca, CURLUSESSL_ALL, user, pw, NULL, NULL);
  run("pop3", pop3, ca, CURLUSESSL_NONE, user, pw, "STAT\r\n", "+OK");
  run("pop3 stls", pop3, ca, CURLUSESSL_ALL, user, pw, "STAT\r\n", "+OK");
  run("smtp", smtp, ca, CURLUSESSL_NONE, user, pw, "NOOP\r\n", "250");
  run("smtp starttls", smtp, ca, CURLUSESSL_ALL, user, pw, "NOOP\r\n", "250");
  run("smtps", smtps, ca, CURLUSESSL_NONE, user, pw, "NOOP\r\n", "250");
  run("smtp no login", smtp, ca, CURLUSESSL_NONE, NULL, NULL, "NOOP\r\n", "250");
  run("smtp wrong password", smtp, ca, CURLUSESSL_NONE, user, "wrong", NULL, NULL);
  return 0;
}
