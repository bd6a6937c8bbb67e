// users.json, scenarios.json (and its variant for servers that refuse at the
// handshake) and certauth.toml of the test PKI.
#include "cli/test_pki_parts.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace certauth::cli::test_pki {
namespace {

using json = nlohmann::ordered_json;

std::string text_of(const json& value) { return value.dump(2) + "\n"; }

// One case of scenarios.json.
json scenario(const std::string& name, const std::string& stem, const std::string& path, int status) {
    json c;
    c["name"] = name;
    if (!stem.empty()) {
        c["cert"] = stem == "carol" ? "carol-chain.pem" : stem + ".crt";
        c["key"] = stem + ".key";
    }
    c["path"] = path;
    c["status"] = status;
    return c;
}

json denied(const std::string& stem, const std::string& reason) {
    json c = scenario(stem, stem, "/", 401);
    c["reason"] = reason;
    return c;
}

// "localhost" -> "localhost", "::1" -> "[::1]".
std::string url_host(const std::string& name) { return name.find(':') != std::string::npos ? "[" + name + "]" : name; }

json scenario_defaults(const std::string& server_name) {
    return json{
        {"url", "https://" + url_host(server_name) + ":3443"}, {"cacert", "ca.crt"}, {"method", "GET"}, {"path", "/"}};
}

// The cases of scenarios.json: certauth's answers with users.json.
json certauth_cases() {
    json cases = json::array();
    json joe = scenario("joe", "joe", "/", 200);
    joe["user"] = json{{"cn", "joe"}, {"name", "Joe Example"}};
    cases.push_back(joe);
    cases.push_back(denied("bob", "unknown_user"));
    cases.push_back(denied("expired", "expired"));
    cases.push_back(denied("notyet", "not_yet_valid"));
    cases.push_back(denied("revoked", "revoked"));
    cases.push_back(denied("rogue", "untrusted"));
    cases.push_back(denied("serveronly", "wrong_usage"));
    json carol = scenario("carol", "carol", "/", 200);
    carol["user"] = json{{"cn", "carol"}};
    cases.push_back(carol);
    json dave = scenario("dave", "dave", "/", 200);
    dave["user"] = json{{"cn", "dave"}, {"name", "Dave Example"}};
    cases.push_back(dave);
    cases.push_back(denied("hostile", "unknown_user"));
    json none = scenario("no certificate", "", "/", 401);
    none["reason"] = "no_certificate";
    cases.push_back(none);
    json joe_admin = scenario("joe GET /admin", "joe", "/admin", 200);
    joe_admin["user"] = json{{"cn", "joe"}};
    cases.push_back(joe_admin);
    json carol_admin = scenario("carol GET /admin", "carol", "/admin", 403);
    carol_admin["reason"] = "forbidden";
    cases.push_back(carol_admin);
    cases.push_back(scenario("no certificate GET /public", "", "/public", 200));
    cases.push_back(scenario("no certificate GET /healthz", "", "/healthz", 200));
    cases.push_back(json{{"name", "joe HEAD /"},
                         {"cert", "joe.crt"},
                         {"key", "joe.key"},
                         {"method", "HEAD"},
                         {"path", "/"},
                         {"status", 200}});
    return cases;
}

// A case that a server requiring a certificate refuses at the handshake: no
// certificate, or one whose chain does not verify.
bool refused_at_handshake(const json& c) {
    if (!c.contains("cert")) return true;
    const std::string reason = c.value("reason", "");
    return reason == "expired" || reason == "not_yet_valid" || reason == "revoked" || reason == "untrusted" ||
           reason == "wrong_usage";
}

} // namespace

std::string users_json(const std::string& dave_fingerprint) {
    json doc;
    doc["users"] = json::array({
        json{{"cn", "joe"}, {"name", "Joe Example"}, {"roles", {"admin"}}},
        "expired",
        "notyet",
        "revoked",
        "serveronly",
        json{{"cn", "carol"}, {"name", "Carol Example"}, {"roles", {"reader"}}},
        json{{"fingerprint256", dave_fingerprint}, {"name", "Dave Example"}},
    });
    doc["routes"] = json::array({
        json{{"path", "/admin"}, {"roles", {"admin"}}},
        json{{"path", "/public"}, {"public", true}},
    });
    return text_of(doc);
}

std::string scenarios_json(const std::string& server_name) {
    json doc;
    doc["defaults"] = scenario_defaults(server_name);
    doc["cases"] = certauth_cases();
    return text_of(doc);
}

std::string scenarios_require_cert_json(const std::string& server_name) {
    json doc;
    doc["defaults"] = scenario_defaults(server_name);
    doc["defaults"]["reason_optional"] = true;
    json cases = json::array();
    for (json c : certauth_cases()) {
        if (refused_at_handshake(c)) {
            c.erase("status");
            c.erase("reason");
            c["refused"] = "handshake";
        }
        cases.push_back(std::move(c));
    }
    doc["cases"] = std::move(cases);
    return text_of(doc);
}

std::string certauth_toml() {
    return R"(# certauth demo configuration for the test PKI in this folder (TEST keys only).
# Run inside this folder:  certauth serve            (https://localhost:3443)
#                          certauth check joe.crt    (the same decision, offline)
# Relative paths are relative to this file. See README.md here.
ca = "ca.crt"
crl = "ca.crl"
users = "users.json"

[serve]
listen = "127.0.0.1:3443"
cert = "server.crt"
key = "server.key"
)";
}

} // namespace certauth::cli::test_pki
