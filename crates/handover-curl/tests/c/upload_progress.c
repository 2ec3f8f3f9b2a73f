/* The upload as the progress callback and CURLINFO_SIZE_UPLOAD_T see it:
   a body given as data (CURLOPT_POSTFIELDS, curl's test 578) and one from
   the read callback; the last call's ulnow and ultotal, and the infos.
   usage: upload_progress URL */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

static curl_off_t last_ulnow = -1, last_ultotal = -1;
static const char data[] = "this is a short string.\n";
static size_t read_at;

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
  (void)user;
  (void)dltotal;
  (void)dlnow;
  last_ulnow = ulnow;
  last_ultotal = ultotal;
  return 0;
}

static size_t on_read(char *buf, size_t size, size_t n, void *user)
{
  size_t left = sizeof(data) - read_at;
  size_t len = size * n < left ? size * n : left;
  (void)user;
  memcpy(buf, data + read_at, len);
  read_at += len;
  return len;
}

static size_t discard(char *p, size_t size, size_t n, void *user)
{
  (void)p;
  (void)user;
  return size * n;
}

static void report(const char *what, CURL *curl, CURLcode rc)
{
  curl_off_t up = -2, length = -2;
  curl_easy_getinfo(curl, CURLINFO_SIZE_UPLOAD_T, &up);
  curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &length);
  printf("%s: %d\n", what, (int)rc);
  printf("last progress: %ld of %ld\n", (long)last_ulnow, (long)last_ultotal);
  printf("size upload: %ld of %ld\n", (long)up, (long)length);
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  if(argc < 2)
    return 2;
  curl_global_init(CURL_GLOBAL_ALL);
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  /* The string and its NUL, as curl's test 578. */
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)sizeof(data));
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
  rc = curl_easy_perform(curl);
  report("postfields", curl, rc);

  last_ulnow = last_ultotal = -1;
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)sizeof(data));
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
  rc = curl_easy_perform(curl);
  report("read callback", curl, rc);
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return 0;
}
