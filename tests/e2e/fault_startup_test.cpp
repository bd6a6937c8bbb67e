// Start-up faults: exit 2 with a message naming the cause.
// server_serve_test.cpp covers a port in use, a missing key file, a key not
// matching its certificate, a malformed users file and missing --cert/--ca;
// these are the others. (A key made unreadable by chmod 000 is still read by
// root, as these tests usually run: a folder in place of the key stands for
// an unreadable one, and chmod 000 is tried as well when not root.)
#include "support/hostile_support.hpp"

#include "support/catch.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace certauth;
using namespace certauth::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// `certauth serve` with the fixtures' certauth.toml, `args` overriding it.
ProcessResult serve(std::vector<std::string> args) {
    std::vector<std::string> argv{certauth_binary(), "serve", "--listen", "127.0.0.1:0", "--no-access-log"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.cwd = source_path("fixtures");
    options.timeout = 30s;
    return run(argv, options);
}

void expect_refused(const ProcessResult& r, const std::vector<std::string>& words) {
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("certauth: error: ") != std::string::npos);
    for (const std::string& word : words)
        CHECK(r.err.find(word) != std::string::npos);
    // Refused before listening.
    CHECK(r.err.find("listening on") == std::string::npos);
}

} // namespace

TEST_CASE("fault: start-up refuses a key it cannot read, an encrypted key, a missing users file, CA, CRL or "
          "certificate",
          "[e2e][fault]") {
    TempDir dir;
    run_script("openssl pkey -in '" + fixture("server.key") +
                   "' -aes256 -passout pass:secret -out pkcs8.key\n"
                   "openssl pkey -in '" +
                   fixture("server.key") +
                   "' -traditional -aes256 -passout pass:secret -out traditional.key\n"
                   "mkdir folder.key\n"
                   "cp '" +
                   fixture("server.key") + "' locked.key && chmod 000 locked.key\n",
               dir.path.string());
    const std::string d = dir.path.string() + "/";

    // The server names the setting of the file it cannot use, the CLI its flag
    // (src/cli/setting_flag.hpp).
    SECTION("key path is a folder") {
        expect_refused(serve({"--key", d + "folder.key"}), {"error: --key: " + d + "folder.key", "directory"});
    }
    SECTION("key without read permission") {
        if (::geteuid() == 0) {
            WARN("running as root, which reads a chmod 000 file: the folder case stands for an unreadable key");
            expect_refused(serve({"--key", d + "folder.key"}), {"folder.key"});
        } else {
            expect_refused(serve({"--key", d + "locked.key"}), {"locked.key", "ermission denied"});
        }
    }
    SECTION("key encrypted (PKCS#8)") {
        expect_refused(serve({"--key", d + "pkcs8.key"}), {"pkcs8.key", "encrypted", "openssl pkey"});
    }
    SECTION("key encrypted (traditional PEM)") {
        expect_refused(serve({"--key", d + "traditional.key"}), {"traditional.key", "encrypted"});
    }
    SECTION("users file missing") {
        expect_refused(serve({"--users", d + "no-such-users.json"}), {"no-such-users.json", "no such file"});
    }
    SECTION("CA file missing") { expect_refused(serve({"--ca", d + "no-such-ca.crt"}), {"no-such-ca.crt"}); }
    SECTION("CA file holding a key") {
        expect_refused(serve({"--ca", "bad/key-not-cert.pem"}), {"key-not-cert.pem", "no certificate"});
    }
    SECTION("CRL missing") { expect_refused(serve({"--crl", d + "no-such.crl"}), {"no-such.crl"}); }
    SECTION("CRL not a CRL") { expect_refused(serve({"--crl", "bad/random.bin"}), {"random.bin"}); }
    SECTION("certificate missing") {
        expect_refused(serve({"--cert", d + "no-such.crt"}), {"error: --cert: " + d + "no-such.crt", "no such file"});
    }
    SECTION("certificate truncated") { expect_refused(serve({"--cert", "bad/truncated.der"}), {"truncated.der"}); }
    SECTION("listen address that is not local") {
        // 192.0.2.1 (TEST-NET-1) is assigned to no interface here.
        const auto r = serve({"--listen", "192.0.2.1:0"});
        expect_refused(r, {"cannot listen on 192.0.2.1:0"});
    }
}
