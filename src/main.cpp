#include "cli/app.hpp"

int main(int argc, char** argv) { return certauth::cli::run(argc, argv); }
