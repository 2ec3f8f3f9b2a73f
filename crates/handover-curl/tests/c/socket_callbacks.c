/* CURLOPT_OPENSOCKETFUNCTION, SOCKOPTFUNCTION, CLOSESOCKETFUNCTION and
   PREREQFUNCTION around a connect-only transfer to an echo server: the
   application creates, configures and closes the socket itself.
   usage: socket_callbacks URL MODE
   MODE: ok | bad-socket | sockopt-error | already-connected |
         prereq-abort | close-only */
#define CURL_DISABLE_DEPRECATION 1
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include "util.h"

struct counts {
  const char *mode;
  int opens;
  int sockopts;
  int closes;
  int prereqs;
  curl_socket_t opened;
  int sockopt_fd_is_opened;
  int purpose_ipcxn;
  char prereq_ip[64];
  int prereq_port;
  int prereq_local_port;
};

static curl_socket_t open_cb(void *clientp, curlsocktype purpose,
                             struct curl_sockaddr *addr)
{
  struct counts *c = clientp;
  curl_socket_t fd;
  c->opens++;
  if(purpose != CURLSOCKTYPE_IPCXN)
    c->purpose_ipcxn = 0;
  printf("open: family %s socktype %s protocol %s\n",
         addr->family == AF_INET ? "inet" : "other",
         addr->socktype == SOCK_STREAM ? "stream" : "other",
         addr->protocol == IPPROTO_TCP ? "tcp" : "other");
  if(!strcmp(c->mode, "bad-socket"))
    return CURL_SOCKET_BAD;
  fd = socket(addr->family, addr->socktype, addr->protocol);
  if(!strcmp(c->mode, "already-connected")) {
    if(connect(fd, &addr->addr, addr->addrlen)) {
      close(fd);
      return CURL_SOCKET_BAD;
    }
  }
  c->opened = fd;
  return fd;
}

static int sockopt_cb(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
  struct counts *c = clientp;
  int one = 1;
  c->sockopts++;
  c->sockopt_fd_is_opened = (fd == c->opened);
  if(purpose != CURLSOCKTYPE_IPCXN)
    c->purpose_ipcxn = 0;
  if(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)))
    return CURL_SOCKOPT_ERROR;
  if(!strcmp(c->mode, "sockopt-error"))
    return CURL_SOCKOPT_ERROR;
  if(!strcmp(c->mode, "already-connected"))
    return CURL_SOCKOPT_ALREADY_CONNECTED;
  return CURL_SOCKOPT_OK;
}

static int close_cb(void *clientp, curl_socket_t fd)
{
  struct counts *c = clientp;
  c->closes++;
  printf("close: %s\n", fd == c->opened ? "the opened socket" :
         "another socket");
  return close(fd);
}

static int prereq_cb(void *clientp, char *primary_ip, char *local_ip,
                     int primary_port, int local_port)
{
  struct counts *c = clientp;
  c->prereqs++;
  snprintf(c->prereq_ip, sizeof(c->prereq_ip), "%s", primary_ip);
  c->prereq_port = primary_port;
  c->prereq_local_port = local_port;
  printf("prereq: local ip %s\n", local_ip);
  if(!strcmp(c->mode, "prereq-abort"))
    return CURL_PREREQFUNC_ABORT;
  return CURL_PREREQFUNC_OK;
}

int main(int argc, char **argv)
{
  CURL *curl;
  CURLcode rc;
  struct counts c;
  curl_socket_t sock = CURL_SOCKET_BAD;
  long port = -1, local_port = -1;
  const char *msg = "hello sockets\n";
  char buf[64];
  size_t got = 0;
  int keepalive = 0;
  socklen_t len = sizeof(keepalive);
  char errbuf[CURL_ERROR_SIZE] = "";
  int close_only;

  if(argc < 3)
    return 2;
  memset(&c, 0, sizeof(c));
  c.mode = argv[2];
  c.opened = CURL_SOCKET_BAD;
  c.purpose_ipcxn = 1;
  close_only = !strcmp(c.mode, "close-only");

  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  if(!close_only) {
    printf("setopt open: %d\n", (int)curl_easy_setopt(
      curl, CURLOPT_OPENSOCKETFUNCTION, open_cb));
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &c);
    printf("setopt sockopt: %d\n", (int)curl_easy_setopt(
      curl, CURLOPT_SOCKOPTFUNCTION, sockopt_cb));
    curl_easy_setopt(curl, CURLOPT_SOCKOPTDATA, &c);
    printf("setopt prereq: %d\n", (int)curl_easy_setopt(
      curl, CURLOPT_PREREQFUNCTION, prereq_cb));
    curl_easy_setopt(curl, CURLOPT_PREREQDATA, &c);
  }
  printf("setopt close: %d\n", (int)curl_easy_setopt(
    curl, CURLOPT_CLOSESOCKETFUNCTION, close_cb));
  curl_easy_setopt(curl, CURLOPT_CLOSESOCKETDATA, &c);

  rc = curl_easy_perform(curl);
  printf("perform: %d\n", (int)rc);
  printf("errbuf set: %s\n", errbuf[0] ? "yes" : "no");
  printf("opens: %d sockopts: %d prereqs: %d closes: %d\n", c.opens,
         c.sockopts, c.prereqs, c.closes);
  printf("purpose ipcxn: %s\n", c.purpose_ipcxn ? "yes" : "no");
  if(c.sockopts)
    printf("sockopt on the opened socket: %s\n",
           c.sockopt_fd_is_opened ? "yes" : "no");
  if(!rc) {
    curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &sock);
    curl_easy_getinfo(curl, CURLINFO_PRIMARY_PORT, &port);
    curl_easy_getinfo(curl, CURLINFO_LOCAL_PORT, &local_port);
    if(!close_only)
      printf("active socket is the opened one: %s\n",
             sock == c.opened ? "yes" : "no");
    if(c.prereqs)
      printf("prereq: primary %s port matches: %s local port matches: %s\n",
             c.prereq_ip, c.prereq_port == port ? "yes" : "no",
             c.prereq_local_port == local_port ? "yes" : "no");
    getsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, &keepalive, &len);
    printf("keepalive: %d\n", keepalive);
    rc = send_all(curl, msg, strlen(msg));
    printf("send: %d\n", (int)rc);
    rc = recv_some(curl, buf, strlen(msg), &got);
    printf("recv: %d %.*s", (int)rc, (int)got, buf);
  }
  printf("closes before cleanup: %d\n", c.closes);
  curl_easy_cleanup(curl);
  printf("closes after cleanup: %d\n", c.closes);
  curl_global_cleanup();
  return 0;
}
