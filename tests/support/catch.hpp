#pragma once
// Catch2 behind one include: version 2 (Debian 12: <catch2/catch.hpp>) or
// version 3 (Debian 13: <catch2/catch_all.hpp>). Every test includes this.
#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
