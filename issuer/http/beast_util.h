#pragma once
// Internal to issuer/http: the Beast/Asio aliases and string_view bridges
// shared by the server session and the client. Heavy includes; keep out of
// public headers.

#include <chrono>
#include <string_view>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace keystep::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Boost 1.74's Beast speaks boost::string_view.
inline std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }
inline beast::string_view bsv(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace keystep::http::detail
