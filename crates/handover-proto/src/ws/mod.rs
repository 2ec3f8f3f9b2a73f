//! WebSocket (RFC 6455) client handshake and frames (in progress).
