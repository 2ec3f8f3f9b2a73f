/* file:// connect-only: the file is opened and there is no socket.
   usage: file PATH   (an existing file) */
#include <stdio.h>
#include <curl/curl.h>

static void try_url(const char *what, const char *url)
{
  CURL *curl = curl_easy_init();
  curl_socket_t fd = 0;
  char buf[16];
  size_t n = 0;
  CURLcode rc;
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &fd);
  printf("%s: perform %d, socket %s, send %d, recv %d\n", what, (int)rc,
         fd == CURL_SOCKET_BAD ? "none" : "some",
         (int)curl_easy_send(curl, "x", 1, &n),
         (int)curl_easy_recv(curl, buf, sizeof(buf), &n));
  curl_easy_cleanup(curl);
}

int main(int argc, char **argv)
{
  char url[512];
  if(argc < 2)
    return 2;
  snprintf(url, sizeof(url), "file://%s", argv[1]);
  try_url("existing", url);
  snprintf(url, sizeof(url), "file://localhost%s", argv[1]);
  try_url("localhost", url);
  snprintf(url, sizeof(url), "file://%s.missing", argv[1]);
  try_url("missing", url);
  snprintf(url, sizeof(url), "file://elsewhere%s", argv[1]);
  try_url("other host", url);
  return 0;
}
