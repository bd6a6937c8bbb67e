#include <certauth/server/accept.hpp>

#include "support/catch.hpp"

using certauth::server::accept_quality;
using certauth::server::prefers_html;

TEST_CASE("accept: browsers prefer HTML", "[server]") {
    // As Chrome, Firefox and Safari send them for a page.
    CHECK(prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;"
                       "q=0.8,application/signed-exchange;v=b3;q=0.7"));
    CHECK(prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
    CHECK(prefers_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
    CHECK(prefers_html("text/html"));
    CHECK(prefers_html("TEXT/HTML"));
    CHECK(prefers_html("text/*"));
    CHECK(prefers_html(" text/html ; q=0.5 , */* ; Q=0.1 "));
}

TEST_CASE("accept: JSON clients, ties and no header keep JSON", "[server]") {
    CHECK_FALSE(prefers_html(""));    // no Accept header
    CHECK_FALSE(prefers_html("*/*")); // curl, wget, probe
    CHECK_FALSE(prefers_html("application/json"));
    CHECK_FALSE(prefers_html("application/*"));
    CHECK_FALSE(prefers_html("text/html, application/json")); // a tie
    CHECK_FALSE(prefers_html("application/json, text/html;q=0.9"));
    CHECK_FALSE(prefers_html("text/html;q=0, */*"));
    CHECK_FALSE(prefers_html("text/plain"));
    CHECK_FALSE(prefers_html("garbage"));
    CHECK_FALSE(prefers_html(",,,"));
}

TEST_CASE("accept: the most specific range decides", "[server]") {
    CHECK(accept_quality("text/*;q=0.3, */*;q=0.1", "text", "html") == 300);
    CHECK(accept_quality("text/html;q=0.7, text/*;q=0.3, */*;q=0.1", "text", "html") == 700);
    CHECK(accept_quality("text/html;q=0.7, text/*;q=0.3, */*;q=0.1", "application", "json") == 100);
    CHECK(accept_quality("text/plain", "text", "html") == 0);
    CHECK(accept_quality("", "text", "html") == 1000);
    // A client that refuses JSON outright gets the page, even through */*.
    CHECK(prefers_html("*/*;q=0.1, application/json;q=0"));
    // The same range twice: the higher quality.
    CHECK(accept_quality("text/html;q=0.2, text/html;q=0.6", "text", "html") == 600);
}

TEST_CASE("accept: q-values as RFC 9110 spells them, others ignored", "[server]") {
    CHECK(accept_quality("text/html;q=1", "text", "html") == 1000);
    CHECK(accept_quality("text/html;q=1.000", "text", "html") == 1000);
    CHECK(accept_quality("text/html;q=0.", "text", "html") == 0);
    CHECK(accept_quality("text/html;q=0.125", "text", "html") == 125);
    CHECK(accept_quality("text/html;level=1;q=0.5", "text", "html") == 500);
    CHECK(accept_quality("text/html;q=0.5;ext=1", "text", "html") == 500); // an accept-extension after q
    // Not qvalues: the range is ignored (here nothing else covers text/html).
    for (const char* bad : {"text/html;q=2", "text/html;q=1.5", "text/html;q=0.1234", "text/html;q=-1",
                            "text/html;q=", "text/html;q=0.5x", "text/html;q=.5"})
        CHECK(accept_quality(bad, "text", "html") == 0);
    // Not media ranges.
    for (const char* bad : {"html", "text/", "/html", "*/html", "te xt/html", "text/ht\"ml"})
        CHECK(accept_quality(bad, "text", "html") == 0);
}

TEST_CASE("accept: commas and semicolons inside quoted parameters do not split", "[server]") {
    CHECK(prefers_html(R"(text/html;foo="a,b;q=0", application/json;q=0.5)"));
    CHECK(accept_quality(R"(text/html;foo="a\",q=0";q=0.4)", "text", "html") == 400);
    CHECK(accept_quality(R"(application/json;x=",text/html")", "text", "html") == 0);
}
