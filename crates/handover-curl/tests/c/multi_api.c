/* The multi interface's answers, call by call: handles, options, misuse,
   completion messages, curl_multi_fdset/_timeout/_wakeup and strerror.
   The same output is expected from Debian's libcurl and from handover's.

   multi_api ECHO_URL SILENT_HTTPS_URL REFUSED_URL */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static CURL *connect_only(const char *url, long id)
{
  CURL *e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)id);
  return e;
}

/* perform + poll until `want` messages; their results by CURLOPT_PRIVATE. */
static void run(CURLM *m, int want, int *results, int *queued_ok)
{
  double start = now();
  int got = 0, running;
  while(got < want && now() - start < 30) {
    CURLMsg *msg;
    int left = -1, prev = -1;
    curl_multi_perform(m, &running);
    while((msg = curl_multi_info_read(m, &left))) {
      char *priv = NULL;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      if(msg->msg == CURLMSG_DONE)
        results[(long)priv] = (int)msg->data.result;
      if(prev >= 0 && left != prev - 1)
        *queued_ok = 0;
      prev = left;
      got++;
    }
    if(got < want)
      curl_multi_poll(m, NULL, 0, 200, NULL);
  }
}

int main(int argc, char **argv)
{
  CURLM *m, *other;
  CURL *e, *good, *refused, *bad, *silent;
  long t = -2;
  int i, maxfd = -2, numfds = -1, running;
  int results[3] = {-1, -1, -1}, queued_ok = 1;
  char errbuf[CURL_ERROR_SIZE];
  fd_set r, w, x;
  double start;
  if(argc < 4)
    return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  m = curl_multi_init();
  other = curl_multi_init();
  printf("init: %s\n", m ? "ok" : "NULL");

  /* An empty multi handle. */
  curl_multi_timeout(m, &t);
  printf("timeout empty: %ld\n", t);
  FD_ZERO(&r); FD_ZERO(&w); FD_ZERO(&x);
  i = (int)curl_multi_fdset(m, &r, &w, &x, &maxfd);
  printf("fdset empty: %d max %d\n", i, maxfd);
  running = -1;
  i = (int)curl_multi_perform(m, &running);
  printf("perform empty: %d running %d\n", i, running);
  printf("info_read empty: %s\n", curl_multi_info_read(m, &i) ? "msg" : "NULL");

  /* Misuse. */
  e = connect_only(argv[1], 0);
  printf("add NULL multi: %d\n", (int)curl_multi_add_handle(NULL, e));
  printf("add NULL easy: %d\n", (int)curl_multi_add_handle(m, NULL));
  printf("remove NULL multi: %d\n", (int)curl_multi_remove_handle(NULL, e));
  printf("remove NULL easy: %d\n", (int)curl_multi_remove_handle(m, NULL));
  printf("remove not added: %d\n", (int)curl_multi_remove_handle(m, e));
  printf("perform NULL: %d\n", (int)curl_multi_perform(NULL, &running));
  printf("timeout NULL: %d\n", (int)curl_multi_timeout(NULL, &t));
  printf("fdset NULL: %d\n", (int)curl_multi_fdset(NULL, &r, &w, &x, &maxfd));
  printf("wait NULL: %d\n", (int)curl_multi_wait(NULL, NULL, 0, 0, NULL));
  printf("wait negative timeout: %d\n", (int)curl_multi_wait(m, NULL, 0, -1, NULL));
  printf("socket_action unknown socket: %d\n",
         (int)curl_multi_socket_action(m, 12345, 0, &running));
  printf("assign unknown socket: %d\n", (int)curl_multi_assign(m, 12345, NULL));
  printf("wakeup NULL: %d\n", (int)curl_multi_wakeup(NULL));
  printf("cleanup NULL: %d\n", (int)curl_multi_cleanup(NULL));
  printf("info_read NULL: %s\n", curl_multi_info_read(NULL, &i) ? "msg" : "NULL");

  /* Options. */
  printf("setopt unknown: %d\n", (int)curl_multi_setopt(m, (CURLMoption)9999, 1L));
  printf("setopt NULL: %d\n", (int)curl_multi_setopt(NULL, CURLMOPT_MAXCONNECTS, 1L));
  printf("setopt maxconnects: %d\n", (int)curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 5L));
  printf("setopt pipelining multiplex: %d\n",
         (int)curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX));
  printf("setopt pipelining http1: %d\n",
         (int)curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_HTTP1));
  printf("setopt pipeline length: %d\n",
         (int)curl_multi_setopt(m, CURLMOPT_MAX_PIPELINE_LENGTH, 5L));
  printf("setopt penalty size: %d\n",
         (int)curl_multi_setopt(m, CURLMOPT_CONTENT_LENGTH_PENALTY_SIZE, (curl_off_t)1000));
  printf("setopt max host: %d\n", (int)curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L));
  printf("setopt max total: %d\n", (int)curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L));
  printf("setopt max streams: %d\n", (int)curl_multi_setopt(m, CURLMOPT_MAX_CONCURRENT_STREAMS, 10L));

  /* Adding. */
  printf("add: %d\n", (int)curl_multi_add_handle(m, e));
  printf("add again: %d\n", (int)curl_multi_add_handle(m, e));
  printf("add to another: %d\n", (int)curl_multi_add_handle(other, e));
  printf("remove from another: %d\n", (int)curl_multi_remove_handle(other, e));
  curl_multi_timeout(m, &t);
  printf("timeout after add: %ld\n", t);
  errbuf[0] = 0;
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  printf("easy perform while added: %d (%s)\n", (int)curl_easy_perform(e), errbuf);
  printf("remove: %d\n", (int)curl_multi_remove_handle(m, e));
  printf("remove again: %d\n", (int)curl_multi_remove_handle(m, e));
  curl_easy_cleanup(e);

  /* Completion messages: one connects, one is refused, one has no
     protocol. */
  good = connect_only(argv[1], 0);
  refused = connect_only(argv[3], 1);
  bad = connect_only("nosuchscheme://example/", 2);
  curl_multi_add_handle(m, good);
  curl_multi_add_handle(m, refused);
  curl_multi_add_handle(m, bad);
  run(m, 3, results, &queued_ok);
  printf("results: connected %d, refused %d, no protocol %d\n", results[0], results[1],
         results[2]);
  printf("msgs_in_queue counts down: %s\n", queued_ok ? "yes" : "no");
  printf("info_read after all: %s\n", curl_multi_info_read(m, &i) ? "msg" : "NULL");
  curl_multi_perform(m, &running);
  printf("running after: %d\n", running);
  curl_multi_remove_handle(m, good);
  curl_multi_remove_handle(m, refused);
  curl_multi_remove_handle(m, bad);
  curl_easy_cleanup(good);
  curl_easy_cleanup(refused);
  curl_easy_cleanup(bad);

  /* A TLS handshake that waits to read: fdset and timeout show it. */
  silent = connect_only(argv[2], 0);
  curl_multi_add_handle(m, silent);
  for(i = 0; i < 20; i++) {
    curl_multi_perform(m, &running);
    FD_ZERO(&r); FD_ZERO(&w); FD_ZERO(&x);
    maxfd = -1;
    curl_multi_fdset(m, &r, &w, &x, &maxfd);
    if(maxfd >= 0 && FD_ISSET(maxfd, &r) && !FD_ISSET(maxfd, &w))
      break;
    curl_multi_wait(m, NULL, 0, 50, NULL);
  }
  printf("fdset while the handshake waits: %s\n",
         maxfd >= 0 && FD_ISSET(maxfd, &r) ? "read" : "none");
  /* 0 asks for a perform first (a timer fell due, as it can on a loaded
     machine): do so and ask again, as an application would. */
  for(i = 0; i < 10; i++) {
    curl_multi_timeout(m, &t);
    if(t != 0)
      break;
    curl_multi_perform(m, &running);
  }
  fprintf(stderr, "timeout while the handshake waits: %ld\n", t);
  printf("timeout while it waits: %s\n", t > 0 && t <= 20000 ? "positive" : "other");
  numfds = -1;
  curl_multi_wait(m, NULL, 0, 100, &numfds);
  printf("wait: %d fds\n", numfds);
  curl_multi_remove_handle(m, silent);
  curl_easy_cleanup(silent);

  /* A descriptor select() cannot take is left out of the fd sets. */
  {
    int low = open("/dev/null", O_RDONLY);
    int fds[1100], k = 0;
    while(k < 1100) {
      fds[k] = dup(low);
      if(fds[k] < 0 || fds[k] >= FD_SETSIZE + 10)
        break;
      k++;
    }
    silent = connect_only(argv[2], 0);
    curl_multi_add_handle(m, silent);
    for(i = 0; i < 20; i++) {
      curl_multi_perform(m, &running);
      curl_multi_wait(m, NULL, 0, 20, NULL);
    }
    FD_ZERO(&r); FD_ZERO(&w); FD_ZERO(&x);
    maxfd = -2;
    i = (int)curl_multi_fdset(m, &r, &w, &x, &maxfd);
    printf("fdset high socket: %d max %d running %d\n", i, maxfd, running);
    curl_multi_remove_handle(m, silent);
    curl_easy_cleanup(silent);
    while(k > 0)
      close(fds[--k]);
    close(low);
  }

  /* Wakeup: the next poll returns at once. */
  printf("wakeup: %d\n", (int)curl_multi_wakeup(m));
  start = now();
  curl_multi_poll(m, NULL, 0, 5000, &numfds);
  printf("poll after wakeup: %s, %d fds\n", now() - start < 2 ? "at once" : "slept", numfds);
  start = now();
  curl_multi_poll(m, NULL, 0, 200, &numfds);
  printf("poll with nothing: %s\n", now() - start >= 0.15 ? "slept" : "at once");

  for(i = -1; i <= 13; i++)
    printf("strerror %d: %s\n", i, curl_multi_strerror((CURLMcode)i));
  printf("strerror 99: %s\n", curl_multi_strerror((CURLMcode)99));

  printf("cleanup other: %d\n", (int)curl_multi_cleanup(other));
  printf("cleanup: %d\n", (int)curl_multi_cleanup(m));
  curl_global_cleanup();
  return 0;
}
