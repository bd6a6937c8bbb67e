// Faults at reload: a users file, CA file, CRL, server key or
// certificate that is missing, cut in half, garbage or written while the
// reload reads it. The reload fails, says which file and why, and the
// running configuration stays in force whole: joe 200, bob 401 unknown_user,
// revoked 401 revoked (the CRL), the same server certificate, the same
// generation. And an expired CRL loaded by a reload: refused, as at start-up.
#include "support/hostile_support.hpp"

#include "support/catch.hpp"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Writes `text` over `path` in place (truncate, then 64-byte pieces with a
// pause between them), as an editor without atomic saves does.
void write_in_place(const fs::path& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return;
    for (std::size_t at = 0; at < text.size(); at += 64) {
        const std::size_t n = std::min<std::size_t>(64, text.size() - at);
        if (::write(fd, text.data() + at, n) != static_cast<ssize_t>(n)) break;
        std::this_thread::sleep_for(1ms);
    }
    ::close(fd);
}

} // namespace

TEST_CASE("fault: a reload that meets a broken file keeps the running configuration and names the file",
          "[e2e][fault]") {
    ConfigCopy config;
    // An encrypted copy of the server key, for one of the cases.
    const fs::path encrypted = config.dir.path / "encrypted.key";
    run_script("openssl pkey -in '" + fixture("server.key") + "' -aes256 -passout pass:secret -out encrypted.key",
               config.dir.path.string());

    ServeProcess server(config.args());
    REQUIRE(server.started());
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    REQUIRE(got(joe->request("GET", "/")) == "200 ");

    auto half_of = [](const fs::path& path) {
        const std::string text = read_text(path);
        return text.substr(0, text.size() / 2);
    };
    struct Fault {
        std::string name;
        std::function<void()> apply;
        std::vector<std::string> said; // words of the "reload failed" line
    };
    const std::vector<Fault> faults = {
        {"users file deleted", [&] { fs::remove(config.users); }, {"users.json", "no such file"}},
        {"users file cut in half", [&] { write_atomically(config.users, half_of(config.users)); }, {"users.json"}},
        {"users file not JSON", [&] { write_atomically(config.users, "users:\n  - joe\n"); }, {"users.json"}},
        {"users file empty", [&] { write_atomically(config.users, ""); }, {"users.json"}},
        {"users file of the wrong shape",
         [&] { write_atomically(config.users, R"({"users": {"cn": "joe"}})"); },
         {"users.json", "users"}},
        {"users file replaced by a folder",
         [&] {
             fs::remove(config.users);
             fs::create_directory(config.users);
         },
         {"users.json", "directory"}},
        {"CA file deleted", [&] { fs::remove(config.ca); }, {"ca.crt", "no such file"}},
        {"CA file cut in half", [&] { write_atomically(config.ca, half_of(config.ca)); }, {"ca.crt", "END"}},
        {"CA file garbage", [&] { write_atomically(config.ca, "not a certificate\n"); }, {"ca.crt"}},
        {"CA file holding a key",
         [&] { fs::copy_file(fixture("ca.key"), config.ca, fs::copy_options::overwrite_existing); },
         {"ca.crt", "PRIVATE KEY"}},
        {"CRL deleted", [&] { fs::remove(config.crl); }, {"ca.crl", "no such file"}},
        {"CRL cut in half", [&] { write_atomically(config.crl, half_of(config.crl)); }, {"ca.crl"}},
        {"CRL garbage", [&] { write_atomically(config.crl, std::string(300, '\x7f')); }, {"ca.crl"}},
        {"server key deleted", [&] { fs::remove(config.key); }, {"server.key", "no such file"}},
        {"server key cut in half", [&] { write_atomically(config.key, half_of(config.key)); }, {"server.key"}},
        {"server key of another certificate",
         [&] { fs::copy_file(fixture("server-ec.key"), config.key, fs::copy_options::overwrite_existing); },
         {"server.key", "does not match"}},
        {"server key encrypted",
         [&] { fs::copy_file(encrypted, config.key, fs::copy_options::overwrite_existing); },
         {"server.key", "encrypted"}},
        {"server certificate deleted", [&] { fs::remove(config.cert); }, {"server.crt", "no such file"}},
        {"server certificate cut in half",
         [&] { write_atomically(config.cert, half_of(config.cert)); },
         {"server.crt"}},
        {"server certificate of another key (joe's)",
         [&] { fs::copy_file(fixture("joe.crt"), config.cert, fs::copy_options::overwrite_existing); },
         {"server.key", "does not match", "server.crt"}},
    };

    for (const Fault& fault : faults) {
        INFO("fault: " << fault.name);
        fault.apply();
        const std::string line = server.reload();
        INFO("reload said: " << line);
        CHECK(line.find("reload failed, keeping generation 1") != std::string::npos);
        for (const std::string& word : fault.said)
            CHECK(line.find(word) != std::string::npos);
        // Nothing else changed: users, CAs, CRL and the server certificate
        // (every new connection verifies it against ca.crt) as before.
        CHECK(got(joe->request("GET", "/")) == "200 ");
        CHECK(status_of(server.port(), "joe") == "200 ");
        CHECK(status_of(server.port(), "bob") == "401 unknown_user");
        CHECK(status_of(server.port(), "revoked") == "401 revoked");
        config.restore();
    }
    // The generation did not move: the next good reload is the second.
    const std::string line = server.reload();
    CHECK(line.find("reloaded (generation 2)") != std::string::npos);
    CHECK(got(joe->request("GET", "/")) == "200 ");
}

TEST_CASE("fault: files written in place while reloads read them - each reload takes a whole file or none",
          "[e2e][fault]") {
    ConfigCopy config;
    ServeProcess server(config.args());
    REQUIRE(server.started());
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    REQUIRE(got(joe->request("GET", "/")) == "200 ");

    // Two versions of a file, told apart by the summary of the reload line;
    // `check` asserts what is in force after each reload.
    struct Variant {
        std::string text;
        std::regex summary;
    };
    auto run = [&](const fs::path& file, const Variant& a, const Variant& b,
                   const std::function<void(bool b_in_force)>& check) {
        std::atomic<bool> stop{false};
        std::thread writer([&] {
            for (int i = 0; !stop.load(); ++i) {
                write_in_place(file, i % 2 == 0 ? b.text : a.text);
                std::this_thread::sleep_for(std::chrono::milliseconds(20 + i % 20)); // a whole file for a while
            }
        });
        int failed = 0;
        int loaded = 0;
        bool b_in_force = false; // the start-up files are the A versions
        for (int i = 0; i < 30; ++i) {
            const std::string line = server.reload();
            INFO("reload " << i << ": " << line);
            if (line.find("reload failed") != std::string::npos) {
                ++failed; // a half-written file: the previous one stays
            } else {
                REQUIRE(line.find("reloaded (generation") != std::string::npos);
                ++loaded;
                const bool is_a = std::regex_search(line, a.summary);
                const bool is_b = std::regex_search(line, b.summary);
                REQUIRE(is_a != is_b);
                b_in_force = is_b;
            }
            check(b_in_force);
        }
        stop = true;
        writer.join();
        INFO(loaded << " reloads took a whole file, " << failed << " met a partial one");
        CHECK(failed > 0); // the writer was caught mid-file
        CHECK(loaded > 0); // and between two files
        CHECK(failed + loaded == 30);
        config.restore();
        REQUIRE(server.reload().find("reloaded") != std::string::npos);
    };

    SECTION("the users file, with and without joe") {
        run(config.users, {read_text(fixture("users.json")), std::regex(" 7 users")},
            {users_without_joe(), std::regex(" 6 users")}, [&](bool without_joe) {
                CHECK(got(joe->request("GET", "/")) == (without_joe ? "401 unknown_user" : "200 "));
                CHECK(status_of(server.port(), "bob") == "401 unknown_user");
            });
    }
    SECTION("the CA file, with and without the rogue CA") {
        // With rogue-ca.crt trusted, rogue.crt (CN=joe) is joe.
        run(config.ca, {read_text(fixture("ca.crt")), std::regex(" 1 CA ")},
            {read_text(fixture("ca.crt")) + read_text(fixture("rogue-ca.crt")), std::regex(" 2 CAs ")},
            [&](bool rogue_trusted) {
                CHECK(status_of(server.port(), "rogue") == (rogue_trusted ? "200 " : "401 untrusted"));
                CHECK(got(joe->request("GET", "/")) == "200 ");
            });
    }
}

TEST_CASE("fault: an expired CRL loaded by a reload refuses its CA's certificates, naming the CRL", "[e2e][fault]") {
    ConfigCopy config;
    ServeProcess server(config.args());
    REQUIRE(server.started());
    auto joe = HttpClient::connect(server.port(), as("joe"));
    REQUIRE(joe);
    REQUIRE(got(joe->request("GET", "/")) == "200 ");

    fs::copy_file(fixture("ca-expired.crl"), config.crl, fs::copy_options::overwrite_existing);
    const std::size_t offset = server.process().output_size();
    CHECK(server.reload().find("reloaded (generation 2)") != std::string::npos);
    // The reload is not refused (the CRL is well-formed), and says it is stale.
    CHECK(server.process().wait_for_line(std::regex(R"(warning: .*ca\.crl: expired 2001-01-01)"), 10s, offset));

    for (const std::string stem : {"joe", "bob", "carol"}) {
        INFO(stem);
        const auto response = fetch(server.port(), "/", fixture(stem == "carol" ? "carol-chain.pem" : stem + ".crt"),
                                    fixture(stem + ".key"));
        REQUIRE(response);
        CHECK(response->status == 401);
        CHECK(response->reason() == "untrusted");
        const std::string detail = response->json().value("detail", "");
        INFO(detail);
        CHECK(detail.find("ca.crl") != std::string::npos);
        CHECK(detail.find("expired") != std::string::npos);
    }
    // The kept-alive connection is decided again under the new state.
    CHECK(got(joe->request("GET", "/")) == "401 untrusted");
    CHECK(got(fetch(server.port(), "/healthz")) == "200 ");

    config.restore();
    CHECK(server.reload().find("reloaded (generation 3)") != std::string::npos);
    CHECK(got(joe->request("GET", "/")) == "200 ");
}
