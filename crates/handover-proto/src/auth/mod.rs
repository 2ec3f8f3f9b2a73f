//! Proxy authentication: challenges, Basic, Digest, NTLM (in progress).
