#pragma once
// Durable state in RocksDB under state_dir. RocksDB headers stay in state_store.cpp.
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::state {

// One column family per purpose, so each can be scanned, compacted and tuned on its own.
enum class Family { checkpoints, sink, spool, meta };
inline constexpr Family all_families[] = {Family::checkpoints, Family::sink, Family::spool, Family::meta};
std::string_view family_name(Family f);

struct StateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Keys are namespaced by pipeline: "<pipeline>\0<key>".
std::string scoped_key(std::string_view pipeline, std::string_view key);
std::string scope_prefix(std::string_view pipeline);

class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;
  void put(Family f, std::string_view key, std::string_view value);
  void remove(Family f, std::string_view key);
  void remove_range(Family f, std::string_view begin, std::string_view end);  // [begin, end)
  size_t count() const;
  void clear();
  // A byte image of the operations, and the batch rebuilt from one: a commit recorded as pending is written
  // later, when recovery learns it was published (see core/pipeline.cpp). Throws StateError on a bad image.
  std::string serialize() const;
  static WriteBatch deserialize(std::string_view image);

 private:
  friend class StateStore;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class StateStore {
 public:
  // Opens (creating) the store and takes an exclusive lock on the directory; throws StateError naming the
  // process that holds it.
  static std::unique_ptr<StateStore> open(const std::string& dir);
  ~StateStore();

  std::optional<std::string> get(Family f, std::string_view key) const;
  // Visits keys starting with prefix in order, from `start` (when it sorts after prefix); stop by returning false.
  void scan(Family f, std::string_view prefix,
            const std::function<bool(std::string_view key, std::string_view value)>& visit,
            std::string_view start = {}) const;
  // Blocking when sync: run it off the event loop.
  void write(WriteBatch& batch, bool sync = true);
  const std::string& dir() const { return dir_; }
  // A random id made when the store was created and kept with it: names this sluiced's state among instances
  // that share work (a Kafka consumer group's positions topic).
  const std::string& instance_id() const { return instance_id_; }

 private:
  struct Impl;
  StateStore(std::string dir, std::unique_ptr<Impl> impl);
  std::string dir_;
  std::string instance_id_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::state
