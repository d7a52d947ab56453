#pragma once
// Outcome is what a reconcile decided: done (nothing more until the object
// changes), requeue after a delay (a timer, e.g. an expiry warning), retry
// with backoff (a transient error), or permanent (a state only a change of
// the object can fix; not retried).

#include <chrono>

namespace keystep::controllers {

struct Outcome {
  enum class Kind { done, requeue_after, retry, permanent };
  Kind kind = Kind::done;
  std::chrono::milliseconds after{0};

  [[nodiscard]] static Outcome done() { return {}; }
  [[nodiscard]] static Outcome requeue_after(std::chrono::milliseconds d) { return {Kind::requeue_after, d}; }
  [[nodiscard]] static Outcome retry() { return {Kind::retry, {}}; }
  [[nodiscard]] static Outcome permanent() { return {Kind::permanent, {}}; }
};

}  // namespace keystep::controllers
