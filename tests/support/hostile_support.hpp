#pragma once
// Shared by the server's integration tests (server_serve, hostile_*,
// reload_*, fault_*), beside
// support/files.hpp (fixtures, temporary folders, atomic writes): the server's memory
// from /proc, a real ClientHello, and certificate chains made with the
// openssl CLI. Builds on server_support.hpp (ServeProcess, HttpClient).

#include "support/files.hpp"
#include "support/server_support.hpp"

#include <certauth/x509/ossl.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace certauth::test {

// Every file of the demo configuration (users, CA, CRL, server certificate
// and key, certauth.toml) as a copy in a temporary folder, for a test to
// change, break and restore before a reload.
struct ConfigCopy {
    TempDir dir;
    std::filesystem::path users = dir.path / "users.json";
    std::filesystem::path ca = dir.path / "ca.crt";
    std::filesystem::path crl = dir.path / "ca.crl";
    std::filesystem::path cert = dir.path / "server.crt";
    std::filesystem::path key = dir.path / "server.key";
    std::filesystem::path toml = dir.path / "certauth.toml";

    ConfigCopy();
    // The fixtures' files, as at start-up.
    void restore() const;
    std::vector<std::pair<std::filesystem::path, std::string>> originals() const;
    // `certauth serve` options for this configuration (access log off).
    std::vector<std::string> args() const;
};

// The client options for a fixture client ("" for none; carol sends her chain).
ClientOptions as(const std::string& stem);
// The TLS session `client` got (TLS 1.3: with its first read), REQUIREd to be
// resumable, with a reference of its own, to offer in ClientOptions::resume.
x509::Ptr<SSL_SESSION> resumable_session(HttpClient& client);
// "200 ", "401 unknown_user", "no response".
std::string got(const std::optional<HttpResponse>& response);
// What GET / with the fixture certificate `stem` (stem.crt, stem.key) got;
// joe_status: with joe's ("200 " when served).
std::string status_of(unsigned short port, const std::string& stem);
std::string joe_status(unsigned short port);
// Client options for plain TCP (no TLS).
ClientOptions plain_tcp();

// The users file without joe (fixtures/users.json minus its joe entry).
std::string users_without_joe();
// The fixtures' users.json with joe's roles replaced by `roles`.
std::string users_with_joe_roles(const nlohmann::json& roles);

// From /proc/PID/status, in KiB: resident set size now (VmRSS) and its peak (VmHWM).
struct Memory {
    std::size_t rss_kib = 0;
    std::size_t peak_kib = 0;
};
std::optional<Memory> memory_of(pid_t pid);

// True when process `pid` (a certauth of an ASan or TSan build: the tests
// may run another build's binary, see CERTAUTH_TEST_BINARY) runs under a
// sanitizer whose memory use says nothing about certauth's (ASan's
// quarantine keeps freed memory resident; TSan's shadow memory grows).
bool sanitized_process(pid_t pid);

// The bytes of a real TLS ClientHello (TLS 1.2-1.3, SNI localhost), made by
// an OpenSSL client on memory BIOs.
std::string client_hello();

// Runs `script` with bash in `cwd` (bounded); REQUIREs that it succeeds.
void run_script(const std::string& script, const std::string& cwd);

// Elapsed time since `start`, in seconds.
double seconds_since(std::chrono::steady_clock::time_point start);

} // namespace certauth::test
