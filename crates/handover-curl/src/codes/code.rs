//! `CURLcode`: every return code of libcurl, with `curl_easy_strerror`'s text.
//!
//! Generated once from libcurl 8.21.0's `include/curl/*.h`, `lib/easyoptions.c`,
//! `lib/strerror.c` and `docs/libcurl/symbols-in-versions`; checked against the
//! system's `curl/curl.h` by `tests/numbers.rs`. Each line: name = value,
//! the first libcurl version that has it (`LIBCURL_VERSION_NUM`).

use super::CurlCode;

codes! {
    CURLE_OK = 0, 0x070100, "No error";
    CURLE_UNSUPPORTED_PROTOCOL = 1, 0x070100, "Unsupported protocol";
    CURLE_FAILED_INIT = 2, 0x070100, "Failed initialization";
    CURLE_URL_MALFORMAT = 3, 0x070100, "URL using bad/illegal format or missing URL";
    CURLE_NOT_BUILT_IN = 4, 0x071505, "A requested feature, protocol or option was not found built-in in this libcurl due to a build-time decision.";
    CURLE_COULDNT_RESOLVE_PROXY = 5, 0x070100, "Could not resolve proxy name";
    CURLE_COULDNT_RESOLVE_HOST = 6, 0x070100, "Could not resolve hostname";
    CURLE_COULDNT_CONNECT = 7, 0x070100, "Could not connect to server";
    CURLE_WEIRD_SERVER_REPLY = 8, 0x073300, "Weird server reply";
    CURLE_REMOTE_ACCESS_DENIED = 9, 0x071100, "Access denied to remote resource";
    CURLE_FTP_ACCEPT_FAILED = 10, 0x071800, "FTP: The server failed to connect to data port";
    CURLE_FTP_WEIRD_PASS_REPLY = 11, 0x070100, "FTP: unknown PASS reply";
    CURLE_FTP_ACCEPT_TIMEOUT = 12, 0x071800, "FTP: Accepting server connect has timed out";
    CURLE_FTP_WEIRD_PASV_REPLY = 13, 0x070100, "FTP: unknown PASV reply";
    CURLE_FTP_WEIRD_227_FORMAT = 14, 0x070100, "FTP: unknown 227 response format";
    CURLE_FTP_CANT_GET_HOST = 15, 0x070100, "FTP: cannot figure out the host in the PASV response";
    CURLE_HTTP2 = 16, 0x072600, "Error in the HTTP2 framing layer";
    CURLE_FTP_COULDNT_SET_TYPE = 17, 0x071100, "FTP: could not set file type";
    CURLE_PARTIAL_FILE = 18, 0x070100, "Transferred a partial file";
    CURLE_FTP_COULDNT_RETR_FILE = 19, 0x070100, "FTP: could not retrieve (RETR failed) the specified file";
    CURLE_QUOTE_ERROR = 21, 0x071100, "Quote command returned error";
    CURLE_HTTP_RETURNED_ERROR = 22, 0x070a03, "HTTP response code said error";
    CURLE_WRITE_ERROR = 23, 0x070100, "Failed writing received data to disk/application";
    CURLE_UPLOAD_FAILED = 25, 0x071003, "Upload failed (at start/before it took off)";
    CURLE_READ_ERROR = 26, 0x070100, "Failed to open/read local data from file/application";
    CURLE_OUT_OF_MEMORY = 27, 0x070100, "Out of memory";
    CURLE_OPERATION_TIMEDOUT = 28, 0x070a02, "Timeout was reached";
    CURLE_FTP_PORT_FAILED = 30, 0x070100, "FTP: command PORT failed";
    CURLE_FTP_COULDNT_USE_REST = 31, 0x070100, "FTP: command REST failed";
    CURLE_RANGE_ERROR = 33, 0x071100, "Requested range was not delivered by the server";
    CURLE_SSL_CONNECT_ERROR = 35, 0x070100, "SSL connect error";
    CURLE_BAD_DOWNLOAD_RESUME = 36, 0x070a00, "Could not resume download";
    CURLE_FILE_COULDNT_READ_FILE = 37, 0x070100, "Could not read a file:// file";
    CURLE_LDAP_CANNOT_BIND = 38, 0x070100, "LDAP: cannot bind";
    CURLE_LDAP_SEARCH_FAILED = 39, 0x070100, "LDAP: search failed";
    CURLE_ABORTED_BY_CALLBACK = 42, 0x070100, "Operation was aborted by an application callback";
    CURLE_BAD_FUNCTION_ARGUMENT = 43, 0x070100, "A libcurl function was given a bad argument";
    CURLE_INTERFACE_FAILED = 45, 0x070c00, "Failed binding local connection end";
    CURLE_TOO_MANY_REDIRECTS = 47, 0x070500, "Number of redirects hit maximum amount";
    CURLE_UNKNOWN_OPTION = 48, 0x071505, "An unknown option was passed in to libcurl";
    CURLE_SETOPT_OPTION_SYNTAX = 49, 0x074e00, "Malformed option provided in a setopt";
    CURLE_GOT_NOTHING = 52, 0x070901, "Server returned nothing (no headers, no data)";
    CURLE_SSL_ENGINE_NOTFOUND = 53, 0x070903, "SSL crypto engine not found";
    CURLE_SSL_ENGINE_SETFAILED = 54, 0x070903, "Can not set SSL crypto engine as default";
    CURLE_SEND_ERROR = 55, 0x070a00, "Failed sending data to the peer";
    CURLE_RECV_ERROR = 56, 0x070a00, "Failure when receiving data from the peer";
    CURLE_SSL_CERTPROBLEM = 58, 0x070a00, "Problem with the local SSL certificate";
    CURLE_SSL_CIPHER = 59, 0x070a00, "Could not use specified SSL cipher";
    CURLE_PEER_FAILED_VERIFICATION = 60, 0x071101, "SSL peer certificate or SSH remote key was not OK";
    CURLE_BAD_CONTENT_ENCODING = 61, 0x070a00, "Unrecognized or bad HTTP Content or Transfer-Encoding";
    CURLE_FILESIZE_EXCEEDED = 63, 0x070a08, "Maximum file size exceeded";
    CURLE_USE_SSL_FAILED = 64, 0x071100, "Requested SSL level failed";
    CURLE_SEND_FAIL_REWIND = 65, 0x070c03, "Send failed since rewinding of the data stream failed";
    CURLE_SSL_ENGINE_INITFAILED = 66, 0x070c03, "Failed to initialize SSL crypto engine";
    CURLE_LOGIN_DENIED = 67, 0x070d01, "Login denied";
    CURLE_TFTP_NOTFOUND = 68, 0x070f00, "TFTP: File Not Found";
    CURLE_TFTP_PERM = 69, 0x070f00, "TFTP: Access Violation";
    CURLE_REMOTE_DISK_FULL = 70, 0x071100, "Disk full or allocation exceeded";
    CURLE_TFTP_ILLEGAL = 71, 0x070f00, "TFTP: Illegal operation";
    CURLE_TFTP_UNKNOWNID = 72, 0x070f00, "TFTP: Unknown transfer ID";
    CURLE_REMOTE_FILE_EXISTS = 73, 0x071100, "Remote file already exists";
    CURLE_TFTP_NOSUCHUSER = 74, 0x070f00, "TFTP: No such user";
    CURLE_SSL_CACERT_BADFILE = 77, 0x071000, "Problem with the SSL CA cert (path? access rights?)";
    CURLE_REMOTE_FILE_NOT_FOUND = 78, 0x071001, "Remote file not found";
    CURLE_SSH = 79, 0x071001, "Error in the SSH layer";
    CURLE_SSL_SHUTDOWN_FAILED = 80, 0x071001, "Failed to shut down the SSL connection";
    CURLE_AGAIN = 81, 0x071202, "Socket not ready for send/recv";
    CURLE_SSL_CRL_BADFILE = 82, 0x071300, "Failed to load CRL file (path? access rights?, format?)";
    CURLE_SSL_ISSUER_ERROR = 83, 0x071300, "Issuer check against peer certificate failed";
    CURLE_FTP_PRET_FAILED = 84, 0x071400, "FTP: The server did not accept the PRET command.";
    CURLE_RTSP_CSEQ_ERROR = 85, 0x071400, "RTSP CSeq mismatch or invalid CSeq";
    CURLE_RTSP_SESSION_ERROR = 86, 0x071400, "RTSP session error";
    CURLE_FTP_BAD_FILE_LIST = 87, 0x071500, "Unable to parse FTP file list";
    CURLE_CHUNK_FAILED = 88, 0x071500, "Chunk callback failed";
    CURLE_NO_CONNECTION_AVAILABLE = 89, 0x071e00, "The max connection limit is reached";
    CURLE_SSL_PINNEDPUBKEYNOTMATCH = 90, 0x072700, "SSL public key does not match pinned public key";
    CURLE_SSL_INVALIDCERTSTATUS = 91, 0x072900, "SSL server certificate status verification FAILED";
    CURLE_HTTP2_STREAM = 92, 0x073100, "Stream error in the HTTP/2 framing layer";
    CURLE_RECURSIVE_API_CALL = 93, 0x073b00, "API function called from within callback";
    CURLE_AUTH_ERROR = 94, 0x074200, "An authentication function returned an error";
    CURLE_HTTP3 = 95, 0x074400, "HTTP/3 error";
    CURLE_QUIC_CONNECT_ERROR = 96, 0x074500, "QUIC connection error";
    CURLE_PROXY = 97, 0x074900, "proxy handshake error";
    CURLE_SSL_CLIENTCERT = 98, 0x074d00, "SSL Client Certificate required";
    CURLE_UNRECOVERABLE_POLL = 99, 0x075400, "Unrecoverable error in select/poll";
    CURLE_TOO_LARGE = 100, 0x080600, "A value or data field grew larger than allowed";
    CURLE_ECH_REQUIRED = 101, 0x080800, "ECH attempted but failed";
}
