// The one translation unit that compiles Asio's, Asio SSL's and Beast's
// out-of-line bodies (BOOST_*_SEPARATE_COMPILATION), so that every other
// net TU only instantiates what it uses.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
