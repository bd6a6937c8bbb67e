// Fuzz target: the user list (--users FILE) and request paths.
// policy::UserList::parse on the bytes; on success find() and decide() for a
// few fixed certificates (checked against a plain first-match scan of the
// entries) and route_for()/route() for a few paths. Then normalise_path on the
// same bytes as a request target, checking what it promises.
#include <certauth/policy/decide.hpp>
#include <certauth/policy/user_list.hpp>
#include <certauth/x509/facts.hpp>
#include <certauth/x509/trust_store.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace certauth;
using Clock = std::chrono::system_clock;

Clock::time_point at(int y, unsigned m, unsigned d) {
    return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
}

x509::CertFacts facts(std::vector<x509::NameEntry> subject, std::string fingerprint, std::string serial) {
    x509::CertFacts f;
    f.subject.entries = std::move(subject);
    f.issuer.entries = {{"O", "certauth"}, {"CN", "certauth test CA"}};
    f.fingerprint256 = std::move(fingerprint);
    f.serial = std::move(serial);
    f.not_before = at(2000, 1, 1);
    f.not_after = at(2049, 12, 31);
    return f;
}

// Certificates as the fixtures have them (joe, dave), and one with every SAN kind.
std::vector<x509::CertFacts> make_certificates() {
    std::vector<x509::CertFacts> out;
    out.push_back(facts(
        {{"C", "XX"}, {"O", "Example"}, {"CN", "joe"}},
        "3A:1F:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:9C", "1A2B3C"));
    out.push_back(facts(
        {{"CN", "dave"}},
        "F8:38:B2:63:B4:88:B6:CA:52:E2:BE:73:67:A9:3D:7D:A0:B5:EE:AC:56:7D:3B:9D:7F:30:1D:03:B8:E4:24:89", "00FF"));
    x509::CertFacts sans = facts(
        {{"O", "Example"}, {"OU", "ops"}, {"OU", "dev"}, {"CN", "api"}, {"emailAddress", "Api@Example.org"}}, "", "0");
    sans.san_dns = {"api.example.org", "Www.Example.Org"};
    sans.san_email = {"api@example.org"};
    sans.san_uri = {"spiffe://example.org/ns/prod/sa/api"};
    sans.san_ip = {"127.0.0.1", "::1"};
    out.push_back(std::move(sans));
    return out;
}

const std::vector<x509::CertFacts> k_certificates = make_certificates();
const std::vector<std::string_view> k_paths = {"/", "/admin", "/admin/x", "/administrator", "/public", "/healthz"};

[[noreturn]] void fail() { __builtin_trap(); }

void check_list(const policy::UserList& list) {
    x509::ChainStatus verified;
    verified.problem = x509::ChainProblem::none;
    const Clock::time_point now = at(2025, 6, 1);
    for (const x509::CertFacts& cert : k_certificates) {
        // The indexed find() must agree with trying every entry in order.
        std::optional<nlohmann::json> expected;
        for (const policy::UserEntry& entry : list.users())
            if (entry.matches(cert)) {
                expected = entry.attributes;
                (*expected)["cn"] = cert.cn();
                break;
            }
        const std::shared_ptr<const nlohmann::json> found = list.find(cert);
        if ((found != nullptr) != expected.has_value() || (found && *found != *expected)) fail();

        const policy::Decision decision = policy::decide(&cert, verified, &list, now);
        if (decision.allowed() != (found != nullptr)) fail();
        for (std::string_view path : k_paths) {
            const policy::Decision routed = policy::route(decision, &list, path);
            if (routed.user) (void)routed.user->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
    }
    for (std::string_view path : k_paths)
        if (const policy::Route* route = list.route_for(path)) {
            const std::string& prefix = route->path;
            if (path.substr(0, prefix.size()) != prefix) fail();
        }
}

void check_path(std::string_view target) {
    const std::optional<std::string> path = policy::normalise_path(target);
    if (!path) return;
    // What the router relies on: absolute, no NUL or backslash, no "." or
    // ".." segment (also before a ';'), no repeated slash.
    if (path->empty() || path->front() != '/') fail();
    if (path->find('\0') != std::string::npos || path->find('\\') != std::string::npos) fail();
    if (path->find("//") != std::string::npos) fail();
    const std::string padded = *path + "/";
    for (const char* dots : {"/./", "/../", "/.;", "/..;"})
        if (padded.find(dots) != std::string::npos) fail();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto list = policy::UserList::parse(bytes, "users.json");
    if (list)
        check_list(*list);
    else if (list.error().message.rfind("users.json", 0) != 0) {
        fail(); // errors name the file
    }
    check_path(bytes);
    return 0;
}
