// users.json, scenarios.json and certauth.toml of the test PKI.
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
    doc["defaults"] = json{
        {"url", "https://" + url_host(server_name) + ":3443"}, {"cacert", "ca.crt"}, {"method", "GET"}, {"path", "/"}};
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
    doc["cases"] = cases;
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
