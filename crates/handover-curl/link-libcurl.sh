#!/usr/bin/env bash
# Links handover's libcurl.so.4 from this crate's static library:
#   link-libcurl.sh PATH/libhandover_curl.a OUT_DIR
# Writes OUT_DIR/libcurl.so.4 (soname libcurl.so.4, every curl_* symbol
# versioned CURL_OPENSSL_4, nothing else exported) and OUT_DIR/libcurl.so.
set -euo pipefail
archive=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cc -shared -o "$out/libcurl.so.4.tmp" \
    -Wl,-soname,libcurl.so.4 \
    -Wl,--version-script="$here/libcurl.map" \
    -Wl,--gc-sections \
    -Wl,--whole-archive "$archive" -Wl,--no-whole-archive \
    -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
mv -f "$out/libcurl.so.4.tmp" "$out/libcurl.so.4"
ln -sf libcurl.so.4 "$out/libcurl.so"
