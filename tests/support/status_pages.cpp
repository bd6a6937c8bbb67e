#include "support/status_pages.hpp"

#include "support/process.hpp"
#include "support/server_support.hpp"

#include "support/catch.hpp"

#include <chrono>

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

unsigned short port_of_url(const std::string& url) {
    const std::size_t colon = url.rfind(':');
    REQUIRE(colon != std::string::npos);
    return static_cast<unsigned short>(std::stoi(url.substr(colon + 1)));
}

} // namespace certauth::test
