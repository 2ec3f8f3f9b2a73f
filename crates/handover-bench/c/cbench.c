/* The C face of the benchmarks: one program, compiled once against the
   system's curl/curl.h and linked to Debian's libcurl, run once as it is and
   once with LD_LIBRARY_PATH pointing at handover's libcurl.so.4
   (`handover-bench c` does both, alternating, and prints the ratios).

     cbench latency URL N WARMUP [CAINFO|-] [PROXY|-]
         N sequential connect-only performs on one reused easy handle (after
         WARMUP unmeasured ones), each connection shut down (shutdown(2) on
         CURLINFO_ACTIVESOCKET) after its timing; prints one line per
         perform: microseconds.
     cbench throughput URL BYTES [CAINFO|-]
         connect-only, then BYTES sent and the same BYTES received back
         through curl_easy_send/recv (64 KiB calls, non-blocking, poll(2) on
         CURLINFO_ACTIVESOCKET when neither makes progress), every byte
         compared; prints "RESULT <microseconds>".
     cbench multi URL N [CAINFO|-]
         N connect-only handles in one multi handle driven only by
         curl_multi_socket_action from an epoll loop (SOCKETFUNCTION,
         TIMERFUNCTION); prints "RESULT <µs to all connected> <VmHWM kB>
         <VmRSS kB before the first handle> <failed>".

   TLS (an https URL) gets CAINFO and HTTP/1.1 (no h2 ALPN), as in the Rust
   benches; an http:// PROXY is a CONNECT tunnel, socks5:// a SOCKS5 one. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#define CHUNK (64 * 1024)
/* The sent stream repeats this many pseudo-random bytes (the same stream
   as throughput.rs). */
#define PATTERN ((1 << 20) + 4099)

static double now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what, CURLcode rc)
{
  fprintf(stderr, "cbench: %s: %d %s\n", what, (int)rc, curl_easy_strerror(rc));
  exit(1);
}

static const char *opt_arg(int argc, char **argv, int i)
{
  if(i < argc && strcmp(argv[i], "-") != 0 && argv[i][0])
    return argv[i];
  return NULL;
}

static void setup(CURL *e, const char *url, const char *ca, const char *proxy)
{
  CURLcode rc;
  if((rc = curl_easy_setopt(e, CURLOPT_URL, url)))
    die("CURLOPT_URL", rc);
  if((rc = curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L)))
    die("CURLOPT_CONNECT_ONLY", rc);
  if(ca) {
    if((rc = curl_easy_setopt(e, CURLOPT_CAINFO, ca)))
      die("CURLOPT_CAINFO", rc);
    if((rc = curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                              (long)CURL_HTTP_VERSION_1_1)))
      die("CURLOPT_HTTP_VERSION", rc);
  }
  if(proxy) {
    if((rc = curl_easy_setopt(e, CURLOPT_PROXY, proxy)))
      die("CURLOPT_PROXY", rc);
    if(strncmp(proxy, "http", 4) == 0 &&
       (rc = curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L)))
      die("CURLOPT_HTTPPROXYTUNNEL", rc);
  }
}

/* A field of /proc/self/status in kB (VmHWM, VmRSS). */
static long status_kb(const char *field)
{
  char line[256];
  size_t len = strlen(field);
  long kb = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if(!f)
    return -1;
  while(fgets(line, sizeof(line), f)) {
    if(strncmp(line, field, len) == 0 && line[len] == ':') {
      kb = atol(line + len + 1);
      break;
    }
  }
  fclose(f);
  return kb;
}

/* ---- latency ---------------------------------------------------------- */

/* Ends the connection's traffic outside the timing, for both libraries:
   libcurl 7.88 keeps every connect-only connection open until cleanup
   (libcurl 8.12+ and handover close it at the next perform), so without
   this, handover's timings would carry the teardown (its FIN, the peer
   waking to it) and libcurl's none. The descriptor stays with the library,
   which closes it as it always does. */
static void shut_down(CURL *e)
{
  curl_socket_t fd = CURL_SOCKET_BAD;
  if(!curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &fd) && fd != CURL_SOCKET_BAD)
    shutdown(fd, SHUT_RDWR);
}

static int latency(int argc, char **argv)
{
  const char *url = argv[2];
  int n = atoi(argv[3]), warmup = atoi(argv[4]), i;
  const char *ca = opt_arg(argc, argv, 5), *proxy = opt_arg(argc, argv, 6);
  double *us = calloc((size_t)n, sizeof(*us));
  CURL *e = curl_easy_init();
  if(!e || !us)
    return 1;
  setup(e, url, ca, proxy);
  for(i = 0; i < warmup + n; i++) {
    double t = now_us();
    CURLcode rc = curl_easy_perform(e);
    double d = now_us() - t;
    if(rc)
      die("curl_easy_perform", rc);
    if(i >= warmup)
      us[i - warmup] = d;
    shut_down(e);
  }
  /* Printed after the loop: no stdio between the performs. */
  for(i = 0; i < n; i++)
    printf("%.3f\n", us[i]);
  curl_easy_cleanup(e);
  free(us);
  return 0;
}

/* ---- throughput ------------------------------------------------------- */

static unsigned char *pattern(void)
{
  unsigned char *p = malloc(PATTERN);
  unsigned long long x = 0x9E3779B97F4A7C15ULL;
  size_t i;
  for(i = 0; i < PATTERN; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = (unsigned char)(x >> 24);
  }
  return p;
}

static int throughput(int argc, char **argv)
{
  const char *url = argv[2];
  unsigned long long total = strtoull(argv[3], NULL, 10), sent = 0, got = 0;
  const char *ca = opt_arg(argc, argv, 4);
  unsigned char *pat = pattern(), *buf = malloc(CHUNK);
  curl_socket_t fd = CURL_SOCKET_BAD;
  CURLcode rc;
  double start;
  CURL *e = curl_easy_init();
  if(!e || !pat || !buf)
    return 1;
  setup(e, url, ca, NULL);
  if((rc = curl_easy_perform(e)))
    die("curl_easy_perform", rc);
  if((rc = curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &fd)) ||
     fd == CURL_SOCKET_BAD)
    die("CURLINFO_ACTIVESOCKET", rc);
  start = now_us();
  while(got < total) {
    int progress = 0;
    size_t n = 0;
    if(sent < total) {
      size_t off = (size_t)(sent % PATTERN), len = CHUNK;
      if(len > PATTERN - off)
        len = PATTERN - off;
      if(len > total - sent)
        len = (size_t)(total - sent);
      rc = curl_easy_send(e, pat + off, len, &n);
      if(rc == CURLE_OK) {
        sent += n;
        progress = 1;
      }
      else if(rc != CURLE_AGAIN)
        die("curl_easy_send", rc);
    }
    n = 0;
    rc = curl_easy_recv(e, buf, CHUNK, &n);
    if(rc == CURLE_OK) {
      size_t off = (size_t)(got % PATTERN), done = 0;
      if(n == 0) {
        fprintf(stderr, "cbench: EOF after %llu bytes\n", got);
        return 1;
      }
      while(done < n) {
        size_t len = n - done;
        if(len > PATTERN - off)
          len = PATTERN - off;
        if(memcmp(buf + done, pat + off, len)) {
          fprintf(stderr, "cbench: echoed bytes differ near offset %llu\n",
                  got);
          return 1;
        }
        done += len;
        off = 0;
      }
      got += n;
      progress = 1;
    }
    else if(rc != CURLE_AGAIN)
      die("curl_easy_recv", rc);
    if(!progress) {
      struct pollfd p;
      p.fd = fd;
      p.events = POLLIN | (sent < total ? POLLOUT : 0);
      p.revents = 0;
      if(poll(&p, 1, 30000) == 0) {
        fprintf(stderr, "cbench: 30 s without progress\n");
        return 1;
      }
    }
  }
  printf("RESULT %.0f\n", now_us() - start);
  curl_easy_cleanup(e);
  free(pat);
  free(buf);
  return 0;
}

/* ---- multi, socket_action from epoll ---------------------------------- */

static CURLM *multi;
static int epfd;
static double timer_at = -1; /* µs; when to call with CURL_SOCKET_TIMEOUT */

static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp,
                     void *socketp)
{
  struct epoll_event ev;
  (void)e;
  (void)userp;
  if(what == CURL_POLL_REMOVE) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  memset(&ev, 0, sizeof(ev));
  ev.data.fd = s;
  if(what & CURL_POLL_IN)
    ev.events |= EPOLLIN;
  if(what & CURL_POLL_OUT)
    ev.events |= EPOLLOUT;
  if(!socketp) {
    if(epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev) && errno == EEXIST)
      epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev);
    /* Any non-NULL pointer: "known". */
    curl_multi_assign(multi, s, (void *)1);
  }
  else if(epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev) && errno == ENOENT)
    epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev);
  return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
  (void)m;
  (void)userp;
  timer_at = timeout_ms < 0 ? -1 : now_us() + (double)timeout_ms * 1e3;
  return 0;
}

static int multi_bench(int argc, char **argv)
{
  const char *url = argv[2];
  int n = atoi(argv[3]), i, running = 0, done = 0, failed = 0;
  const char *ca = opt_arg(argc, argv, 4);
  struct rlimit lim;
  long base_kb;
  double start, deadline;
  CURL **handles;
  if(getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  handles = calloc((size_t)n, sizeof(*handles));
  epfd = epoll_create1(EPOLL_CLOEXEC);
  multi = curl_multi_init();
  if(!handles || epfd < 0 || !multi)
    return 1;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  base_kb = status_kb("VmRSS");
  start = now_us();
  deadline = start + 300e6;
  for(i = 0; i < n; i++) {
    CURLMcode mc;
    handles[i] = curl_easy_init();
    if(!handles[i])
      return 1;
    setup(handles[i], url, ca, NULL);
    if((mc = curl_multi_add_handle(multi, handles[i]))) {
      fprintf(stderr, "cbench: curl_multi_add_handle: %s\n",
              curl_multi_strerror(mc));
      return 1;
    }
  }
  while(done < n) {
    struct epoll_event evs[256];
    int wait_ms = 1000, got, left;
    CURLMsg *msg;
    if(now_us() > deadline) {
      fprintf(stderr, "cbench: %d/%d after the deadline\n", done, n);
      return 1;
    }
    if(timer_at >= 0) {
      double left_us = timer_at - now_us();
      wait_ms = left_us <= 0 ? 0 : (int)(left_us / 1e3) + 1;
    }
    got = epoll_wait(epfd, evs, 256, wait_ms);
    if(got < 0 && errno != EINTR) {
      perror("cbench: epoll_wait");
      return 1;
    }
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
    if(timer_at >= 0 && now_us() >= timer_at) {
      timer_at = -1;
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    while((msg = curl_multi_info_read(multi, &left))) {
      if(msg->msg != CURLMSG_DONE)
        continue;
      done++;
      if(msg->data.result) {
        if(failed < 5)
          fprintf(stderr, "cbench: transfer failed: %s\n",
                  curl_easy_strerror(msg->data.result));
        failed++;
      }
    }
  }
  printf("RESULT %.0f %ld %ld %d\n", now_us() - start, status_kb("VmHWM"),
         base_kb, failed);
  fflush(stdout);
  /* Skip tearing down N connections: the measurement is done. */
  _exit(0);
}

int main(int argc, char **argv)
{
  int rc;
  if(argc < 4) {
    fprintf(stderr, "usage: cbench latency URL N WARMUP [CAINFO|-] [PROXY|-]"
                    " | throughput URL BYTES [CAINFO|-]"
                    " | multi URL N [CAINFO|-]\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if(strcmp(argv[1], "latency") == 0 && argc >= 5)
    rc = latency(argc, argv);
  else if(strcmp(argv[1], "throughput") == 0)
    rc = throughput(argc, argv);
  else if(strcmp(argv[1], "multi") == 0)
    rc = multi_bench(argc, argv);
  else {
    fprintf(stderr, "cbench: unknown mode %s\n", argv[1]);
    rc = 2;
  }
  curl_global_cleanup();
  return rc;
}
