// certauth check, driven as a user drives it: the real binary on the fixture
// files, checked against the expectations table fixtures/scenarios.json.
#include "support/files.hpp"
#include "support/process.hpp"

#include <certauth/x509/certificate.hpp>
#include <certauth/x509/encoding.hpp>

#include "support/catch.hpp"
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using certauth::test::certauth_binary;
using certauth::test::fixture;
using certauth::test::ProcessResult;
using certauth::test::read_text;
using certauth::test::RunOptions;
using certauth::test::source_path;
using certauth::test::TempDir;
using nlohmann::json;

namespace {

const std::string k_fixtures = source_path("fixtures");

// Runs `certauth check ARGS...` in `cwd` (default: an empty temporary
// directory, so that no certauth.toml applies unless a test wants one).
ProcessResult check(const std::vector<std::string>& args, const std::string& cwd = {}, const std::string& input = {}) {
    static const TempDir empty;
    std::vector<std::string> argv{certauth_binary(), "check"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.cwd = cwd.empty() ? empty.path.string() : cwd;
    options.input = input;
    options.env = {"NO_COLOR="};
    options.timeout = std::chrono::seconds(60);
    ProcessResult result = certauth::test::run(argv, options);
    INFO("certauth check output:\n" << result.out << "\nstderr:\n" << result.err);
    REQUIRE_FALSE(result.timed_out);
    return result;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

std::vector<json> json_lines(const std::string& text) {
    std::vector<json> out;
    for (const std::string& line : lines(text))
        out.push_back(json::parse(line));
    return out;
}

// The demo trust configuration of fixtures/certauth.toml, as options.
std::vector<std::string> demo_options() {
    return {"--ca", fixture("ca.crt"), "--crl", fixture("ca.crl"), "--users", fixture("users.json")};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

json check_node_object(const std::string& path) {
    auto chain = certauth::x509::load_chain(path);
    REQUIRE(chain);
    return chain->front().node_object();
}

struct Case {
    std::string name;
    std::string cert;
    int status;
    std::string reason;
    json user;
};

// Every case of fixtures/scenarios.json with a certificate and path "/".
std::vector<Case> scenario_cases() {
    const json table = json::parse(read_text(fixture("scenarios.json")));
    std::vector<Case> cases;
    for (const json& c : table.at("cases")) {
        const std::string path = c.value("path", table.at("defaults").value("path", "/"));
        if (path != "/" || !c.contains("cert")) continue;
        cases.push_back({c.at("name").get<std::string>(), c.at("cert").get<std::string>(), c.at("status").get<int>(),
                         c.value("reason", ""), c.value("user", json(nullptr))});
    }
    return cases;
}

// check --json of joe and revoked with `config`, run from / so that the
// file's relative paths only work resolved against the file: joe authorised,
// revoked revoked. Returns the two result lines.
std::vector<json> check_joe_and_revoked(const std::string& config) {
    const auto r = check({"--config", config, "--json", fixture("joe.crt"), fixture("revoked.crt")}, "/");
    CHECK(r.exit_code == 1);
    auto out = json_lines(r.out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].at("outcome") == "authorised");
    CHECK(out[1].at("reason") == "revoked");
    return out;
}

} // namespace

TEST_CASE("check: every certificate case of scenarios.json, human output", "[e2e][cli]") {
    const std::vector<Case> cases = scenario_cases();
    REQUIRE(cases.size() >= 9);
    for (const Case& c : cases) {
        INFO("case " << c.name);
        const std::string file = fixture(c.cert);
        const ProcessResult r = check(with(demo_options(), {file}));
        const std::vector<std::string> out = lines(r.out);
        REQUIRE(out.size() == 1);
        if (c.status == 200) {
            CHECK(r.exit_code == 0);
            CHECK(out[0].rfind("✔ " + file + "  authorised  CN=", 0) == 0);
        } else {
            CHECK(r.exit_code == 1);
            CHECK(out[0].rfind("✘ " + file + "  denied: " + c.reason + "  ", 0) == 0);
            CHECK(out[0].find(" — ") != std::string::npos); // and the detail
        }
        CHECK(r.err.empty());
    }
}

TEST_CASE("check: every certificate case of scenarios.json, --json", "[e2e][cli]") {
    for (const Case& c : scenario_cases()) {
        INFO("case " << c.name);
        const std::string file = fixture(c.cert);
        const ProcessResult r = check(with(demo_options(), {"--json", file}));
        const std::vector<json> out = json_lines(r.out);
        REQUIRE(out.size() == 1);
        const json& line = out[0];
        CHECK(line.at("file") == file);
        CHECK(line.at("config").is_null());
        CHECK(line.at("certificate") == check_node_object(file));
        if (c.status == 200) {
            CHECK(r.exit_code == 0);
            CHECK(line.at("outcome") == "authorised");
            CHECK(line.at("reason").is_null());
            REQUIRE(line.at("user").is_object());
            for (const auto& [key, value] : c.user.items())
                CHECK(line.at("user").at(key) == value);
        } else {
            CHECK(r.exit_code == 1);
            CHECK(line.at("outcome") == "denied");
            CHECK(line.at("reason") == c.reason);
            CHECK(line.at("user").is_null());
            CHECK_FALSE(line.at("detail").get<std::string>().empty());
        }
    }
}

TEST_CASE("check: all the scenario certificates in one call, one line each, in order", "[e2e][cli]") {
    std::vector<std::string> args = with(demo_options(), {"--json"});
    const std::vector<Case> cases = scenario_cases();
    for (const Case& c : cases)
        args.push_back(fixture(c.cert));
    const ProcessResult r = check(args);
    CHECK(r.exit_code == 1); // some are denied, none in error
    const std::vector<json> out = json_lines(r.out);
    REQUIRE(out.size() == cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CHECK(out[i].at("file") == fixture(cases[i].cert));
        CHECK(out[i].at("outcome") == (cases[i].status == 200 ? "authorised" : "denied"));
    }
}

TEST_CASE("check: the README demo, inside fixtures/ with its certauth.toml", "[e2e][cli]") {
    const ProcessResult r = check({"joe.crt"}, k_fixtures);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "✔ joe.crt  authorised  CN=joe  issuer CN=certauth test CA  expires 2049-12-31\n");
    CHECK(r.err.empty());

    const ProcessResult bob = check({"bob.crt"}, k_fixtures);
    CHECK(bob.exit_code == 1);
    CHECK(bob.out.rfind("✘ bob.crt  denied: unknown_user  CN=bob  issuer CN=certauth test CA  expires 2049-12-31 — "
                        "CN=bob (issued by CN=certauth test CA",
                        0) == 0);

    const ProcessResult json_out = check({"--json", "revoked.crt"}, k_fixtures);
    CHECK(json_out.exit_code == 1);
    const json line = json::parse(json_out.out);
    CHECK(line.at("reason") == "revoked"); // the CRL of certauth.toml applies
    CHECK(line.at("config") == "certauth.toml");
}

TEST_CASE("check -v says which configuration file was used", "[e2e][cli]") {
    const ProcessResult r = check({"-v", "joe.crt"}, k_fixtures);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("configuration certauth.toml") != std::string::npos);
    CHECK(r.out.find("    fingerprint256 ") != std::string::npos);
    CHECK(r.out.find("    user {\"cn\":\"joe\"") != std::string::npos);

    const ProcessResult none = check({"-v", fixture("joe.crt")});
    CHECK(none.err.find("configuration none") != std::string::npos);
}

TEST_CASE("check --at decides at another time", "[e2e][cli]") {
    const auto expired_then = check(with(demo_options(), {"--at", "2020-06-01", fixture("expired.crt")}));
    CHECK(expired_then.exit_code == 0);
    CHECK(expired_then.out.find("authorised  CN=expired") != std::string::npos);

    const auto joe_early = check(with(demo_options(), {"--json", "--at", "2019-01-01", fixture("joe.crt")}));
    CHECK(joe_early.exit_code == 1);
    CHECK(json::parse(joe_early.out).at("reason") == "not_yet_valid");

    // 2020-01-01T01:30:00+02:00 is 2019-12-31T23:30:00Z: joe (valid from 2020-01-01) not yet valid.
    const auto offset =
        check(with(demo_options(), {"--json", "--at", "2020-01-01T01:30:00+02:00", fixture("joe.crt")}));
    CHECK(json::parse(offset.out).at("reason") == "not_yet_valid");
    const auto utc = check(with(demo_options(), {"--json", "--at", "2020-01-01T01:30:00Z", fixture("joe.crt")}));
    CHECK(json::parse(utc.out).at("outcome") == "authorised");

    const auto bad = check(with(demo_options(), {"--at", "yesterday", fixture("joe.crt")}));
    CHECK(bad.exit_code == 2);
    CHECK(bad.out.empty());
    CHECK(bad.err.find("certauth: error: --at: cannot read \"yesterday\" as a time") == 0);
}

TEST_CASE("check - reads standard input, PEM or DER", "[e2e][cli]") {
    const auto pem = check(with(demo_options(), {"-"}), {}, read_text(fixture("joe.crt")));
    CHECK(pem.exit_code == 0);
    CHECK(pem.out.rfind("✔ -  authorised  CN=joe", 0) == 0);
    const auto der = check(with(demo_options(), {"--json", "-"}), {}, read_text(fixture("joe.der")));
    CHECK(der.exit_code == 0);
    CHECK(json::parse(der.out).at("file") == "-");
    CHECK(json::parse(der.out).at("certificate") == check_node_object(fixture("joe.crt")));
    const auto nothing = check(with(demo_options(), {"-"}), {}, "");
    CHECK(nothing.exit_code == 2);
    CHECK(nothing.out == "✘ -  error: empty file, no certificate found\n");
}

TEST_CASE("check reads DER files and chain files", "[e2e][cli]") {
    const auto der = check(with(demo_options(), {"--json", fixture("joe.der")}));
    CHECK(der.exit_code == 0);
    CHECK(json::parse(der.out).at("outcome") == "authorised");

    // carol is issued by the intermediate sub-ca: with the chain file she
    // verifies, alone she does not.
    const auto chain = check(with(demo_options(), {"--json", fixture("carol-chain.pem"), fixture("carol.crt")}));
    CHECK(chain.exit_code == 1);
    const auto out = json_lines(chain.out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].at("outcome") == "authorised");
    CHECK(out[0].at("certificate").at("subject").at("CN") == "carol"); // the leaf, not the intermediate
    CHECK(out[1].at("reason") == "untrusted");
}

TEST_CASE("check without --ca inspects, without --users authenticates", "[e2e][cli]") {
    const auto inspected = check({"--json", fixture("rogue.crt")});
    CHECK(inspected.exit_code == 0);
    const json i = json::parse(inspected.out);
    CHECK(i.at("outcome") == "inspected");
    CHECK(i.at("reason").is_null());
    CHECK(i.at("user").is_null());
    CHECK(i.at("certificate").at("subject").at("CN") == "joe");
    CHECK(check({fixture("joe.crt")}).out.rfind("✔ " + fixture("joe.crt") + "  inspected  CN=joe", 0) == 0);

    const auto authenticated = check({"--ca", fixture("ca.crt"), "--json", fixture("bob.crt")});
    CHECK(authenticated.exit_code == 0);
    CHECK(json::parse(authenticated.out).at("outcome") == "authenticated");
    const auto untrusted = check({"--ca", fixture("ca.crt"), "--json", fixture("rogue.crt")});
    CHECK(untrusted.exit_code == 1);
    CHECK(json::parse(untrusted.out).at("reason") == "untrusted");
}

TEST_CASE("check --ca is repeatable and does not swallow the files", "[e2e][cli]") {
    const auto r =
        check({"--ca", fixture("rogue-ca.crt"), "--ca", fixture("ca.crt"), fixture("joe.crt"), fixture("rogue.crt")});
    CHECK(r.exit_code == 0);
    CHECK(lines(r.out).size() == 2);
}

TEST_CASE("check --config: an explicit file, paths relative to it", "[e2e][cli]") {
    const TempDir dir;
    const std::string rel = fs::relative(k_fixtures, dir.path).string();
    const std::string config = dir.write("site.toml", "ca = \"" + rel + "/ca.crt\"\ncrl = \"" + rel +
                                                          "/ca.crl\"\nusers = \"" + rel + "/users.json\"\n");
    // Run from elsewhere: the paths resolve against the file, not the working directory.
    const auto out = check_joe_and_revoked(config);
    CHECK(out[0].at("config") == config);

    // The command line wins over the file.
    const auto cli_wins =
        check({"--config", config, "--json", "--users", fixture("bad/../users.json"), fixture("dave.crt")}, "/");
    CHECK(json::parse(cli_wins.out).at("outcome") == "authorised");
}

TEST_CASE("check --config: a key spelled as its option (--ca) is a path relative to the file too", "[e2e][cli]") {
    // CLI11 takes `--ca = ...` for ca; found by fuzz/config.cpp (the path
    // stayed relative to the working directory).
    const TempDir dir;
    const std::string rel = fs::relative(k_fixtures, dir.path).string();
    const std::string config = dir.write("dashed.toml", "--ca = \"" + rel + "/ca.crt\"\n--users = \"" + rel +
                                                            "/users.json\"\n[check]\n--crl = \"" + rel + "/ca.crl\"\n");
    (void)check_joe_and_revoked(config);
}

TEST_CASE("check: an unknown configuration key is a usage error naming it", "[e2e][cli]") {
    const TempDir dir;
    const std::string config = dir.write("bad.toml", "ca = \"x.crt\"\nflavour = \"vanilla\"\n");
    const auto r = check({"--config", config, fixture("joe.crt")});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find("flavour") != std::string::npos);
    // It names the file and says what is wrong (CLI11 said "INI was not able to parse flavour").
    CHECK(r.err.find(config + ": unknown key \"flavour\"") != std::string::npos);

    const std::string in_section = dir.write("section.toml", "[check]\nflavour = \"vanilla\"\n");
    const auto s = check({"--config", in_section, fixture("joe.crt")});
    CHECK(s.exit_code == 2);
    CHECK(s.err.find(in_section + ": unknown key \"check.flavour\": not an option of certauth check") !=
          std::string::npos);

    const std::string no_section = dir.write("nosection.toml", "[chekc]\nat = \"now\"\n");
    const auto n = check({"--config", no_section, fixture("joe.crt")});
    CHECK(n.exit_code == 2);
    CHECK(n.err.find(no_section + ": unknown key \"chekc.at\": there is no section [chekc]") != std::string::npos);

    // The top level holds the shared keys only, for every subcommand: a
    // top-level `listen` (serve's) used to work for serve and fail check.
    const std::string serve_key = dir.write("listen.toml", "listen = \"127.0.0.1:0\"\n");
    for (const char* command : {"check", "serve"}) {
        INFO(command);
        std::vector<std::string> args{certauth_binary(), command, "--config", serve_key};
        if (std::string(command) == "check") args.push_back(fixture("joe.crt"));
        const auto l = certauth::test::run(args);
        CHECK(l.exit_code == 2);
        CHECK(l.err.find(serve_key + ": unknown key \"listen\": the top-level keys are ca, crl, crl-required, "
                                     "security-level and users") != std::string::npos);
    }

    // No subcommand: the shared keys of a good file are not "unknown"; the missing subcommand is the error.
    const auto none = certauth::test::run({certauth_binary(), "--config", fixture("certauth.toml")});
    CHECK(none.exit_code == 2);
    CHECK(none.err.find("unknown key") == std::string::npos);
    CHECK(none.err.find("subcommand") != std::string::npos);
}

TEST_CASE("check: a configuration key given twice is an error naming the file", "[e2e][cli]") {
    // CLI11 added a repeated list key's values, refused a repeated single
    // key without naming the file, and let a top-level key hide [check]'s.
    const TempDir dir;
    const std::string ca = fixture("ca.crt");
    for (const std::string& text :
         {"ca = \"" + ca + "\"\nca = \"" + ca + "\"\n", "ca = \"" + ca + "\"\n[check]\nca = \"" + ca + "\"\n",
          "users = \"" + fixture("users.json") + "\"\nusers = \"" + fixture("users.json") + "\"\nca = \"" + ca +
              "\"\n"}) {
        INFO(text);
        const std::string config = dir.write("twice.toml", text);
        const auto r = check({"--config", config, fixture("joe.crt")});
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.rfind("certauth: error: " + config + ":", 0) == 0);
        CHECK((r.err.find("is given twice") != std::string::npos ||
               r.err.find("\"ca\" is given at the top level and in [check]") != std::string::npos));
    }
    const std::string section = dir.write("section-twice.toml", "[check]\nat = \"2030-01-01\"\nat = \"2031-01-01\"\n");
    const auto r = check({"--config", section, fixture("joe.crt")});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(section + ":3: \"check.at\" is given twice (first on line 2); TOML allows a key once") !=
          std::string::npos);
}

TEST_CASE("check: a certauth.toml that is there but cannot be read is an error, not skipped", "[e2e][cli]") {
    // CLI11 skipped it as if absent: check ran without the server's
    // configuration and answered "inspected", exit 0.
    SECTION("a directory") {
        const TempDir dir;
        fs::create_directory(dir.path / "certauth.toml");
        const auto r = check({fixture("joe.crt")}, dir.path.string());
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        // It said "certauth.toml was not readable (missing?)" of a directory.
        CHECK(r.err.rfind("certauth: error: certauth.toml: is a directory, not a file (the configuration file read "
                          "by default when present; --config FILE names another, --config /dev/null none)\n",
                          0) == 0);
        CHECK(r.err.find("missing?") == std::string::npos);
    }
    SECTION("--config naming a directory or a missing file says which") {
        const TempDir dir;
        fs::create_directory(dir.path / "conf.d");
        const auto d = check({"--config", "conf.d", fixture("joe.crt")}, dir.path.string());
        CHECK(d.exit_code == 2);
        CHECK(d.err == "certauth: error: conf.d: is a directory, not a file\n");
        const auto m = check({"--config", "gone.toml", fixture("joe.crt")}, dir.path.string());
        CHECK(m.exit_code == 2);
        CHECK(m.err == "certauth: error: gone.toml: no such file\n");
    }
    SECTION("a dangling symbolic link") {
        const TempDir dir;
        fs::create_symlink(dir.path / "gone.toml", dir.path / "certauth.toml");
        const auto r = check({fixture("joe.crt")}, dir.path.string());
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("certauth.toml") != std::string::npos);
    }
    SECTION("--config names another file: the unreadable default is not consulted") {
        const TempDir dir;
        fs::create_directory(dir.path / "certauth.toml");
        const std::string config = dir.write("other.toml", "ca = \"" + fixture("ca.crt") + "\"\n");
        const auto r = check({"--config", config, fixture("joe.crt")}, dir.path.string());
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("authenticated") != std::string::npos);
    }
}

TEST_CASE("check: each bad certificate file is an error line, the good file is still reported", "[e2e][cli]") {
    struct Bad {
        std::string file;
        std::string what;
    };
    const std::vector<Bad> bad{
        {"bad/empty.crt", "empty"},
        {"bad/random.bin", "no certificate"},
        {"bad/key-not-cert.pem", "PRIVATE KEY"},
        {"bad/truncated.der", "truncated"},
        {"bad/broken-base64.pem", "base64"},
        {"bad/trailing-garbage.pem", "trailing"},
        {"bad/not-a-ca.pem", "no certificate"},
        {"users.json", "no certificate"},
    };
    for (const Bad& b : bad) {
        INFO(b.file);
        const std::string file = fixture(b.file);
        const auto human = check(with(demo_options(), {file, fixture("joe.crt")}));
        CHECK(human.exit_code == 2);
        const auto out = lines(human.out);
        REQUIRE(out.size() == 2);
        CHECK(out[0].rfind("✘ " + file + "  error: ", 0) == 0);
        CHECK(out[0].find(b.what) != std::string::npos);
        CHECK(out[1].rfind("✔ " + fixture("joe.crt") + "  authorised", 0) == 0);

        const auto as_json = check(with(demo_options(), {"--json", file, fixture("joe.crt")}));
        CHECK(as_json.exit_code == 2);
        const auto lines_json = json_lines(as_json.out);
        REQUIRE(lines_json.size() == 2);
        CHECK(lines_json[0].at("outcome") == "error");
        CHECK(lines_json[0].at("reason") == "malformed");
        CHECK(lines_json[0].at("certificate").is_null());
        CHECK(lines_json[0].at("user").is_null());
        const std::string detail = lines_json[0].at("detail").get<std::string>();
        CHECK(detail.rfind(file + ": ", 0) == 0); // names the file
        CHECK(detail.find(b.what) != std::string::npos);
        CHECK(lines_json[1].at("outcome") == "authorised");
    }
}

TEST_CASE("check: unreadable files are errors without a reason, denial and error give 2", "[e2e][cli]") {
    const std::string missing = fixture("no-such-file.crt");
    const auto r = check(with(demo_options(), {"--json", missing, k_fixtures, fixture("bob.crt")}));
    CHECK(r.exit_code == 2);
    const auto out = json_lines(r.out);
    REQUIRE(out.size() == 3);
    CHECK(out[0].at("outcome") == "error");
    CHECK(out[0].at("reason").is_null());
    CHECK(out[0].at("detail") == missing + ": no such file");
    CHECK(out[1].at("outcome") == "error");
    CHECK(out[1].at("detail").get<std::string>().find("directory") != std::string::npos);
    CHECK(out[2].at("reason") == "unknown_user");

    const auto human = check(with(demo_options(), {missing}));
    CHECK(human.out == "✘ " + missing + "  error: no such file\n");
}

TEST_CASE("check: a bad --users file stops before any file (exit 2, the position or JSON path)", "[e2e][cli]") {
    const std::vector<std::pair<std::string, std::string>> bad{
        {"users-syntax.json", ":4:17: syntax error while parsing array"},
        {"users-wrong-type.json", ": users[1].cn: expected a string, got number"},
        {"users-no-match-key.json", ": users[1]: no match key"},
        {"users-unknown-key.json", ": user: unknown key"},
        {"users-bad-route.json", ": routes[0].path: must start with \"/\""},
        {"no-such-users.json", ": no such file"},
    };
    for (const auto& [name, what] : bad) {
        INFO(name);
        const std::string file = fixture("bad/" + name);
        const auto r = check({"--ca", fixture("ca.crt"), "--users", file, fixture("joe.crt")});
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.rfind("certauth: error: " + file + what, 0) == 0);
    }
}

TEST_CASE("check: a bad --ca or --crl stops before any file (exit 2)", "[e2e][cli]") {
    for (const std::string name : {"bad/not-a-ca.pem", "bad/empty.crt", "bad/key-not-cert.pem", "no-such-ca.crt"}) {
        INFO(name);
        const auto r = check({"--ca", fixture(name), fixture("joe.crt")});
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.rfind("certauth: error: --ca: " + fixture(name) + ": ", 0) == 0);
    }
    const auto crl = check({"--ca", fixture("ca.crt"), "--crl", fixture("joe.crt"), fixture("joe.crt")});
    CHECK(crl.exit_code == 2);
    CHECK(crl.err.rfind("certauth: error: --crl: " + fixture("joe.crt"), 0) == 0);
    const auto root = check({"--ca", fixture("ca.crt"), "--intermediate", fixture("ca.crt"), fixture("joe.crt")});
    CHECK(root.exit_code == 2);
    CHECK(root.err == "certauth: error: --intermediate: " + fixture("ca.crt") +
                          ": certificate 1 (CN=certauth test CA, O=certauth) is self-signed, a root CA: a root belongs "
                          "among the trusted CAs, not the intermediates\n");
    const auto no_ca = check({"--crl", fixture("ca.crl"), fixture("joe.crt")});
    CHECK(no_ca.exit_code == 2);
    CHECK(no_ca.err.find("needs --ca") != std::string::npos);
    // A user list without CAs would look nobody up: bob, not in it, was
    // "inspected", exit 0.
    const auto users_no_ca = check({"-q", "--users", fixture("users.json"), fixture("bob.crt")});
    CHECK(users_no_ca.exit_code == 2);
    CHECK(users_no_ca.err.rfind("certauth: error: --users " + fixture("users.json") + " needs --ca", 0) == 0);
    // A connection string is named without its password, also one libpq cannot read.
    const auto pg_no_ca = check({"--users", "dbname=x password=s3cret", fixture("bob.crt")});
    CHECK(pg_no_ca.err == "certauth: error: --users postgresql:///x?password=*** needs --ca: a certificate is looked "
                          "up in the user list once it is verified against trusted CAs\n");
    const auto bad_pg_no_ca = check({"--users", "dbname=x password=s3cret hots=y", fixture("bob.crt")});
    CHECK(bad_pg_no_ca.exit_code == 2);
    CHECK(bad_pg_no_ca.err.find("s3cret") == std::string::npos);
    // A misspelled first keyword is not taken for a file name (whose error repeated the text).
    const auto misspelled =
        check({"--ca", fixture("ca.crt"), "--users", "usr=joe password=s3 cret", fixture("joe.crt")});
    CHECK(misspelled.exit_code == 2);
    CHECK(misspelled.err == "certauth: error: a PostgreSQL connection string libpq cannot read: invalid connection "
                            "option \"usr\"\n");
    const auto broken = check({"--ca", fixture("ca.crt"), "--users", "dbname=x password=s3 pw9q", fixture("joe.crt")});
    CHECK(broken.exit_code == 2);
    CHECK(broken.err.find("pw9q") == std::string::npos);
    CHECK(broken.err.find("(not shown: it may hold a secret)") != std::string::npos);
}

TEST_CASE("check --quiet: the exit status only", "[e2e][cli]") {
    CHECK(check(with(demo_options(), {"-q", fixture("joe.crt")})).exit_code == 0);
    const auto denied = check(with(demo_options(), {"--quiet", fixture("joe.crt"), fixture("bob.crt")}));
    CHECK(denied.exit_code == 1);
    CHECK(denied.out.empty());
    CHECK(denied.err.empty());
    const auto error = check(with(demo_options(), {"--quiet", fixture("bad/empty.crt")}));
    CHECK(error.exit_code == 2);
    CHECK(error.out.empty());
}

TEST_CASE("check: usage errors exit 2, --help shows examples and exits 0", "[e2e][cli]") {
    CHECK(check({}).exit_code == 2);
    CHECK(check({"--no-such-option", fixture("joe.crt")}).exit_code == 2);
    CHECK(check({"--quiet", "--json", fixture("joe.crt")}).exit_code == 2);
    const auto help = check({"--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("Examples:") != std::string::npos);
    CHECK(help.out.find("--at") != std::string::npos);
    CHECK(help.out.find("--crl-required") != std::string::npos);
    CHECK(help.out.find("--each") != std::string::npos);
    CHECK(help.out.find("(default: now)") != std::string::npos); // --at now was not mentioned
}

TEST_CASE("check --at now is the default time", "[e2e][cli]") {
    const auto r = check(with(demo_options(), {"--at", "now", "--json", fixture("joe.crt"), fixture("expired.crt")}));
    CHECK(r.exit_code == 1);
    const std::vector<json> out = json_lines(r.out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].at("outcome") == "authorised");
    CHECK(out[1].at("reason") == "expired");
}

namespace {

// A file of `stems`' certificates, concatenated in this order.
std::string bundle_of(const TempDir& dir, const std::string& name, const std::vector<std::string>& stems) {
    std::string text;
    for (const std::string& stem : stems)
        text += read_text(fixture(stem + ".crt"));
    return dir.write(name, text);
}

} // namespace

TEST_CASE("check: a file of several certificates says how many were used as intermediates", "[e2e][cli]") {
    // A CA bundle was reported by its first certificate only, the others
    // silently taken for intermediates.
    const TempDir dir;
    const std::string bundle = bundle_of(dir, "bundle.crt", {"ca", "rogue-ca", "sub-ca"});
    const auto r = check({bundle});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "✔ " + bundle +
                       "  inspected  CN=certauth test CA  issuer CN=certauth test CA  expires 2060-01-01  (+2 more "
                       "certificates in the file, used as intermediates; --each checks each on its own)\n");

    // A chain file (each certificate issued by the next) is what a client
    // sends: the count, without the --each hint.
    const auto chain = check(with(demo_options(), {fixture("carol-chain.pem")}));
    CHECK(chain.exit_code == 0);
    CHECK(chain.out == "✔ " + fixture("carol-chain.pem") +
                           "  authorised  CN=carol  issuer CN=certauth test intermediate CA  expires 2049-12-31  (+1 "
                           "more certificate in the file, used as an intermediate)\n");
    // A single certificate: no note.
    CHECK(check(with(demo_options(), {fixture("joe.crt")})).out.find("more certificate") == std::string::npos);

    const auto j = check(with(demo_options(), {"--json", bundle, fixture("joe.crt")}));
    const std::vector<json> out = json_lines(j.out);
    REQUIRE(out.size() == 2);
    CHECK(out[0].at("index") == 1);
    CHECK(out[0].at("intermediates") == 2);
    CHECK(out[1].at("intermediates") == 0);
}

TEST_CASE("check --each: every certificate of a file on its own, human and --json", "[e2e][cli]") {
    const TempDir dir;
    const std::string file = bundle_of(dir, "leaves.crt", {"joe", "bob", "revoked"});
    const auto r = check(with(demo_options(), {"--each", file, fixture("dave.crt")}));
    CHECK(r.exit_code == 1); // bob and revoked denied, as for several files
    const std::vector<std::string> out = lines(r.out);
    REQUIRE(out.size() == 4);
    CHECK(out[0] == "✔ " + file + " #1  authorised  CN=joe  issuer CN=certauth test CA  expires 2049-12-31");
    CHECK(out[1].rfind("✘ " + file + " #2  denied: unknown_user  CN=bob  ", 0) == 0);
    CHECK(out[2].rfind("✘ " + file + " #3  denied: revoked  CN=revoked  ", 0) == 0);
    CHECK(out[3].rfind("✔ " + fixture("dave.crt") + " #1  authorised  CN=dave  ", 0) == 0);

    const auto j = check(with(demo_options(), {"--each", "--json", file}));
    const std::vector<json> lines_json = json_lines(j.out);
    REQUIRE(lines_json.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(lines_json[i].at("file") == file);
        CHECK(lines_json[i].at("index") == i + 1);
        CHECK(lines_json[i].at("intermediates") == 0);
    }
    CHECK(lines_json[0].at("user").at("cn") == "joe");
    CHECK(lines_json[1].at("reason") == "unknown_user");
    CHECK(lines_json[2].at("reason") == "revoked");
    CHECK(lines_json[2].at("certificate") == check_node_object(fixture("revoked.crt")));

    // Each on its own: carol without her intermediate is untrusted, and the
    // intermediate itself is judged as a client certificate.
    const auto c = check(with(demo_options(), {"--each", "--json", fixture("carol-chain.pem")}));
    const std::vector<json> carol = json_lines(c.out);
    REQUIRE(carol.size() == 2);
    CHECK(carol[0].at("reason") == "untrusted");
    CHECK(carol[1].at("certificate").at("subject").at("CN") == "certauth test intermediate CA");

    // All in order; a file in error is one line, and exit 2 wins.
    const auto e = check(with(demo_options(), {"--each", "--json", file, fixture("bad/empty.crt")}));
    CHECK(e.exit_code == 2);
    const std::vector<json> errors = json_lines(e.out);
    REQUIRE(errors.size() == 4);
    CHECK(errors[3].at("outcome") == "error");
    CHECK(errors[3].at("index").is_null());
    CHECK(errors[3].at("intermediates").is_null());
    CHECK(check(with(demo_options(), {"--each", "--quiet", fixture("joe.crt")})).exit_code == 0);
}

TEST_CASE("check: control characters of a certificate's fields never reach the terminal", "[e2e][cli]") {
    // CN=ev<ESC>[31mil was printed as is: a certificate someone sends you
    // could drive your terminal. Shown as \1B, as openssl shows it.
    const TempDir dir;
    const auto openssl = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "openssl");
        RunOptions options;
        options.cwd = dir.path.string();
        const auto r = certauth::test::run(args, options);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
    };
    dir.write("ext.cnf", "[leaf]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
    openssl({"req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "evil.key", "-subj", "/CN=ev\x1b[31mil", "-out",
             "evil.csr"});
    openssl({"x509", "-req", "-in", "evil.csr", "-CA", fixture("ca.crt"), "-CAkey", fixture("ca.key"), "-set_serial",
             "9", "-days", "30", "-extfile", "ext.cnf", "-extensions", "leaf", "-out", "evil.crt"});
    const std::string evil = (dir.path / "evil.crt").string();

    const auto r = check(with(demo_options(), {"-v", evil}));
    CHECK(r.exit_code == 1); // unknown_user
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find("CN=ev\\1B[31mil  issuer") != std::string::npos);
    CHECK(r.out.find("subject CN=ev\\1B[31mil") != std::string::npos);
    // --json keeps the value, escaped as JSON.
    const auto j = check({"--json", evil});
    CHECK(json::parse(j.out).at("certificate").at("subject").at("CN") == "ev\x1b[31mil");
}

TEST_CASE("check: output that cannot be written is an error, not exit 0", "[e2e][cli]") {
    // `certauth check --json ... > /dev/full` lost every line and exited 0.
    const auto r = certauth::test::run({"sh", "-c", "\"$0\" check --config /dev/null --json \"$1\" > /dev/full",
                                        certauth_binary(), fixture("joe.crt")});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("standard output: write error") != std::string::npos);
}

TEST_CASE("check: no colour codes when stdout is not a terminal", "[e2e][cli]") {
    const auto r = check(with(demo_options(), {fixture("joe.crt"), fixture("bob.crt")}));
    CHECK(r.out.find('\033') == std::string::npos);
}

TEST_CASE("check --header-format: a trusted proxy's header decided as serve --listen-trusted decides it",
          "[cli][header]") {
    const std::string ca = fixture("ca.crt");
    const std::string users = fixture("users.json");
    // nginx's $ssl_client_escaped_cert of joe.crt.
    std::string escaped;
    for (const char c : read_text(fixture("joe.crt"))) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            escaped += c;
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
            escaped += buf;
        }
    }
    const ProcessResult joe =
        check({"--ca", ca, "--users", users, "--header-format", "url-pem", "--header-value", escaped});
    CHECK(joe.exit_code == 0);
    CHECK(joe.out.find("authorised  CN=joe") != std::string::npos);

    // From standard input; the wrong format is an error that says what the value looks like.
    const ProcessResult wrong =
        check({"--ca", ca, "--header-format", "base64-der", "--header-value", "-"}, {}, escaped + "\n");
    CHECK(wrong.exit_code == 2);
    CHECK(wrong.out.find("looks like url-pem") != std::string::npos);

    // Empty, as nginx sends it for a client without a certificate.
    const ProcessResult none = check({"--ca", ca, "--header-format", "url-pem", "--header-value", "", "--json"});
    CHECK(none.exit_code == 1);
    CHECK(json_lines(none.out).at(0)["reason"] == "no_certificate");

    // A header sent twice.
    const ProcessResult twice = check(
        {"--ca", ca, "--header-format", "url-pem", "--header-value", escaped, "--header-value", escaped, "--json"});
    CHECK(twice.exit_code == 2);
    CHECK(json_lines(twice.out).at(0)["reason"] == "malformed");

    // carol's leaf alone (what nginx, Caddy and HAProxy pass on) needs --intermediate.
    const std::string carol = certauth::x509::to_base64(certauth::x509::to_der(
        certauth::x509::parse_chain(read_text(fixture("carol.crt")), "carol")->front().native()));
    CHECK(check({"--ca", ca, "--header-format", "base64-der", "--header-value", carol}).exit_code == 1);
    const ProcessResult completed = check({"--ca", ca, "--intermediate", fixture("sub-ca.crt"), "--header-format",
                                           "base64-der", "--header-value", carol});
    CHECK(completed.exit_code == 0);

    CHECK(check({}).exit_code == 2);
    CHECK(check({fixture("joe.crt"), "--header-format", "url-pem", "--header-value", escaped}).exit_code == 2);
}
