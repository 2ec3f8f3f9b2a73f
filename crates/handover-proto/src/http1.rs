//! HTTP/1.x response heads and bodies to skip (in progress).
