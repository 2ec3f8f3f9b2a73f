/* CURLOPT_AWS_SIGV4: a request signed with a fixed date (so the signature
   does not depend on the clock) goes to a server that answers with the
   Authorization and X-<provider>-* lines it got; this prints them.
   usage: aws_sigv4 URL MODE [RESOLVE-ENTRY]
   MODE: get | post | host | httpauth | null | bad | nohost */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
  (void)user;
  fwrite(data, size, n, stdout);
  return size * n;
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  long code = 0;
  const char *mode;
  struct curl_slist *headers = NULL;
  struct curl_slist *resolve = NULL;

  if(argc < 3)
    return 2;
  mode = argv[2];
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_USERPWD, "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  if(argc > 3) {
    resolve = curl_slist_append(resolve, argv[3]);
    curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  }
  headers = curl_slist_append(headers, "X-Amz-Date: 20261201T123456Z");

  if(!strcmp(mode, "get")) {
    rc = curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:execute-api");
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "X-Amz-Meta-Test:   one   two ");
  }
  else if(!strcmp(mode, "post")) {
    curl_slist_free_all(headers);
    headers = curl_slist_append(NULL, "X-Yyy-Date: 20261201T123456Z");
    rc = curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, "xxx:yyy:rrr:sss");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "name=value&other=thing");
  }
  else if(!strcmp(mode, "host"))
    rc = curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, "aws:amz");
  else if(!strcmp(mode, "httpauth"))
    rc = curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_AWS_SIGV4);
  else if(!strcmp(mode, "null")) {
    /* NULL clears the parameter, not the method: signed as "aws:amz". */
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, "xxx:yyy:rrr:sss");
    rc = curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, NULL);
  }
  else if(!strcmp(mode, "bad"))
    rc = curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, ":amz");
  else if(!strcmp(mode, "nohost"))
    rc = curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, "aws:amz");
  else
    return 2;
  printf("setopt: %d\n", (int)rc);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  printf("response code: %ld\n", code);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  curl_slist_free_all(resolve);
  return 0;
}
