#include <certauth/policy/decide.hpp>

#include <certauth/percent_encoding.hpp>
#include <certauth/x509/time_text.hpp>

#include <algorithm>

namespace certauth::policy {
namespace {

using Clock = std::chrono::system_clock;

Decision deny(Reason reason, std::string detail) {
    Decision decision;
    decision.verdict = Verdict::denied;
    decision.reason = reason;
    decision.detail = std::move(detail);
    return decision;
}

Decision allow(Verdict verdict, std::shared_ptr<const nlohmann::json> user = nullptr, std::string detail = {}) {
    Decision decision;
    decision.verdict = verdict;
    decision.reason = Reason::ok;
    decision.user = std::move(user);
    decision.detail = std::move(detail);
    return decision;
}

std::string describe(const x509::Name& name) {
    std::string text = name.to_string();
    return text.empty() ? std::string("(empty name)") : text;
}

// "CN=bob (issued by CN=certauth test CA)"
std::string who(const x509::CertFacts& leaf) {
    return describe(leaf.subject) + " (issued by " + describe(leaf.issuer) + ")";
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

// What a person needs to add the certificate to the list: the values of the
// match keys the list uses that the subject and issuer do not already show.
std::string identifiers(const x509::CertFacts& leaf, const std::vector<std::string>& keys) {
    std::vector<std::string> parts;
    auto add = [&](std::string_view key, const std::vector<std::string>& values) {
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) return;
        if (values.empty())
            parts.push_back("no " + std::string(key));
        else
            parts.push_back(std::string(key) + " " + join(values));
    };
    add("fingerprint256", {leaf.fingerprint256});
    add("serial", {leaf.serial});
    add("dns", leaf.san_dns);
    add("uri", leaf.san_uri);
    add("ip", leaf.san_ip);
    std::vector<std::string> emails = leaf.subject.values("emailAddress");
    emails.insert(emails.end(), leaf.san_email.begin(), leaf.san_email.end());
    add("email", emails);
    return join(parts);
}

std::vector<std::string> roles_of(const std::shared_ptr<const nlohmann::json>& user) {
    std::vector<std::string> roles;
    if (!user || !user->is_object()) return roles;
    const auto it = user->find("roles");
    if (it == user->end() || !it->is_array()) return roles;
    for (const nlohmann::json& role : *it)
        if (role.is_string()) roles.push_back(role.get<std::string>());
    return roles;
}

std::string user_name(const std::shared_ptr<const nlohmann::json>& user) {
    if (user && user->is_object())
        if (const auto it = user->find("cn");
            it != user->end() && it->is_string() && !it->get_ref<const std::string&>().empty())
            return "CN=" + it->get<std::string>();
    return "the user";
}

} // namespace

// The reason a chain problem is denied with. Fail closed: a status that
// is not verified is a denial even when its problem is not one verification
// produces.
Reason reason_of(x509::ChainProblem problem) noexcept {
    switch (problem) {
    case x509::ChainProblem::no_certificate: return Reason::no_certificate;
    case x509::ChainProblem::expired: return Reason::expired;
    case x509::ChainProblem::not_yet_valid: return Reason::not_yet_valid;
    case x509::ChainProblem::revoked: return Reason::revoked;
    case x509::ChainProblem::wrong_usage: return Reason::wrong_usage;
    case x509::ChainProblem::none:
    case x509::ChainProblem::untrusted: return Reason::untrusted;
    }
    return Reason::untrusted;
}

Decision decide(const x509::CertFacts* leaf, const std::optional<x509::ChainStatus>& chain, const UserList* users,
                Clock::time_point now) {
    if (leaf == nullptr) return deny(Reason::no_certificate, "no client certificate was presented");
    if (!chain)
        return allow(Verdict::inspected, nullptr,
                     "not verified: no trusted CA given, so the fields are shown but not vouched for");
    if (!chain->verified()) {
        const Reason reason = reason_of(chain->problem);
        std::string detail = chain->detail.empty() ? who(*leaf) + " did not verify" : chain->detail;
        return deny(reason, std::move(detail));
    }
    // The chain was verified for `now`; the leaf's own validity is checked
    // again so that a status and a time that disagree never let it through.
    if (now < leaf->not_before)
        return deny(Reason::not_yet_valid, who(*leaf) + " is not valid before " + x509::date_text(leaf->not_before) +
                                               ", " + x509::days_text(now, leaf->not_before) +
                                               " after the time of the check");
    if (now > leaf->not_after)
        return deny(Reason::expired, who(*leaf) + " expired " + x509::date_text(leaf->not_after) + ", " +
                                         x509::days_text(leaf->not_after, now) + " before the time of the check");
    if (users == nullptr) return allow(Verdict::authenticated, nullptr, "verified; no user list given");

    if (std::shared_ptr<const nlohmann::json> user = users->find(*leaf))
        return allow(Verdict::authorised, std::move(user));

    std::string detail = who(*leaf) + " is not in the user list";
    if (users->users().empty()) {
        detail += ", which is empty";
    } else {
        detail += "; entries match on " + join(users->match_keys());
        const std::vector<std::string> cns = leaf->subject.values("CN");
        const auto& keys = users->match_keys();
        if (cns.size() > 1 && std::find(keys.begin(), keys.end(), "cn") != keys.end())
            detail += "; its subject has " + std::to_string(cns.size()) + " CNs (" + join(cns) +
                      "), and a cn entry matches only a certificate with exactly one";
        const std::string ids = identifiers(*leaf, keys);
        if (!ids.empty()) detail += "; this certificate has " + ids;
    }
    return deny(Reason::unknown_user, std::move(detail));
}

Decision route(const Decision& connection, const UserList* users, std::string_view path) {
    if (users == nullptr) return connection;
    const Route* rule = users->route_for(path);
    if (rule == nullptr) return connection;
    if (rule->is_public)
        return allow(Verdict::public_route, connection.verdict == Verdict::authorised ? connection.user : nullptr,
                     "route " + rule->path + " is public");
    if (!connection.allowed()) return connection; // 401 before 403: who you are comes first

    const std::string wanted = join(rule->roles);
    if (connection.verdict != Verdict::authorised)
        return deny(Reason::forbidden, "route " + rule->path + " requires one of the roles " + wanted +
                                           ", and the connection is not an authorised user");
    const std::vector<std::string> has = roles_of(connection.user);
    for (const std::string& role : has)
        if (std::find(rule->roles.begin(), rule->roles.end(), role) != rule->roles.end()) return connection;
    return deny(Reason::forbidden, "route " + rule->path + " requires one of the roles " + wanted + "; " +
                                       user_name(connection.user) +
                                       (has.empty() ? std::string(" has no roles") : " has the roles " + join(has)));
}

namespace {
// Stands for a raw ';' while a path is normalised: NUL, which a path never
// holds (an encoded one is refused).
constexpr char k_parameters = '\0';
constexpr std::string_view k_parameters_or_semicolon{"\0;", 2};
} // namespace

std::optional<std::string> normalise_path(std::string_view target) {
    target = target.substr(0, target.find('?'));
    if (target.empty() || target.front() != '/') return std::nullopt;

    std::string decoded;
    decoded.reserve(target.size());
    for (std::size_t i = 0; i < target.size(); ++i) {
        char c = target[i];
        // A raw '#' would start a fragment, which no request carries (RFC
        // 9112); nginx cuts it off, so "/admin#x" would be /admin there but
        // another path than /admin's route here. Refused (an encoded %23 is
        // a character of the path).
        if (c == '#' || c == '\0' || c == '\\') return std::nullopt;
        if (c == '%') {
            if (i + 2 >= target.size()) return std::nullopt;
            const int high = hex_digit(target[i + 1]);
            const int low = hex_digit(target[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            c = static_cast<char>(high * 16 + low);
            i += 2;
            if (c == '\0' || c == '\\') return std::nullopt;
        } else if (c == ';') {
            c = k_parameters; // a raw ';' starts path parameters; an encoded one is a character
        }
        // Merge repeated slashes, as nginx does: "//admin" is "/admin".
        if (c == '/' && !decoded.empty() && decoded.back() == '/') continue;
        decoded += c;
    }

    // No "." or ".." segment may remain: they would let a prefix rule be
    // walked around ("/public/../admin"). Servers such as Tomcat and Jetty
    // cut a segment's path parameters (";jsessionid=..") before they resolve
    // dot segments, so "/public/..;/admin" is /admin there: a segment that
    // is a dot segment before a ';' (raw, or encoded to be safe) is refused
    // too, and so are parameters anywhere but in the last segment
    // ("/admin;x/users" is /admin/users there). The last segment's
    // parameters are cut for routing. An encoded ';' (%3B) is a character
    // of the path to those servers as to others, and stays one.
    std::size_t start = 1;
    while (start <= decoded.size()) {
        std::size_t end = decoded.find('/', start);
        if (end == std::string::npos) end = decoded.size();
        const std::string_view segment = std::string_view(decoded).substr(start, end - start);
        const std::size_t parameters = segment.find(k_parameters);
        const std::string_view name = segment.substr(0, segment.find_first_of(k_parameters_or_semicolon));
        if (name == "." || name == "..") return std::nullopt;
        if (parameters != std::string_view::npos) {
            if (end != decoded.size()) return std::nullopt;
            decoded.resize(start + parameters);
            break;
        }
        start = end + 1;
    }
    return decoded;
}

} // namespace certauth::policy
