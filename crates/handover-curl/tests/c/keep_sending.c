/* CURLOPT_KEEP_SENDING_ON_ERROR with an early 401 and a read callback
   that pauses until the answer's body arrived, which lets it go on with
   curl_easy_pause(CURLPAUSE_CONT) (curl's test 1533): per transfer, the
   result, the connections made and the bytes uploaded.
   usage: keep_sending URL */
#include <stdio.h>
#include <curl/curl.h>

struct state {
  CURL *curl;
  int answered;
  int paused;
  size_t left;
};

static size_t on_read(char *buf, size_t size, size_t n, void *user)
{
  struct state *st = user;
  size_t len = size * n < st->left ? size * n : st->left;
  size_t i;
  if(!st->answered) {
    st->paused = 1;
    return CURL_READFUNC_PAUSE;
  }
  for(i = 0; i < len; i++)
    buf[i] = 'a';
  st->left -= len;
  return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
  struct state *st = user;
  (void)data;
  st->answered = 1;
  if(st->paused) {
    st->paused = 0;
    curl_easy_pause(st->curl, CURLPAUSE_CONT);
  }
  return size * n;
}

int main(int argc, char **argv)
{
  struct state st;
  CURL *curl;
  int i;
  if(argc < 2)
    return 2;
  curl_global_init(CURL_GLOBAL_ALL);
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)3);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(curl, CURLOPT_READDATA, &st);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  for(i = 0; i < 4; i++) {
    long connects = -1, code = 0;
    curl_off_t up = -1;
    CURLcode rc;
    if(i == 2)
      curl_easy_setopt(curl, CURLOPT_KEEP_SENDING_ON_ERROR, 1L);
    st.curl = curl;
    st.answered = st.paused = 0;
    st.left = 3;
    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(curl, CURLINFO_SIZE_UPLOAD_T, &up);
    printf("transfer %d (keep sending %d): %d, response %ld, connects %ld, "
           "uploaded %ld\n", i + 1, i >= 2, (int)rc, code, connects, (long)up);
  }
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return 0;
}
