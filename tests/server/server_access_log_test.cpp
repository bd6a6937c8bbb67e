#include <certauth/server/access_log.hpp>

#include "support/catch.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

using namespace certauth::server;
using namespace std::chrono_literals;

namespace {

AccessRecord record() {
    AccessRecord r;
    r.time = std::chrono::system_clock::time_point(1714564800s + 123ms); // 2024-05-01T12:00:00.123Z
    r.peer = "127.0.0.1:50412";
    r.method = "GET";
    r.target = "/admin";
    r.status = 200;
    r.reason = "ok";
    r.cn = "joe";
    r.fingerprint = "F8:38:B2:63:B4:88:B6:CA:52:E2:BE:73:67:A9:3D:7D:A0:B5:EE:AC:56:7D:3B:9D:7F:30:1D:03:B8:E4:24:89";
    r.latency = 412us;
    return r;
}

} // namespace

TEST_CASE("access log: text line", "[server]") {
    std::string line;
    format_access(record(), LogFormat::text, line);
    CHECK(line == "2024-05-01T12:00:00.123Z 127.0.0.1:50412 \"GET /admin\" 200 ok cn=joe fp=F8:38:B2:63:B4:88:B6:CA "
                  "0.412ms\n");
}

TEST_CASE("access log: text escapes what the client sent, dashes for what is missing", "[server]") {
    AccessRecord r = record();
    r.target = "/a b\"\x01\\%22";
    r.cn = "";
    r.fingerprint = "";
    r.reason = "-";
    r.status = 400;
    std::string line;
    format_access(r, LogFormat::text, line);
    CHECK(line ==
          "2024-05-01T12:00:00.123Z 127.0.0.1:50412 \"GET /a\\x20b\\x22\\x01\\x5C%22\" 400 - cn=- fp=- 0.412ms\n");
}

TEST_CASE("access log: JSON line", "[server]") {
    AccessRecord r = record();
    r.target = "/caf\xc3\xa9\"\n";
    std::string line;
    format_access(r, LogFormat::json, line);
    REQUIRE(line.back() == '\n');
    const auto j = nlohmann::json::parse(line);
    CHECK(j["time"] == "2024-05-01T12:00:00.123Z");
    CHECK(j["peer"] == "127.0.0.1:50412");
    CHECK(j["method"] == "GET");
    CHECK(j["path"] == "/caf\xc3\xa9\"\n");
    CHECK(j["status"] == 200);
    CHECK(j["reason"] == "ok");
    CHECK(j["cn"] == "joe");
    CHECK(j["fingerprint256"] == "F8:38:B2:63:B4:88:B6:CA");
    CHECK(j["latency_ms"].get<double>() == Catch::Approx(0.412));
    CHECK(j["tls"] == true);
}

TEST_CASE("access log: JSON stays valid for bytes that are not UTF-8", "[server]") {
    AccessRecord r = record();
    r.target = "/\xff\xfe";
    r.cn = "";
    std::string line;
    format_access(r, LogFormat::json, line);
    const auto j = nlohmann::json::parse(line);
    CHECK(j["path"] == "/\u00ff\u00fe");
    CHECK(j["cn"].is_null());
}
