#pragma once
// FreeWith<Fn> is the unique_ptr deleter for C objects Keystep owns
// (OpenSSL, libpq, SQLite): put the pointer into a unique_ptr on the line
// that receives it.

namespace keystep::common {

template <auto FreeFn>
struct FreeWith {
  template <class T>
  void operator()(T* p) const noexcept {
    FreeFn(p);
  }
};

}  // namespace keystep::common
