// certauth serve as its command line and help say: what SIGHUP re-reads, and
// the hint when it starts without a certificate, a key or a configuration
// file. The help of every command ends with examples and a page of docs/.
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/server_support.hpp"

#include "support/catch.hpp"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace certauth::test;
using namespace std::chrono_literals;

namespace {

ProcessResult certauth_in(const std::string& cwd, std::vector<std::string> args) {
    args.insert(args.begin(), certauth_binary());
    RunOptions options;
    options.cwd = cwd;
    options.timeout = 30s;
    ProcessResult r = run(args, options);
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    REQUIRE_FALSE(r.timed_out);
    return r;
}

// The status of GET / for the fixture client `stem`, with its key.
int status_for(unsigned short port, const std::string& stem) {
    const auto response = fetch(port, "/", fixture(stem + ".crt"), fixture(stem + ".key"));
    return response ? response->status : 0;
}

} // namespace

TEST_CASE("serve: SIGHUP re-reads the files the configuration names, not certauth.toml itself", "[e2e][cli]") {
    // What serve --help and docs/serve.md say; the help said "SIGHUP reloads
    // the configuration".
    const TempDir dir;
    const std::string with_joe = read_text(fixture("users.json"));
    auto without = nlohmann::json::parse(with_joe);
    without["users"].erase(0); // joe is the first entry
    REQUIRE(without["users"].dump().find("\"joe\"") == std::string::npos);
    write_atomically(dir.path / "first.json", with_joe);
    write_atomically(dir.path / "second.json", without.dump());
    const fs::path toml = dir.path / "certauth.toml";
    const std::string common = "ca = \"" + fixture("ca.crt") + "\"\n[serve]\ncert = \"" + fixture("server.crt") +
                               "\"\nkey = \"" + fixture("server.key") + "\"\n";
    write_atomically(toml, "users = \"first.json\"\n" + common);

    ServeProcess server({"--no-access-log"}, dir.path.string());
    REQUIRE(server.started());
    CHECK(status_for(server.port(), "joe") == 200);

    // Another users file in certauth.toml: a reload keeps the first one.
    write_atomically(toml, "users = \"second.json\"\n" + common);
    CHECK(server.reload().find("reloaded (generation 2)") != std::string::npos);
    CHECK(status_for(server.port(), "joe") == 200);

    // The file it names, changed: the reload reads it.
    write_atomically(dir.path / "first.json", without.dump());
    CHECK(server.reload().find("reloaded (generation 3)") != std::string::npos);
    CHECK(status_for(server.port(), "joe") == 401);

    const auto help = certauth_in(dir.path.string(), {"serve", "--help"});
    CHECK(help.out.find("SIGHUP reloads the files") != std::string::npos);
    CHECK(help.out.find("a change to them (another file, address or timeout) needs a\nrestart") != std::string::npos);
}

TEST_CASE("serve without a certificate, a key or a configuration file says where the demo's is", "[e2e][cli]") {
    // From the repository root, `certauth serve` only asked for --cert/--key.
    const auto root = certauth_in(source_dir(), {"serve", "--listen", "127.0.0.1:0"});
    CHECK(root.exit_code == 2);
    CHECK(root.err.find("serve needs the server certificate and key: --cert FILE --key FILE") != std::string::npos);
    CHECK(root.err.find("no configuration file was read (there is no certauth.toml here): for the demo, run "
                        "'certauth serve --config fixtures/certauth.toml' or 'cd fixtures' first") !=
          std::string::npos);

    // Elsewhere: no demo to point at.
    const TempDir empty;
    const auto elsewhere = certauth_in(empty.path.string(), {"serve", "--listen", "127.0.0.1:0"});
    CHECK(elsewhere.exit_code == 2);
    CHECK(elsewhere.err.find("there is no certauth.toml here): give one with --config FILE") != std::string::npos);
    CHECK(elsewhere.err.find("fixtures") == std::string::npos);

    // A configuration file without cert/key: no hint about finding one.
    const std::string config = empty.write("only-ca.toml", "ca = \"" + fixture("ca.crt") + "\"\n");
    const auto configured = certauth_in(empty.path.string(), {"serve", "--config", config});
    CHECK(configured.exit_code == 2);
    CHECK(configured.err.find("no configuration file was read") == std::string::npos);
}

TEST_CASE("every --help ends with two or three examples and the docs page to read next", "[e2e][cli]") {
    struct Help {
        std::vector<std::string> args;
        std::string page;
    };
    for (const Help& h : {Help{{"--help"}, "docs/README.md"}, Help{{"serve", "--help"}, "docs/serve.md"},
                          Help{{"check", "--help"}, "docs/check.md"}, Help{{"probe", "--help"}, "docs/probe.md"}}) {
        INFO(h.args.front() << " " << h.page);
        const auto r = certauth_in(source_dir(), h.args);
        CHECK(r.exit_code == 0);
        CHECK(fs::is_regular_file(source_path(h.page)));
        // The last lines: "Examples:", 2 or 3 commands, a blank line, "Read next: ...".
        const std::string& out = r.out;
        const auto examples = out.rfind("\nExamples:\n");
        REQUIRE(examples != std::string::npos);
        const auto read_next = out.find("\n\nRead next: ", examples);
        REQUIRE(read_next != std::string::npos);
        const std::string last = out.substr(read_next + 2);
        CHECK(last.find(h.page) != std::string::npos);
        CHECK(std::count(last.begin(), last.end(), '\n') <= 1);
        const std::string commands = out.substr(examples + 11, read_next - examples - 11);
        const auto count = std::count(commands.begin(), commands.end(), '\n') + 1;
        CHECK(count >= 2);
        CHECK(count <= 3);
        CHECK(std::regex_search(commands, std::regex("^  (cd fixtures && )?certauth ")));
    }
}

TEST_CASE("probe --help: the --resolve example keeps one host name", "[e2e][cli]") {
    const auto r = certauth_in(source_dir(), {"probe", "--help"});
    CHECK(r.out.find("probe https://localhost:3443/ --resolve localhost:3443:10.0.0.5") != std::string::npos);
    CHECK(r.out.find("https://10.0.0.5") == std::string::npos);
}
