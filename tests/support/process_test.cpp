#include "support/process.hpp"

#include "support/catch.hpp"

#include <csignal>

using namespace certauth::test;
using namespace std::chrono_literals;

TEST_CASE("run captures output, exit code and input", "[support]") {
    RunOptions options;
    options.input = "hello";
    auto r = run({"sh", "-c", "cat; echo err >&2; exit 3"}, options);
    CHECK(r.exit_code == 3);
    CHECK(r.out == "hello");
    CHECK(r.err == "err\n");
    CHECK_FALSE(r.timed_out);
}

TEST_CASE("run kills a process at its timeout", "[support]") {
    RunOptions options;
    options.timeout = 200ms;
    auto r = run({"sleep", "30"}, options);
    CHECK(r.timed_out);
    CHECK(r.exit_code == -1);
}

TEST_CASE("ChildProcess waits for a line and stops the process", "[support]") {
    ChildProcess child({"sh", "-c", "echo starting; echo 'port 4242' >&2; exec sleep 30"});
    auto m = child.wait_for_line(std::regex(R"(port (\d+))"), 5s);
    REQUIRE(m);
    CHECK((*m)[1] == "4242");
    CHECK(child.running());
    child.signal(SIGTERM);
    CHECK(child.wait(5s).has_value());
    CHECK_FALSE(child.wait_for_line(std::regex("never"), 100ms));
}
