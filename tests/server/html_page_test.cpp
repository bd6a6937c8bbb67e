// The page a browser gets (html_page.hpp), rendered from facts built here:
// each reason's plain words, the escaping of every certificate- and
// user-list-derived string, and the Content-Security-Policy that lets the
// page's own style in and nothing else.
#include <certauth/server/handler.hpp>
#include <certauth/server/html_page.hpp>

#include <certauth/x509/certificate.hpp>

#include "support/catch.hpp"
#include "support/files.hpp"

#include <array>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

using namespace certauth;
using namespace certauth::server;
using certauth::test::fixture;

namespace {

using Clock = std::chrono::system_clock;

// 2026-06-01: the fixtures' ordinary leaves are valid, `expired` expired in 2021.
const Clock::time_point k_now = Clock::time_point(std::chrono::seconds(1780272000));

x509::CertFacts facts_of(const std::string& stem) {
    auto chain = x509::load_chain(fixture(stem + ".crt"));
    REQUIRE(chain);
    return chain->front().facts();
}

policy::Decision denied(policy::Reason reason, std::string detail = "the detail") {
    policy::Decision decision;
    decision.verdict = policy::Verdict::denied;
    decision.reason = reason;
    decision.detail = std::move(detail);
    return decision;
}

policy::Decision authorised(nlohmann::json user) {
    policy::Decision decision;
    decision.verdict = policy::Verdict::authorised;
    decision.reason = policy::Reason::ok;
    decision.user = std::make_shared<const nlohmann::json>(std::move(user));
    return decision;
}

std::string page(const policy::Decision& decision, const x509::CertFacts* certificate, int status,
                 const policy::Route* route = nullptr, const nlohmann::json* user = nullptr) {
    PageFacts facts;
    facts.status = status;
    facts.method = "GET";
    facts.target = "/";
    facts.decision = &decision;
    facts.route = route;
    facts.user = user;
    facts.certificate = certificate;
    facts.now = k_now;
    return render_page(facts);
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// No markup that loads or runs anything: every page is one self-contained document.
void check_self_contained(const std::string& html) {
    for (const std::string_view banned :
         {"<script", "<img", "<link", "<iframe", "<object", "<embed", "src=", "url(", "@import", "http://", "https://"})
        CHECK_FALSE(contains(html, banned));
}

} // namespace

TEST_CASE("html page: html_escape writes the five characters that matter as references", "[server]") {
    CHECK(html_escape(R"(<a href="x" title='y'>&amp;</a>)") ==
          "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
    CHECK(html_escape("joe \xc3\xa9t\xc3\xa9") == "joe \xc3\xa9t\xc3\xa9"); // UTF-8 passes
}

TEST_CASE("html page: a certificate with markup in its CN and O shows it as text", "[server]") {
    const x509::CertFacts hostile = facts_of("hostile"); // CN=<script>alert(1)</script>, O=<img src=x onerror=...>
    REQUIRE(hostile.cn() == "<script>alert(1)</script>");
    const std::string html = page(denied(policy::Reason::unknown_user), &hostile, 401);
    check_self_contained(html);
    CHECK(contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    CHECK(contains(html, R"(&lt;img src\=x onerror\=alert(1)\&gt;)")); // RFC 4514 form
    CHECK_FALSE(contains(html, "onerror=alert(1)>"));

    // The same CN authorised (a user list matching it): the heading is the CN, escaped.
    const nlohmann::json user = {{"cn", hostile.cn()}, {"roles", {"<b>r</b>"}}, {"team", "<i>x</i>"}};
    const std::string allowed = page(authorised(user), &hostile, 200);
    check_self_contained(allowed);
    CHECK(contains(allowed, "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>"));
    CHECK(contains(allowed, "<title>&lt;script&gt;"));
    CHECK(contains(allowed, "&lt;b&gt;r&lt;/b&gt;"));
    CHECK(contains(allowed, "&lt;i&gt;x&lt;/i&gt;"));
    CHECK_FALSE(contains(allowed, "<b>r</b>"));
}

TEST_CASE("html page: an authorised person sees who they are", "[server]") {
    const x509::CertFacts joe = facts_of("joe");
    const std::string html =
        page(authorised({{"cn", "joe"}, {"name", "Joe Example"}, {"roles", {"admin"}}}), &joe, 200);
    check_self_contained(html);
    CHECK(contains(html, "<h1>Joe Example</h1>"));
    CHECK(contains(html, "<span class=\"role\">admin</span>"));
    CHECK(contains(html, "CN=joe"));                         // subject
    CHECK(contains(html, "CN=certauth test CA"));            // issuer
    CHECK(contains(html, "2049-12-31"));                     // expiry
    CHECK(contains(html, joe.fingerprint256.substr(0, 24))); // the first group of the fingerprint
    CHECK(contains(html, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
    CHECK(contains(html, "@media (prefers-color-scheme:dark)"));
}

TEST_CASE("html page: each reason says why, and what to do, in plain words", "[server]") {
    using policy::Reason;
    SECTION("no certificate: how to import a .p12, and to restart the browser") {
        const std::string html = page(denied(Reason::no_certificate), nullptr, 401);
        check_self_contained(html);
        CHECK(contains(html, "Your browser sent no certificate"));
        CHECK(contains(html, ".p12"));
        CHECK(contains(html, "Chrome"));
        CHECK(contains(html, "Firefox"));
        CHECK(contains(html, "Quit the browser and start it again"));
        CHECK(contains(html, "<code>no_certificate</code>"));
    }
    SECTION("expired: since when") {
        const x509::CertFacts expired = facts_of("expired");
        const std::string html = page(denied(Reason::expired), &expired, 401);
        CHECK(contains(html, "Your certificate has expired"));
        CHECK(contains(html, "It expired on 2021-01-01 (5 years ago)"));
        CHECK(contains(html, "new one"));
    }
    SECTION("not yet valid: from when") {
        const x509::CertFacts notyet = facts_of("notyet");
        const std::string html = page(denied(Reason::not_yet_valid), &notyet, 401);
        CHECK(contains(html, "It becomes valid on 2090-01-01"));
        CHECK(contains(html, "date and time"));
    }
    SECTION("unknown user: the fingerprint to give the administrator") {
        const x509::CertFacts bob = facts_of("bob");
        const std::string html = page(denied(Reason::unknown_user), &bob, 401);
        CHECK(contains(html, "give the administrator the fingerprint"));
        CHECK(contains(html, "<code class=\"fingerprint mono hash\"><span>" + bob.fingerprint256.substr(0, 24)));
    }
    SECTION("untrusted: issued by whom") {
        const x509::CertFacts rogue = facts_of("rogue");
        const std::string html = page(denied(Reason::untrusted), &rogue, 401);
        CHECK(contains(html, "It was issued by CN=certauth rogue CA, O=certauth, which this server does not trust."));
    }
    SECTION("forbidden: the route's role, and the person's") {
        const x509::CertFacts carol = facts_of("carol");
        const nlohmann::json user = {{"cn", "carol"}, {"name", "Carol Example"}, {"roles", {"reader"}}};
        policy::Route admin;
        admin.path = "/admin";
        admin.roles = {"admin"};
        policy::Decision decision = denied(Reason::forbidden);
        const std::string html = page(decision, &carol, 403, &admin, &user);
        CHECK(contains(html, "This page needs the role admin; you (Carol Example) have the role reader."));
        CHECK(contains(html, "403 Forbidden"));
        // The user list's strings, control characters written as \XX there as on every page.
        const nlohmann::json odd = {{"cn", "carol"}, {"name", "Carol\x1b[2J"}, {"roles", {"r\x07"}}, {"k\x01", "v"}};
        const std::string forbidden = page(decision, &carol, 403, &admin, &odd);
        CHECK(contains(forbidden, "you (Carol\\1B[2J) have the role r\\07."));
        CHECK(forbidden.find_first_of("\x01\x07\x1b") == std::string::npos);
        const std::string shown = page(authorised(odd), &carol, 200);
        CHECK(contains(shown, "k\\01"));
        CHECK(shown.find_first_of("\x01\x07\x1b") == std::string::npos);
    }
    SECTION("revoked") {
        const x509::CertFacts revoked = facts_of("revoked");
        const std::string html = page(denied(Reason::revoked), &revoked, 401);
        CHECK(contains(html, "Your certificate has been revoked"));
    }
    SECTION("wrong usage") {
        const x509::CertFacts serveronly = facts_of("serveronly");
        const std::string html = page(denied(Reason::wrong_usage), &serveronly, 401);
        CHECK(contains(html, "This certificate cannot identify a person"));
        CHECK(contains(html, "TLS client authentication"));
    }
}

TEST_CASE("html page: the other answers of serve are pages too", "[server]") {
    PageFacts facts;
    facts.now = k_now;
    facts.method = "DELETE";
    facts.target = "/<x>";
    facts.topic = PageTopic::method_not_allowed;
    facts.status = 405;
    std::string html = render_page(facts);
    check_self_contained(html);
    CHECK(contains(html, "Your browser sent a DELETE request"));
    CHECK(contains(html, "/&lt;x&gt;"));

    facts.topic = PageTopic::bad_target;
    facts.status = 400;
    CHECK(contains(render_page(facts), "This address is not valid here"));

    facts.topic = PageTopic::plain_http;
    facts.status = 401;
    facts.https_url = "https://h\"><b>:1/";
    html = render_page(facts);
    CHECK(contains(html, "<a href=\"https://h&quot;&gt;&lt;b&gt;:1/\">"));

    // --upstream: certauth's own answers, with what happened in the details.
    facts.topic = PageTopic::gateway;
    facts.detail = "the application at <app> sent a malformed response";
    const std::vector<std::pair<int, std::string>> gateway = {
        {502, "The application is not answering"},
        {504, "The application took too long to answer"},
        {400, "This request cannot be passed on"},
        {413, "What you sent is too large"},
    };
    for (const auto& [status, heading] : gateway) {
        facts.status = status;
        html = render_page(facts);
        check_self_contained(html);
        CHECK(contains(html, "<h1>" + heading + "</h1>"));
        CHECK(contains(html, "<dt>Detail</dt><dd>the application at &lt;app&gt; sent a malformed response</dd>"));
        CHECK(contains(html, std::to_string(status) + " " + std::string(status_text(status))));
    }
}

TEST_CASE("html page: the Content-Security-Policy forbids scripts and admits the page's own style by hash",
          "[server]") {
    const std::string headers(page_headers());
    CHECK(contains(headers, "Content-Security-Policy: default-src 'none'; style-src 'sha256-"));
    CHECK_FALSE(contains(headers, "script-src"));
    CHECK_FALSE(contains(headers, "unsafe"));
    CHECK(contains(headers, "X-Content-Type-Options: nosniff\r\n"));
    CHECK(headers.size() >= 2);
    CHECK(headers.substr(headers.size() - 2) == "\r\n");

    // The hash in the policy is that of the page's <style> element.
    const std::string html = page(denied(policy::Reason::no_certificate), nullptr, 401);
    const std::size_t open = html.find("<style>");
    const std::size_t close = html.find("</style>");
    REQUIRE(open != std::string::npos);
    REQUIRE(close != std::string::npos);
    const std::string style = html.substr(open + 7, close - open - 7);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    REQUIRE(EVP_Digest(style.data(), style.size(), digest.data(), &size, EVP_sha256(), nullptr) == 1);
    std::array<unsigned char, 64> encoded{};
    const int length = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(size));
    const std::string hash(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(length));
    CHECK(contains(headers, "style-src 'sha256-" + hash + "'"));
}
