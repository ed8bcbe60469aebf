#pragma once

// How an UpstreamWorker speaks HTTP to the upstream (GeminiClientConfig::transport).
//
// - Qnam: QNetworkAccessManager, for every scheme: https:// (HTTP/2 through
//   ALPN, else HTTP/1.1), h2c for http:// with http2Direct, HTTP/1.1 otherwise.
//   Qt 6.4 opens at most 6 HTTP/1.1 connections per host and manager.
// - Native: Sluice's own HTTP/1.1 keep-alive client (Http1ConnectionPool),
//   plain http:// without http2Direct only (the embedded GeminiSimulator, a
//   local sidecar); many connections per worker, a fraction of QNAM's CPU per
//   call. It connects directly, ignoring any proxy setting.
// - Auto: Native where it applies, Qnam otherwise.
//
// Native cannot serve https:// or h2c: those resolve to Qnam whatever is asked.
enum class UpstreamTransport { Auto, Qnam, Native };
