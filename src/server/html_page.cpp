#include <certauth/server/html_page.hpp>

#include <certauth/json_text.hpp>
#include <certauth/server/handler.hpp>
#include <certauth/x509/time_text.hpp>

#include <array>
#include <string>
#include <vector>

#include <openssl/evp.h>

namespace certauth::server {
namespace {

using policy::Reason;
using Clock = std::chrono::system_clock;

// The page's only style. Its SHA-256 is in the Content-Security-Policy:
// change it freely, the hash follows.
constexpr std::string_view k_style = R"css(
:root{color-scheme:light dark;--bg:#f3f4f6;--card:#fff;--text:#1f2328;--muted:#59636e;--line:#d8dee4;
--soft:#f6f8fa;--link:#0969da;--ok:#1a7f37;--ok-bg:#dafbe1;--no:#cf222e;--no-bg:#ffebe9;--warn:#9a6700;
--warn-bg:#fff8c5;--info:#0969da;--info-bg:#ddf4ff}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--text:#e6edf3;--muted:#9198a1;
--line:#30363d;--soft:#1f242c;--link:#4493f8;--ok:#3fb950;--ok-bg:#12261e;--no:#f85149;--no-bg:#2d1215;
--warn:#d29922;--warn-bg:#272115;--info:#4493f8;--info-bg:#121d2f}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);
font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",sans-serif}
main{max-width:46rem;margin:0 auto;padding:3rem 1rem 2rem}
.card{background:var(--card);border:1px solid var(--line);border-top:4px solid var(--tone);border-radius:12px;
padding:1.5rem 1.75rem;margin:0 0 1rem;box-shadow:0 1px 2px rgba(31,35,40,.06)}
.card.plain{border-top-width:1px}
.ok{--tone:var(--ok);--tone-bg:var(--ok-bg)}.no{--tone:var(--no);--tone-bg:var(--no-bg)}
.warn{--tone:var(--warn);--tone-bg:var(--warn-bg)}.info{--tone:var(--info);--tone-bg:var(--info-bg)}
.badge{display:inline-flex;align-items:center;gap:.45rem;margin:0;padding:.2rem .75rem .2rem .45rem;
border-radius:999px;background:var(--tone-bg);color:var(--tone);font-size:.875rem;font-weight:600}
.badge svg{flex:none}
h1{font-size:1.75rem;line-height:1.25;margin:.9rem 0 .4rem;overflow-wrap:anywhere}
h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
.card.plain h2{margin-top:0}
p{margin:.5rem 0}
.lead{font-size:1.075rem}
ol,ul{margin:.5rem 0;padding-left:1.4rem}li{margin:.35rem 0}
ul ul{padding-left:1.1rem}
a{color:var(--link)}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.65rem 1.5rem;margin:1.25rem 0 0}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;
font-size:.875em}
.mono{overflow-wrap:anywhere}
.hash{display:block;max-width:49ch}.hash span{display:inline-block}
.fingerprint{box-sizing:content-box;margin:.6rem 0;padding:.75rem 1rem;border-radius:8px;background:var(--soft);
border:1px solid var(--line);line-height:1.7}
.role{display:inline-block;margin:0 .35rem .25rem 0;padding:0 .6rem;border-radius:999px;background:var(--soft);
border:1px solid var(--line);font-size:.875rem}
.none{color:var(--muted)}
details{color:var(--muted);font-size:.9rem;margin:0 .25rem}
summary{cursor:pointer;padding:.25rem 0}
details dl{margin-top:.5rem}
footer{color:var(--muted);font-size:.8rem;text-align:center;margin-top:1.5rem}
@media (max-width:40rem){main{padding:1rem .75rem}.card{padding:1.25rem 1.1rem}h1{font-size:1.45rem}
dl{grid-template-columns:minmax(0,1fr);gap:0}dt{font-size:.875rem}dd{margin-bottom:.75rem}}
)css";

// "sha256-<base64>" of the style, for the Content-Security-Policy.
std::string style_hash() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (EVP_Digest(k_style.data(), k_style.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) return {};
    std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> encoded{};
    const int length = EVP_EncodeBlock(encoded.data(), digest.data(), static_cast<int>(size));
    return "sha256-" + std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(length));
}

enum class Tone { ok, no, warn, info };

std::string_view tone_class(Tone tone) {
    switch (tone) {
    case Tone::ok: return "ok";
    case Tone::no: return "no";
    case Tone::warn: return "warn";
    case Tone::info: return "info";
    }
    return "info";
}

// A 16-pixel mark for the badge, drawn in the tone's colour.
std::string_view tone_icon(Tone tone) {
    switch (tone) {
    case Tone::ok:
        return R"(<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="8" fill="currentColor"/><path d="M4.6 8.3l2.2 2.2 4.6-4.8" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>)";
    case Tone::no:
        return R"(<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="8" fill="currentColor"/><path d="M5.5 5.5l5 5m0-5l-5 5" fill="none" stroke="#fff" stroke-width="1.8" stroke-linecap="round"/></svg>)";
    case Tone::warn:
    case Tone::info:
        return R"(<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="8" fill="currentColor"/><path d="M8 4.3v4.6" fill="none" stroke="#fff" stroke-width="1.9" stroke-linecap="round"/><circle cx="8" cy="11.6" r="1.1" fill="#fff"/></svg>)";
    }
    return {};
}

// The page as it is written: markup as given (raw), everything else
// escaped (text).
class Html {
  public:
    Html& raw(std::string_view markup) {
        m_out += markup;
        return *this;
    }
    Html& text(std::string_view text) {
        m_out += html_escape(text);
        return *this;
    }
    // A value from a certificate or the user list: control characters as
    // \XX (facts.hpp), then escaped.
    Html& value(std::string_view text) { return this->text(x509::escape_control_characters(text)); }
    // A colon-separated hex string (a fingerprint) in groups of eight
    // bytes, which lines break between: two to a line where there is room.
    // No space between them, so that it copies as one string.
    Html& hex(std::string_view colon_separated) {
        std::size_t bytes = 0;
        m_out += "<span>";
        for (const char c : colon_separated) {
            m_out += html_escape(std::string_view(&c, 1));
            if (c == ':' && ++bytes % 8 == 0) m_out += "</span><span>";
        }
        m_out += "</span>";
        return *this;
    }
    std::string take() { return std::move(m_out); }

  private:
    std::string m_out;
};

std::string join(const std::vector<std::string>& items, std::string_view last_separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? last_separator : std::string_view(", ");
        out += items[i];
    }
    return out;
}

std::string string_field(const nlohmann::json* user, const char* key) {
    if (user == nullptr || !user->is_object()) return {};
    const auto it = user->find(key);
    return it != user->end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> roles_of(const nlohmann::json* user) {
    std::vector<std::string> roles;
    if (user == nullptr || !user->is_object()) return roles;
    const auto it = user->find("roles");
    if (it == user->end() || !it->is_array()) return roles;
    for (const nlohmann::json& role : *it)
        if (role.is_string()) roles.push_back(role.get<std::string>());
    return roles;
}

// A span of time for people: "12 days", "5 months", "23 years".
std::string span_text(Clock::time_point earlier, Clock::time_point later) {
    const long long days = x509::whole_days(earlier, later);
    if (days >= 730) return std::to_string(days / 365) + " years";
    if (days >= 60) return std::to_string(days / 30) + " months";
    return x509::days_text(earlier, later);
}

// "2049-12-31 (in 23 years)", "2021-01-01 (5 years ago)".
std::string date_from_now(Clock::time_point when, Clock::time_point now) {
    std::string text = x509::date_text(when);
    if (when >= now)
        text += " (in " + span_text(now, when) + ")";
    else
        text += " (" + span_text(when, now) + " ago)";
    return text;
}

std::string describe(const x509::Name& name) {
    std::string text = name.to_string();
    return text.empty() ? std::string("(an empty name)") : text;
}

class PageWriter {
  public:
    explicit PageWriter(const PageFacts& facts) : m_facts(facts) {}

    std::string write() {
        switch (m_facts.topic) {
        case PageTopic::decision: decision(); break;
        case PageTopic::healthy: healthy(); break;
        case PageTopic::bad_target: bad_target(); break;
        case PageTopic::method_not_allowed: method_not_allowed(); break;
        case PageTopic::plain_http: plain_http(); break;
        case PageTopic::gateway: gateway(); break;
        }
        return finish();
    }

  private:
    // --- the frame -------------------------------------------------------

    // The document up to the first card's heading, which `heading` is.
    void open(Tone tone, std::string_view badge, std::string_view heading) {
        m_html
            .raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<meta name=\"color-scheme\" content=\"light dark\"><title>")
            .value(heading)
            .raw("</title><style>")
            .raw(k_style)
            .raw("</style></head>\n<body><main>\n<section class=\"card ")
            .raw(tone_class(tone))
            .raw("\"><p class=\"badge\">")
            .raw(tone_icon(tone))
            .text(badge)
            .raw("</p><h1>")
            .value(heading)
            .raw("</h1>\n");
    }

    void lead(std::string_view text) { m_html.raw("<p class=\"lead\">").text(text).raw("</p>\n"); }

    void close_card() { m_html.raw("</section>\n"); }

    // The request's status and reason, the decision's detail for those who
    // read logs, folded away.
    std::string finish() {
        m_html.raw("<details><summary>Technical details</summary><dl><dt>Status</dt><dd>");
        m_html.text(std::to_string(m_facts.status)).text(" ").text(status_text(m_facts.status)).raw("</dd>");
        if (m_facts.topic == PageTopic::decision && m_facts.decision != nullptr) {
            m_html.raw("<dt>Reason</dt><dd><code>").text(policy::to_string(m_facts.decision->reason));
            m_html.raw("</code></dd>");
            if (!m_facts.decision->detail.empty())
                m_html.raw("<dt>Detail</dt><dd>").value(m_facts.decision->detail).raw("</dd>");
        }
        if (m_facts.topic == PageTopic::gateway && !m_facts.detail.empty())
            m_html.raw("<dt>Detail</dt><dd>").value(m_facts.detail).raw("</dd>");
        m_html.raw("<dt>Request</dt><dd class=\"mono\">").value(m_facts.method).text(" ").value(m_facts.target);
        m_html.raw("</dd><dt>Checked at</dt><dd>")
            .text(x509::timestamp_text(m_facts.now))
            .raw("</dd></dl></details>\n");
        m_html.raw("<footer>Answered by certauth</footer>\n</main></body></html>\n");
        return m_html.take();
    }

    // --- the certificate and the user ------------------------------------

    void row(std::string_view term) { m_html.raw("<dt>").text(term).raw("</dt><dd>"); }

    void fingerprint_row(const x509::CertFacts& certificate) {
        row("SHA-256 fingerprint");
        m_html.raw("<span class=\"mono hash\">").hex(certificate.fingerprint256).raw("</span></dd>");
    }

    enum class Fingerprint { shown, left_out };

    // Subject, issuer, validity, fingerprint and serial: rows of a <dl>.
    void certificate_rows(const x509::CertFacts& certificate, Fingerprint fingerprint) {
        row("Certificate subject");
        m_html.value(describe(certificate.subject)).raw("</dd>");
        row("Issued by");
        m_html.value(describe(certificate.issuer)).raw("</dd>");
        if (m_facts.now < certificate.not_before) {
            row("Valid from");
            m_html.text(date_from_now(certificate.not_before, m_facts.now)).raw("</dd>");
        }
        row(m_facts.now > certificate.not_after ? "Expired" : "Expires");
        m_html.text(date_from_now(certificate.not_after, m_facts.now)).raw("</dd>");
        if (fingerprint == Fingerprint::shown) fingerprint_row(certificate);
        row("Serial number");
        m_html.raw("<span class=\"mono\">").value(certificate.serial).raw("</span></dd>");
    }

    // A second card: the certificate the browser presented, on a page that
    // refused it or did not need it.
    void presented_certificate(Fingerprint fingerprint = Fingerprint::shown) {
        if (m_facts.certificate == nullptr) return;
        m_html.raw("<section class=\"card plain\"><h2>The certificate your browser sent</h2><dl>");
        const std::string cn = m_facts.certificate->cn();
        if (!cn.empty()) {
            row("Common name (CN)");
            m_html.value(cn).raw("</dd>");
        }
        certificate_rows(*m_facts.certificate, fingerprint);
        m_html.raw("</dl></section>\n");
    }

    void roles_value(const std::vector<std::string>& roles) {
        if (roles.empty()) {
            m_html.raw("<span class=\"none\">none</span>");
            return;
        }
        for (const std::string& role : roles)
            m_html.raw("<span class=\"role\">").value(role).raw("</span>");
    }

    // Who the user list says the person is, then the certificate.
    void identity(const nlohmann::json* user) {
        m_html.raw("<dl>");
        const std::string name = string_field(user, "name");
        if (!name.empty()) {
            row("Name");
            m_html.value(name).raw("</dd>");
        }
        const std::string cn = user != nullptr                  ? string_field(user, "cn")
                               : m_facts.certificate != nullptr ? m_facts.certificate->cn()
                                                                : std::string();
        if (!cn.empty()) {
            row("Common name (CN)");
            m_html.value(cn).raw("</dd>");
        }
        if (user != nullptr) {
            row("Roles");
            roles_value(roles_of(user));
            m_html.raw("</dd>");
            // The user list's other attributes, as they are written there.
            if (user->is_object())
                for (const auto& [key, attribute] : user->items()) {
                    if (key == "cn" || key == "name" || key == "roles") continue;
                    row(x509::escape_control_characters(key));
                    m_html.value(attribute.is_string() ? attribute.get<std::string>() : json_text(attribute));
                    m_html.raw("</dd>");
                }
        }
        if (m_facts.certificate != nullptr) certificate_rows(*m_facts.certificate, Fingerprint::shown);
        m_html.raw("</dl>\n");
    }

    void what_to_do() { m_html.raw("<h2>What you can do</h2>\n<ol>"); }
    void step(std::string_view text) { m_html.raw("<li>").text(text).raw("</li>"); }
    void end_steps() { m_html.raw("</ol>\n"); }

    void restart_step(std::string_view what) {
        m_html.raw("<li>").text(what);
        m_html.text(" A browser asks only once which certificate to send, and remembers the answer (even "
                    "\u201cnone\u201d): quit it and start it again, or close every window of this site, then "
                    "reopen this page.");
        m_html.raw("</li>");
    }

    // --- topics ------------------------------------------------------------

    void decision() {
        const policy::Decision& decision = *m_facts.decision;
        if (decision.allowed())
            allowed(decision);
        else
            denied(decision);
    }

    void allowed(const policy::Decision& decision) {
        const nlohmann::json* user = decision.user.get();
        if (decision.verdict == policy::Verdict::public_route && user == nullptr) {
            open(Tone::info, "Public page", "This page is open to everyone");
            lead("No certificate is needed here: this server answers it whoever asks.");
            close_card();
            presented_certificate();
            return;
        }
        if (user == nullptr) {
            // Verified, with no user list to look the certificate up in.
            const std::string cn = m_facts.certificate != nullptr ? m_facts.certificate->cn() : std::string();
            open(Tone::ok, "Verified", cn.empty() ? std::string_view("Your certificate is valid") : cn);
            lead("Your certificate was issued by an authority this server trusts; it keeps no list of users, so "
                 "that is all it asks.");
        } else {
            std::string name = string_field(user, "name");
            if (name.empty()) name = string_field(user, "cn");
            open(Tone::ok, "Authorised", name.empty() ? std::string_view("You are a known user") : name);
            lead("Your certificate identifies you to this server.");
        }
        identity(user);
        close_card();
    }

    void denied(const policy::Decision& decision) {
        switch (decision.reason) {
        case Reason::no_certificate: no_certificate(); break;
        case Reason::expired: expired(); break;
        case Reason::not_yet_valid: not_yet_valid(); break;
        case Reason::revoked: revoked(); break;
        case Reason::wrong_usage: wrong_usage(); break;
        case Reason::untrusted: untrusted(); break;
        case Reason::unknown_user: unknown_user(); break;
        case Reason::forbidden: forbidden(); break;
        case Reason::malformed:
        case Reason::untrusted_proxy: // trusted listeners answer proxies, never with a page
        case Reason::ok:
            open(Tone::no, "Not authorised", "Your certificate could not be read");
            lead("The certificate this request came with could not be read as one.");
            close_card();
            break;
        }
    }

    void no_certificate() {
        open(Tone::no, "No certificate", "Your browser sent no certificate");
        lead("This site knows people by their client certificate, a file installed in the browser. Your browser "
             "presented none: it has no certificate for this site, or none was chosen when it asked.");
        what_to_do();
        m_html.raw("<li>Get your certificate from whoever runs this site: usually a <code>.p12</code> (or "
                   "<code>.pfx</code>) file, and its password.</li>");
        m_html.raw("<li>Import it into your browser:<ul>"
                   "<li><b>Chrome, Edge, Chromium:</b> Settings \u2192 Privacy and security \u2192 Security \u2192 "
                   "Manage certificates \u2192 Your certificates \u2192 Import. On Windows and macOS, opening the "
                   "file adds it to the system\u2019s store, which these browsers use.</li>"
                   "<li><b>Firefox:</b> Settings \u2192 Privacy &amp; Security \u2192 Certificates \u2192 View "
                   "Certificates \u2192 Your Certificates \u2192 Import.</li>"
                   "<li><b>Safari:</b> open the file to add it to Keychain Access.</li></ul></li>");
        step("Quit the browser and start it again (or close every window of this site), reopen this page, and "
             "choose the certificate when the browser asks: a browser asks only once which certificate to send, and "
             "remembers the answer, even \u201cnone\u201d.");
        end_steps();
        close_card();
    }

    // The certificate the browser sent, or nullptr when the problem is in
    // its chain rather than in it (then the detail says which).
    const x509::CertFacts* leaf_if(bool leaf_is_the_problem) const {
        return m_facts.certificate != nullptr && leaf_is_the_problem ? m_facts.certificate : nullptr;
    }

    void expired() {
        const x509::CertFacts* leaf =
            leaf_if(m_facts.certificate != nullptr && m_facts.now > m_facts.certificate->not_after);
        open(Tone::no, "Expired", leaf ? "Your certificate has expired" : "Your certificate\u2019s chain has expired");
        if (leaf)
            lead("It expired on " + date_from_now(leaf->not_after, m_facts.now) +
                 ". A certificate is issued for a limited time; this one can no longer be used.");
        else
            lead("A certificate of the authorities that vouch for yours has expired: " + m_facts.decision->detail);
        what_to_do();
        step("Ask whoever issued your certificate for a new one, and import it.");
        restart_step("If you already have a newer certificate, choose that one.");
        end_steps();
        close_card();
        presented_certificate();
    }

    void not_yet_valid() {
        const x509::CertFacts* leaf =
            leaf_if(m_facts.certificate != nullptr && m_facts.now < m_facts.certificate->not_before);
        open(Tone::no, "Not valid yet", "Your certificate is not valid yet");
        if (leaf)
            lead("It becomes valid on " + date_from_now(leaf->not_before, m_facts.now) + ".");
        else
            lead("A certificate of the authorities that vouch for yours is not valid yet: " + m_facts.decision->detail);
        what_to_do();
        step("Check that this device\u2019s date and time are right.");
        step("If they are, ask whoever issued your certificate for one that is valid now.");
        end_steps();
        close_card();
        presented_certificate();
    }

    void revoked() {
        open(Tone::no, "Revoked", "Your certificate has been revoked");
        lead("Its issuer has withdrawn it (it is on the issuer\u2019s revocation list), so this server no longer "
             "accepts it.");
        what_to_do();
        step("If you should still have access, ask the administrator for a new certificate.");
        restart_step("If you have another certificate for this site, choose that one.");
        end_steps();
        close_card();
        presented_certificate();
    }

    void wrong_usage() {
        open(Tone::no, "Wrong kind of certificate", "This certificate cannot identify a person");
        lead("It was not issued for signing in to websites (TLS client authentication): it may be a server\u2019s "
             "certificate, or one meant for e-mail or code signing.");
        what_to_do();
        restart_step("Choose your personal (client) certificate.");
        step("If you have none, ask the administrator for one.");
        end_steps();
        close_card();
        presented_certificate();
    }

    void untrusted() {
        open(Tone::no, "Not trusted", "This server does not trust your certificate");
        if (m_facts.certificate != nullptr)
            lead("It was issued by " + describe(m_facts.certificate->issuer) + ", which this server does not trust.");
        else
            lead("It was not issued by an authority this server trusts.");
        what_to_do();
        restart_step("You may have chosen a certificate meant for another site: choose another one.");
        step("If it is the certificate you were given for this site, the intermediate certificate that links it to "
             "a trusted authority may be missing: import the .p12 file that contains it, or ask the administrator.");
        end_steps();
        close_card();
        presented_certificate();
    }

    void unknown_user() {
        open(Tone::no, "Unknown user", "This server does not know your certificate");
        lead("Your certificate is valid, but it is not on this server\u2019s list of users.");
        what_to_do();
        m_html.raw("<li>To be let in, give the administrator the fingerprint of your certificate:");
        if (m_facts.certificate != nullptr) {
            m_html.raw("<code class=\"fingerprint mono hash\">").hex(m_facts.certificate->fingerprint256);
            m_html.raw("</code>This fingerprint (SHA-256) names this one certificate, whoever it was issued to.");
        }
        m_html.raw("</li>");
        restart_step("If you have another certificate for this site, choose that one.");
        end_steps();
        close_card();
        presented_certificate(Fingerprint::left_out);
    }

    void forbidden() {
        open(Tone::warn, "Forbidden", "You may not open this page");
        const nlohmann::json* user = person();
        std::string needs = "This page needs ";
        if (m_facts.route != nullptr && !m_facts.route->roles.empty()) {
            needs += m_facts.route->roles.size() == 1 ? "the role " : "one of the roles ";
            needs += join(m_facts.route->roles, " or ");
        } else {
            needs += "a role";
        }
        std::string name = string_field(user, "name");
        if (name.empty()) name = string_field(user, "cn");
        needs += "; ";
        needs += name.empty() ? std::string("you") : "you (" + name + ")";
        const std::vector<std::string> roles = roles_of(user);
        if (roles.empty())
            needs += user == nullptr ? " are not on this server\u2019s list of users." : " have no role.";
        else
            needs += (roles.size() == 1 ? " have the role " : " have the roles ") + join(roles, " and ") + ".";
        lead(x509::escape_control_characters(needs)); // names and roles from the user list
        what_to_do();
        step("If you need this page, ask the administrator for the role.");
        m_html.raw("<li>Or go back to <a href=\"/\">the start page</a>.</li>");
        end_steps();
        close_card();
        presented_certificate();
    }

    const nlohmann::json* person() const {
        return m_facts.decision != nullptr && m_facts.decision->user ? m_facts.decision->user.get() : m_facts.user;
    }

    void healthy() {
        open(Tone::ok, "Running", "The server is up");
        lead("This address answers health checks for load balancers and monitoring: the server is running and "
             "answering requests.");
        close_card();
    }

    void bad_target() {
        open(Tone::no, "Bad request", "This address is not valid here");
        lead("Its path is not one this server accepts: it holds \u201c.\u201d or \u201c..\u201d segments, "
             "path parameters (\u201c;\u201d) before its last part, an encoded NUL or backslash, a \u201c#\u201d, "
             "or it is not a path at all.");
        what_to_do();
        step("Check the address for typing mistakes.");
        m_html.raw("<li>Or go to <a href=\"/\">the start page</a>.</li>");
        end_steps();
        close_card();
    }

    void method_not_allowed() {
        open(Tone::no, "Not allowed", "This address only shows pages");
        lead("Your browser sent a " + x509::escape_control_characters(m_facts.method) +
             " request; this server answers only GET and HEAD, the requests that open a page.");
        what_to_do();
        step("Open the address directly, as a link or in the address bar.");
        end_steps();
        close_card();
    }

    // A request let through (or, broken in its header, one of an
    // authorised connection) that the application did not answer, or that
    // cannot be passed on to it.
    void gateway() {
        switch (m_facts.status) {
        case 504:
            open(Tone::warn, "Timed out", "The application took too long to answer");
            lead("This server let your request through, but the application behind it did not answer in time.");
            break;
        case 413:
            open(Tone::no, "Too large", "What you sent is too large");
            lead("The request's body is larger than this server passes on to the application.");
            break;
        case 400:
            open(Tone::no, "Bad request", "This request cannot be passed on");
            lead("Its form is ambiguous or broken, so this server does not pass it on to the application.");
            break;
        default:
            open(Tone::warn, "Bad gateway", "The application is not answering");
            lead("This server let your request through, but the application behind it could not be reached, "
                 "or its answer was broken.");
            break;
        }
        what_to_do();
        if (m_facts.status == 413)
            step("Go back and send less: a smaller file, or fewer at a time.");
        else if (m_facts.status == 400)
            step("Go back and try again.");
        else
            step("Try again in a moment: reload the page.");
        step("If it keeps happening, tell the administrator the time and the technical details below.");
        end_steps();
        close_card();
    }

    void plain_http() {
        open(Tone::warn, "Not encrypted", "This site needs a secure connection");
        lead("This port speaks HTTPS, where your browser can present its certificate, not plain HTTP.");
        what_to_do();
        m_html.raw("<li>Open <a href=\"").text(m_facts.https_url).raw("\">").value(m_facts.https_url);
        m_html.raw("</a> instead.</li>");
        end_steps();
        close_card();
    }

    const PageFacts& m_facts;
    Html m_html;
};

} // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string render_page(const PageFacts& facts) {
    PageFacts checked = facts;
    if (checked.topic == PageTopic::decision && checked.decision == nullptr) checked.topic = PageTopic::bad_target;
    return PageWriter(checked).write();
}

std::string_view page_headers() {
    static const std::string headers = "Content-Security-Policy: default-src 'none'; style-src '" + style_hash() +
                                       "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n"
                                       "X-Content-Type-Options: nosniff\r\n"
                                       "Referrer-Policy: no-referrer\r\n"
                                       "X-Frame-Options: DENY\r\n";
    return headers;
}

} // namespace certauth::server
