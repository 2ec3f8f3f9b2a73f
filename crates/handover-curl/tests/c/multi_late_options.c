/* Options set on an easy handle after curl_multi_add_handle and before the
   first curl_multi_perform count: libcurl reads them when the transfer
   starts (curl's test 1531). The response body (the echo server's word
   for the request it got) and the result are printed.
   usage: multi_late_options URL */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

static char body[256];
static size_t body_len;

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
  size_t len = size * n;
  (void)user;
  if(body_len + len < sizeof(body)) {
    memcpy(body + body_len, data, len);
    body_len += len;
  }
  return len;
}

int main(int argc, char **argv)
{
  /* A NUL inside: the size option, not strlen, decides the length. */
  static const char data[] = ".abc\0xyz";
  CURLM *m;
  CURL *e;
  CURLMsg *msg;
  int running = 1, left, rounds = 0;
  if(argc < 2)
    return 2;
  curl_global_init(CURL_GLOBAL_ALL);
  e = curl_easy_init();
  m = curl_multi_init();
  curl_multi_add_handle(m, e);
  curl_easy_setopt(e, CURLOPT_URL, argv[1]);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(sizeof(data) - 1));
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, data);
  while(running && rounds++ < 300) {
    curl_multi_perform(m, &running);
    if(running)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  while((msg = curl_multi_info_read(m, &left)))
    if(msg->msg == CURLMSG_DONE)
      printf("result: %d\n", (int)msg->data.result);
  printf("body: %.*s\n", (int)body_len, body);
  curl_multi_remove_handle(m, e);
  curl_multi_cleanup(m);
  curl_easy_cleanup(e);
  curl_global_cleanup();
  return 0;
}
