#pragma once

namespace certauth::cli {

// Parses the command line, runs the chosen subcommand and returns the exit
// code: the subcommand's own, 0 for --help/--version, 2 for usage errors and
// for anything unexpected (printed as "certauth: error: ...").
int run(int argc, char** argv);

} // namespace certauth::cli
