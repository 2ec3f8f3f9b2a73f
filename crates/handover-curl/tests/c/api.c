/* The easy interface's other calls: the option table, escaping, slists,
   string comparison, getenv, version, duphandle, the header API, verbose
   output to CURLOPT_STDERR, uploads from a read callback, CURLOPT_HEADER.
   usage: api URL-OF-A-PAGE STDERR-FILE URL-OF-A-SILENT-SERVER */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

static int writes;
static size_t count_write(char *data, size_t size, size_t n, void *user)
{
  (void)data;
  *(int *)user += 1;
  return size * n;
}

static size_t discard(char *data, size_t size, size_t n, void *user)
{
  (void)data; (void)user;
  return size * n;
}

static size_t read_abort(char *buf, size_t size, size_t n, void *user)
{
  (void)buf; (void)size; (void)n; (void)user;
  return CURL_READFUNC_ABORT;
}

static size_t read_some(char *buf, size_t size, size_t n, void *user)
{
  int *left = user;
  (void)size; (void)n;
  if(*left == 0)
    return 0;
  *left = 0;
  memcpy(buf, "k=v", 3);
  return 3;
}

static void print_option(const char *what, const struct curl_easyoption *o)
{
  if(o)
    printf("%s: %s %d type %d flags %u\n", what, o->name, (int)o->id, (int)o->type, o->flags);
  else
    printf("%s: NULL\n", what);
}

int main(int argc, char **argv)
{
  CURL *curl, *dup;
  CURLcode rc;
  char *s;
  int len = -1, count = 0, left = 1;
  long code = 0;
  struct curl_slist *list = NULL, *item;
  struct curl_header *h = NULL;
  FILE *err;
  void *priv = NULL;

  if(argc < 4)
    return 2;

  /* the option table */
  print_option("by name url", curl_easy_option_by_name("url"));
  print_option("by name PROGRESSDATA", curl_easy_option_by_name("PROGRESSDATA"));
  print_option("by id 10057", curl_easy_option_by_id(CURLOPT_XFERINFODATA));
  print_option("by id CONNECT_ONLY", curl_easy_option_by_id(CURLOPT_CONNECT_ONLY));
  print_option("by name nope", curl_easy_option_by_name("NOPE"));
  print_option("by id 1", curl_easy_option_by_id((CURLoption)1));

  /* escaping */
  s = curl_easy_escape(NULL, "a b&c/\xc3\xbc~-._", 0);
  printf("escape: %s\n", s);
  curl_free(s);
  s = curl_easy_escape(NULL, "a b&c", 3);
  printf("escape 3: %s\n", s);
  curl_free(s);
  s = curl_easy_unescape(NULL, "a%20b%2fc+d%zz%4", 0, &len);
  printf("unescape: %s (%d)\n", s, len);
  curl_free(s);
  s = curl_escape("x y", 0);
  printf("curl_escape: %s\n", s);
  curl_free(s);

  /* slists */
  list = curl_slist_append(list, "one");
  list = curl_slist_append(list, "two");
  list = curl_slist_append(list, "three");
  for(item = list; item; item = item->next)
    printf("slist: %s\n", item->data);
  curl_slist_free_all(list);
  curl_slist_free_all(NULL);

  /* strings and the environment */
  printf("strequal: %d %d %d\n", curl_strequal("Hello", "hELLO"),
         curl_strequal("a", "ab"), curl_strnequal("abcX", "ABCy", 3));
  s = curl_getenv("HANDOVER_TEST_VAR");
  printf("getenv: %s\n", s ? s : "(null)");
  curl_free(s);
  s = curl_getenv("HANDOVER_TEST_UNSET_VAR");
  printf("getenv unset: %s\n", s ? s : "(null)");
  printf("version starts with libcurl/: %s\n",
         strncmp(curl_version(), "libcurl/", 8) ? "no" : "yes");

  /* duphandle copies the options */
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, count_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &count);
  curl_easy_setopt(curl, CURLOPT_PRIVATE, (void *)&writes);
  dup = curl_easy_duphandle(curl);
  curl_easy_cleanup(curl);
  rc = curl_easy_perform(dup);
  curl_easy_getinfo(dup, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(dup, CURLINFO_PRIVATE, &priv);
  printf("duplicate: perform %d code %ld wrote %s private %s\n", (int)rc, code,
         count > 0 ? "yes" : "no", priv == (void *)&writes ? "same" : "different");

  /* the header API, on the duplicate's response */
  rc = (CURLcode)curl_easy_header(dup, "content-TYPE", 0, CURLH_HEADER, -1, &h);
  printf("header content-type: %d %s %s amount %d index %d origin %u\n", (int)rc,
         rc ? "-" : h->name, rc ? "-" : h->value, rc ? 0 : (int)h->amount,
         rc ? 0 : (int)h->index, rc ? 0 : h->origin & 0x1f);
  printf("header missing: %d\n",
         (int)curl_easy_header(dup, "X-Nope", 0, CURLH_HEADER, -1, &h));
  printf("header bad index: %d\n",
         (int)curl_easy_header(dup, "Content-Type", 5, CURLH_HEADER, -1, &h));
  printf("header no request: %d\n",
         (int)curl_easy_header(dup, "Content-Type", 0, CURLH_HEADER, 1, &h));
  printf("header connect origin: %d\n",
         (int)curl_easy_header(dup, "Content-Type", 0, CURLH_CONNECT, -1, &h));
  printf("header bad origin: %d\n",
         (int)curl_easy_header(dup, "Content-Type", 0, 0, -1, &h));
  h = NULL;
  count = 0;
  while((h = curl_easy_nextheader(dup, CURLH_HEADER, -1, h)) != NULL) {
    if(!strcmp(h->name, "Server") || !strcmp(h->name, "Content-Length"))
      printf("nextheader: %s: %s\n", h->name, h->value);
    count++;
  }
  printf("nextheader count: %d\n", count);

  /* verbose output to CURLOPT_STDERR */
  err = fopen(argv[2], "w");
  curl_easy_setopt(dup, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(dup, CURLOPT_STDERR, err);
  rc = curl_easy_perform(dup);
  fclose(err);
  printf("verbose perform: %d\n", (int)rc);
  curl_easy_setopt(dup, CURLOPT_VERBOSE, 0L);
  curl_easy_setopt(dup, CURLOPT_STDERR, NULL);

  /* uploads from the read callback, on a fresh handle (without "Expect:
     100-continue", so that the body goes with the request) */
  curl = curl_easy_init();
  list = curl_slist_append(NULL, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 8L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_abort);
  /* A server that never answers: the body is asked for, whatever the
     timing. */
  curl_easy_setopt(curl, CURLOPT_URL, argv[3]);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
  rc = curl_easy_perform(curl);
  printf("read abort: %d\n", (int)rc);
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_some);
  curl_easy_setopt(curl, CURLOPT_READDATA, &left);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 3L);
  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  printf("post from read callback: %d code %ld\n", (int)rc, code);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "x=y");
  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  printf("post fields: %d code %ld\n", (int)rc, code);
  curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  printf("get again: %d code %ld\n", (int)rc, code);
  curl_easy_cleanup(curl);
  curl_slist_free_all(list);

  /* CURLOPT_HEADER: the head in the write callback too */
  count = 0;
  curl_easy_setopt(dup, CURLOPT_HEADER, 1L);
  curl_easy_setopt(dup, CURLOPT_WRITEFUNCTION, count_write);
  curl_easy_setopt(dup, CURLOPT_WRITEDATA, &count);
  rc = curl_easy_perform(dup);
  printf("with CURLOPT_HEADER: %d, %s writes than lines of body\n", (int)rc,
         count > 1 ? "more" : "no more");

  /* reset: back to no URL */
  curl_easy_reset(dup);
  printf("after reset: %d\n", (int)curl_easy_perform(dup));
  curl_easy_cleanup(dup);
  return 0;
}
