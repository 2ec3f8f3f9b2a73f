/* CURLOPT_SEEKFUNCTION: a GET leaves a kept-alive connection that the
   server then closes under the next request, a POST whose body comes from
   CURLOPT_READFUNCTION. The library must retry on a fresh connection and
   rewind the body through the seek callback first; what the seek callback
   answers decides whether it can. Prints every seek call, the result, the
   response, and the upload counters.
   usage: seek URL ok|fail|cantseek|none */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

static const char body[] = "the whole body, every byte of it";
static size_t offset;
static int seek_answer;
static char response[256];
static size_t response_len;

static size_t on_read(char *buf, size_t size, size_t n, void *user)
{
  size_t left = sizeof(body) - 1 - offset;
  size_t want = size * n;
  (void)user;
  /* Four bytes a call, so that the body takes several reads. */
  if(want > 4)
    want = 4;
  if(want > left)
    want = left;
  memcpy(buf, body + offset, want);
  offset += want;
  return want;
}

static int on_seek(void *user, curl_off_t to, int origin)
{
  (void)user;
  printf("seek %ld %s -> %d\n", (long)to,
         origin == SEEK_SET ? "SEEK_SET" :
         origin == SEEK_CUR ? "SEEK_CUR" : "SEEK_END", seek_answer);
  if(seek_answer == CURL_SEEKFUNC_OK && origin == SEEK_SET)
    offset = (size_t)to;
  return seek_answer;
}

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
  size_t len = size * n;
  (void)user;
  if(response_len + len < sizeof(response)) {
    memcpy(response + response_len, data, len);
    response_len += len;
  }
  return len;
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  long code = 0, connects = 0;
  curl_off_t uploaded = 0, upload_length = 0;
  const char *mode;

  if(argc < 3)
    return 2;
  mode = argv[2];
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  rc = curl_easy_perform(curl);
  printf("get: %d \"%.*s\"\n", (int)rc, (int)response_len, response);
  response_len = 0;

  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)(sizeof(body) - 1));
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
  if(!strcmp(mode, "ok"))
    seek_answer = CURL_SEEKFUNC_OK;
  else if(!strcmp(mode, "fail"))
    seek_answer = CURL_SEEKFUNC_FAIL;
  else
    seek_answer = CURL_SEEKFUNC_CANTSEEK;
  if(strcmp(mode, "none"))
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo(curl, CURLINFO_SIZE_UPLOAD_T, &uploaded);
  curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &upload_length);
  printf("post: %d\n", (int)rc);
  printf("response: %ld \"%.*s\"\n", code, (int)response_len, response);
  printf("num connects: %ld\n", connects);
  printf("size upload: %ld of %ld\n", (long)uploaded, (long)upload_length);
  curl_easy_cleanup(curl);
  return 0;
}
