#include "operator/kube/informer.h"

#include <deque>

#include <catch2/catch.hpp>

using namespace keystep;
using namespace keystep::kube;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json object(const std::string& name, const std::string& rv, const std::string& ns = "ns") {
  return json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}}};
}

WatchEvent event(WatchEvent::Type type, json obj) { return WatchEvent{type, std::move(obj)}; }

WatchEvent bookmark(const std::string& rv) {
  return WatchEvent{WatchEvent::Type::bookmark, json{{"metadata", {{"resourceVersion", rv}}}}};
}

// WatchScript is what one call to FakeClient::watch does: deliver events,
// then end normally, fail, or (hold) wait for stop or the watch timeout.
struct WatchScript {
  enum class Then { end, gone, unavailable, hold };
  std::vector<WatchEvent> events;
  Then then = Then::hold;
};

// FakeClient serves list() from `objects` and watch() from scripts queued
// with push(); a watch with no script waits for one, for stop, or for its
// timeout. Records each call's resourceVersion.
class FakeClient : public Client {
 public:
  void set_list(std::vector<json> items, std::string rv) {
    std::lock_guard lock(mu_);
    items_ = std::move(items);
    list_rv_ = std::move(rv);
  }
  void push(WatchScript script) {
    std::lock_guard lock(mu_);
    scripts_.push_back(std::move(script));
    cv_.notify_all();
  }
  int list_calls() const {
    std::lock_guard lock(mu_);
    return list_calls_;
  }
  std::vector<std::string> watch_versions() const {
    std::lock_guard lock(mu_);
    return watch_versions_;
  }
  std::vector<std::chrono::steady_clock::time_point> watch_times() const {
    std::lock_guard lock(mu_);
    return watch_times_;
  }

  Result<ObjectList> list(const ResourceType&, const std::string&, const ListOptions&) override {
    std::lock_guard lock(mu_);
    ++list_calls_;
    return ObjectList{items_, list_rv_};
  }

  Result<WatchEnd> watch(const ResourceType&, const std::string&, const WatchOptions& options,
                         const std::function<bool(const WatchEvent&)>& on_event,
                         const std::atomic<bool>& stop) override {
    WatchScript script;
    {
      std::unique_lock lock(mu_);
      watch_versions_.push_back(options.resource_version);
      watch_times_.push_back(std::chrono::steady_clock::now());
      auto deadline = std::chrono::steady_clock::now() + options.timeout;
      while (scripts_.empty()) {
        if (stop) return WatchEnd{options.resource_version, true};
        if (std::chrono::steady_clock::now() >= deadline) return WatchEnd{options.resource_version, false};
        cv_.wait_for(lock, 10ms);
      }
      script = std::move(scripts_.front());
      scripts_.pop_front();
    }
    WatchEnd end{options.resource_version, false};
    for (const auto& e : script.events) {
      end.last_resource_version = e.object["metadata"]["resourceVersion"].get<std::string>();
      if (!on_event(e)) return WatchEnd{end.last_resource_version, true};
    }
    switch (script.then) {
      case WatchScript::Then::end:
        return end;
      case WatchScript::Then::gone:
        return fail(Errc::failed_precondition, "gone: watch secrets ns: 410 too old resource version");
      case WatchScript::Then::unavailable:
        return fail(Errc::unavailable, "watch secrets ns: connection refused");
      case WatchScript::Then::hold:
        while (!stop) std::this_thread::sleep_for(10ms);
        return WatchEnd{end.last_resource_version, true};
    }
    return end;
  }

  Result<json> get(const ResourceType&, const ObjectKey&) override { return fail(Errc::unimplemented, "get"); }
  Result<json> create(const ResourceType&, const std::string&, const json&) override {
    return fail(Errc::unimplemented, "create");
  }
  Result<json> update(const ResourceType&, const json&, const std::string&) override {
    return fail(Errc::unimplemented, "update");
  }
  Result<json> merge_patch(const ResourceType&, const ObjectKey&, const json&, const std::string&) override {
    return fail(Errc::unimplemented, "patch");
  }
  Status remove(const ResourceType&, const ObjectKey&) override { return fail(Errc::unimplemented, "remove"); }
  Result<json> raw(const std::string&, const std::string&, const std::optional<json>&) override {
    return fail(Errc::unimplemented, "raw");
  }
  const std::string& default_namespace() const override { return ns_; }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<json> items_;
  std::string list_rv_ = "1";
  std::deque<WatchScript> scripts_;
  int list_calls_ = 0;
  std::vector<std::string> watch_versions_;
  std::vector<std::chrono::steady_clock::time_point> watch_times_;
  std::string ns_ = "ns";
};

// Recorded is one handler call, with copies of the objects it was shown.
struct Recorded {
  InformerEvent::Type type;
  std::string key;
  std::string old_rv;  // "" if no old object
  std::string new_rv;  // "" if no new object
};

class Recorder {
 public:
  Informer::Handler handler() {
    return [this](const InformerEvent& e) {
      std::lock_guard lock(mu_);
      auto rv = [](const json* o) { return o ? (*o)["metadata"]["resourceVersion"].get<std::string>() : ""; };
      events_.push_back(Recorded{e.type, e.key.str(), rv(e.old_object), rv(e.object)});
    };
  }
  std::vector<Recorded> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // wait_for waits until at least n events were recorded.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 3s) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (events().size() >= n) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Recorded> events_;
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 3s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

InformerOptions fast_options() {
  InformerOptions options;
  options.ns = "ns";
  options.initial_backoff = 20ms;
  options.max_backoff = 40ms;
  return options;
}

}  // namespace

TEST_CASE("Informer lists, syncs, and watches from the list's resourceVersion", "[kube]") {
  FakeClient client;
  client.set_list({object("a", "5"), object("b", "6")}, "10");
  Recorder recorder;
  Informer informer(client, resources::kSecrets, fast_options());
  informer.add_handler(recorder.handler());
  informer.start();
  REQUIRE(informer.wait_for_sync(3s));
  CHECK(informer.has_synced());
  CHECK(informer.list().size() == 2);
  CHECK(informer.get(ObjectKey{"ns", "a"}).value()["metadata"]["resourceVersion"] == "5");
  CHECK_FALSE(informer.get(ObjectKey{"ns", "zzz"}));
  auto events = recorder.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].type == InformerEvent::Type::added);
  CHECK(events[0].key == "ns/a");
  CHECK(events[0].old_rv.empty());
  REQUIRE(eventually([&] { return !client.watch_versions().empty(); }));
  CHECK(client.watch_versions().front() == "10");
  informer.stop();
}

TEST_CASE("Informer applies watch events to its cache and reports them", "[kube]") {
  FakeClient client;
  client.set_list({object("a", "5"), object("b", "6")}, "10");
  Recorder recorder;
  Informer informer(client, resources::kSecrets, fast_options());
  informer.add_handler(recorder.handler());
  client.push(WatchScript{{event(WatchEvent::Type::added, object("c", "11")),
                           event(WatchEvent::Type::modified, object("a", "12")),
                           event(WatchEvent::Type::deleted, object("b", "13"))},
                          WatchScript::Then::hold});
  informer.start();
  REQUIRE(recorder.wait_for(5));
  auto events = recorder.events();
  CHECK(events[2].type == InformerEvent::Type::added);
  CHECK(events[2].key == "ns/c");
  CHECK(events[3].type == InformerEvent::Type::updated);
  CHECK(events[3].old_rv == "5");
  CHECK(events[3].new_rv == "12");
  CHECK(events[4].type == InformerEvent::Type::deleted);
  CHECK(events[4].old_rv == "6");
  CHECK(events[4].new_rv.empty());
  CHECK(informer.get(ObjectKey{"ns", "a"}).value()["metadata"]["resourceVersion"] == "12");
  CHECK_FALSE(informer.get(ObjectKey{"ns", "b"}));
  CHECK(informer.get(ObjectKey{"ns", "c"}));
  informer.stop();
}

TEST_CASE("Informer resumes from the last version seen when a watch ends", "[kube]") {
  FakeClient client;
  client.set_list({object("a", "5")}, "10");
  Recorder recorder;
  Informer informer(client, resources::kSecrets, fast_options());
  informer.add_handler(recorder.handler());
  client.push(WatchScript{{event(WatchEvent::Type::modified, object("a", "11"))}, WatchScript::Then::end});
  client.push(WatchScript{{bookmark("15")}, WatchScript::Then::end});
  client.push(WatchScript{{event(WatchEvent::Type::added, object("b", "16"))}, WatchScript::Then::hold});
  informer.start();
  REQUIRE(recorder.wait_for(3));
  auto versions = client.watch_versions();
  REQUIRE(versions.size() == 3);
  CHECK(versions[0] == "10");
  CHECK(versions[1] == "11");
  CHECK(versions[2] == "15");
  CHECK(client.list_calls() == 1);
  CHECK(informer.relists() == 0);
  CHECK(informer.watch_restarts() == 2);
  CHECK(recorder.events().size() == 3);  // the bookmark is not reported
  informer.stop();
}

TEST_CASE("Informer relists after 410 Gone and reports what changed meanwhile", "[kube]") {
  FakeClient client;
  client.set_list({object("a", "5"), object("b", "6"), object("same", "7")}, "10");
  Recorder recorder;
  Informer informer(client, resources::kSecrets, fast_options());
  informer.add_handler(recorder.handler());
  informer.start();
  REQUIRE(recorder.wait_for(3));
  // Meanwhile a was deleted, b changed and c was created; same is unchanged.
  client.set_list({object("b", "20"), object("c", "21"), object("same", "7")}, "30");
  client.push(WatchScript{{}, WatchScript::Then::gone});
  REQUIRE(eventually([&] { return informer.relists() == 1 && recorder.events().size() >= 6; }));
  auto events = recorder.events();
  std::vector<Recorded> after(events.begin() + 3, events.end());
  REQUIRE(after.size() == 3);
  auto find = [&](const std::string& key) {
    for (const auto& e : after) {
      if (e.key == key) return e;
    }
    FAIL("no event for " << key);
    return after.front();
  };
  CHECK(find("ns/a").type == InformerEvent::Type::deleted);
  CHECK(find("ns/a").old_rv == "5");
  CHECK(find("ns/b").type == InformerEvent::Type::updated);
  CHECK(find("ns/b").old_rv == "6");
  CHECK(find("ns/b").new_rv == "20");
  CHECK(find("ns/c").type == InformerEvent::Type::added);
  CHECK(client.list_calls() == 2);
  REQUIRE(eventually([&] { return client.watch_versions().size() == 2; }));
  CHECK(client.watch_versions()[1] == "30");
  CHECK(informer.list().size() == 3);
  CHECK_FALSE(informer.get(ObjectKey{"ns", "a"}));
  informer.stop();
}

TEST_CASE("Informer backs off exponentially after watch failures", "[kube]") {
  FakeClient client;
  client.set_list({object("a", "5")}, "10");
  Informer informer(client, resources::kSecrets, fast_options());  // 20 ms doubling to 40 ms
  client.push(WatchScript{{}, WatchScript::Then::unavailable});
  client.push(WatchScript{{}, WatchScript::Then::unavailable});
  client.push(WatchScript{{}, WatchScript::Then::unavailable});
  informer.start();
  REQUIRE(eventually([&] { return client.watch_times().size() == 4; }));
  auto times = client.watch_times();
  CHECK(times[1] - times[0] >= 20ms);
  CHECK(times[2] - times[1] >= 40ms);
  CHECK(times[3] - times[2] >= 40ms);  // capped
  CHECK(client.watch_versions()[3] == "10");  // resumed, not relisted
  CHECK(client.list_calls() == 1);
  CHECK(informer.watch_restarts() == 3);
  informer.stop();
}

TEST_CASE("Informer stop returns promptly from a watch and from a backoff", "[kube]") {
  FakeClient client;
  client.set_list({}, "1");
  {
    Informer informer(client, resources::kSecrets, fast_options());
    informer.start();
    REQUIRE(informer.wait_for_sync(3s));
    REQUIRE(eventually([&] { return client.watch_versions().size() == 1; }));
    auto start = std::chrono::steady_clock::now();
    informer.stop();
    CHECK(std::chrono::steady_clock::now() - start < 1s);
  }
  InformerOptions slow = fast_options();
  slow.initial_backoff = 60s;
  Informer informer(client, resources::kSecrets, slow);
  client.push(WatchScript{{}, WatchScript::Then::unavailable});
  informer.start();
  REQUIRE(eventually([&] { return informer.watch_restarts() == 1; }));
  auto start = std::chrono::steady_clock::now();
  informer.stop();
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("Informer resync reports every cached object again as updated", "[kube]") {
  FakeClient client;
  client.set_list({object("a", "5")}, "10");
  Recorder recorder;
  InformerOptions options = fast_options();
  options.resync_period = 1s;
  Informer informer(client, resources::kSecrets, options);
  informer.add_handler(recorder.handler());
  informer.start();
  REQUIRE(recorder.wait_for(2, 4s));
  auto events = recorder.events();
  CHECK(events[1].type == InformerEvent::Type::updated);
  CHECK(events[1].key == "ns/a");
  CHECK(events[1].old_rv == events[1].new_rv);
  CHECK(client.list_calls() == 1);
  informer.stop();
}
