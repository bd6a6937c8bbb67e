#include "support/echo_app.hpp"

#include "support/files.hpp"

#include "support/catch.hpp"

#include <chrono>
#include <regex>

namespace certauth::test {

EchoApp::EchoApp(const std::vector<std::string>& extra) {
    std::vector<std::string> argv{"python3", source_path("tests/e2e/apps/echo_app.py")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    m_process = std::make_unique<ChildProcess>(argv);
    const auto line = m_process->wait_for_line(std::regex(R"(listening (unix:\S+|\d+))"), std::chrono::seconds(20));
    if (!line) return;
    const std::string where = (*line)[1].str();
    if (where.rfind("unix:", 0) == 0) {
        m_address = where;
    } else {
        m_port = static_cast<unsigned short>(std::stoi(where));
        m_address = "http://127.0.0.1:" + where;
    }
}

int EchoApp::requests_seen() const {
    const ProcessResult result =
        run({"curl", "-sS", "--max-time", "10", "http://127.0.0.1:" + std::to_string(m_port) + "/requests"});
    // A count not asked for whole (-1) would equal another such count: the
    // caller's "no request reached the application" would hold.
    INFO("curl http://127.0.0.1:" << m_port << "/requests: exit " << result.exit_code << ": " << result.err);
    CHECK(result.exit_code == 0);
    if (result.exit_code != 0) return -1;
    const auto body = nlohmann::json::parse(result.out, nullptr, false);
    CHECK(body.is_object());
    return body.is_object() ? body.value("count", -1) : -1;
}

ProcessResult curl(unsigned short port, const std::string& client, const std::string& path,
                   const std::vector<std::string>& args) {
    std::vector<std::string> argv{"curl",       "-sS",
                                  "--max-time", "60",
                                  "--cacert",   fixture("ca.crt"),
                                  "--resolve",  "localhost:" + std::to_string(port) + ":127.0.0.1"};
    if (!client.empty()) {
        argv.push_back("--cert");
        argv.push_back(fixture(client == "carol" ? "carol-chain.pem" : client + ".crt"));
        argv.push_back("--key");
        argv.push_back(fixture(client + ".key"));
    }
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("https://localhost:" + std::to_string(port) + path);
    RunOptions options;
    options.timeout = std::chrono::seconds(90);
    return run(argv, options);
}

} // namespace certauth::test
