//! The HTTP CONNECT tunnel and its 407 loop (in progress).
