#pragma once
// Files that `certauth pki` writes: made in memory first, then written
// together, so that a refusal (a file exists, no --force) writes nothing.

#include <certauth/result.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace certauth::cli {

enum class Secrecy { none, private_key }; // private_key: mode 0600

struct PkiFile {
    std::filesystem::path path; // relative to the output folder, or as given
    std::string content;
    Secrecy secrecy = Secrecy::none;
};

enum class Overwrite { refuse, allow };

// Writes every file under `dir` (created with its parents when missing),
// files holding a private key with mode 0600, the others 0644. With
// Overwrite::refuse, an existing file is an error naming it, before anything
// is written.
Result<void> write_pki_files(const std::filesystem::path& dir, const std::vector<PkiFile>& files, Overwrite overwrite);

} // namespace certauth::cli
