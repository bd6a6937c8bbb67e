// Certificate::node_object() against Node.js itself: for every fixture
// certificate, `node tests/support/node_cert.js FILE` prints what
// getPeerCertificate() / X509Certificate#toLegacyObject() gives, and ours
// must equal it key by key, keys in Node's order (docs/check.md: check
// --json's `certificate`).
#include <certauth/x509/certificate.hpp>

#include "support/process.hpp"

#include "support/catch.hpp"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using certauth::test::source_path;
using nlohmann::json;

namespace {

std::vector<std::string> certificates_in(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(source_path(dir)))
        if (entry.path().extension() == ".crt") out.push_back(entry.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

nlohmann::ordered_json node_object_of(const std::string& file) {
    certauth::test::RunOptions options;
    options.timeout = std::chrono::seconds(30);
    const auto result = certauth::test::run({"node", source_path("tests/support/node_cert.js"), file}, options);
    INFO("node " << file << " stderr: " << result.err);
    REQUIRE(result.exit_code == 0);
    return nlohmann::ordered_json::parse(result.out);
}

// The keys in order, with those of nested objects (subject, issuer,
// infoAccess) as "outer.inner".
std::vector<std::string> key_order(const nlohmann::ordered_json& object) {
    std::vector<std::string> out;
    for (const auto& [key, value] : object.items()) {
        out.push_back(key);
        if (value.is_object())
            for (const auto& [inner, ignored] : value.items())
                out.push_back(key + "." + inner);
    }
    return out;
}

// One line per differing key: "  key: node=... ours=...".
std::string diff(const json& node, const json& ours) {
    std::set<std::string> keys;
    for (const auto& [key, value] : node.items())
        keys.insert(key);
    for (const auto& [key, value] : ours.items())
        keys.insert(key);
    std::string out;
    for (const std::string& key : keys) {
        const bool in_node = node.contains(key);
        const bool in_ours = ours.contains(key);
        if (in_node && in_ours && node[key] == ours[key]) continue;
        out += "  " + key + ": node=" + (in_node ? node[key].dump() : "(absent)") +
               " ours=" + (in_ours ? ours[key].dump() : "(absent)") + "\n";
    }
    return out;
}

void compare_with_node(const std::string& file) {
    const auto chain = certauth::x509::load_chain(file);
    INFO(file << (chain ? "" : ": " + chain.error().message));
    REQUIRE(chain);
    const nlohmann::ordered_json node = node_object_of(file);
    const nlohmann::ordered_json ours = chain->front().node_object();
    const std::string differences = diff(node, ours);
    INFO("differences for " << file << ":\n" << differences);
    CHECK(differences.empty());
    CHECK(key_order(ours) == key_order(node));
}

} // namespace

TEST_CASE("node is available as the oracle", "[x509]") {
    certauth::test::RunOptions options;
    options.timeout = std::chrono::seconds(30);
    const auto result = certauth::test::run({"node", "--version"}, options);
    INFO("node --version: " << result.out << result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.rfind("v", 0) == 0);
}

TEST_CASE("node_object equals Node's toLegacyObject for every fixture certificate", "[x509]") {
    const auto files = certificates_in("fixtures");
    REQUIRE(files.size() >= 14);
    for (const std::string& file : files)
        compare_with_node(file);
}

TEST_CASE("node_object equals Node's toLegacyObject for every edge certificate", "[x509]") {
    const auto files = certificates_in("fixtures/edge");
    std::set<std::string> names;
    for (const auto& f : files)
        names.insert(fs::path(f).stem().string());
    // The edge cases the fixtures hold (fixtures/README.md), each compared below.
    for (const char* expected :
         {"multi-ou", "utf8", "comma", "sans", "aia", "p384", "ed25519", "serial20", "generalized", "multi-eku"})
        CHECK(names.count(expected) == 1);
    for (const std::string& file : files)
        compare_with_node(file);
}

TEST_CASE("node_object of a chain file describes its first certificate, as Node does", "[x509]") {
    compare_with_node(source_path("fixtures/carol-chain.pem"));
    const auto chain = certauth::x509::load_chain(source_path("fixtures/carol-chain.pem"));
    REQUIRE(chain);
    CHECK(chain->front().node_object()["subject"]["CN"] == "carol");
}

TEST_CASE("node_object shapes: absent extensions are absent keys, EC keys have curves, no modulus", "[x509]") {
    const auto load = [](const char* name) {
        auto chain = certauth::x509::load_chain(source_path(name));
        REQUIRE(chain);
        return chain->front().node_object();
    };
    const json joe = load("fixtures/joe.crt");
    CHECK_FALSE(joe.contains("subjectaltname"));
    CHECK_FALSE(joe.contains("infoAccess"));
    CHECK_FALSE(joe.contains("raw"));
    CHECK_FALSE(joe.contains("pubkey"));
    CHECK(joe["exponent"] == "0x10001");
    CHECK(joe["bits"] == 2048);
    CHECK(joe["ca"] == false);
    CHECK(joe["valid_from"] == "Jan  1 00:00:00 2020 GMT");

    const json dave = load("fixtures/dave.crt");
    CHECK_FALSE(dave.contains("modulus"));
    CHECK(dave["asn1Curve"] == "prime256v1");
    CHECK(dave["nistCurve"] == "P-256");

    const json server = load("fixtures/server.crt");
    CHECK(server["subjectaltname"] == "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");

    const json aia = load("fixtures/edge/aia.crt");
    CHECK(aia["infoAccess"] == json::parse(R"({"OCSP - URI":["http://ocsp.example.org/"],
                                              "CA Issuers - URI":["http://ca.example.org/ca.crt"]})"));

    const json ou = load("fixtures/edge/multi-ou.crt");
    CHECK(ou["subject"]["OU"] == json::array({"Engineering", "Security"}));

    const json ca = load("fixtures/ca.crt");
    CHECK(ca["ca"] == true);
}
