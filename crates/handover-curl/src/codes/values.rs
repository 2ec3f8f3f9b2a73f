//! The small enumerations and bit sets of libcurl's API: WebSocket flags,
//! SOCKS failure details, authentication and protocol bits, header
//! origins, option values and callback return values.
//!
//! Generated once from libcurl 8.21.0's `include/curl/*.h`, `lib/easyoptions.c`,
//! `lib/strerror.c` and `docs/libcurl/symbols-in-versions`; checked against the
//! system's `curl/curl.h` by `tests/numbers.rs`. Each line: name = value,
//! the first libcurl version that has it (`LIBCURL_VERSION_NUM`).

// libcurl's own spelling: CURL_SSLVERSION_TLSv1_2.
#![allow(non_upper_case_globals)]

use std::ffi::{c_int, c_long, c_uint, c_ulong};

use super::Constant;

constants! {
    /// `CURLWS_*`: WebSocket frame flags (`curl_ws_frame.flags`, `curl_ws_send`) and `CURLOPT_WS_OPTIONS` bits.
    CURLWS: c_uint {
        CURLWS_TEXT = 0x1, 0x075600;
        CURLWS_BINARY = 0x2, 0x075600;
        CURLWS_CONT = 0x4, 0x075600;
        CURLWS_CLOSE = 0x8, 0x075600;
        CURLWS_PING = 0x10, 0x075600;
        CURLWS_OFFSET = 0x20, 0x075600;
        CURLWS_PONG = 0x40, 0x075600;
        CURLWS_RAW_MODE = 0x1, 0x075600;
        CURLWS_NOAUTOPONG = 0x2, 0x080e00;
    }
}
constants! {
    /// `CURLPX_*`: the SOCKS failure detail of `CURLINFO_PROXY_ERROR`.
    CURLPX: c_int {
        CURLPX_OK = 0, 0x074900;
        CURLPX_BAD_ADDRESS_TYPE = 1, 0x074900;
        CURLPX_BAD_VERSION = 2, 0x074900;
        CURLPX_CLOSED = 3, 0x074900;
        CURLPX_GSSAPI = 4, 0x074900;
        CURLPX_GSSAPI_PERMSG = 5, 0x074900;
        CURLPX_GSSAPI_PROTECTION = 6, 0x074900;
        CURLPX_IDENTD = 7, 0x074900;
        CURLPX_IDENTD_DIFFER = 8, 0x074900;
        CURLPX_LONG_HOSTNAME = 9, 0x074900;
        CURLPX_LONG_PASSWD = 10, 0x074900;
        CURLPX_LONG_USER = 11, 0x074900;
        CURLPX_NO_AUTH = 12, 0x074900;
        CURLPX_RECV_ADDRESS = 13, 0x074900;
        CURLPX_RECV_AUTH = 14, 0x074900;
        CURLPX_RECV_CONNECT = 15, 0x074900;
        CURLPX_RECV_REQACK = 16, 0x074900;
        CURLPX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED = 17, 0x074900;
        CURLPX_REPLY_COMMAND_NOT_SUPPORTED = 18, 0x074900;
        CURLPX_REPLY_CONNECTION_REFUSED = 19, 0x074900;
        CURLPX_REPLY_GENERAL_SERVER_FAILURE = 20, 0x074900;
        CURLPX_REPLY_HOST_UNREACHABLE = 21, 0x074900;
        CURLPX_REPLY_NETWORK_UNREACHABLE = 22, 0x074900;
        CURLPX_REPLY_NOT_ALLOWED = 23, 0x074900;
        CURLPX_REPLY_TTL_EXPIRED = 24, 0x074900;
        CURLPX_REPLY_UNASSIGNED = 25, 0x074900;
        CURLPX_REQUEST_FAILED = 26, 0x074900;
        CURLPX_RESOLVE_HOST = 27, 0x074900;
        CURLPX_SEND_AUTH = 28, 0x074900;
        CURLPX_SEND_CONNECT = 29, 0x074900;
        CURLPX_SEND_REQUEST = 30, 0x074900;
        CURLPX_UNKNOWN_FAIL = 31, 0x074900;
        CURLPX_UNKNOWN_MODE = 32, 0x074900;
        CURLPX_USER_REJECTED = 33, 0x074900;
    }
}
constants! {
    /// `CURLAUTH_*`: authentication method bits (`CURLOPT_PROXYAUTH`, `CURLINFO_PROXYAUTH_AVAIL`).
    CURLAUTH: c_ulong {
        CURLAUTH_NONE = 0x0, 0x070a06;
        CURLAUTH_BASIC = 0x1, 0x070a06;
        CURLAUTH_DIGEST = 0x2, 0x070a06;
        CURLAUTH_GSSAPI = 0x4, 0x073700;
        CURLAUTH_GSSNEGOTIATE = 0x4, 0x070a06;
        CURLAUTH_NEGOTIATE = 0x4, 0x072600;
        CURLAUTH_NTLM = 0x8, 0x070a06;
        CURLAUTH_DIGEST_IE = 0x10, 0x071303;
        CURLAUTH_NTLM_WB = 0x20, 0x071600;
        CURLAUTH_BEARER = 0x40, 0x073d00;
        CURLAUTH_AWS_SIGV4 = 0x80, 0x074b00;
        CURLAUTH_ONLY = 0x80000000, 0x071503;
        CURLAUTH_ANYSAFE = 0xffffffee, 0x070a06;
        CURLAUTH_ANY = 0xffffffef, 0x070a06;
    }
}
constants! {
    /// `CURLPROTO_*`: protocol bits (`CURLINFO_PROTOCOL`, `curl_version_info`).
    CURLPROTO: c_long {
        CURLPROTO_HTTP = 0x1, 0x071304;
        CURLPROTO_HTTPS = 0x2, 0x071304;
        CURLPROTO_FTP = 0x4, 0x071304;
        CURLPROTO_FTPS = 0x8, 0x071304;
        CURLPROTO_SCP = 0x10, 0x071304;
        CURLPROTO_SFTP = 0x20, 0x071304;
        CURLPROTO_TELNET = 0x40, 0x071304;
        CURLPROTO_LDAP = 0x80, 0x071304;
        CURLPROTO_LDAPS = 0x100, 0x071304;
        CURLPROTO_DICT = 0x200, 0x071304;
        CURLPROTO_FILE = 0x400, 0x071304;
        CURLPROTO_TFTP = 0x800, 0x071304;
        CURLPROTO_IMAP = 0x1000, 0x071400;
        CURLPROTO_IMAPS = 0x2000, 0x071400;
        CURLPROTO_POP3 = 0x4000, 0x071400;
        CURLPROTO_POP3S = 0x8000, 0x071400;
        CURLPROTO_SMTP = 0x10000, 0x071400;
        CURLPROTO_SMTPS = 0x20000, 0x071400;
        CURLPROTO_RTSP = 0x40000, 0x071400;
        CURLPROTO_RTMP = 0x80000, 0x071500;
        CURLPROTO_RTMPT = 0x100000, 0x071500;
        CURLPROTO_RTMPE = 0x200000, 0x071500;
        CURLPROTO_RTMPTE = 0x400000, 0x071500;
        CURLPROTO_RTMPS = 0x800000, 0x071500;
        CURLPROTO_RTMPTS = 0x1000000, 0x071500;
        CURLPROTO_GOPHER = 0x2000000, 0x071502;
        CURLPROTO_SMB = 0x4000000, 0x072800;
        CURLPROTO_SMBS = 0x8000000, 0x072800;
        CURLPROTO_MQTT = 0x10000000, 0x074700;
        CURLPROTO_GOPHERS = 0x20000000, 0x074b00;
    }
}
constants! {
    /// `CURLH_*`: origin bits of `struct curl_header` (`curl_easy_header`).
    CURLH: c_uint {
        CURLH_HEADER = 0x1, 0x075300;
        CURLH_TRAILER = 0x2, 0x075300;
        CURLH_CONNECT = 0x4, 0x075300;
        CURLH_1XX = 0x8, 0x075300;
        CURLH_PSEUDO = 0x10, 0x075300;
    }
}
constants! {
    /// `CURLHcode`: what `curl_easy_header` answers.
    CURLHE: c_int {
        CURLHE_OK = 0, 0x075300;
        CURLHE_BADINDEX = 1, 0x075300;
        CURLHE_MISSING = 2, 0x075300;
        CURLHE_NOHEADERS = 3, 0x075300;
        CURLHE_NOREQUEST = 4, 0x075300;
        CURLHE_OUT_OF_MEMORY = 5, 0x075300;
        CURLHE_BAD_ARGUMENT = 6, 0x075300;
        CURLHE_NOT_BUILT_IN = 7, 0x075300;
    }
}
constants! {
    /// `curl_easytype` (`CURLOT_*`) and `CURLOT_FLAG_ALIAS`: the `struct curl_easyoption` fields.
    CURLOT: c_int {
        CURLOT_LONG = 0, 0x074900;
        CURLOT_VALUES = 1, 0x074900;
        CURLOT_OFF_T = 2, 0x074900;
        CURLOT_OBJECT = 3, 0x074900;
        CURLOT_STRING = 4, 0x074900;
        CURLOT_SLIST = 5, 0x074900;
        CURLOT_CBPTR = 6, 0x074900;
        CURLOT_BLOB = 7, 0x074900;
        CURLOT_FUNCTION = 8, 0x074900;
        CURLOT_FLAG_ALIAS = 1, 0x074900;
    }
}
constants! {
    /// `CURLOPTTYPE_*`: the option number ranges that tell an option's argument type.
    CURLOPTTYPE: c_int {
        CURLOPTTYPE_LONG = 0, 0x070100;
        CURLOPTTYPE_VALUES = 0, 0x074900;
        CURLOPTTYPE_CBPOINT = 10000, 0x074900;
        CURLOPTTYPE_OBJECTPOINT = 10000, 0x070100;
        CURLOPTTYPE_SLISTPOINT = 10000, 0x074102;
        CURLOPTTYPE_STRINGPOINT = 10000, 0x072e00;
        CURLOPTTYPE_FUNCTIONPOINT = 20000, 0x070100;
        CURLOPTTYPE_OFF_T = 30000, 0x070b00;
        CURLOPTTYPE_BLOB = 40000, 0x074700;
    }
}
constants! {
    /// `CURL_SSLVERSION_*`: `CURLOPT_SSLVERSION` values, the minimum in the low 16 bits and the maximum above them.
    SSLVERSION: c_long {
        CURL_SSLVERSION_DEFAULT = 0x0, 0x070902;
        CURL_SSLVERSION_MAX_NONE = 0x0, 0x073600;
        CURL_SSLVERSION_TLSv1 = 0x1, 0x070902;
        CURL_SSLVERSION_SSLv2 = 0x2, 0x070902;
        CURL_SSLVERSION_SSLv3 = 0x3, 0x070902;
        CURL_SSLVERSION_TLSv1_0 = 0x4, 0x072200;
        CURL_SSLVERSION_TLSv1_1 = 0x5, 0x072200;
        CURL_SSLVERSION_TLSv1_2 = 0x6, 0x072200;
        CURL_SSLVERSION_TLSv1_3 = 0x7, 0x073400;
        CURL_SSLVERSION_MAX_DEFAULT = 0x10000, 0x073600;
        CURL_SSLVERSION_MAX_TLSv1_0 = 0x40000, 0x073600;
        CURL_SSLVERSION_MAX_TLSv1_1 = 0x50000, 0x073600;
        CURL_SSLVERSION_MAX_TLSv1_2 = 0x60000, 0x073600;
        CURL_SSLVERSION_MAX_TLSv1_3 = 0x70000, 0x073600;
    }
}
constants! {
    /// `CURLPROXY_*`: `CURLOPT_PROXYTYPE` values.
    PROXYTYPE: c_long {
        CURLPROXY_HTTP = 0, 0x070a00;
        CURLPROXY_HTTP_1_0 = 1, 0x071304;
        CURLPROXY_HTTPS = 2, 0x073400;
        CURLPROXY_HTTPS2 = 3, 0x080100;
        CURLPROXY_SOCKS4 = 4, 0x070a00;
        CURLPROXY_SOCKS5 = 5, 0x070a00;
        CURLPROXY_SOCKS4A = 6, 0x071200;
        CURLPROXY_SOCKS5_HOSTNAME = 7, 0x071200;
        CURLPROXY_HTTPS3 = 8, 0x081500;
    }
}
constants! {
    /// `CURL_IPRESOLVE_*`: `CURLOPT_IPRESOLVE` values.
    IPRESOLVE: c_long {
        CURL_IPRESOLVE_WHATEVER = 0, 0x070a08;
        CURL_IPRESOLVE_V4 = 1, 0x070a08;
        CURL_IPRESOLVE_V6 = 2, 0x070a08;
    }
}
constants! {
    /// `CURL_HTTP_VERSION_*`: `CURLOPT_HTTP_VERSION` values and `CURLINFO_HTTP_VERSION` answers.
    HTTP_VERSION: c_long {
        CURL_HTTP_VERSION_NONE = 0, 0x070901;
        CURL_HTTP_VERSION_1_0 = 1, 0x070901;
        CURL_HTTP_VERSION_1_1 = 2, 0x070901;
        CURL_HTTP_VERSION_2 = 3, 0x072b00;
        CURL_HTTP_VERSION_2_0 = 3, 0x072100;
        CURL_HTTP_VERSION_2TLS = 4, 0x072f00;
        CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE = 5, 0x073100;
        CURL_HTTP_VERSION_3 = 30, 0x074200;
        CURL_HTTP_VERSION_3ONLY = 31, 0x075800;
    }
}
constants! {
    /// `CURLHEADER_*`: `CURLOPT_HEADEROPT` values.
    HEADEROPT: c_long {
        CURLHEADER_UNIFIED = 0, 0x072500;
        CURLHEADER_SEPARATE = 1, 0x072500;
    }
}
constants! {
    /// `CURLPAUSE_*`: `curl_easy_pause` bits.
    PAUSE: c_int {
        CURLPAUSE_CONT = 0x0, 0x071200;
        CURLPAUSE_RECV_CONT = 0x0, 0x071200;
        CURLPAUSE_SEND_CONT = 0x0, 0x071200;
        CURLPAUSE_RECV = 0x1, 0x071200;
        CURLPAUSE_SEND = 0x4, 0x071200;
        CURLPAUSE_ALL = 0x5, 0x071200;
    }
}
constants! {
    /// The special return values of the application's callbacks (`CURL_READFUNC_*`, `CURL_WRITEFUNC_*`, `CURL_PROGRESSFUNC_CONTINUE`, `CURL_SEEKFUNC_*`).
    CALLBACK_RETURNS: usize {
        CURL_READFUNC_ABORT = 0x10000000, 0x070c01;
        CURL_READFUNC_PAUSE = 0x10000001, 0x071200;
        CURL_WRITEFUNC_ERROR = 0xffffffff, 0x075700;
        CURL_WRITEFUNC_PAUSE = 0x10000001, 0x071200;
        CURL_PROGRESSFUNC_CONTINUE = 0x10000001, 0x074400;
        CURL_SEEKFUNC_CANTSEEK = 0x2, 0x071305;
        CURL_SEEKFUNC_FAIL = 0x1, 0x071305;
        CURL_SEEKFUNC_OK = 0x0, 0x071305;
        CURL_SOCKOPT_OK = 0x0, 0x071505;
        CURL_SOCKOPT_ERROR = 0x1, 0x071505;
        CURL_SOCKOPT_ALREADY_CONNECTED = 0x2, 0x071505;
        CURL_PREREQFUNC_OK = 0x0, 0x075000;
        CURL_PREREQFUNC_ABORT = 0x1, 0x075000;
    }
}
constants! {
    /// `curl_infotype`: what the debug callback is given.
    INFOTYPE: c_int {
        CURLINFO_TEXT = 0, 0x070906;
        CURLINFO_HEADER_IN = 1, 0x070906;
        CURLINFO_HEADER_OUT = 2, 0x070906;
        CURLINFO_DATA_IN = 3, 0x070906;
        CURLINFO_DATA_OUT = 4, 0x070906;
        CURLINFO_SSL_DATA_IN = 5, 0x070c01;
        CURLINFO_SSL_DATA_OUT = 6, 0x070c01;
        CURLINFO_END = 7, 0x070906;
    }
}
constants! {
    /// `curlsocktype`: why a socket is opened (open-socket and sockopt callbacks).
    SOCKTYPE: c_int {
        CURLSOCKTYPE_IPCXN = 0, 0x071000;
        CURLSOCKTYPE_ACCEPT = 1, 0x071c00;
    }
}
constants! {
    /// Sizes and sentinels: `CURL_ERROR_SIZE`, `CURL_SOCKET_BAD`.
    LIMITS: c_int {
        CURL_ERROR_SIZE = 256, 0x070100;
        CURL_SOCKET_BAD = -1, 0x070e00;
    }
}
constants! {
    /// `CURL_REDIR_*`: `CURLOPT_POSTREDIR` bits.
    REDIR: c_long {
        CURL_REDIR_GET_ALL = 0, 0x071301;
        CURL_REDIR_POST_301 = 1, 0x071301;
        CURL_REDIR_POST_302 = 2, 0x071301;
        CURL_REDIR_POST_303 = 4, 0x071a00;
        CURL_REDIR_POST_ALL = 7, 0x071301;
    }
}
constants! {
    /// `CURLSSLOPT_*`: `CURLOPT_SSL_OPTIONS` bits.
    SSLOPT: c_long {
        CURLSSLOPT_ALLOW_BEAST = 0x1, 0x071900;
        CURLSSLOPT_NO_REVOKE = 0x2, 0x072c00;
        CURLSSLOPT_NO_PARTIALCHAIN = 0x4, 0x074400;
        CURLSSLOPT_REVOKE_BEST_EFFORT = 0x8, 0x074600;
        CURLSSLOPT_NATIVE_CA = 0x10, 0x074700;
        CURLSSLOPT_AUTO_CLIENT_CERT = 0x20, 0x074d00;
        CURLSSLOPT_EARLYDATA = 0x40, 0x080b00;
    }
}
