/* An ordinary GET with write, header and progress callbacks; the bytes
   each callback got, in order, are printed (the values of the headers
   that change from run to run masked), and what calls from inside a
   callback answer.
   usage: get URL */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

static char trace[65536];
static size_t trace_len;
static int body_started;
static int header_after_body;
static int progress_calls;
static int abort_progress;
static int recursion_done;

static void add(const char *s, size_t n)
{
  if(trace_len + n < sizeof(trace)) {
    memcpy(trace + trace_len, s, n);
    trace_len += n;
  }
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
  size_t len = size * n;
  const char *volatile_headers[] = {"date:", "last-modified:", "etag:", NULL};
  int i;
  (void)user;
  if(body_started)
    header_after_body = 1;
  for(i = 0; volatile_headers[i]; i++) {
    size_t k = strlen(volatile_headers[i]);
    if(len > k && !strncasecmp(data, volatile_headers[i], k)) {
      add("H ", 2);
      add(data, k);
      add(" <masked>\n", 10);
      return len;
    }
  }
  add("H ", 2);
  add(data, len);
  return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
  CURL *curl = user;
  size_t len = size * n;
  body_started = 1;
  if(!recursion_done) {
    long code = 0;
    size_t sent = 1;
    recursion_done = 1;
    printf("perform from a callback: %d\n", (int)curl_easy_perform(curl));
    printf("send from a callback: %d\n",
           (int)curl_easy_send(curl, "x", 1, &sent));
    printf("getinfo from a callback: %d ",
           (int)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code));
    printf("%ld\n", code);
    printf("setopt from a callback: %d\n",
           (int)curl_easy_setopt(curl, CURLOPT_VERBOSE, 0L));
  }
  add("W ", 2);
  add(data, len);
  add("\n", 1);
  return len;
}

static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
  (void)p; (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
  progress_calls++;
  return abort_progress;
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  long code = 0, connects = 0, version = 0;
  curl_off_t cl = 0, size = 0;
  char *url = NULL, *type = NULL, *scheme = NULL, *method = NULL;
  char errbuf[CURL_ERROR_SIZE];

  if(argc < 2)
    return 2;
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, curl);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  printf("--- callbacks\n%.*s---\n", (int)trace_len, trace);
  printf("headers after body: %s\n", header_after_body ? "yes" : "no");
  printf("progress called: %s\n", progress_calls > 0 ? "yes" : "no");
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo(curl, CURLINFO_HTTP_VERSION, &version);
  curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
  curl_easy_getinfo(curl, CURLINFO_SIZE_DOWNLOAD_T, &size);
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &url);
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  curl_easy_getinfo(curl, CURLINFO_SCHEME, &scheme);
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_METHOD, &method);
  printf("response code: %ld\n", code);
  printf("num connects: %ld\n", connects);
  printf("http version: %ld\n", version);
  printf("content length: %ld\n", (long)cl);
  printf("size download: %ld\n", (long)size);
  printf("effective url: %s\n", url ? url : "(null)");
  printf("content type: %s\n", type ? type : "(null)");
  printf("scheme (any case): %s\n",
         scheme ? (strcasecmp(scheme, "http") ? scheme : "http") : "(null)");
  printf("method: %s\n", method ? method : "(null)");

  /* The same again, the progress callback stopping it. */
  abort_progress = 1;
  errbuf[0] = 0;
  rc = curl_easy_perform(curl);
  printf("aborted perform: %d, error buffer %s\n", (int)rc,
         errbuf[0] ? "set" : "empty");

  /* A write callback that takes less than it is given. */
  abort_progress = 0;
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, NULL);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, NULL);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, stdout);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 1L);
  printf("--- default write function\n");
  fflush(stdout);
  rc = curl_easy_perform(curl);
  printf("\n--- perform: %d\n", (int)rc);
  curl_easy_cleanup(curl);
  return 0;
}
