/* A share of connections (CURL_LOCK_DATA_CONNECT): a keep-alive
   connection one handle made is reused by another handle of the share —
   on another thread, and by a handle added to a multi handle — but not by
   a handle outside the share; a connect-only connection is never taken.
   What CURLINFO_ACTIVESOCKET finds, what the share refuses while in use,
   and that curl_easy_reset keeps the share and curl_easy_duphandle does
   not copy it.
   usage: share_connections URL   (an HTTP/1.1 keep-alive server) */
#include <pthread.h>
#include <stdio.h>
#include <curl/curl.h>

static pthread_mutex_t locks[CURL_LOCK_DATA_LAST];

/* libcurl asks for these with handles on several threads; handover's
   share locks itself and never calls them. */
static void lock_cb(CURL *curl, curl_lock_data data, curl_lock_access access, void *user)
{
  (void)curl;
  (void)access;
  (void)user;
  pthread_mutex_lock(&locks[data]);
}

static void unlock_cb(CURL *curl, curl_lock_data data, void *user)
{
  (void)curl;
  (void)user;
  pthread_mutex_unlock(&locks[data]);
}

static size_t discard(char *data, size_t size, size_t n, void *user)
{
  (void)data;
  (void)user;
  return size * n;
}

static void options(CURL *curl, const char *url, CURLSH *share)
{
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  if(share)
    curl_easy_setopt(curl, CURLOPT_SHARE, share);
}

static CURL *handle(const char *url, CURLSH *share)
{
  CURL *curl = curl_easy_init();
  options(curl, url, share);
  return curl;
}

static long local_port(CURL *curl)
{
  long port = -1;
  curl_easy_getinfo(curl, CURLINFO_LOCAL_PORT, &port);
  return port;
}

static long connects(CURL *curl)
{
  long n = -1;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &n);
  return n;
}

static curl_socket_t active(CURL *curl)
{
  curl_socket_t fd = CURL_SOCKET_BAD;
  curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &fd);
  return fd;
}

static const char *yes(int b)
{
  return b ? "yes" : "no";
}

/* Performs and prints "NAME: RESULT, connects N" (no newline). */
static void perform(const char *name, CURL *curl)
{
  int rc = (int)curl_easy_perform(curl);
  printf("%s: %d, connects %ld", name, rc, connects(curl));
}

static void *on_thread(void *curl)
{
  perform("thread", curl);
  printf("\n");
  return NULL;
}

int main(int argc, char **argv)
{
  CURLSH *share;
  CURLM *multi;
  CURL *a, *b, *c, *d, *e, *f, *g, *dup;
  pthread_t thread;
  long a_port, d_port;
  int running, i;
  if(argc < 2)
    return 2;
  for(i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&locks[i], NULL);
  curl_global_init(CURL_GLOBAL_ALL);
  share = curl_share_init();
  printf("share connections: %d\n",
         (int)curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT));
  printf("again: %d\n",
         (int)curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT));
  curl_share_setopt(share, CURLSHOPT_LOCKFUNC, lock_cb);
  curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, unlock_cb);

  a = handle(argv[1], share);
  printf("activesocket before: %s\n", active(a) == CURL_SOCKET_BAD ? "bad" : "valid");
  perform("a", a);
  printf("\n");
  a_port = local_port(a);
  printf("a activesocket: %s\n", active(a) == CURL_SOCKET_BAD ? "bad" : "valid");

  b = handle(argv[1], share);
  perform("b", b);
  printf(", same local port as a: %s\n", yes(local_port(b) == a_port));
  printf("a and b name one socket: %s\n",
         yes(active(a) != CURL_SOCKET_BAD && active(a) == active(b)));

  c = handle(argv[1], NULL);
  perform("c (no share)", c);
  printf(", same local port as a: %s\n", yes(local_port(c) == a_port));

  /* Another thread: the connection a and b used. */
  e = handle(argv[1], share);
  pthread_create(&thread, NULL, on_thread, e);
  pthread_join(thread, NULL);
  printf("thread's local port is a's: %s\n", yes(local_port(e) == a_port));

  /* connect-only: a connection of its own, never taken by another. */
  d = handle(argv[1], share);
  curl_easy_setopt(d, CURLOPT_CONNECT_ONLY, 1L);
  perform("d (connect-only)", d);
  d_port = local_port(d);
  printf(", same local port as a: %s\n", yes(d_port == a_port));
  perform("b again", b);
  printf(", a's connection: %s, d's: %s\n", yes(local_port(b) == a_port),
         yes(local_port(b) == d_port));

  /* A multi handle: the share's pool for a handle of the share, the
     multi's own for one outside it. */
  multi = curl_multi_init();
  f = handle(argv[1], share);
  g = handle(argv[1], NULL);
  curl_multi_add_handle(multi, f);
  curl_multi_add_handle(multi, g);
  do {
    curl_multi_perform(multi, &running);
    if(running)
      curl_multi_poll(multi, NULL, 0, 1000, NULL);
  } while(running);
  printf("multi, shared: connects %ld, a's connection: %s\n", connects(f),
         yes(local_port(f) == a_port));
  printf("multi, not shared: connects %ld, a's connection: %s\n", connects(g),
         yes(local_port(g) == a_port));
  curl_multi_remove_handle(multi, f);
  curl_multi_remove_handle(multi, g);

  printf("unshare in use: %d\n",
         (int)curl_share_setopt(share, CURLSHOPT_UNSHARE, CURL_LOCK_DATA_CONNECT));
  printf("cleanup in use: %d\n", (int)curl_share_cleanup(share));

  /* curl_easy_reset keeps the share. */
  curl_easy_reset(b);
  options(b, argv[1], NULL);
  perform("after reset", b);
  printf("\n");

  /* curl_easy_duphandle does not copy it. */
  dup = curl_easy_duphandle(a);
  curl_easy_cleanup(a);
  curl_easy_cleanup(b);
  curl_easy_cleanup(d);
  curl_easy_cleanup(e);
  curl_easy_cleanup(f);
  perform("dup", dup);
  printf("\n");
  printf("cleanup: %d\n", (int)curl_share_cleanup(share));
  curl_easy_cleanup(dup);
  curl_easy_cleanup(c);
  curl_easy_cleanup(g);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  return 0;
}
