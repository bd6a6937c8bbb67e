#include "support/hostile_support.hpp"

#include "support/catch.hpp"

#include <certauth/x509/ossl.hpp>

#include <fstream>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/ssl.h>

namespace fs = std::filesystem;

namespace certauth::test {

ConfigCopy::ConfigCopy() {
    restore();
    write_atomically(toml, "ca = \"ca.crt\"\ncrl = \"ca.crl\"\nusers = \"users.json\"\n\n[serve]\n"
                           "cert = \"server.crt\"\nkey = \"server.key\"\n");
}

void ConfigCopy::restore() const {
    for (const auto& [copy, original] : originals()) {
        std::error_code ignored;
        fs::remove_all(copy, ignored);
        fs::copy_file(fixture(original), copy);
    }
}

std::vector<std::pair<fs::path, std::string>> ConfigCopy::originals() const {
    return {{users, "users.json"}, {ca, "ca.crt"}, {crl, "ca.crl"}, {cert, "server.crt"}, {key, "server.key"}};
}

std::vector<std::string> ConfigCopy::args() const { return {"--config", toml.string(), "--no-access-log"}; }

ClientOptions as(const std::string& stem) {
    ClientOptions options;
    if (stem.empty()) return options;
    options.cert = fixture(stem == "carol" ? "carol-chain.pem" : stem + ".crt");
    options.key = fixture(stem + ".key");
    return options;
}

x509::Ptr<SSL_SESSION> resumable_session(HttpClient& client) {
    SSL_SESSION* borrowed = client.session();
    REQUIRE(borrowed);
    REQUIRE(SSL_SESSION_is_resumable(borrowed) == 1);
    SSL_SESSION_up_ref(borrowed);
    return x509::Ptr<SSL_SESSION>(borrowed);
}

std::string got(const std::optional<HttpResponse>& response) {
    if (!response) return "no response";
    return std::to_string(response->status) + " " + response->reason();
}

std::string status_of(unsigned short port, const std::string& stem) {
    return got(fetch(port, "/", fixture(stem + ".crt"), fixture(stem + ".key")));
}

std::string joe_status(unsigned short port) { return status_of(port, "joe"); }

ClientOptions plain_tcp() {
    ClientOptions options;
    options.tls = false;
    return options;
}

std::string users_without_joe() {
    nlohmann::json j = nlohmann::json::parse(read_text(fixture("users.json")));
    nlohmann::json kept = nlohmann::json::array();
    for (auto& entry : j["users"])
        if (!(entry.is_object() && entry.value("cn", "") == "joe")) kept.push_back(entry);
    j["users"] = kept;
    return j.dump(2);
}

std::string users_with_joe_roles(const nlohmann::json& roles) {
    nlohmann::json j = nlohmann::json::parse(read_text(fixture("users.json")));
    for (auto& entry : j["users"])
        if (entry.is_object() && entry.value("cn", "") == "joe") entry["roles"] = roles;
    return j.dump(2);
}

std::optional<Memory> memory_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    if (!in) return std::nullopt;
    Memory memory;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string name;
        std::size_t kib = 0;
        fields >> name >> kib;
        if (name == "VmRSS:") memory.rss_kib = kib;
        if (name == "VmHWM:") memory.peak_kib = kib;
    }
    if (memory.rss_kib == 0) return std::nullopt;
    return memory;
}

bool sanitized_process(pid_t pid) {
    // The sanitizer runtimes are shared libraries (g++'s default): look for
    // them among the process's mappings.
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    std::string line;
    while (std::getline(in, line))
        if (line.find("libasan") != std::string::npos || line.find("libtsan") != std::string::npos) return true;
    return false;
}

std::string client_hello() {
    x509::Ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
    REQUIRE(ctx);
    x509::Ptr<SSL> ssl(SSL_new(ctx.get()));
    REQUIRE(ssl);
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl.get(), in, out); // owned by the SSL object now
    SSL_set_tlsext_host_name(ssl.get(), "localhost");
    SSL_set_connect_state(ssl.get());
    REQUIRE(SSL_do_handshake(ssl.get()) != 1); // wants the ServerHello
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    REQUIRE(size > 100);
    return std::string(data, static_cast<std::size_t>(size));
}

void run_script(const std::string& script, const std::string& cwd) {
    RunOptions options;
    options.cwd = cwd;
    options.timeout = std::chrono::milliseconds(120000);
    const ProcessResult result = run({"bash", "-euo", "pipefail", "-c", script}, options);
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace certauth::test
