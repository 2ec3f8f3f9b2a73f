/*
 * libcurl's variadic entry points, which Rust cannot define: each reads its
 * one argument by the option's or info's type and calls a typed Rust
 * function (src/varargs.rs). The mprintf family formats with the C
 * library's printf, as libcurl's own formatter does for these conversions.
 *
 * Numbers follow curl/curl.h; this file does not include it, so building
 * the library needs no libcurl headers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

typedef int64_t curl_off_t;

/* The Rust side: typed setters and getters. */
int handover_easy_setopt_long(void *handle, int option, long value);
int handover_easy_setopt_ptr(void *handle, int option, void *value);
int handover_easy_setopt_off_t(void *handle, int option, curl_off_t value);
int handover_easy_getinfo(void *handle, int info, void *out);
int handover_multi_setopt_long(void *multi, int option, long value);
int handover_multi_setopt_ptr(void *multi, int option, void *value);
int handover_multi_setopt_off_t(void *multi, int option, curl_off_t value);
int handover_share_setopt_long(void *share, int option, long value);
int handover_share_setopt_ptr(void *share, int option, void *value);

/* CURLOPTTYPE_* ranges. */
#define TYPE_OBJECTPOINT 10000
#define TYPE_FUNCTIONPOINT 20000
#define TYPE_OFF_T 30000
#define TYPE_BLOB 40000

int curl_easy_setopt(void *handle, int option, ...);
int curl_easy_setopt(void *handle, int option, ...)
{
  va_list ap;
  int rc;
  va_start(ap, option);
  if(option < TYPE_OBJECTPOINT)
    rc = handover_easy_setopt_long(handle, option, va_arg(ap, long));
  else if(option < TYPE_FUNCTIONPOINT)
    rc = handover_easy_setopt_ptr(handle, option, va_arg(ap, void *));
  else if(option < TYPE_OFF_T) {
    /* A function pointer travels as one; it has the size of a data
       pointer on every platform this builds for. */
    void (*fn)(void) = va_arg(ap, void (*)(void));
    void *as_ptr;
    memcpy(&as_ptr, &fn, sizeof(as_ptr));
    rc = handover_easy_setopt_ptr(handle, option, as_ptr);
  }
  else if(option < TYPE_BLOB)
    rc = handover_easy_setopt_off_t(handle, option, va_arg(ap, curl_off_t));
  else
    rc = handover_easy_setopt_ptr(handle, option, va_arg(ap, void *));
  va_end(ap);
  return rc;
}

int curl_easy_getinfo(void *handle, int info, ...);
int curl_easy_getinfo(void *handle, int info, ...)
{
  va_list ap;
  void *out;
  va_start(ap, info);
  out = va_arg(ap, void *);
  va_end(ap);
  return handover_easy_getinfo(handle, info, out);
}

int curl_multi_setopt(void *multi, int option, ...);
int curl_multi_setopt(void *multi, int option, ...)
{
  va_list ap;
  int rc;
  va_start(ap, option);
  if(option < TYPE_OBJECTPOINT)
    rc = handover_multi_setopt_long(multi, option, va_arg(ap, long));
  else if(option < TYPE_FUNCTIONPOINT)
    rc = handover_multi_setopt_ptr(multi, option, va_arg(ap, void *));
  else if(option < TYPE_OFF_T) {
    void (*fn)(void) = va_arg(ap, void (*)(void));
    void *as_ptr;
    memcpy(&as_ptr, &fn, sizeof(as_ptr));
    rc = handover_multi_setopt_ptr(multi, option, as_ptr);
  }
  else
    rc = handover_multi_setopt_off_t(multi, option, va_arg(ap, curl_off_t));
  va_end(ap);
  return rc;
}

int curl_share_setopt(void *share, int option, ...);
int curl_share_setopt(void *share, int option, ...)
{
  va_list ap;
  int rc;
  va_start(ap, option);
  /* CURLSHOPT_SHARE/UNSHARE (1, 2) and USERDATA... take a long or a
     pointer; 1 and 2 are longs, the lock functions and user data
     pointers. */
  if(option == 1 || option == 2)
    rc = handover_share_setopt_long(share, option, va_arg(ap, long));
  else {
    void *p = va_arg(ap, void *);
    rc = handover_share_setopt_ptr(share, option, p);
  }
  va_end(ap);
  return rc;
}

/* ---- the mprintf family ------------------------------------------------ */

int curl_mvprintf(const char *format, va_list args);
int curl_mvprintf(const char *format, va_list args)
{
  return vprintf(format, args);
}

int curl_mvfprintf(FILE *fd, const char *format, va_list args);
int curl_mvfprintf(FILE *fd, const char *format, va_list args)
{
  return vfprintf(fd, format, args);
}

int curl_mvsprintf(char *buffer, const char *format, va_list args);
int curl_mvsprintf(char *buffer, const char *format, va_list args)
{
  return vsprintf(buffer, format, args);
}

int curl_mvsnprintf(char *buffer, size_t maxlength, const char *format,
                    va_list args);
int curl_mvsnprintf(char *buffer, size_t maxlength, const char *format,
                    va_list args)
{
  return vsnprintf(buffer, maxlength, format, args);
}

/* Returns a string that curl_free (free) releases, NULL on failure. */
char *curl_mvaprintf(const char *format, va_list args);
char *curl_mvaprintf(const char *format, va_list args)
{
  va_list copy;
  int len;
  char *out;
  va_copy(copy, args);
  len = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if(len < 0)
    return NULL;
  out = malloc((size_t)len + 1);
  if(!out)
    return NULL;
  vsnprintf(out, (size_t)len + 1, format, args);
  return out;
}

int curl_mprintf(const char *format, ...);
int curl_mprintf(const char *format, ...)
{
  va_list ap;
  int rc;
  va_start(ap, format);
  rc = curl_mvprintf(format, ap);
  va_end(ap);
  return rc;
}

int curl_mfprintf(FILE *fd, const char *format, ...);
int curl_mfprintf(FILE *fd, const char *format, ...)
{
  va_list ap;
  int rc;
  va_start(ap, format);
  rc = curl_mvfprintf(fd, format, ap);
  va_end(ap);
  return rc;
}

int curl_msprintf(char *buffer, const char *format, ...);
int curl_msprintf(char *buffer, const char *format, ...)
{
  va_list ap;
  int rc;
  va_start(ap, format);
  rc = curl_mvsprintf(buffer, format, ap);
  va_end(ap);
  return rc;
}

int curl_msnprintf(char *buffer, size_t maxlength, const char *format, ...);
int curl_msnprintf(char *buffer, size_t maxlength, const char *format, ...)
{
  va_list ap;
  int rc;
  va_start(ap, format);
  rc = curl_mvsnprintf(buffer, maxlength, format, ap);
  va_end(ap);
  return rc;
}

char *curl_maprintf(const char *format, ...);
char *curl_maprintf(const char *format, ...)
{
  va_list ap;
  char *out;
  va_start(ap, format);
  out = curl_mvaprintf(format, ap);
  va_end(ap);
  return out;
}

/* ---- the C library's standard streams, for the default callbacks ------- */

void *handover_c_stdout(void);
void *handover_c_stdout(void)
{
  return stdout;
}

void *handover_c_stderr(void);
void *handover_c_stderr(void)
{
  return stderr;
}

void *handover_c_stdin(void);
void *handover_c_stdin(void)
{
  return stdin;
}
