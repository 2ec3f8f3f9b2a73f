/* N connect-only transfers driven only by curl_multi_socket_action from an
   epoll loop: CURLMOPT_SOCKETFUNCTION says which sockets to watch (each
   socket gets a state of ours through curl_multi_assign), and
   CURLMOPT_TIMERFUNCTION when to call with CURL_SOCKET_TIMEOUT. Checks
   that the socket callback only tells changes, and prints a summary that
   must be the same on Debian's libcurl and on handover's.

   multi_epoll URL N [CONNECT_TIMEOUT_MS] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

static CURLM *multi;
static int epfd;
static int n;
static double timer_at = -1; /* when to call with CURL_SOCKET_TIMEOUT */
static int timer_calls, timer_removes;
static int adds, changes, removes, watched;
static int repeated;      /* told the same events twice in a row */
static int unknown_remove; /* REMOVE for a socket never added */
static int wrong_easy;    /* the callback's easy handle is not one of ours */
static int recursive = -1; /* what a multi call from the callback answers */

struct sock {
  int what;
};

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp,
                     void *socketp)
{
  struct sock *st = socketp;
  struct epoll_event ev;
  char *priv = NULL;
  (void)userp;
  if(curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv) != CURLE_OK ||
     (long)priv < 0 || (long)priv >= n)
    wrong_easy++;
  if(recursive < 0) {
    int r;
    recursive = (int)curl_multi_perform(multi, &r);
  }
  if(what == CURL_POLL_REMOVE) {
    if(!st) {
      unknown_remove++;
      return 0;
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
    free(st);
    removes++;
    watched--;
    return 0;
  }
  memset(&ev, 0, sizeof(ev));
  ev.data.fd = s;
  if(what & CURL_POLL_IN)
    ev.events |= EPOLLIN;
  if(what & CURL_POLL_OUT)
    ev.events |= EPOLLOUT;
  if(!st) {
    st = calloc(1, sizeof(*st));
    st->what = what;
    if(epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev))
      printf("epoll add %d: %s\n", (int)s, strerror(errno));
    curl_multi_assign(multi, s, st);
    adds++;
    watched++;
  }
  else {
    if(st->what == what)
      repeated++;
    st->what = what;
    if(epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev))
      printf("epoll mod %d: %s\n", (int)s, strerror(errno));
    changes++;
  }
  return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
  (void)m;
  (void)userp;
  timer_calls++;
  if(timeout_ms < 0) {
    timer_at = -1;
    timer_removes++;
  }
  else
    timer_at = now() + (double)timeout_ms / 1000.0;
  return 0;
}

int main(int argc, char **argv)
{
  CURL **handles;
  int i, running = 1, done = 0, ok = 0, errors = 0;
  int codes[100] = {0};
  long connect_ms = 30000;
  double start, took;
  if(argc < 3)
    return 2;
  n = atoi(argv[2]);
  if(argc > 3)
    connect_ms = atol(argv[3]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  handles = calloc((size_t)n, sizeof(*handles));
  for(i = 0; i < n; i++) {
    handles[i] = curl_easy_init();
    curl_easy_setopt(handles[i], CURLOPT_URL, argv[1]);
    curl_easy_setopt(handles[i], CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(handles[i], CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(handles[i], CURLOPT_PRIVATE, (void *)(long)i);
    curl_multi_add_handle(multi, handles[i]);
  }
  printf("timer told at add: %s\n", timer_calls > 0 && timer_at >= 0 ? "yes" : "no");

  start = now();
  while(done < n && now() - start < 60) {
    struct epoll_event evs[64];
    int wait_ms = 1000, got;
    CURLMsg *msg;
    int left;
    if(timer_at >= 0) {
      double left_s = timer_at - now();
      wait_ms = left_s <= 0 ? 0 : (int)(left_s * 1000.0) + 1;
    }
    got = epoll_wait(epfd, evs, 64, wait_ms);
    for(i = 0; i < got; i++) {
      int flags = 0;
      if(evs[i].events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
      if(evs[i].events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
      if(evs[i].events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi, evs[i].data.fd, flags, &running);
    }
    if(timer_at >= 0 && now() >= timer_at) {
      timer_at = -1; /* one shot: libcurl tells the next */
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    while((msg = curl_multi_info_read(multi, &left))) {
      if(msg->msg != CURLMSG_DONE)
        continue;
      done++;
      if(msg->data.result == CURLE_OK)
        ok++;
      else {
        errors++;
        if(msg->data.result < 100)
          codes[msg->data.result]++;
      }
    }
  }
  took = now() - start;
  printf("done: %d\nok: %d\nerrors: %d\nrunning: %d\n", done, ok, errors, running);
  for(i = 0; i < 100; i++)
    if(codes[i])
      printf("code %d: %d\n", i, codes[i]);
  printf("every add removed: %s\n", adds == removes ? "yes" : "no");
  printf("watched at the end: %d\n", watched);
  printf("told twice: %d\n", repeated);
  printf("removes of unknown sockets: %d\n", unknown_remove);
  printf("wrong easy handles: %d\n", wrong_easy);
  printf("multi call from the socket callback: %d\n", recursive);
  printf("timer pending at the end: %s\n", timer_at >= 0 ? "yes" : "no");
  if(argc > 3)
    printf("failed after the connect timeout: %s\n",
           took >= (double)connect_ms / 1000.0 * 0.95 && took < 10 ? "yes" : "no");
  fprintf(stderr, "adds %d changes %d removes %d timer calls %d (removes %d) in %.3f s\n",
          adds, changes, removes, timer_calls, timer_removes, took);

  for(i = 0; i < n; i++) {
    curl_multi_remove_handle(multi, handles[i]);
    curl_easy_cleanup(handles[i]);
  }
  printf("cleanup: %d\n", (int)curl_multi_cleanup(multi));
  close(epfd);
  free(handles);
  curl_global_cleanup();
  return 0;
}
