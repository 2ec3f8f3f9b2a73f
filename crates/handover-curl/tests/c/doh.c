/* DNS over HTTPS: CURLOPT_DOH_URL and the DoH TLS switches, against a DoH
   server (dnsdist) that answers NAME with 127.0.0.1 and ::1, names
   starting with "v4." with 127.0.0.1 only, and NXDOMAIN for the rest.
   usage: doh DOH_URL CAFILE PORT NAME   (a TCP server on 127.0.0.1:PORT) */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>

static const char *doh_url, *cafile, *port;

/* A connect-only transfer to host:PORT resolved over DoH; prints the
   result and the address connected to. */
static void connect_to(const char *what, CURL *curl, const char *host)
{
  char url[256];
  char *ip = NULL;
  CURLcode rc;
  snprintf(url, sizeof(url), "telnet://%s:%s", host, port);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_PRIMARY_IP, &ip);
  printf("%s: %d %s\n", what, (int)rc, rc ? "-" : (ip ? ip : "?"));
}

/* CURLOPT_RESOLVER_START_FUNCTION: counts its calls, answers *userdata. */
static int starts;
static int resolver_start(void *resolver_state, void *reserved, void *userdata)
{
  (void)resolver_state;
  (void)reserved;
  starts++;
  return *(int *)userdata;
}

static CURL *doh_handle(void)
{
  CURL *curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_DOH_URL, doh_url);
  curl_easy_setopt(curl, CURLOPT_CAINFO, cafile);
  return curl;
}

int main(int argc, char **argv)
{
  char v4name[256], pinned[256];
  int refuse = 0;
  struct curl_slist *resolve;
  CURL *curl;
  if(argc < 5)
    return 2;
  doh_url = argv[1];
  cafile = argv[2];
  port = argv[3];

  curl = doh_handle();
  connect_to("name", curl, argv[4]);
  /* The answer is in the DNS cache: no DoH request this time. */
  connect_to("again", curl, argv[4]);
  curl_easy_cleanup(curl);

  curl = doh_handle();
  snprintf(v4name, sizeof(v4name), "v4.%s", argv[4]);
  connect_to("v4 only", curl, v4name);
  connect_to("nxdomain", curl, "no-such-name.example");
  connect_to("ip literal", curl, "127.0.0.1");
  snprintf(pinned, sizeof(pinned), "pinned.example:%s:127.0.0.1", port);
  resolve = curl_slist_append(NULL, pinned);
  curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  connect_to("resolve entry", curl, "pinned.example");
  curl_easy_cleanup(curl);
  curl_slist_free_all(resolve);

  /* The system's CAs do not know the DoH server's: the transfer's own
     verification switch does not matter, the DoH one does. */
  curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_DOH_URL, doh_url);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
  connect_to("untrusted", curl, argv[4]);
  curl_easy_setopt(curl, CURLOPT_DOH_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl, CURLOPT_DOH_SSL_VERIFYHOST, 0L);
  connect_to("unverified", curl, argv[4]);
  /* NULL turns DoH off: the system resolver does not know the name. */
  curl_easy_setopt(curl, CURLOPT_DOH_URL, NULL);
  curl_easy_setopt(curl, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  connect_to("doh off", curl, "no-such-name.example");
  curl_easy_cleanup(curl);

  /* Not checked when set, as libcurl documents. */
  /* The resolver start function: called before a lookup (a new handle
     has a cache of its own), not for a cached name; nonzero refuses. */
  curl = doh_handle();
  curl_easy_setopt(curl, CURLOPT_RESOLVER_START_FUNCTION, resolver_start);
  curl_easy_setopt(curl, CURLOPT_RESOLVER_START_DATA, &refuse);
  connect_to("start", curl, v4name);
  printf("starts: %d\n", starts);
  connect_to("start cached", curl, v4name);
  printf("starts: %d\n", starts);
  refuse = 1;
  connect_to("start refused", curl, "refused.example");
  printf("starts: %d\n", starts);
  curl_easy_cleanup(curl);

  curl = curl_easy_init();
  printf("setopt bad url: %d\n",
         (int)curl_easy_setopt(curl, CURLOPT_DOH_URL, "not a url"));
  connect_to("bad url", curl, argv[4]);
  curl_easy_cleanup(curl);
  return 0;
}
