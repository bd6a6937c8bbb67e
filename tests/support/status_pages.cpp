#include "support/status_pages.hpp"

#include "support/process.hpp"
#include "support/server_support.hpp"

#include "support/catch.hpp"

#include <chrono>
#include <thread>

namespace certauth::test {

using namespace std::chrono_literals;

std::string status_page(unsigned short port, const std::string& path) {
    ClientOptions plain;
    plain.tls = false;
    auto client = HttpClient::connect(port, plain);
    REQUIRE(client);
    const auto response = client->request("GET", path, "Connection: close\r\n");
    INFO(client->last_error());
    REQUIRE(response);
    REQUIRE(response->status == 200);
    return response->body;
}

double metric(unsigned short port, const std::string& series) {
    const std::string text = status_page(port, "/metrics");
    RunOptions input;
    input.input = text;
    input.timeout = 30s;
    const ProcessResult checked = run({"promtool", "check", "metrics"}, input);
    INFO(checked.out << checked.err);
    CHECK(checked.exit_code == 0);
    const std::size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    const std::size_t value = at + 1 + series.size() + 1;
    return std::stod(text.substr(value, text.find('\n', value) - value));
}

double metric_within(unsigned short port, const std::string& series, double wanted, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    double value = metric(port, series);
    while (value != wanted && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        value = metric(port, series);
    }
    return value;
}

unsigned short port_of_url(const std::string& url) {
    const std::size_t colon = url.rfind(':');
    REQUIRE(colon != std::string::npos);
    return static_cast<unsigned short>(std::stoi(url.substr(colon + 1)));
}

} // namespace certauth::test
