/* A GET whose response head is what the test's server sends: each line
   the header callback gets (with the scheme CURLINFO_SCHEME answers from
   inside the callback), the code, then every header curl_easy_nextheader
   gives for the interim (CURLH_1XX) and final (CURLH_HEADER) answers, and
   what curl_easy_header finds of one name in each.
   usage: heads URL NAME */
#define CURL_DISABLE_DEPRECATION 1
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
  CURL *curl = user;
  size_t len = size * n;
  char *scheme = NULL;
  char lower[16] = "";
  size_t i;
  curl_easy_getinfo(curl, CURLINFO_SCHEME, &scheme);
  /* libcurl 8.8 and later answer in lower case, 7.x in upper case. */
  for(i = 0; scheme && scheme[i] && i < sizeof(lower) - 1; i++)
    lower[i] = (char)tolower((unsigned char)scheme[i]);
  lower[i] = 0;
  printf("H [%s] %.*s", scheme ? lower : "(null)", (int)len, data);
  if(!len || data[len - 1] != '\n')
    printf("\n");
  return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
  (void)data;
  (void)user;
  return size * n;
}

static void list(CURL *curl, unsigned int origin, const char *what,
                 const char *name)
{
  struct curl_header *h = NULL;
  while((h = curl_easy_nextheader(curl, origin, -1, h)))
    printf("%s %s: %s (%u/%u)\n", what, h->name, h->value,
           (unsigned)h->index, (unsigned)h->amount);
  if(curl_easy_header(curl, name, 0, origin, -1, &h) == CURLHE_OK)
    printf("%s %s is %s\n", what, name, h->value);
  else
    printf("%s %s missing\n", what, name);
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  if(argc < 3)
    return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, curl);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  list(curl, CURLH_1XX, "1XX", argv[2]);
  list(curl, CURLH_HEADER, "HEADER", argv[2]);
  list(curl, CURLH_1XX | CURLH_HEADER, "BOTH", argv[2]);
  curl_easy_cleanup(curl);
  curl_global_cleanup();
  return 0;
}
