// The measuring half of scripts/bench/directory.sh: loads a user directory
// the way serve does and reports, one "key value" per line,
//   load_seconds (wall) and load_cpu_seconds (user + system: on a shared
//   machine the wall time counts other programs' turns too), users,
//   rss_bytes (resident memory the snapshot added),
//   raw_string_bytes (its match values, attribute names and string values),
//   bytes_per_entry_beyond_strings, peak_rss_bytes;
// then, against a list of 10 entries of the same shape: the cost of
// UserList::find() (ns per call, certificates picked at random among the
// entries) and of policy::evaluate() on fixtures/joe.crt (verify + find),
// each the median of 9 runs interleaved with the other list's.
//
// Usage: directory_bench DIRECTORY FIXTURES_DIR
#include <certauth/directory/directory.hpp>
#include <certauth/policy/decide.hpp>
#include <certauth/policy/user_list_builder.hpp>
#include <certauth/x509/certificate.hpp>
#include <certauth/x509/trust_store.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <malloc.h>
#include <sys/resource.h>

namespace {

using namespace certauth;
using Steady = std::chrono::steady_clock;

// A field of /proc/self/status in bytes ("VmRSS", "VmHWM").
long long status_bytes(const std::string& field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
    return -1;
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

long long resident() {
    malloc_trim(0); // what the allocator keeps but does not use is not the snapshot's
    return status_bytes("VmRSS");
}

std::size_t raw_strings(const nlohmann::json& value) {
    if (value.is_string()) return value.get_ref<const std::string&>().size();
    std::size_t total = 0;
    if (value.is_object())
        for (const auto& item : value.items())
            total += item.key().size() + raw_strings(item.value());
    if (value.is_array())
        for (const auto& item : value)
            total += raw_strings(item);
    return total;
}

std::size_t raw_strings(const policy::UserList& list) {
    std::size_t total = 0;
    for (const policy::UserEntry& entry : list.users()) {
        for (policy::MatchKey key : policy::k_match_keys)
            if (const auto& value = entry.value(key)) total += value->size();
        total += raw_strings(entry.attributes);
    }
    return total;
}

x509::CertFacts certificate(const std::string& cn) {
    x509::CertFacts facts;
    facts.subject.entries = {{"C", "XX"}, {"O", "Example"}, {"CN", cn}};
    facts.issuer.entries = {{"O", "certauth"}, {"CN", "certauth test CA"}};
    facts.serial = "1A2B3C4D5E6F";
    facts.fingerprint256 =
        "F8:38:B2:63:B4:88:B6:CA:52:E2:BE:73:67:A9:3D:7D:A0:B5:EE:AC:56:7D:3B:9D:7F:30:1D:03:B8:E4:24:89";
    return facts;
}

std::string user_name(std::size_t i) {
    char name[32];
    std::snprintf(name, sizeof name, "user%07zu", i);
    return name;
}

// Certificates CN=user0000001 ... picked at random among `users` entries.
std::vector<x509::CertFacts> certificates(std::size_t users) {
    std::mt19937_64 random(42);
    std::vector<x509::CertFacts> out;
    for (std::size_t i = 0; i < 4096; ++i)
        out.push_back(certificate(user_name(std::uniform_int_distribution<std::size_t>(1, users)(random))));
    return out;
}

// ns per find() over `rounds` of `picked`.
double find_ns(const policy::UserList& list, const std::vector<x509::CertFacts>& picked, std::size_t rounds) {
    std::size_t found = 0;
    const Steady::time_point start = Steady::now();
    for (std::size_t i = 0; i < rounds; ++i)
        found += list.find(picked[i % picked.size()]) != nullptr ? 1 : 0;
    const double ns = std::chrono::duration<double, std::nano>(Steady::now() - start).count() / rounds;
    if (found != rounds) std::fprintf(stderr, "directory_bench: only %zu of %zu found\n", found, rounds);
    return ns;
}

double evaluate_ns(const policy::UserList& list, const x509::Chain& chain, const x509::TrustStore& store,
                   std::size_t rounds) {
    const auto now = std::chrono::system_clock::now();
    std::size_t allowed = 0;
    const Steady::time_point start = Steady::now();
    for (std::size_t i = 0; i < rounds; ++i)
        allowed += policy::evaluate(chain, &store, &list, now).allowed() ? 1 : 0;
    const double ns = std::chrono::duration<double, std::nano>(Steady::now() - start).count() / rounds;
    if (allowed != rounds) std::fprintf(stderr, "directory_bench: joe denied\n");
    return ns;
}

// The medians of `measure(a)` and `measure(b)` over 9 interleaved runs, so
// that the load of a shared machine falls on both alike.
template <class Measure>
std::pair<double, double> interleaved(const Measure& measure) {
    std::vector<double> a;
    std::vector<double> b;
    for (int run = 0; run < 9; ++run) {
        a.push_back(measure(true));
        b.push_back(measure(false));
    }
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return {a[a.size() / 2], b[b.size() / 2]};
}

// Ten entries shaped as the generated ones (scripts/bench/directory.sh), and joe.
policy::UserList ten_users() {
    policy::UserListBuilder builder("ten");
    for (std::size_t i = 1; i <= 10; ++i)
        (void)builder.add_user(
            nlohmann::json{{"cn", user_name(i)}, {"name", "User " + std::to_string(i)}, {"roles", {"reader"}}},
            "users[" + std::to_string(i) + "]");
    (void)builder.add_user(nlohmann::json{{"cn", "joe"}, {"roles", {"admin"}}}, "users[11]");
    return std::move(builder).build();
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: directory_bench DIRECTORY FIXTURES_DIR\n");
        return 2;
    }
    const std::string fixtures = argv[2];
    const long long before = resident();
    const Steady::time_point start = Steady::now();
    const double cpu_start = cpu_seconds();
    Result<policy::UserList> list = directory::load_user_list(argv[1]);
    const double cpu = cpu_seconds() - cpu_start;
    const double seconds = std::chrono::duration<double>(Steady::now() - start).count();
    if (!list) {
        std::fprintf(stderr, "directory_bench: %s\n", list.error().message.c_str());
        return 2;
    }
    const long long after = resident();
    const std::size_t users = list->users().size();
    const std::size_t raw = raw_strings(*list);
    std::printf("load_seconds %.2f\nload_cpu_seconds %.2f\nusers %zu\nrss_bytes %lld\nraw_string_bytes %zu\n", seconds,
                cpu, users, after - before, raw);
    std::printf("bytes_per_entry_beyond_strings %.0f\npeak_rss_bytes %lld\n",
                (static_cast<double>(after - before) - static_cast<double>(raw)) / static_cast<double>(users),
                status_bytes("VmHWM"));

    const policy::UserList ten = ten_users();
    const std::vector<x509::CertFacts> few = certificates(10);
    const std::vector<x509::CertFacts> many = certificates(users - 1); // the generated users, joe aside
    const auto [ten_ns, many_ns] =
        interleaved([&](bool small) { return small ? find_ns(ten, few, 300'000) : find_ns(*list, many, 300'000); });
    std::printf("find_ns_10 %.0f\nfind_ns_all %.0f\nfind_ratio %.2f\n", ten_ns, many_ns, many_ns / ten_ns);

    Result<std::string> pem = x509::read_file(fixtures + "/joe.crt");
    x509::TrustConfig trust;
    trust.ca_files = {fixtures + "/ca.crt"};
    Result<x509::TrustStore> store = x509::TrustStore::load(trust);
    if (!pem || !store) {
        std::fprintf(stderr, "directory_bench: cannot read the fixtures in %s\n", fixtures.c_str());
        return 2;
    }
    Result<x509::Chain> chain = x509::parse_chain(*pem, "joe.crt");
    if (!chain) return 2;
    const auto [ten_decision, many_decision] =
        interleaved([&](bool small) { return evaluate_ns(small ? ten : *list, *chain, *store, 2'000); });
    std::printf("decision_ns_10 %.0f\ndecision_ns_all %.0f\ndecision_ratio %.2f\n", ten_decision, many_decision,
                many_decision / ten_decision);
    return 0;
}
