/* Prints the library's option table: "NAME id type flags" for every entry
   curl_easy_option_next walks through. */
#include <stdio.h>
#include <curl/curl.h>

int main(void)
{
  const struct curl_easyoption *o = NULL;
  while((o = curl_easy_option_next(o)) != NULL)
    printf("%s %d %d %u\n", o->name, (int)o->id, (int)o->type, o->flags);
  return 0;
}
