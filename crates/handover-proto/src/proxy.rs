//! Proxy selection: proxy strings, environment variables, no-proxy rules (in progress).
