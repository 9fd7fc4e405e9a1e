// Boost.JSON and Boost.URL compiled into the fuzz targets themselves, with the same
// instrumentation as the code under test: Debian's shared libraries are not instrumented, so
// libFuzzer would see nothing of the parsers that every input goes through first. Symbols of the
// executable take precedence over those of the shared libraries the other targets link.
#include <boost/json/src.hpp>
#include <boost/url/src.hpp>
